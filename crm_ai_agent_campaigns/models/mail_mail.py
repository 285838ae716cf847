from odoo import fields, models


class MailMail(models.Model):
    _inherit = "mail.mail"

    ai_followup_enrollment_id = fields.Many2one(
        "crm.ai.followup.enrollment", string="Follow-up Enrolment", index="btree_not_null", ondelete="set null"
    )
