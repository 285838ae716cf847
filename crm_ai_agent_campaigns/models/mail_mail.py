from urllib.parse import urlencode

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import plaintext2html
from odoo.tools.misc import hmac as hmac_sign

UNSUBSCRIBE_ROUTE = "/crm_ai_campaigns/unsubscribe"


class MailMail(models.Model):
    _inherit = "mail.mail"

    ai_followup_enrollment_id = fields.Many2one(
        "crm.ai.followup.enrollment", string="Follow-up Enrolment", index="btree_not_null", ondelete="set null"
    )

    @api.model
    def _ai_unsubscribe_token(self, email):
        return hmac_sign(self.env(su=True), "crm_ai_campaigns-unsubscribe", email)

    @api.model
    def _ai_unsubscribe_url(self, email):
        query = urlencode({"email": email, "token": self._ai_unsubscribe_token(email)})
        return f"{self.get_base_url()}{UNSUBSCRIBE_ROUTE}?{query}"

    @api.model
    def _ai_marketing_mail_values(self, email, subject, text, lead, author, email_from):
        """``mail.mail`` values of a campaign or follow-up e-mail: plain text as HTML, unsubscribe link and headers."""
        url = self._ai_unsubscribe_url(email)
        footer = Markup("<p style='font-size:small;color:#888888'><a href='%s'>%s</a></p>") % (
            url,
            self.env._("Unsubscribe"),
        )
        return {
            "subject": subject,
            "body_html": plaintext2html(text) + footer,
            "email_to": email,
            "email_from": email_from,
            "author_id": author.id or False,
            "model": "crm.lead",
            "res_id": lead.id,
            "auto_delete": False,
            "headers": repr({"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}),
        }
