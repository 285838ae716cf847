import base64
import json
import logging
import mimetypes
import time
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import SQL, plaintext2html

from ..services import inbound
from .crm_ai_channel_provider import ProviderError

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BATCH_SIZE = 10
# Inbound messages per second above which the inbox yields to the webhooks (system parameter
# crm_ai_agent.inbox_burst_rate; 0 turns it off), and the longest pause before each batch.
BURST_RATE = 100
BURST_PAUSE = 2.0
STATUS_RANK = {"pending": 0, "sent": 1, "delivered": 2, "read": 3}


class CrmAiMessage(models.Model):
    """Every item a channel delivered or we sent: the inbox, kept raw.

    Inbound rows are written by the webhook with one ``INSERT ... ON CONFLICT
    DO NOTHING`` (unique channel + direction + provider id) and processed
    later by ``_cron_process_inbox``, one savepoint per message, so a crash
    loses nothing and a redelivery changes nothing.
    """

    _name = "crm.ai.message"
    _description = "AI Agent Message"
    _order = "id desc"
    _rec_name = "external_id"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    # Indexed by the unique (channel_id, direction, external_id) constraint: no extra index to maintain on
    # the webhook's insert path.
    channel_id = fields.Many2one("crm.ai.channel", required=True, ondelete="cascade", readonly=True)
    channel_type = fields.Selection(related="channel_id.channel_type")
    company_id = fields.Many2one("res.company", index=True, readonly=True)
    direction = fields.Selection([("in", "Inbound"), ("out", "Outbound")], required=True, readonly=True)
    kind = fields.Selection(
        [("message", "Message"), ("status", "Delivery Status"), ("event", "Other Event")],
        required=True,
        default="message",
        readonly=True,
    )
    external_id = fields.Char(string="Provider ID", readonly=True)
    message_type = fields.Char(readonly=True)
    body = fields.Text(readonly=True)
    sender_key = fields.Char(string="Sender", readonly=True)
    sender_name = fields.Char(readonly=True)
    identity_id = fields.Many2one("crm.ai.identity", readonly=True, index="btree_not_null", ondelete="set null")
    partner_id = fields.Many2one("res.partner", string="Contact", readonly=True, index="btree_not_null")
    lead_id = fields.Many2one("crm.lead", readonly=True, index="btree_not_null", ondelete="set null")
    user_id = fields.Many2one("res.users", string="Sent By", readonly=True)
    mail_message_id = fields.Many2one("mail.message", readonly=True, ondelete="set null")
    attachment_ids = fields.Many2many("ir.attachment", string="Attachments", readonly=True)
    payload = fields.Json(readonly=True, groups="base.group_system", help="The raw item as the provider sent it.")
    state = fields.Selection(
        [
            ("received", "Received"),
            ("processed", "Processed"),
            ("skipped", "Skipped"),
            ("failed", "Failed"),
        ],
        default="received",
        required=True,
        readonly=True,
    )
    delivery_state = fields.Selection(
        [("pending", "Pending"), ("sent", "Sent"), ("delivered", "Delivered"), ("read", "Read"), ("failed", "Failed")],
        readonly=True,
    )
    error = fields.Text(readonly=True)
    skip_reason = fields.Char(readonly=True)
    attempts = fields.Integer(readonly=True, default=0)
    next_attempt_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    provider_date = fields.Datetime(string="Provider Time", readonly=True)
    processed_at = fields.Datetime(readonly=True)
    media_state = fields.Selection(
        [("none", "None"), ("pending", "To Download"), ("done", "Downloaded"), ("failed", "Failed")],
        default="none",
        readonly=True,
    )

    _sql_constraints = [
        (
            "channel_direction_external_uniq",
            "unique(channel_id, direction, external_id)",
            "A provider message is stored once per channel and direction.",
        ),
    ]

    def init(self):
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS crm_ai_message_todo_idx ON crm_ai_message (next_attempt_at, id) "
                "WHERE state = 'received'"
            )
        )
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS crm_ai_message_failed_idx ON crm_ai_message (channel_id) "
                "WHERE state = 'failed'"
            )
        )

    @api.depends("external_id", "sender_name", "body")
    def _compute_display_name(self):
        for message in self:
            message.display_name = message.sender_name or message.external_id or _("Message %s", message.id)

    # ------------------------------------------------------------
    # WEBHOOK STORAGE (called inside the request: keep it cheap)
    # ------------------------------------------------------------

    @api.model
    def _ai_store_inbound(self, channel, items):
        """Insert the parsed items; return ``(stored, duplicates)``. One statement, no ORM."""
        if not items:
            return 0, 0
        now = fields.Datetime.now()
        uid = self.env.uid  # None on the webhook (auth="none"): no author, and no foreign-key check
        rows = []
        seen = set()
        for item in items:
            if not item.external_id or item.external_id in seen:
                continue
            seen.add(item.external_id)
            event = item.kind == inbound.KIND_EVENT and item.event_type not in inbound.NUMBER_CHANGES
            skip = item.skip_reason or ("event" if event else "")
            state = "skipped" if skip else "received"
            provider_date = item.timestamp.replace(tzinfo=None) if item.timestamp else None
            rows.append(
                SQL(
                    "(%s, %s, 'in', %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, 0, %s, %s, %s, %s, %s, %s, %s)",
                    channel.id,
                    channel.company_id.id,
                    item.kind,
                    item.external_id[:255],
                    item.message_type,
                    (item.text or "")[:65536],
                    (item.sender_id or "")[:255],
                    (item.name or "")[:255],
                    json.dumps(item.to_dict(), default=str),
                    state,
                    skip or None,
                    now,
                    provider_date,
                    "pending" if item.attachments and not skip else "none",
                    uid,
                    uid,
                    now,
                    now,
                )
            )
        if not rows:
            return 0, len(items)
        # One statement: the rows, and the inbox cron's trigger when one of them is to process.
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(  # cached: no query
            "crm_ai_agent.ir_cron_process_inbox", raise_if_not_found=True
        )
        self.env.cr.execute(
            SQL(
                """
                WITH inserted AS (
                    INSERT INTO crm_ai_message (
                        channel_id, company_id, direction, kind, external_id, message_type, body,
                        sender_key, sender_name, payload, state, skip_reason, attempts, next_attempt_at,
                        provider_date, media_state, create_uid, write_uid, create_date, write_date)
                    VALUES %s
                    ON CONFLICT (channel_id, direction, external_id) DO NOTHING
                    RETURNING id, state
                ), wake AS (
                    INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, write_uid, create_date, write_date)
                    SELECT %s, %s, %s, %s, %s, %s
                     WHERE EXISTS (SELECT 1 FROM inserted WHERE state = 'received')
                )
                SELECT id, state FROM inserted
                """,
                SQL(", ").join(rows),
                cron_id,
                now,
                uid,
                uid,
                now,
                now,
            ),
            log_exceptions=False,  # a concurrent redelivery is retried by the caller, not an error
        )
        inserted = self.env.cr.fetchall()
        if any(state == "received" for __, state in inserted):
            # the trigger row is in the statement above; wake the cron workers once it is committed
            self.env.cr.postcommit.add(self.env["ir.cron"].sudo().browse(cron_id)._notifydb)
        return len(inserted), len(items) - len(inserted)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_retry(self):
        """Put failed messages back in the queue (and process them now)."""
        to_retry = self.filtered(lambda m: m.direction == "in" and m.state in ("failed", "received"))
        to_retry.sudo().write({"state": "received", "attempts": 0, "next_attempt_at": fields.Datetime.now()})
        to_retry.sudo()._ai_process()
        outbound = self.filtered(lambda m: m.direction == "out" and m.delivery_state == "failed")
        if outbound:
            outbound.sudo()._ai_retry_outbound()
        return True

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------

    @api.model
    def _cron_process_inbox(self, batch_size=BATCH_SIZE):
        """Process due inbound messages, a small batch per transaction."""
        self._ai_yield_to_burst()
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM crm_ai_message
                 WHERE state = 'received' AND direction = 'in' AND next_attempt_at <= %s
                 ORDER BY id
                 LIMIT %s
                 FOR UPDATE SKIP LOCKED
                """,
                fields.Datetime.now(),
                batch_size,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        messages = self.browse(ids)
        messages._ai_process()
        remaining = self.search_count(
            [("state", "=", "received"), ("direction", "=", "in"), ("next_attempt_at", "<=", fields.Datetime.now())]
        )
        self.env["ir.cron"]._notify_progress(done=len(ids), remaining=remaining)
        if remaining:
            # Odoo runs a job's batches a few times in a row, then waits for a wake-up (or its next
            # minute): a backlog must wake the cron workers again by itself.
            self.env.ref("crm_ai_agent.ir_cron_process_inbox").sudo()._trigger()
        self._ai_schedule_retries()

    @api.model
    def _ai_yield_to_burst(self):
        """While messages arrive faster than the burst rate, pause before the next batch.

        Acknowledging a provider's webhook comes first: a webhook that waits is retried, then
        disabled, while a message already stored loses nothing by waiting. During a burst
        (far more messages per second than two cores can process), each batch waits up to
        ``BURST_PAUSE`` seconds, less as soon as the burst ends, so the HTTP workers get the
        CPU; every batch still runs, so processing slows down but never stops. The check runs
        on a cursor of its own: the job's transaction is not opened before the pause.
        """
        deadline = time.monotonic() + BURST_PAUSE
        while True:
            with self.env.registry.cursor() as cr:
                burst = self.with_env(self.env(cr=cr))._ai_inbound_burst()
            remaining = deadline - time.monotonic()
            if not burst or remaining <= 0:
                return
            time.sleep(min(0.2, remaining))

    @api.model
    def _ai_inbound_burst(self):
        """Whether inbound messages arrive faster than the burst rate (counted over the last half
        second, so that processing resumes soon after a burst)."""
        try:
            rate = int(self.env["ir.config_parameter"].sudo().get_param("crm_ai_agent.inbox_burst_rate", BURST_RATE))
        except ValueError:
            rate = BURST_RATE
        if rate <= 0:
            return False
        threshold = (rate + 1) // 2  # messages in half a second
        self.flush_model(["state", "direction", "attempts", "next_attempt_at"])
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """
                SELECT count(*) FROM (
                    SELECT 1 FROM crm_ai_message
                     WHERE state = 'received' AND direction = 'in' AND attempts = 0
                       AND next_attempt_at > %s AND next_attempt_at <= %s
                     LIMIT %s
                ) AS recent
                """,
                now - timedelta(seconds=0.5),
                now,
                threshold,
            )
        )
        return self.env.cr.fetchone()[0] >= threshold

    @api.model
    def _ai_schedule_retries(self):
        """Make sure the cron wakes up for the next delayed retry."""
        nxt = self.search(
            [("state", "=", "received"), ("next_attempt_at", ">", fields.Datetime.now())],
            order="next_attempt_at",
            limit=1,
        )
        if nxt:
            self.env.ref("crm_ai_agent.ir_cron_process_inbox").sudo()._trigger(nxt.next_attempt_at)

    @api.model
    def _cron_fetch_media(self, batch_size=20):
        messages = self.search([("media_state", "=", "pending"), ("state", "=", "processed")], limit=batch_size)
        for message in messages:
            message._ai_fetch_media()
        remaining = self.search_count([("media_state", "=", "pending"), ("state", "=", "processed")])
        self.env["ir.cron"]._notify_progress(done=len(messages), remaining=remaining)

    @api.model
    def _cron_purge_payloads(self):
        """Drop raw payloads past the retention period (processed or skipped rows only)."""
        days = int(self.env["ir.config_parameter"].sudo().get_param("crm_ai_agent.payload_retention_days", 90))
        if days <= 0:
            return
        limit = fields.Datetime.now() - timedelta(days=days)
        self.env.cr.execute(
            SQL(
                "UPDATE crm_ai_message SET payload = NULL WHERE create_date < %s AND payload IS NOT NULL "
                "AND state IN ('processed', 'skipped')",
                limit,
            )
        )

    # ------------------------------------------------------------
    # PROCESSING
    # ------------------------------------------------------------

    def _ai_process(self):
        """Process each message in its own savepoint; failures are recorded, never raised."""
        touched_leads = self.env["crm.lead"]
        for message in self:
            if message.state != "received":
                continue
            try:
                with self.env.cr.savepoint():
                    lead = message._ai_process_one()
                    if lead:
                        touched_leads |= lead
            except Exception as exc:  # noqa: BLE001 - recorded on the message, retried with backoff
                message._ai_record_failure(exc)
        if touched_leads:
            touched_leads._ai_notify_updated()
        return touched_leads

    def _ai_record_failure(self, exc):
        self.ensure_one()
        attempts = self.attempts + 1
        transient = getattr(exc, "transient", True)
        final = attempts >= MAX_ATTEMPTS or not transient
        _logger.warning(
            "crm.ai.message %s: processing failed (attempt %s%s): %s",
            self.id,
            attempts,
            ", giving up" if final else "",
            exc,
        )
        self.write(
            {
                "attempts": attempts,
                "error": str(exc)[:2000],
                "state": "failed" if final else "received",
                "next_attempt_at": fields.Datetime.now() + timedelta(seconds=30 * (2 ** (attempts - 1))),
            }
        )

    def _ai_item(self):
        self.ensure_one()
        return inbound.InboundItem.from_dict(self.sudo().payload or {})

    def _ai_process_one(self):
        """Turn one stored inbound item into contact, lead and chatter message. Returns the lead."""
        self.ensure_one()
        item = self._ai_item()
        if self.kind == "status":
            self._ai_apply_status(item)
            return None
        if self.kind != "message":
            if item.event_type in inbound.NUMBER_CHANGES:
                self.env["crm.ai.identity"]._ai_apply_number_change(self.channel_id.sudo(), item)
            self.write({"state": "skipped", "skip_reason": self.skip_reason or "event"})
            return None
        channel = self.channel_id.sudo()
        extra = {}
        if not item.name:
            try:
                extra = channel._ai_provider()._ai_fetch_profile(channel, item)
            except ProviderError as exc:
                _logger.info("crm.ai.channel %s: profile lookup failed: %s", channel.id, exc)
            if extra.get("name"):
                item.name = extra["name"]
            if extra.get("username") and not item.username:
                item.username = extra["username"]
        identity, partner = self.env["crm.ai.identity"]._ai_resolve(channel, item)
        lead, created = self.env["crm.lead"]._ai_find_or_create_lead(channel, identity, partner, item)
        mail_message = lead._ai_post_inbound(self, item, identity, partner)
        self.write(
            {
                "identity_id": identity.id,
                "partner_id": partner.id or False,
                "lead_id": lead.id,
                "mail_message_id": mail_message.id,
                "state": "processed",
                "processed_at": fields.Datetime.now(),
                "error": False,
            }
        )
        identity.lead_id = lead
        channel.last_message_date = fields.Datetime.now()
        lead._ai_after_inbound(self, item, created=created)
        if self.media_state == "pending":
            self.env.ref("crm_ai_agent.ir_cron_fetch_media").sudo()._trigger()
        return lead

    def _ai_apply_status(self, item):
        outbound = self.search(
            [
                ("channel_id", "=", self.channel_id.id),
                ("direction", "=", "out"),
                ("external_id", "=", item.ref_external_id),
            ],
            limit=1,
        )
        if not outbound:
            self.write({"state": "skipped", "skip_reason": "unknown outbound message"})
            return
        new = item.status
        current = outbound.delivery_state or "pending"
        if new == "failed" or STATUS_RANK.get(new, -1) > STATUS_RANK.get(current, -1):
            vals = {"delivery_state": new}
            if new == "failed":
                vals["error"] = item.status_error or _("The provider reported a delivery failure.")
            outbound.write(vals)
            outbound._ai_notify_delivery()
        self.write(
            {
                "state": "processed",
                "processed_at": fields.Datetime.now(),
                "lead_id": outbound.lead_id.id,
                "partner_id": outbound.partner_id.id,
            }
        )

    def _ai_notify_delivery(self):
        """Hook: outbound delivery state changed (chatter display is refreshed by the lead)."""
        for message in self.filtered("lead_id"):
            message.lead_id._ai_notify_updated()

    def _ai_retry_outbound(self):
        """Hook implemented by the outbound module."""
        return False

    def _ai_fetch_media(self):
        self.ensure_one()
        item = self._ai_item()
        channel = self.channel_id.sudo()
        attachments = self.env["ir.attachment"]
        errors = []
        for index, media in enumerate(item.attachments):
            try:
                content = channel._ai_provider()._ai_fetch_media(channel, media)
            except (ProviderError, ValueError) as exc:
                errors.append(str(exc))
                continue
            if not content:
                continue
            ext = mimetypes.guess_extension((media.mime_type or "").split(";")[0].strip()) or ""
            name = media.filename or f"{media.kind or 'file'}-{self.external_id or self.id}-{index}{ext}"
            attachments |= (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    {
                        "name": name[:255],
                        "datas": base64.b64encode(content),
                        "mimetype": media.mime_type or None,
                        "res_model": "crm.lead" if self.lead_id else False,
                        "res_id": self.lead_id.id or 0,
                    }
                )
            )
        vals = {"media_state": "failed" if errors and not attachments else "done"}
        if attachments:
            vals["attachment_ids"] = [fields.Command.link(a.id) for a in attachments]
            if self.mail_message_id:
                self.mail_message_id.sudo().write({"attachment_ids": [fields.Command.link(a.id) for a in attachments]})
        if errors:
            vals["error"] = "\n".join(errors)[:2000]
        self.write(vals)
        if attachments and self.lead_id:
            self.lead_id._ai_notify_updated()

    # ------------------------------------------------------------
    # DISPLAY HELPERS
    # ------------------------------------------------------------

    def _ai_chatter_body(self, item):
        """HTML of the chatter message for an inbound item (escaped)."""
        parts = []
        if item.text:
            parts.append(plaintext2html(item.text))
        if item.location:
            loc = item.location
            label = loc.get("name") or loc.get("address") or _("Location")
            url = f"https://maps.google.com/?q={loc.get('latitude')},{loc.get('longitude')}"
            parts.append(Markup('<p>📍 <a href="%s" target="_blank" rel="noopener">%s</a></p>') % (url, label))
        for contact in item.shared_contacts or []:
            parts.append(
                Markup("<p>👤 %s %s</p>") % (contact.get("name") or "", ", ".join(contact.get("phones") or []))
            )
        if item.attachments and not item.text:
            kinds = ", ".join(sorted({a.kind for a in item.attachments}))
            parts.append(Markup("<p><i>%s</i></p>") % _("[%s received]", kinds))
        if not parts:
            parts.append(Markup("<p><i>%s</i></p>") % _("[%s message]", item.message_type or _("empty")))
        if item.is_edit:  # the customer changed an earlier message: this is its new content
            parts.insert(0, Markup("<p><i>%s</i></p>") % _("✏️ Edited message:"))
        if item.referral:
            label = self.env["crm.lead"]._ai_referral_label(item.referral)
            parts.append(Markup("<p><small>%s</small></p>") % _("📣 Came from: %s", label))
        return Markup("").join(parts)
