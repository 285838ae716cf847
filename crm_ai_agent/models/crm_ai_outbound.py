"""Outbound messages: the send queue of ``crm.ai.message`` and the channel's outbound settings.

A reply is first stored as a ``crm.ai.message`` (``direction='out'``,
``delivery_state='pending'``) in the transaction of whoever wrote it; the
``ir_cron_send_outbound`` cron sends it later through the channel's provider
(``crm.ai.channel.provider._ai_send``). A row that got a provider id is never
sent again; transient errors are retried with backoff; a provider that does
not answer in time leaves the row failed (it may have been delivered), never
resent behind the salesperson's back.
"""

import logging
from datetime import timedelta

import pytz
import requests

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..services import outbound
from .crm_ai_channel_provider import ProviderError

_logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
SEND_BATCH_SIZE = 1  # one commit per message: a crash can never replay messages already sent
ORIGINS = [
    ("manual", "Salesperson"),
    ("auto_ack", "Auto-acknowledgement"),
    ("automation", "Automation"),
    ("alert", "Salesperson Alert"),
]
# Default of ``crm.ai.message._ai_automated_origins()``: extend that method, not this constant.
AUTOMATED_ORIGINS = ("auto_ack", "automation")
DELIVERY_RANK = {"pending": 0, "sent": 1, "delivered": 2, "read": 3}
CHANNEL_LABELS = {
    "whatsapp_cloud": "WhatsApp",
    "whatsapp_evolution": "WhatsApp",
    "telegram": "Telegram",
    "instagram": "Instagram",
    "messenger": "Messenger",
}
CHANNEL_ICONS = {
    "whatsapp_cloud": "fa-whatsapp",
    "whatsapp_evolution": "fa-whatsapp",
    "telegram": "fa-telegram",
    "instagram": "fa-instagram",
    "messenger": "fa-facebook",
    "webchat": "fa-comments",
}


class CrmAiChannel(models.Model):
    _inherit = "crm.ai.channel"

    # ------------------------------------------------------------
    # FIELDS: auto-acknowledgement
    # ------------------------------------------------------------

    ai_ack_enabled = fields.Boolean(
        string="Auto-acknowledge",
        help="Answer the first message of each conversation at once, so the customer knows it arrived. "
        "Sent once per lead, never to a contact who opted out.",
    )
    ai_ack_text = fields.Text(
        string="Acknowledgement",
        translate=True,
        help="Sent during business hours. {name} is replaced by the contact's first name.",
    )
    ai_ack_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Business Hours",
        help="Working hours (and public holidays) of this channel. Empty: always within business hours.",
    )
    ai_ack_out_of_hours_text = fields.Text(
        string="Out-of-Hours Acknowledgement",
        translate=True,
        help="Sent outside business hours. Empty: the acknowledgement above is sent.",
    )
    ai_alert_template_id = fields.Many2one(
        "crm.ai.template",
        string="Alert Template",
        domain="[('channel_id', '=', id), ('status', '=', 'approved')]",
        help="WhatsApp Cloud only allows templates outside the 24-hour window: the template used to alert "
        "salespeople through this channel. Its variables get the alert title and text.",
    )

    def _ai_in_business_hours(self, when=None):
        """Whether ``when`` (UTC, default now) falls within the channel's business hours."""
        self.ensure_one()
        calendar = self.ai_ack_calendar_id
        if not calendar:
            return True
        when = when or fields.Datetime.now()
        start = pytz.utc.localize(when)
        intervals = calendar._work_intervals_batch(start - timedelta(minutes=1), start + timedelta(minutes=1))[False]
        return any(begin <= start < end for begin, end, __ in intervals)

    def _ai_ack_body(self, partner=None, when=None):
        """The acknowledgement to send now, in the contact's language ('' when none is configured)."""
        self.ensure_one()
        channel = self.with_context(lang=partner.lang) if partner and partner.lang else self
        text = channel.ai_ack_text
        if not self._ai_in_business_hours(when):
            text = channel.ai_ack_out_of_hours_text or text
        first_name = ((partner.name or "").split(" ")[0]) if partner else ""
        return (text or "").replace("{name}", first_name).strip()


