from . import crm_ai_reply_wizard
