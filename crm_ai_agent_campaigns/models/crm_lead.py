from odoo import api, fields, models

from odoo.addons.crm_ai_agent.services import outbound

from .crm_ai_consent import CHANNEL_TYPE_CONSENT


class CrmLead(models.Model):
    _inherit = "crm.lead"

    ai_followup_enrollment_ids = fields.One2many("crm.ai.followup.enrollment", "lead_id", string="Follow-up Sequences")
    ai_followup_running = fields.Boolean(string="In a Follow-up Sequence", compute="_compute_ai_followup_running")

    @api.depends("ai_followup_enrollment_ids.state")
    def _compute_ai_followup_running(self):
        for lead in self:
            lead.ai_followup_running = "running" in lead.ai_followup_enrollment_ids.mapped("state")

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    def write(self, vals):
        res = super().write(vals)
        if "ai_temperature" in vals and self.env["crm.ai.followup.sequence"].sudo().search_count(
            [("auto_enroll", "=", True)], limit=1
        ):
            # A newly classified lead may match a sequence: enrol it soon rather than at the next cron run.
            self.env["crm.ai.followup.enrollment"]._ai_wake()
        return res

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_ai_followup_enroll(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Add to a Follow-up Sequence"),
            "res_model": "crm.ai.followup.enroll.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "crm.lead", "active_ids": self.ids},
        }

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _ai_after_inbound(self, message, item, created=False):
        res = super()._ai_after_inbound(message, item, created=created)
        running = self.sudo().ai_followup_enrollment_ids.filtered(lambda e: e.state == "running")
        if running and message.kind == "message":
            running._ai_stop("answered")
        return res

    def _ai_mark_in_service(self, user):
        res = super()._ai_mark_in_service(user)
        self.sudo().ai_followup_enrollment_ids.filtered(lambda e: e.state == "running")._ai_stop("in_service")
        return res

    def _ai_apply_opt_out(self, message):
        """An opt-out word on one channel applies to the whole person: every identity of the contact and
        of their leads, their phones and e-mails; the event is recorded with its channel, words and date."""
        res = super()._ai_apply_opt_out(message)
        lead = self.sudo()
        identity = message.identity_id.sudo() if message else self.env["crm.ai.identity"]
        channel = (message.channel_id if message else lead.ai_channel_id).sudo()
        consent_channel = CHANNEL_TYPE_CONSENT.get(channel.channel_type, "webchat")
        proof = self.env._(
            "“%(words)s”, written on %(channel)s (%(key)s).",
            words=(message.body or "").strip()[:500] if message else "",
            channel=channel.name or "-",
            key=identity.key or "-",
        )
        Consent = self.env["crm.ai.consent"]
        Consent._ai_opt_out(Consent._ai_person(leads=lead, identities=identity), consent_channel, proof)
        return res

    def _ai_person_identities(self):
        """Every channel identity of the lead's person: the lead's conversations and the contact's."""
        self.ensure_one()
        Identity = self.env["crm.ai.identity"].sudo()
        domain = [("lead_id", "=", self.id)]
        if self.partner_id:
            domain = ["|", ("partner_id", "=", self.partner_id.id), *domain]
        return Identity.search(domain) | self._ai_reply_identities().sudo()

    def _ai_opted_out(self):
        """Whether the person asked for no more messages, on any channel: identity flag, phone or e-mail blacklist."""
        self.ensure_one()
        lead = self.sudo()
        identities = lead._ai_person_identities()
        if identities.filtered("opt_out"):
            return True
        phones = {p for p in [lead.phone_sanitized, lead.partner_id.phone_sanitized, *identities.mapped("phone")] if p}
        if phones and self.env["phone.blacklist"].sudo().search_count([("number", "in", list(phones))], limit=1):
            return True
        emails = {e for e in [lead.email_normalized, lead.partner_id.email_normalized] if e}
        emails |= {e.strip().lower() for e in identities.mapped("email") if e}
        return bool(emails) and bool(
            self.env["mail.blacklist"].sudo().search_count([("email", "in", list(emails))], limit=1)
        )

    # ------------------------------------------------------------
    # BUSINESS: automated sends
    # ------------------------------------------------------------

    def _ai_queue_automated_on_channel(self, identity, body, template, template_user, author, origin):
        """Queue an automated message (follow-up step, campaign) on ``identity``'s conversation.

        Nothing to an opted-out identity, nor, like every automated message, to a lead a salesperson
        attends or that is closed. Free text inside the channel's reply window; outside it,
        ``template`` when it is approved for that channel. Returns ``(rows, refusal)``: the queued
        ``crm.ai.message`` rows, or no rows and the text saying why nothing can be sent now.
        """
        self.ensure_one()
        channel = identity.channel_id
        Message = self.env["crm.ai.message"].sudo()
        if identity.opt_out:
            return Message, self.env._("The contact opted out of messages on this channel.")
        if origin in Message._ai_automated_origins() and not self._ai_can_auto_send():
            return Message, self.env._(
                "Automated messages stop once a salesperson attends the conversation or the lead is closed."
            )
        window = self._ai_reply_window(identity)
        if window.mode == outbound.FREE and body:
            text, content = body, {"body": body}
            template = None
        elif (
            template
            and template.active
            and template.status == "approved"
            and template.channel_id == channel
            and channel._ai_provider()._ai_supports_templates(channel)
        ):
            values = template._ai_default_values(self, template_user)
            text, content = template._ai_render(values), {"template": template, "template_values": values}
        else:
            return Message, self._ai_window_text(channel, window)
        mail_message = self._ai_post_outbound(channel, text, self.env["ir.attachment"], author, template)
        rows = Message._ai_queue(
            channel, identity.key, identity=identity, lead=self, origin=origin, mail_message=mail_message, **content
        )
        return rows, ""
