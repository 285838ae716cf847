from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    ai_consent_ids = fields.One2many("crm.ai.consent", "partner_id", string="Consents")
    ai_whatsapp_marketing_consent = fields.Boolean(
        string="WhatsApp Marketing Opt-in", compute="_compute_ai_whatsapp_marketing_consent"
    )

    @api.depends("ai_consent_ids.active_consent", "ai_consent_ids.channel", "ai_consent_ids.purpose")
    def _compute_ai_whatsapp_marketing_consent(self):
        for partner in self:
            partner.ai_whatsapp_marketing_consent = partner._ai_has_consent("whatsapp", "marketing")

    def _ai_has_consent(self, channel, purpose):
        """Whether the contact has a consent in force for ``purpose`` on ``channel``."""
        self.ensure_one()
        return bool(
            self.env["crm.ai.consent"]
            .sudo()
            .search_count(
                [
                    ("partner_id", "=", self.id),
                    ("channel", "=", channel),
                    ("purpose", "=", purpose),
                    ("legal_basis", "=", "consent"),
                    ("active_consent", "=", True),
                ],
                limit=1,
            )
        )

    def _ai_last_consent_event(self):
        """The contact's latest consent or opt-out record (the one that decides whether they opted out)."""
        self.ensure_one()
        return (
            self.env["crm.ai.consent"]
            .sudo()
            .search([("partner_id", "=", self.id)], order="consent_date desc, id desc", limit=1)
        )
