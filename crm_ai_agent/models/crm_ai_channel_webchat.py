import secrets

from odoo import api, fields, models

from ..services.providers import webchat
from .crm_ai_channel_provider import WebhookReject


class CrmAiChannel(models.Model):
    _inherit = "crm.ai.channel"

    channel_type = fields.Selection(selection_add=[("webchat", "Website Chat")], ondelete={"webchat": "cascade"})
    webchat_public_key = fields.Char(
        string="Public Key", copy=False, readonly=True, default=lambda self: secrets.token_urlsafe(16)
    )
    webchat_secret = fields.Char(groups="base.group_system", copy=False, default=lambda self: secrets.token_urlsafe(32))
    webchat_allowed_origins = fields.Text(
        string="Allowed Origins",
        help="One origin per line (https://www.example.com). The widget only works on these sites. "
        "Empty: only this Odoo's own website.",
    )
    webchat_title = fields.Char(string="Widget Title", translate=True, default="Fale conosco")
    webchat_welcome = fields.Text(string="Welcome Text", translate=True)
    webchat_color = fields.Char(string="Widget Color", default="#714B67")
    webchat_snippet = fields.Text(string="Embed Code", compute="_compute_webchat_snippet")

    @api.depends("webchat_public_key")
    def _compute_webchat_snippet(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        for channel in self:
            if channel.channel_type == "webchat" and channel.webchat_public_key:
                channel.webchat_snippet = (
                    f'<script src="{base_url}/crm_ai_agent/webchat/widget.js" '
                    f'data-key="{channel.webchat_public_key}" async></script>'
                )
            else:
                channel.webchat_snippet = False

    def _ai_webchat_origins(self):
        self.ensure_one()
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        origins = {o.strip().rstrip("/") for o in (self.webchat_allowed_origins or "").splitlines() if o.strip()}
        origins.add(base_url)
        return origins


class CrmAiChannelProviderWebchat(models.AbstractModel):
    _name = "crm.ai.channel.provider.webchat"
    _inherit = "crm.ai.channel.provider"
    _description = "AI Agent Channel Provider: Website Chat"

    def _ai_webhook_fields(self):
        return ("webchat_secret", "webchat_allowed_origins")

    def _ai_verify_request(self, channel, headers, raw):
        if not channel.sudo().webchat_secret:
            raise WebhookReject(403, "no web chat secret configured")
        origin = (headers.get("origin") or "").rstrip("/")
        if origin and origin not in channel._ai_webchat_origins():
            raise WebhookReject(403, "origin not allowed")

    def _ai_parse(self, channel, payload):
        return webchat.parse(payload)

    def _ai_visitor_token(self, channel, visitor_id):
        """Token the widget must show to read this visitor's replies."""
        return webchat.visitor_token(channel.sudo().webchat_secret or "", visitor_id)

    # ------------------------------------------------------------
    # OUTBOUND
    # ------------------------------------------------------------

    def _ai_send(self, channel, message):
        """Nothing to call: the widget polls its visitor's messages (controllers/webchat.py)."""
        return f"web:{message.id}"

    def _ai_visitor_messages(self, channel, visitor_id, after_id, limit=50):
        """What the widget shows: the replies to ``visitor_id`` newer than ``after_id`` (marked delivered)."""
        Message = self.env["crm.ai.message"].sudo()
        rows = Message.search(
            [
                ("channel_id", "=", channel.id),
                ("direction", "=", "out"),
                ("recipient_key", "=", visitor_id),
                ("delivery_state", "in", ("sent", "delivered", "read")),
                ("id", ">", after_id),
            ],
            order="id",
            limit=limit,
        )
        result = []
        for row in rows:
            attachments = [
                {"name": a.name, "mimetype": a.mimetype, "url": self._ai_public_url(a)} for a in row.attachment_ids
            ]
            result.append(
                {
                    "id": row.id,
                    "type": row.message_type or "text",
                    "text": row.body or "",
                    "attachments": attachments,
                    "author": row.user_id.name or channel.company_id.name or "",
                    "date": fields.Datetime.to_string(row.sent_date or row.create_date),
                }
            )
        fresh = rows.filtered(lambda m: m.delivery_state == "sent")
        if fresh:
            fresh.write({"delivery_state": "delivered"})
            fresh._ai_notify_delivery()
        return result
