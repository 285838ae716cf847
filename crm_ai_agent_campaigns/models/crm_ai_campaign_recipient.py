import logging

from odoo import api, fields, models

from ..services.render import render_text
from .crm_ai_followup_sequence import _lead_values

_logger = logging.getLogger(__name__)

EXCLUSION_REASONS = [
    ("opt_out", "Opted out"),
    ("blacklisted", "Blacklisted"),
    ("no_consent", "No marketing consent"),
    ("no_address", "No address on the channel"),
    ("duplicate", "Same person twice"),
    # Found when the message is about to leave (channel campaigns): automated messages stop there.
    ("in_service", "In Service"),
    ("closed", "Lead closed"),
]
STATES = [
    ("to_send", "Waiting"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("read", "Read"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
    ("excluded", "Excluded"),
]
MESSAGE_STATES = {
    "pending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "cancelled": "cancelled",
}
MAIL_STATES = {
    "outgoing": "queued",
    "sent": "sent",
    "received": "delivered",
    "exception": "failed",
    "cancel": "cancelled",
}


class CrmAiCampaignRecipient(models.Model):
    _name = "crm.ai.campaign.recipient"
    _description = "AI Agent Campaign Recipient"
    _order = "campaign_id, id"
    _rec_name = "lead_id"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    campaign_id = fields.Many2one("crm.ai.campaign", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one(related="campaign_id.company_id", store=True, index=True)
    lead_id = fields.Many2one("crm.lead", ondelete="set null", index=True, readonly=True)
    partner_id = fields.Many2one("res.partner", string="Contact", ondelete="set null", readonly=True)
    identity_id = fields.Many2one("crm.ai.identity", ondelete="set null", readonly=True)
    address = fields.Char(readonly=True, help="Channel address or e-mail the message goes to.")
    exclusion_reason = fields.Selection(EXCLUSION_REASONS, readonly=True, index=True)
    cancelled = fields.Boolean(readonly=True)
    message_id = fields.Many2one("crm.ai.message", string="Channel Message", ondelete="set null", readonly=True)
    mail_id = fields.Many2one("mail.mail", string="E-mail", ondelete="set null", readonly=True)
    queued_date = fields.Datetime(string="Queued On", readonly=True)
    error = fields.Char(readonly=True)
    state = fields.Selection(STATES, compute="_compute_state", store=True, index=True)
    answered = fields.Boolean(
        compute="_compute_answered", store=True, help="The customer wrote after the campaign message was queued."
    )

    @api.depends("exclusion_reason", "cancelled", "message_id.delivery_state", "mail_id.state", "error", "queued_date")
    def _compute_state(self):
        for recipient in self:
            if recipient.exclusion_reason:
                state = "excluded"
            elif recipient.message_id:
                state = MESSAGE_STATES.get(recipient.message_id.delivery_state, "queued")
            elif recipient.mail_id:
                state = MAIL_STATES.get(recipient.mail_id.state, "queued")
            elif recipient.error:
                state = "failed"
            elif recipient.queued_date:
                state = "sent"  # e-mail sent and deleted since
            elif recipient.cancelled:
                state = "cancelled"
            else:
                state = "to_send"
            recipient.state = state

    @api.depends("lead_id.ai_last_inbound_date", "queued_date")
    def _compute_answered(self):
        for recipient in self:
            inbound = recipient.lead_id.ai_last_inbound_date
            recipient.answered = bool(recipient.queued_date and inbound and inbound > recipient.queued_date)

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _ai_exclusion_data(self, campaign, leads):
        """What the exclusion rules need for ``leads``, read in a handful of queries whatever their number.

        ``identities``: lead id -> every channel identity of the person (the lead's conversations and the
        contact's); blacklisted phones and e-mails among theirs; contacts with a WhatsApp marketing consent.
        """
        leads = leads.sudo()
        Identity = self.env["crm.ai.identity"].sudo()
        identities = {lead.id: Identity for lead in leads}
        for lead, identity in (
            self.env["crm.ai.message"]
            .sudo()
            ._read_group(
                [
                    ("lead_id", "in", leads.ids),
                    ("direction", "=", "in"),
                    ("kind", "=", "message"),
                    ("identity_id", "!=", False),
                ],
                ["lead_id", "identity_id"],
            )
        ):
            identities[lead.id] |= identity
        partners = leads.partner_id
        by_partner = {}
        for identity in Identity.search(["|", ("lead_id", "in", leads.ids), ("partner_id", "in", partners.ids)]):
            if identity.lead_id.id in identities:
                identities[identity.lead_id.id] |= identity
            if identity.partner_id:
                by_partner[identity.partner_id.id] = by_partner.get(identity.partner_id.id, Identity) | identity
        for lead in leads:
            identities[lead.id] |= by_partner.get(lead.partner_id.id, Identity)
        known = Identity.union(*identities.values())
        phones = {p for p in [*leads.mapped("phone_sanitized"), *partners.mapped("phone_sanitized")] if p}
        phones |= {p for p in known.mapped("phone") if p}
        emails = {e for e in [*leads.mapped("email_normalized"), *partners.mapped("email_normalized")] if e}
        emails |= {e.strip().lower() for e in known.mapped("email") if e}
        consented = set()
        if campaign._ai_is_whatsapp() and partners:
            consents = (
                self.env["crm.ai.consent"]
                .sudo()
                .search(
                    [
                        ("partner_id", "in", partners.ids),
                        ("channel", "=", "whatsapp"),
                        ("purpose", "=", "marketing"),
                        ("legal_basis", "=", "consent"),
                        ("active_consent", "=", True),
                    ]
                )
            )
            consented = set(consents.partner_id.ids)
        return {
            "identities": identities,
            "blacklisted_phones": set(
                self.env["phone.blacklist"].sudo().search([("number", "in", list(phones))]).mapped("number")
            )
            if phones
            else set(),
            "blacklisted_emails": set(
                self.env["mail.blacklist"].sudo().search([("email", "in", list(emails))]).mapped("email")
            )
            if emails
            else set(),
            "consented": consented,
        }

    @api.model
    def _ai_recipient_vals(self, campaign, lead, data):
        """Values of the recipient row of ``lead`` in ``campaign``, with the exclusion reason if any."""
        lead = lead.sudo()
        identity = self.env["crm.ai.identity"]
        if campaign.channel_kind == "email":
            address = lead.email_normalized or lead.partner_id.email_normalized or False
        else:
            identity = (
                data["identities"]
                .get(lead.id, identity)
                .filtered(lambda i: i.channel_id == campaign.channel_id)
                .sorted(
                    lambda i: (i.last_inbound_date or fields.Datetime.from_string("1970-01-01"), i.id), reverse=True
                )[:1]
            )
            address = identity.key or False
        vals = {
            "campaign_id": campaign.id,
            "lead_id": lead.id,
            "partner_id": lead.partner_id.id or identity.partner_id.id or False,
            "identity_id": identity.id or False,
            "address": address,
        }
        vals["exclusion_reason"] = self._ai_reason_from(data, campaign, lead, identity, address, vals["partner_id"])
        return vals

    @api.model
    def _ai_reason_from(self, data, campaign, lead, identity, address, partner_id):
        """The exclusion rules, in order: opted out, blacklisted, no address, no WhatsApp marketing consent."""
        lead = lead.sudo()
        person = data["identities"].get(lead.id, identity.browse()) | identity.sudo()
        if any(person.mapped("opt_out")):
            return "opt_out"
        phones = {p for p in [lead.phone_sanitized, lead.partner_id.phone_sanitized, *person.mapped("phone")] if p}
        emails = {e for e in [lead.email_normalized, lead.partner_id.email_normalized] if e}
        emails |= {e.strip().lower() for e in person.mapped("email") if e}
        if phones & data["blacklisted_phones"] or emails & data["blacklisted_emails"]:
            return "blacklisted"
        if not address:
            return "no_address"
        if campaign._ai_is_whatsapp() and (not partner_id or partner_id not in data["consented"]):
            return "no_consent"
        return False

    def _ai_exclusion_reason(self, at_send=False):
        """Why this recipient must not get the campaign now (opt-out, blacklist and consent re-checked).

        ``at_send``: the message is about to leave; on a messaging channel, a lead that a salesperson
        attends (``in_service``) or that is closed (``closed``) is skipped too, as by every automated
        message. Such recipients are excluded, not failed: nothing went wrong.
        """
        self.ensure_one()
        if self.exclusion_reason:
            return self.exclusion_reason
        lead = self.lead_id
        if not lead:
            return "no_address"
        data = self._ai_exclusion_data(self.campaign_id, lead)
        reason = self._ai_reason_from(data, self.campaign_id, lead, self.identity_id, self.address, self.partner_id.id)
        if reason or not at_send or self.campaign_id.channel_kind == "email":
            return reason
        lead = lead.sudo()
        if not lead._ai_can_auto_send():
            return "in_service" if lead.ai_service_date or lead.ai_temperature == "in_service" else "closed"
        return False

    def _ai_send(self):
        """Queue the campaign message of this recipient; an exclusion found now is recorded instead."""
        self.ensure_one()
        reason = self._ai_exclusion_reason(at_send=True)
        if reason:
            self.exclusion_reason = reason
            return False
        campaign = self.campaign_id
        lead = self.lead_id.sudo()
        body = render_text(campaign.body, _lead_values(lead))
        now = fields.Datetime.now()
        if campaign.channel_kind == "email":
            Mail = self.env["mail.mail"].sudo()
            subject = render_text(campaign.subject, _lead_values(lead)) or campaign.name
            email_from = campaign.user_id.email_formatted or campaign.company_id.email_formatted
            author = campaign.user_id.partner_id
            mail = Mail.create(Mail._ai_marketing_mail_values(self.address, subject, body, lead, author, email_from))
            self.write({"mail_id": mail.id, "queued_date": now})
            return True
        identity = self.identity_id.sudo()
        channel = identity.channel_id
        if not identity or not channel.active:
            self.write({"error": self.env._("The channel or the conversation no longer exists."), "queued_date": now})
            return False
        author = campaign.user_id.partner_id or self.env.ref("base.partner_root")
        rows, refusal = lead._ai_queue_automated_on_channel(
            identity, body, campaign.template_id.sudo(), campaign.user_id, author, "campaign"
        )
        if not rows:
            self.write({"error": refusal[:255], "queued_date": now})
            return False
        rows.write({"ai_campaign_recipient_id": self.id})
        self.write({"message_id": rows[:1].id, "queued_date": now})
        return True