class CrmAiMessage(models.Model):
    _inherit = "crm.ai.message"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    delivery_state = fields.Selection(selection_add=[("cancelled", "Cancelled")])
    origin = fields.Selection(ORIGINS, readonly=True, help="Who or what wrote this outbound message.")
    recipient_key = fields.Char(
        string="Recipient",
        readonly=True,
        index="btree_not_null",
        help="Address on the channel: phone, chat id, scoped user id or visitor id.",
    )
    template_id = fields.Many2one("crm.ai.template", string="Template", readonly=True, ondelete="restrict")
    template_params = fields.Json(readonly=True, help="Template variable values: [component, key, text].")
    sent_date = fields.Datetime(readonly=True, copy=False)
    alert_user_id = fields.Many2one("res.users", string="Alerted User", readonly=True)

    def init(self):
        res = super().init()
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS crm_ai_message_outbox_idx ON crm_ai_message (next_attempt_at, id) "
                "WHERE direction = 'out' AND delivery_state = 'pending' AND external_id IS NULL"
            )
        )
        return res

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_retry_outbound(self):
        """Send failed outbound messages again; allowed to whoever may write on their lead."""
        for lead in self.lead_id:
            lead.check_access("write")
        if self.filtered(lambda m: not m.lead_id) and not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(_("Only sales managers can retry alerts."))
        messages = self.filtered(lambda m: m.direction == "out" and m.delivery_state == "failed")
        messages.sudo()._ai_retry_outbound()
        return True

    # ------------------------------------------------------------
    # QUEUE
    # ------------------------------------------------------------

    @api.model
    def _ai_now(self):
        return fields.Datetime.now()

    @api.model
    def _ai_automated_origins(self):
        """Origins of messages no person wrote: they stop once a salesperson attends the lead or it closes.

        Addons that queue their own automated messages add their origins here.
        """
        return AUTOMATED_ORIGINS

    @api.model
    def _ai_queue(
        self,
        channel,
        recipient_key,
        *,
        identity=None,
        lead=None,
        body="",
        attachments=None,
        template=None,
        template_values=None,
        origin="manual",
        user=None,
        mail_message=None,
        alert_user=None,
    ):
        """Store what to send as pending rows (a text, then one row per attachment) and wake the sender.

        Returns the rows. Call it in sudo after checking the caller's rights.
        """
        if not recipient_key:
            raise UserError(_("This conversation has no address to reply to."))
        common = {
            "channel_id": channel.id,
            "company_id": channel.company_id.id,
            "direction": "out",
            "kind": "message",
            "state": "processed",
            "delivery_state": "pending",
            "origin": origin,
            "recipient_key": recipient_key,
            "identity_id": identity.id if identity else False,
            "partner_id": (identity.partner_id.id if identity else False) or (lead.partner_id.id if lead else False),
            "lead_id": lead.id if lead else False,
            "user_id": user.id if user else False,
            "alert_user_id": alert_user.id if alert_user else False,
            "mail_message_id": mail_message.id if mail_message else False,
            "sender_name": (user or self.env.user).name,
            "next_attempt_at": fields.Datetime.now(),
            "attempts": 0,
        }
        vals_list = []
        if template:
            values = template_values or {}
            vals_list.append(
                {
                    **common,
                    "message_type": "template",
                    "template_id": template.id,
                    "template_params": [[c, k, v] for (c, k), v in values.items()],
                    "body": template._ai_render(values),
                }
            )
        elif body:
            vals_list.append({**common, "message_type": "text", "body": body})
        for attachment in attachments or []:
            vals_list.append(
                {
                    **common,
                    "message_type": outbound.media_kind(attachment.mimetype),
                    "body": "",
                    "attachment_ids": [fields.Command.link(attachment.id)],
                }
            )
        if not vals_list:
            raise UserError(_("Write a message or attach a file."))
        messages = self.sudo().create(vals_list)
        self.env.ref("crm_ai_agent.ir_cron_send_outbound").sudo()._trigger()
        return messages

    @api.model
    def _cron_send_outbound(self, batch_size=SEND_BATCH_SIZE):
        """Send due pending messages, one per transaction (the cron commits between batches).

        Messages to one recipient leave in the order they were written: a
        message waits while an older one to the same person is still pending.
        """
        messages = self.browse(self._ai_sendable_ids(limit=batch_size, lock=True))
        messages._ai_send_outbound()
        remaining = len(self._ai_sendable_ids(limit=1000))
        self.env["ir.cron"]._notify_progress(done=len(messages), remaining=remaining)
        self._ai_schedule_send_retries()

    @api.model
    def _ai_sendable_ids(self, limit, lock=False):
        """Due pending messages that are first in line for their recipient, oldest first."""
        self.env.cr.execute(
            SQL(
                """
                SELECT m.id FROM crm_ai_message m
                 WHERE m.direction = 'out' AND m.delivery_state = 'pending' AND m.external_id IS NULL
                   AND m.next_attempt_at <= %(now)s
                   AND NOT EXISTS (
                        SELECT 1 FROM crm_ai_message p
                         WHERE p.direction = 'out' AND p.delivery_state = 'pending' AND p.external_id IS NULL
                           AND p.channel_id = m.channel_id AND p.recipient_key = m.recipient_key AND p.id < m.id)
                 ORDER BY m.id
                 LIMIT %(limit)s
                 %(lock)s
                """,
                now=fields.Datetime.now(),
                limit=limit,
                lock=SQL("FOR UPDATE OF m SKIP LOCKED") if lock else SQL(""),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _ai_schedule_send_retries(self):
        nxt = self.search(
            [
                ("direction", "=", "out"),
                ("delivery_state", "=", "pending"),
                ("external_id", "=", False),
                ("next_attempt_at", ">", fields.Datetime.now()),
            ],
            order="next_attempt_at",
            limit=1,
        )
        if nxt:
            self.env.ref("crm_ai_agent.ir_cron_send_outbound").sudo()._trigger(nxt.next_attempt_at)

    def _ai_send_outbound(self):
        """Send each message; every outcome is recorded on the message, nothing is raised."""
        changed = self.browse()
        for message in self:
            if message.direction != "out" or message.delivery_state != "pending" or message.external_id:
                continue
            try:
                message._ai_send_one()
            except Exception as exc:  # a bug must not block the queue: recorded, retried
                _logger.exception("crm.ai.message %s: unexpected error while sending", message.id)
                message._ai_record_send_failure(exc, transient=True)
            changed |= message
        changed._ai_notify_delivery()
        return changed

    def _ai_send_one(self):
        self.ensure_one()
        refusal = self._ai_send_refusal()
        if refusal:
            state, reason = refusal
            _logger.info("crm.ai.message %s: not sent (%s): %s", self.id, state, reason)
            self.write(
                {"delivery_state": state, "state": "failed" if state == "failed" else "processed", "error": reason}
            )
            return
        channel = self.channel_id.sudo()
        try:
            with self.env.cr.savepoint():
                external_id = channel._ai_provider()._ai_send(channel, self)
        except ProviderError as exc:
            self._ai_record_send_failure(
                exc, transient=exc.transient, ambiguous=isinstance(exc.__cause__, requests.ReadTimeout)
            )
            return
        except UserError as exc:
            self._ai_record_send_failure(exc, transient=False)
            return
        self.write(
            {
                "external_id": str(external_id)[:255],
                "delivery_state": "sent",
                "state": "processed",
                "sent_date": fields.Datetime.now(),
                "attempts": self.attempts + 1,
                "error": False,
            }
        )

    def _ai_record_send_failure(self, exc, transient=False, ambiguous=False):
        self.ensure_one()
        attempts = self.attempts + 1
        error = str(exc)
        if ambiguous:
            transient = False
            error = _(
                "%s It may still have reached the customer: check the conversation before sending it again.", error
            )
        final = not transient or attempts >= MAX_SEND_ATTEMPTS
        vals = {"attempts": attempts, "error": error[:2000]}
        if final:
            vals.update(delivery_state="failed", state="failed")
            _logger.warning("crm.ai.message %s: sending failed after %s attempt(s): %s", self.id, attempts, error)
        else:
            vals["next_attempt_at"] = fields.Datetime.now() + timedelta(seconds=outbound.retry_delay(attempts))
            _logger.info(
                "crm.ai.message %s: sending failed (attempt %s), retrying at %s: %s",
                self.id,
                attempts,
                vals["next_attempt_at"],
                error,
            )
        self.write(vals)

    def _ai_send_refusal(self):
        """``(delivery_state, reason)`` when this message must not leave now, else None."""
        self.ensure_one()
        if self.origin == "alert":
            return None
        identity = self.identity_id
        if identity.opt_out:
            return "cancelled", _("The contact opted out of messages on this channel.")
        lead = self.lead_id
        if self.origin in self._ai_automated_origins() and lead and not lead._ai_can_auto_send():
            return "cancelled", _("A salesperson is attending this conversation: automated messages stop.")
        channel = self.channel_id.sudo()
        provider = channel._ai_provider()
        if self.template_id:
            if not provider._ai_supports_templates(channel):
                return "failed", _("This channel does not send templates.")
            if self.template_id.status != "approved":
                return "failed", _("Template %s is not approved by Meta.", self.template_id.display_name)
            return None
        if identity:
            window = provider._ai_window(channel, identity, self._ai_now())
            if not window.free_text:
                return "failed", lead._ai_window_text(channel, window) if lead else _("The messaging window is closed.")
        return None

    def _ai_retry_outbound(self):
        """Send failed messages again. A message the provider accepted is copied, never resent as is."""
        retried = self.browse()
        for message in self.filtered(lambda m: m.direction == "out" and m.delivery_state in ("failed", "cancelled")):
            if message.external_id:
                retried |= self.create(
                    {
                        "channel_id": message.channel_id.id,
                        "company_id": message.company_id.id,
                        "direction": "out",
                        "kind": "message",
                        "state": "processed",
                        "delivery_state": "pending",
                        "origin": message.origin,
                        "recipient_key": message.recipient_key,
                        "identity_id": message.identity_id.id,
                        "partner_id": message.partner_id.id,
                        "lead_id": message.lead_id.id,
                        "user_id": message.user_id.id,
                        "alert_user_id": message.alert_user_id.id,
                        "mail_message_id": message.mail_message_id.id,
                        "sender_name": message.sender_name,
                        "message_type": message.message_type,
                        "body": message.body,
                        "attachment_ids": [fields.Command.set(message.attachment_ids.ids)],
                        "template_id": message.template_id.id,
                        "template_params": message.template_params,
                        "next_attempt_at": fields.Datetime.now(),
                        "attempts": 0,
                    }
                )
                message.write({"error": _("%s (sent again as a new message)", message.error or "")})
            else:
                message.write(
                    {
                        "delivery_state": "pending",
                        "state": "processed",
                        "attempts": 0,
                        "error": False,
                        "next_attempt_at": fields.Datetime.now(),
                    }
                )
                retried |= message
        if retried:
            self.env.ref("crm_ai_agent.ir_cron_send_outbound").sudo()._trigger()
            retried._ai_notify_delivery()
        return retried

    def _ai_template_values(self):
        self.ensure_one()
        return {(c, k): v for c, k, v in (self.template_params or [])}

    # ------------------------------------------------------------
    # STATUS EVENTS
    # ------------------------------------------------------------

    def _ai_apply_status(self, item):
        """A status for a message whose send timed out carries our id (WhatsApp's biz_opaque_callback_data)."""
        own_id = _find_key(item.raw, "biz_opaque_callback_data")
        if item.ref_external_id and isinstance(own_id, str) and own_id.startswith("crm_ai:"):
            try:
                message_id = int(own_id.split(":", 1)[1])
            except ValueError:
                message_id = 0
            candidate = self.browse(message_id).exists()
            if (
                candidate
                and candidate.channel_id == self.channel_id
                and candidate.direction == "out"
                and not candidate.external_id
                and not self.search_count(
                    [
                        ("channel_id", "=", self.channel_id.id),
                        ("direction", "=", "out"),
                        ("external_id", "=", item.ref_external_id),
                    ]
                )
            ):
                candidate.write(
                    {
                        "external_id": item.ref_external_id,
                        "delivery_state": "sent",
                        "state": "processed",
                        "sent_date": candidate.sent_date or fields.Datetime.now(),
                        "error": False,
                    }
                )
        return super()._ai_apply_status(item)

    def _ai_notify_delivery(self):
        res = super()._ai_notify_delivery()
        self.mail_message_id._ai_push_delivery()
        failed = self.filtered(lambda m: m.delivery_state == "failed" and m.origin == "manual" and m.user_id)
        for message in failed:
            message.user_id._bus_send(
                "simple_notification",
                {
                    "title": _("Message not delivered"),
                    "message": _(
                        "Your %(channel)s message on %(lead)s failed: %(error)s",
                        channel=message.channel_id.name,
                        lead=message.lead_id.display_name or "-",
                        error=message.error or "",
                    ),
                    "type": "danger",
                    "sticky": True,
                },
            )
        return res

    # ------------------------------------------------------------
    # DISPLAY
    # ------------------------------------------------------------

    def _ai_delivery_summary(self):
        """One state for the rows of one chatter message: failed wins, then the least advanced."""
        rows = self.filtered(lambda m: m.direction == "out")
        if not rows:
            return None
        states = set(rows.mapped("delivery_state"))
        if "failed" in states:
            state = "failed"
        elif states == {"cancelled"}:
            state = "cancelled"
        else:
            state = min(states - {"cancelled"}, key=lambda s: DELIVERY_RANK.get(s, 0))
        labels = dict(self._fields["delivery_state"]._description_selection(self.env))
        channel = rows[0].channel_id
        errors = [e for e in rows.filtered(lambda m: m.delivery_state in ("failed", "cancelled")).mapped("error") if e]
        return {
            "state": state,
            "label": labels.get(state, state),
            "channel": CHANNEL_LABELS.get(channel.channel_type) or _("Website chat"),
            "icon": CHANNEL_ICONS.get(channel.channel_type, "fa-comments"),
            "error": "\n".join(errors)[:500],
            "ids": rows.ids,
        }


def _find_key(data, key, depth=0):
    """First value of ``key`` anywhere in nested dicts/lists (bounded depth)."""
    if depth > 8:
        return None
    if isinstance(data, dict):
        if key in data:
            return data[key]
        values = data.values()
    elif isinstance(data, list):
        values = data
    else:
        return None
    for value in values:
        found = _find_key(value, key, depth + 1)
        if found is not None:
            return found
    return None
