from odoo import api, fields, models
from odoo.exceptions import AccessError

CONSENT_CHANNELS = [
    ("whatsapp", "WhatsApp"),
    ("email", "E-mail"),
    ("telegram", "Telegram"),
    ("instagram", "Instagram"),
    ("messenger", "Messenger"),
    ("sms", "SMS"),
]
PURPOSES = [("marketing", "Marketing"), ("service", "Customer service")]
LEGAL_BASES = [
    ("consent", "Consent (LGPD art. 7, I)"),
    ("contract", "Contract (LGPD art. 7, V)"),
    ("legitimate_interest", "Legitimate interest (LGPD art. 7, IX)"),
    ("legal_obligation", "Legal obligation (LGPD art. 7, II)"),
]


class CrmAiConsent(models.Model):
    """What a contact agreed to receive, on which channel, on what legal basis, with the proof (LGPD)."""

    _name = "crm.ai.consent"
    _description = "AI Agent Contact Consent"
    _order = "consent_date desc, id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Contact", required=True, ondelete="cascade", index=True)
    channel = fields.Selection(CONSENT_CHANNELS, required=True, default="whatsapp")
    purpose = fields.Selection(PURPOSES, required=True, default="marketing")
    legal_basis = fields.Selection(LEGAL_BASES, required=True, default="consent")
    proof = fields.Text(
        required=True, help="The customer's own words, or the form they filled in, and where: what shows the consent."
    )
    consent_date = fields.Datetime(string="Given On", required=True, default=fields.Datetime.now)
    recorded_by_id = fields.Many2one(
        "res.users", string="Recorded By", default=lambda self: self.env.user, readonly=True
    )
    revoked = fields.Boolean(readonly=True)
    revoked_date = fields.Datetime(string="Revoked On", readonly=True)
    active_consent = fields.Boolean(string="In Force", compute="_compute_active_consent", store=True)

    @api.depends("revoked", "legal_basis")
    def _compute_active_consent(self):
        for consent in self:
            consent.active_consent = not consent.revoked

    @api.depends("partner_id", "channel", "purpose")
    def _compute_display_name(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        purposes = dict(self._fields["purpose"]._description_selection(self.env))
        for consent in self:
            consent.display_name = f"{consent.partner_id.name or ''}: {channels.get(consent.channel, '')} " + (
                f"({purposes.get(consent.purpose, '')})"
            )

    def write(self, vals):
        # A consent is evidence: once recorded, salespeople can only revoke it.
        if set(vals) - {"revoked", "revoked_date"} and not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(self.env._("Only sales managers can change a recorded consent; you can revoke it."))
        return super().write(vals)

    def action_revoke(self):
        self.filtered(lambda c: not c.revoked).write({"revoked": True, "revoked_date": fields.Datetime.now()})
        return True
