from odoo import _, fields, models

from ..services import signatures
from ..services.providers import whatsapp_cloud
from .crm_ai_channel_provider import WebhookReject

GRAPH_URL = "https://graph.facebook.com/v21.0"


class CrmAiChannel(models.Model):
    _inherit = "crm.ai.channel"

    channel_type = fields.Selection(
        selection_add=[("whatsapp_cloud", "WhatsApp (Cloud API)")], ondelete={"whatsapp_cloud": "cascade"}
    )
    # Shared by the three Meta channel types (WhatsApp Cloud, Instagram, Messenger).
    meta_app_secret = fields.Char(string="App Secret", groups="base.group_system", copy=False)
    meta_verify_token = fields.Char(string="Verify Token", groups="base.group_system", copy=False)
    meta_access_token = fields.Char(string="Access Token", groups="base.group_system", copy=False)
    whatsapp_phone_number_id = fields.Char(string="Phone Number ID", copy=False)


class CrmAiChannelProviderMeta(models.AbstractModel):
    """What the Meta platforms (WhatsApp Cloud, Instagram, Messenger) share."""

    _name = "crm.ai.channel.provider.meta"
    _inherit = "crm.ai.channel.provider"
    _description = "AI Agent Channel Provider: Meta platform"

    def _ai_default_api_base_url(self):
        return GRAPH_URL

    def _ai_handshake(self, channel, args):
        secrets = channel.sudo()
        if args.get("hub.mode") != "subscribe":
            raise WebhookReject(400, "hub.mode is not subscribe")
        if not secrets.meta_verify_token:
            raise WebhookReject(403, "no verify token configured")
        if not signatures.tokens_equal(args.get("hub.verify_token") or "", secrets.meta_verify_token):
            raise WebhookReject(403, "verify token mismatch")
        challenge = args.get("hub.challenge") or ""
        if not challenge or len(challenge) > 256:
            raise WebhookReject(400, "missing hub.challenge")
        return challenge

    def _ai_verify_request(self, channel, headers, raw):
        secret = channel.sudo().meta_app_secret
        if not secret:
            raise WebhookReject(403, "no app secret configured")
        if not signatures.verify_meta_signature(raw, headers.get("x-hub-signature-256"), secret):
            raise WebhookReject(403, "bad or missing X-Hub-Signature-256")

    def _ai_auth_headers(self, channel):
        return {"Authorization": f"Bearer {channel.sudo().meta_access_token or ''}"}


class CrmAiChannelProviderWhatsappCloud(models.AbstractModel):
    _name = "crm.ai.channel.provider.whatsapp_cloud"
    _inherit = "crm.ai.channel.provider.meta"
    _description = "AI Agent Channel Provider: WhatsApp Cloud API"

    def _ai_parse(self, channel, payload):
        return whatsapp_cloud.parse(payload)

    def _ai_fetch_media(self, channel, attachment):
        if attachment.media_id:
            meta = self._ai_request(channel, "GET", attachment.media_id, headers=self._ai_auth_headers(channel))
            url = meta.get("url")
            if not url:
                return None
            return self._ai_request(
                channel, "GET", url, headers=self._ai_auth_headers(channel), raw_response=True
            ).content
        return super()._ai_fetch_media(channel, attachment)

    def _ai_test_connection(self, channel):
        data = self._ai_request(
            channel, "GET", channel.whatsapp_phone_number_id or "me", headers=self._ai_auth_headers(channel)
        )
        return _("Connected: %s", data.get("display_phone_number") or data.get("name") or data.get("id"))
