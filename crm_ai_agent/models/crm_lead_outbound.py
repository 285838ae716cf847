import logging

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime, plaintext2html

from ..services import outbound
from .crm_ai_outbound import CHANNEL_LABELS

_logger = logging.getLogger(__name__)


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    ai_service_user_id = fields.Many2one(
        "res.users",
        string="Attended By",
        readonly=True,
        tracking=True,
        help="Salesperson who first replied on the channel.",
    )
    ai_service_date = fields.Datetime(string="In Service Since", readonly=True)
    ai_ack_date = fields.Datetime(
        string="Acknowledged", readonly=True, help="When the automatic acknowledgement was queued (once per lead)."
    )
    ai_waiting_since = fields.Datetime(
        string="Waiting Since",
        readonly=True,
        index="btree_not_null",
        help="Oldest customer message not answered by a salesperson yet.",
    )
    ai_reply_identity_id = fields.Many2one(
        "crm.ai.identity",
        string="Reply To",
        compute="_compute_ai_reply_identity_id",
        help="The customer's address on the channel of their latest message.",
    )
    ai_reply_channel_type = fields.Selection(
        selection="_ai_channel_type_selection",
        string="Reply Channel Type",
        compute="_compute_ai_reply_identity_id",
    )

    @api.model
    def _ai_channel_type_selection(self):
        return self.env["crm.ai.channel"]._fields["channel_type"]._description_selection(self.env)

    def _compute_ai_reply_identity_id(self):
        for lead in self:
            identity = lead._ai_reply_identities()[:1]
            lead.ai_reply_identity_id = identity
            lead.ai_reply_channel_type = identity.sudo().channel_id.channel_type or False

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_ai_reply(self):
        """Open the channel reply composer."""
        self.ensure_one()
        if not self._ai_reply_identities():
            raise UserError(_("This lead has no channel conversation to reply to."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Reply on %s", self._ai_channel_label(self.ai_reply_identity_id.channel_id)),
            "res_model": "crm.ai.reply.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_id": self.id},
        }

    # ------------------------------------------------------------
    # BUSINESS: replies
    # ------------------------------------------------------------

    def _ai_reply_identities(self):
        """The customer's channel addresses on this lead, the one of the latest message first."""
        self.ensure_one()
        if not self.id:
            return self.env["crm.ai.identity"]
        Message = self.env["crm.ai.message"].sudo()
        identities = self.env["crm.ai.identity"].sudo()
        for message in Message.search(
            [
                ("lead_id", "=", self.id),
                ("direction", "=", "in"),
                ("kind", "=", "message"),
                ("identity_id", "!=", False),
            ],
            order="id desc",
            limit=50,
        ):
            identities |= message.identity_id
        identities |= identities.search([("lead_id", "=", self.id)])
        return identities.with_env(self.env)

    @api.model
    def _ai_channel_label(self, channel):
        return CHANNEL_LABELS.get(channel.channel_type) or _("Website Chat")

    def _ai_window_text(self, channel, window):
        """Plain words for what the channel accepts now."""
        label = self._ai_channel_label(channel)
        tz = self.env.user.tz or "UTC"
        if window.mode == outbound.FREE and window.expires_at:
            return _(
                "%(channel)s: free text allowed until %(when)s (24 hours after the customer's last message).",
                channel=label,
                when=format_datetime(self.env, window.expires_at, tz=tz),
            )
        if window.mode == outbound.FREE:
            return _("%(channel)s: free text allowed.", channel=label)
        if window.mode == outbound.TAG:
            return _(
                "%(channel)s: more than 24 hours since the customer's last message; your reply goes with "
                "the Human Agent tag (allowed until %(when)s).",
                channel=label,
                when=format_datetime(self.env, window.expires_at, tz=tz),
            )
        if window.mode == outbound.TEMPLATE:
            return _(
                "%(channel)s: more than 24 hours since the customer's last message. WhatsApp only "
                "allows an approved template until the customer writes again.",
                channel=label,
            )
        return _(
            "%(channel)s: the messaging window is closed (no message from the customer in the last "
            "24 hours). You can only answer after the customer writes again.",
            channel=label,
        )

    def _ai_reply_window(self, identity):
        channel = identity.channel_id.sudo()
        return channel._ai_provider()._ai_window(channel, identity.sudo(), fields.Datetime.now())

    def _ai_check_reply(self, identity, body="", attachments=None, template=None):
        """Raise a UserError saying plainly why this reply cannot go out."""
        self.ensure_one()
        if identity.opt_out:
            raise UserError(
                _("%s asked to receive no more messages on this channel: nothing can be sent.", identity.display_name)
            )
        channel = identity.channel_id.sudo()
        if not channel.active:
            raise UserError(_("Channel %s is archived.", channel.display_name))
        provider = channel._ai_provider()
        if template:
            if not provider._ai_supports_templates(channel):
                raise UserError(_("Templates are only for WhatsApp Cloud API channels."))
            if template.channel_id != channel or template.status != "approved":
                raise UserError(_("Choose an approved template of channel %s.", channel.display_name))
            return True
        if not (body or "").strip() and not attachments:
            raise UserError(_("Write a message or attach a file."))
        window = self._ai_reply_window(identity)
        if not window.free_text:
            raise UserError(self._ai_window_text(channel, window))
        return True

    def _ai_send_reply(
        self, body="", *, identity=None, attachments=None, template=None, template_values=None, user=None
    ):
        """A salesperson's reply: chatter message as them, queued channel messages, lead in service.

        Returns the ``crm.ai.message`` rows (pending; the send queue delivers them).
        """
        self.ensure_one()
        self.check_access("write")
        user = user or self.env.user
        identity = identity or self._ai_reply_identities()[:1]
        if not identity or identity not in self._ai_reply_identities():
            raise UserError(_("This lead has no channel conversation to reply to."))
        attachments = attachments or self.env["ir.attachment"]
        self._ai_check_reply(identity, body, attachments, template)
        channel = identity.channel_id.sudo()
        text = template._ai_render(template_values or {}) if template else (body or "").strip()
        # Files uploaded in the composer move to the lead, like the mail composer does.
        attachments.sudo().filtered(
            lambda a: a.res_model in ("crm.ai.reply.wizard", "mail.compose.message") and a.create_uid == user
        ).write({"res_model": "crm.lead", "res_id": self.id})
        mail_message = self._ai_post_outbound(channel, text, attachments, user.partner_id, template)
        messages = (
            self.env["crm.ai.message"]
            .sudo()
            ._ai_queue(
                channel,
                identity.key,
                identity=identity.sudo(),
                lead=self,
                body=text if not template else "",
                attachments=attachments.sudo(),
                template=template,
                template_values=template_values,
                origin="manual",
                user=user,
                mail_message=mail_message,
            )
        )
        self._ai_mark_in_service(user)
        return messages.with_env(self.env)

    def _ai_post_outbound(self, channel, text, attachments, author, template=None):
        """Chatter message of an outbound reply. Internal subtype: never mailed to the customer."""
        body = plaintext2html(text) if text else Markup()
        if template:
            body = Markup("<p class='text-muted small'>%s</p>%s") % (_("Template %s", template.display_name), body)
        # sudo: the caller checked the access; automated messages have no human author
        return (
            self.sudo()
            .with_context(mail_create_nosubscribe=True)
            .message_post(
                body=body,
                message_type="comment",
                subtype_xmlid="crm_ai_agent.mt_ai_channel_reply",
                author_id=author.id,
                attachment_ids=attachments.ids,
                partner_ids=[],
            )
        )

    def _ai_mark_in_service(self, user):
        """A salesperson answered: In Service, first response time, waiting cleared, activity done."""
        now = fields.Datetime.now()
        for lead in self.sudo():
            vals = {"ai_last_outbound_date": now, "ai_waiting_since": False}
            if lead.ai_temperature != "in_service":
                vals["ai_temperature"] = "in_service"
            if not lead.ai_service_date:
                vals.update(ai_service_date=now, ai_service_user_id=user.id)
            if not lead.ai_first_response_date:
                start = lead._ai_first_inbound_date()
                vals["ai_first_response_date"] = now
                vals["ai_first_response_minutes"] = round(max((now - start).total_seconds(), 0) / 60.0, 2)
            if not lead.user_id and not user.share:
                vals["user_id"] = user.id
            lead.with_context(crm_ai_no_route=True).write(vals)
            lead._ai_close_answer_activities(user)
        self._ai_notify_updated()

    def _ai_first_inbound_date(self):
        self.ensure_one()
        first = (
            self.env["crm.ai.message"]
            .sudo()
            .search(
                [("lead_id", "=", self.id), ("direction", "=", "in"), ("kind", "=", "message")], order="id", limit=1
            )
        )
        return first.create_date or self.create_date or fields.Datetime.now()

    def _ai_close_answer_activities(self, user):
        """Hook: routing marks its 'answer this lead' activity done."""
        return True

    # ------------------------------------------------------------
    # BUSINESS: automated messages
    # ------------------------------------------------------------

    def _ai_can_auto_send(self):
        """Whether automations (acknowledgement, follow-ups, AI answers) may still write to the customer.

        False once a salesperson took the conversation (In Service) and on closed leads.
        """
        self.ensure_one()
        if self.ai_service_date or self.ai_temperature == "in_service":
            return False
        if not self.active or self.stage_id.is_won:
            return False
        return True

    def _ai_queue_automated(self, body, *, identity=None, origin="automation", author=None):
        """Queue an automated text to the customer (follow-ups, AI answers). Returns the rows or an empty set.

        Nothing is queued to an opted-out contact, on a lead in service, or
        outside the channel's free-text window.
        """
        self.ensure_one()
        Message = self.env["crm.ai.message"].sudo()
        identity = (identity or self._ai_reply_identities()[:1]).sudo()
        if not identity or not body or identity.opt_out or not self._ai_can_auto_send():
            return Message
        channel = identity.channel_id
        if not channel.active or not self._ai_reply_window(identity).mode == outbound.FREE:
            return Message
        author = author or self.env.ref("base.partner_root")
        mail_message = self._ai_post_outbound(channel, body, self.env["ir.attachment"], author)
        return Message._ai_queue(
            channel, identity.key, identity=identity, lead=self, body=body, origin=origin, mail_message=mail_message
        )

    def _ai_send_auto_ack(self, message):
        """The channel's acknowledgement, once per lead, at the first message of the conversation."""
        self.ensure_one()
        channel = message.channel_id.sudo()
        identity = message.identity_id
        if not channel.ai_ack_enabled or self.ai_ack_date or message.kind != "message" or not identity:
            return False
        body = channel._ai_ack_body(identity.partner_id or self.partner_id)
        if not body:
            return False
        rows = self._ai_queue_automated(body, identity=identity, origin="auto_ack")
        if rows:
            self.sudo().with_context(crm_ai_no_route=True).write({"ai_ack_date": fields.Datetime.now()})
        return bool(rows)
