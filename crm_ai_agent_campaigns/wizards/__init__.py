from . import crm_ai_followup_enroll_wizard
