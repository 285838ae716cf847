from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import email_normalize

CONSENT_CHANNELS = [
    ("whatsapp", "WhatsApp"),
    ("email", "E-mail"),
    ("telegram", "Telegram"),
    ("instagram", "Instagram"),
    ("messenger", "Messenger"),
    ("sms", "SMS"),
    ("webchat", "Website chat"),
]
# Consent channel of each channel type of the core addon.
CHANNEL_TYPE_CONSENT = {
    "whatsapp_cloud": "whatsapp",
    "whatsapp_evolution": "whatsapp",
    "telegram": "telegram",
    "instagram": "instagram",
    "messenger": "messenger",
    "webchat": "webchat",
}
KINDS = [("opt_in", "Consent given"), ("opt_out", "Opt-out")]
PURPOSES = [("marketing", "Marketing"), ("service", "Customer service")]
LEGAL_BASES = [
    ("consent", "Consent (LGPD art. 7, I)"),
    ("contract", "Contract (LGPD art. 7, V)"),
    ("legitimate_interest", "Legitimate interest (LGPD art. 7, IX)"),
    ("legal_obligation", "Legal obligation (LGPD art. 7, II)"),
]


class CrmAiConsent(models.Model):
    """What a contact agreed to receive, or asked to stop, on which channel, on what legal basis, with the proof (LGPD).

    An opt-out is recorded as an event of its own (``kind='opt_out'``: the channel it came from, the
    customer's words, the date) and applies to the whole person: every channel identity is flagged,
    their phones and e-mails are blacklisted and the consents in force are revoked. A consent given
    again afterwards lifts it, again for the whole person.
    """

    _name = "crm.ai.consent"
    _description = "AI Agent Contact Consent"
    _order = "consent_date desc, id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Contact", required=True, ondelete="cascade", index=True)
    kind = fields.Selection(KINDS, string="Event", required=True, default="opt_in", readonly=True, index=True)
    channel = fields.Selection(CONSENT_CHANNELS, required=True, default="whatsapp")
    purpose = fields.Selection(PURPOSES, required=True, default="marketing")
    legal_basis = fields.Selection(LEGAL_BASES, required=True, default="consent")
    proof = fields.Text(
        required=True,
        help="The customer's own words, or the form they filled in, and where: what shows the consent or the opt-out.",
    )
    consent_date = fields.Datetime(string="Date", required=True, default=fields.Datetime.now)
    recorded_by_id = fields.Many2one(
        "res.users", string="Recorded By", default=lambda self: self.env.user, readonly=True
    )
    revoked = fields.Boolean(readonly=True)
    revoked_date = fields.Datetime(string="Revoked On", readonly=True)
    active_consent = fields.Boolean(string="In Force", compute="_compute_active_consent", store=True)

    @api.depends("revoked", "legal_basis", "kind")
    def _compute_active_consent(self):
        for consent in self:
            consent.active_consent = consent.kind == "opt_in" and not consent.revoked

    @api.depends("partner_id", "channel", "purpose", "kind")
    def _compute_display_name(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        purposes = dict(self._fields["purpose"]._description_selection(self.env))
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for consent in self:
            what = purposes.get(consent.purpose, "") if consent.kind == "opt_in" else kinds.get(consent.kind, "")
            consent.display_name = f"{consent.partner_id.name or ''}: {channels.get(consent.channel, '')} ({what})"

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        consents = super().create(vals_list)
        # A new opt-in of a person who opted out lifts the opt-out: only a manager may decide that.
        back = consents.filtered(lambda c: c._ai_lifts_opt_out())
        if back and not self.env.su and not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._(
                    "%s opted out of our messages: only a sales manager can record their new consent.",
                    ", ".join(back.partner_id.mapped("display_name")),
                )
            )
        for consent in back:
            consent.sudo()._ai_lift_opt_out()
        return consents

    def write(self, vals):
        # A consent is evidence: once recorded, salespeople can only revoke it.
        if set(vals) - {"revoked", "revoked_date"} and not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(self.env._("Only sales managers can change a recorded consent; you can revoke it."))
        return super().write(vals)

    def action_revoke(self):
        self.filtered(lambda c: c.kind == "opt_in" and not c.revoked).write(
            {"revoked": True, "revoked_date": fields.Datetime.now()}
        )
        return True

    # ------------------------------------------------------------
    # BUSINESS: the person behind a contact, a lead, an identity or an address
    # ------------------------------------------------------------

    @api.model
    def _ai_person(self, partners=None, leads=None, identities=None, emails=()):
        """Everything that designates the same person(s) as the given records and addresses.

        Returns a dict: ``partners``, ``leads``, ``identities`` (every channel identity of those
        contacts and of those leads' conversations), ``emails`` and ``phones`` (E.164), in sudo.
        """
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        Lead = self.env["crm.lead"].sudo().with_context(active_test=False)
        Identity = self.env["crm.ai.identity"].sudo()
        emails = {e for e in (email_normalize(e) for e in emails if e) if e}
        partners = (partners or Partner).sudo() | (leads or Lead).sudo().partner_id
        partners |= (identities or Identity).sudo().partner_id
        identities = (identities or Identity).sudo()
        if emails:
            partners |= Partner.search([("email_normalized", "in", list(emails))])
            identities |= Identity.search([("email", "in", list(emails))])
        partners |= identities.partner_id
        leads = (leads or Lead).sudo() | identities.lead_id
        domain = [("partner_id", "in", partners.ids)]
        if emails:
            domain = ["|", ("email_normalized", "in", list(emails)), *domain]
        leads |= Lead.search(domain)
        identities |= Identity.search(["|", ("partner_id", "in", partners.ids), ("lead_id", "in", leads.ids)])
        for lead in leads:
            identities |= lead._ai_reply_identities().sudo()
        partners |= identities.partner_id
        emails |= {e for e in [*partners.mapped("email_normalized"), *leads.mapped("email_normalized")] if e}
        emails |= {e for e in (email_normalize(e) for e in identities.mapped("email") if e) if e}
        phones = {p for p in [*partners.mapped("phone_sanitized"), *leads.mapped("phone_sanitized")] if p}
        phones |= {p for p in identities.mapped("phone") if p}
        for partner in partners:
            for number in (partner.mobile, partner.phone):
                formatted = number and partner._phone_format(number=number, force_format="E164")
                if formatted:
                    phones.add(formatted)
        return {
            "partners": partners,
            "leads": leads,
            "identities": identities,
            "emails": emails,
            "phones": phones,
        }

    @api.model
    def _ai_opt_out(self, person, channel, proof):
        """Apply an opt-out to the whole ``person`` (see ``_ai_person``) and record it, as the evidence LGPD asks for.

        ``channel`` is the consent channel the request came from, ``proof`` the customer's words or
        the page they used. Every identity is flagged, phones and e-mails are blacklisted, the
        consents in force are revoked and running follow-ups stop. Returns the recorded opt-outs.
        """
        now = fields.Datetime.now()
        labels = dict(self._fields["channel"]._description_selection(self.env))
        note = self.env._("Opt-out requested by the customer on %s: applied to every channel.", labels.get(channel))
        person["identities"].filtered(lambda i: not i.opt_out).write({"opt_out": True})
        if person["phones"]:
            self.env["phone.blacklist"].sudo()._add(sorted(person["phones"]), message=note)
        for email in sorted(person["emails"]):
            self.env["mail.blacklist"].sudo()._add(email, message=note)
        Consent = self.sudo()
        Consent.search(
            [("partner_id", "in", person["partners"].ids), ("kind", "=", "opt_in"), ("revoked", "=", False)]
        ).write({"revoked": True, "revoked_date": now})
        events = Consent.browse()
        for partner in person["partners"]:
            if partner._ai_last_consent_event().kind == "opt_out":
                continue  # already recorded, and nothing lifted it since
            events |= Consent.create(
                {
                    "partner_id": partner.id,
                    "kind": "opt_out",
                    "channel": channel,
                    "purpose": "marketing",
                    "legal_basis": "consent",
                    "proof": proof,
                    "consent_date": now,
                }
            )
        running = person["leads"].ai_followup_enrollment_ids.filtered(lambda e: e.state == "running")
        running._ai_stop("opt_out")
        return events

    @api.model
    def _ai_unsubscribe_email(self, email):
        """The unsubscribe link of a campaign or follow-up e-mail: the person behind the address opts out."""
        person = self._ai_person(emails=[email])
        proof = self.env._("Unsubscribe link of a campaign or follow-up e-mail sent to %s.", email_normalize(email))
        return self._ai_opt_out(person, "email", proof)

    def _ai_lifts_opt_out(self):
        """Whether this new record is a consent given after the person's last opt-out."""
        self.ensure_one()
        if self.kind != "opt_in" or self.revoked or self.legal_basis != "consent" or self.purpose != "marketing":
            return False
        last_out = self.sudo().search(
            [("partner_id", "=", self.partner_id.id), ("kind", "=", "opt_out")], order="consent_date desc", limit=1
        )
        return bool(last_out) and self.consent_date >= last_out.consent_date

    def _ai_lift_opt_out(self):
        """A consent given again after an opt-out: the person can be reached again on every channel."""
        self.ensure_one()
        person = self._ai_person(partners=self.partner_id)
        labels = dict(self._fields["channel"]._description_selection(self.env))
        note = self.env._("Consent given again on %s: opt-out lifted.", labels.get(self.channel))
        person["identities"].filtered("opt_out").write({"opt_out": False})
        Blacklist = self.env["phone.blacklist"].sudo()
        numbers = Blacklist.search([("number", "in", sorted(person["phones"]))]).mapped("number")
        if numbers:
            Blacklist._remove(numbers, message=note)
        for email in sorted(person["emails"]):
            self.env["mail.blacklist"].sudo()._remove(email, message=note)
        return True
