import base64
import secrets

from odoo import _, fields, models

from ..services import outbound, signatures
from ..services.inbound import PayloadError
from ..services.providers import evolution
from .crm_ai_channel_provider import ProviderError, WebhookReject

SECRET_HEADER = "x-webhook-secret"


class CrmAiChannel(models.Model):
    _inherit = "crm.ai.channel"

    channel_type = fields.Selection(
        selection_add=[("whatsapp_evolution", "WhatsApp (Evolution API)")],
        ondelete={"whatsapp_evolution": "cascade"},
    )
    evolution_api_key = fields.Char(string="Evolution API Key", groups="base.group_system", copy=False)
    evolution_instance = fields.Char(string="Evolution Instance", copy=False)
    webhook_secret = fields.Char(
        groups="base.group_system",
        copy=False,
        default=lambda self: secrets.token_urlsafe(32),
        help="Evolution signs nothing: add a header 'X-Webhook-Secret: <this value>' to the instance's "
        "webhook headers, or 'jwt_key: <this value>' to have Evolution send a signed JWT.",
    )


class CrmAiChannelProviderEvolution(models.AbstractModel):
    _name = "crm.ai.channel.provider.whatsapp_evolution"
    _inherit = "crm.ai.channel.provider"
    _description = "AI Agent Channel Provider: Evolution API"

    def _ai_default_api_base_url(self):
        return "http://localhost:8080"

    def _ai_webhook_fields(self):
        return ("webhook_secret",)

    def _ai_verify_request(self, channel, headers, raw):
        secret = channel.sudo().webhook_secret
        if not secret:
            raise WebhookReject(403, "no webhook secret configured")
        auth = headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            if evolution.verify_webhook_jwt(auth, secret):
                return
            raise WebhookReject(403, "bad JWT")
        if not signatures.tokens_equal(headers.get(SECRET_HEADER) or "", secret):
            raise WebhookReject(403, "bad or missing X-Webhook-Secret")

    def _ai_parse(self, channel, payload):
        return evolution.parse(payload)

    def _ai_auth_headers(self, channel):
        return {"apikey": channel.sudo().evolution_api_key or ""}

    def _ai_test_connection(self, channel):
        data = self._ai_request(
            channel,
            "GET",
            f"instance/connectionState/{channel.evolution_instance}",
            headers=self._ai_auth_headers(channel),
        )
        state = (data.get("instance") or {}).get("state") if isinstance(data, dict) else None
        return _("Instance state: %s", state or data)

    # ------------------------------------------------------------
    # OUTBOUND
    # ------------------------------------------------------------

    def _ai_send(self, channel, message):
        instance = channel.evolution_instance
        if not instance:
            raise ProviderError(_("Set the Evolution instance of channel %s first.", channel.display_name))
        key = message.recipient_key or ""
        number = key if "@" in key else key.lstrip("+")
        if message.attachment_ids:
            filename, content, mimetype = self._ai_attachment_payload(message.attachment_ids[:1])
            body = evolution.build_send_media(
                number,
                outbound.media_kind(mimetype),
                base64.b64encode(content).decode(),
                caption=message.body or None,
                filename=filename,
                mimetype=mimetype,
            )
            path = f"message/sendMedia/{instance}"
        else:
            body = evolution.build_send_text(number, message.body or "")
            path = f"message/sendText/{instance}"
        data = self._ai_request(channel, "POST", path, json=body, headers=self._ai_auth_headers(channel))
        try:
            return evolution.parse_send_response(data)
        except PayloadError as exc:
            raise ProviderError(str(exc)) from exc
