from odoo import fields, models

from ..services import signatures
from .crm_ai_channel_provider import WebhookReject

GRAPH_URL = "https://graph.facebook.com/v21.0"


class CrmAiChannel(models.Model):
    _inherit = "crm.ai.channel"

    # Shared by the three Meta channel types (WhatsApp Cloud, Instagram, Messenger).
    meta_app_secret = fields.Char(string="App Secret", groups="base.group_system", copy=False)
    meta_verify_token = fields.Char(string="Verify Token", groups="base.group_system", copy=False)
    meta_access_token = fields.Char(string="Access Token", groups="base.group_system", copy=False)


class CrmAiChannelProviderMeta(models.AbstractModel):
    """What the Meta platforms (WhatsApp Cloud, Instagram, Messenger) share."""

    _name = "crm.ai.channel.provider.meta"
    _inherit = "crm.ai.channel.provider"
    _description = "AI Agent Channel Provider: Meta platform"

    def _ai_default_api_base_url(self):
        return GRAPH_URL

    def _ai_webhook_fields(self):
        return ("meta_app_secret", "meta_verify_token")

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
