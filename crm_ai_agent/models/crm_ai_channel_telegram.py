import secrets

from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..services import outbound, signatures
from ..services.inbound import PayloadError
from ..services.providers import telegram
from .crm_ai_channel_provider import ProviderError, WebhookReject

TELEGRAM_URL = "https://api.telegram.org"


class CrmAiChannel(models.Model):
    _inherit = "crm.ai.channel"

    channel_type = fields.Selection(selection_add=[("telegram", "Telegram")], ondelete={"telegram": "cascade"})
    telegram_bot_token = fields.Char(string="Bot Token", groups="base.group_system", copy=False)
    telegram_secret_token = fields.Char(
        string="Webhook Secret Token",
        groups="base.group_system",
        copy=False,
        default=lambda self: secrets.token_urlsafe(32),
        help="Sent by Telegram in X-Telegram-Bot-Api-Secret-Token on every update.",
    )

    def action_telegram_set_webhook(self):
        self.ensure_one()
        if self.channel_type != "telegram":
            raise UserError(_("This is not a Telegram channel."))
        self._ai_provider()._ai_set_webhook(self)
        self.message_post(body=_("Telegram webhook registered."))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("Telegram"), "message": _("Webhook registered."), "type": "success"},
        }


class CrmAiChannelProviderTelegram(models.AbstractModel):
    _name = "crm.ai.channel.provider.telegram"
    _inherit = "crm.ai.channel.provider"
    _description = "AI Agent Channel Provider: Telegram"

    def _ai_default_api_base_url(self):
        return TELEGRAM_URL

    def _ai_webhook_fields(self):
        return ("telegram_secret_token",)

    def _ai_verify_request(self, channel, headers, raw):
        expected = channel.sudo().telegram_secret_token
        if not expected:
            raise WebhookReject(403, "no secret token configured")
        if not signatures.tokens_equal(headers.get("x-telegram-bot-api-secret-token") or "", expected):
            raise WebhookReject(403, "bad or missing X-Telegram-Bot-Api-Secret-Token")

    def _ai_parse(self, channel, payload):
        return telegram.parse(payload)

    def _ai_method_url(self, channel, method):
        token = channel.sudo().telegram_bot_token
        if not token:
            raise UserError(_("Set the bot token of channel %s first.", channel.display_name))
        return f"{channel._ai_api_base_url()}/bot{token}/{method}"

    def _ai_call(self, channel, method, **payload):
        data = self._ai_request(channel, "POST", self._ai_method_url(channel, method), json=payload)
        if isinstance(data, dict) and data.get("ok") is False:
            from .crm_ai_channel_provider import ProviderError  # noqa: PLC0415

            raise ProviderError(data.get("description") or "Telegram error")
        return data.get("result") if isinstance(data, dict) else data

    def _ai_set_webhook(self, channel):
        sudo = channel.sudo()
        if not sudo.telegram_secret_token:
            sudo.telegram_secret_token = secrets.token_urlsafe(32)
        return self._ai_call(
            channel,
            "setWebhook",
            url=channel.webhook_url,
            secret_token=sudo.telegram_secret_token,
            allowed_updates=["message", "edited_message", "callback_query"],
            drop_pending_updates=False,
        )

    def _ai_fetch_media(self, channel, attachment):
        if not attachment.media_id:
            return super()._ai_fetch_media(channel, attachment)
        info = self._ai_call(channel, "getFile", file_id=attachment.media_id) or {}
        path = info.get("file_path")
        if not path:
            return None
        token = channel.sudo().telegram_bot_token
        url = f"{channel._ai_api_base_url()}/file/bot{token}/{path}"
        return self._ai_request(channel, "GET", url, raw_response=True).content

    def _ai_test_connection(self, channel):
        me = self._ai_call(channel, "getMe") or {}
        return _("Connected to @%s", me.get("username"))

    # ------------------------------------------------------------
    # OUTBOUND
    # ------------------------------------------------------------

    def _ai_business_connection(self, channel, chat_id):
        """The Telegram Business connection the customer last wrote through, if any.

        A customer who writes to a business account (Telegram Business, bot connected to it) is
        answered through the same connection: Telegram refuses the reply without its id.
        """
        self.env.cr.execute(
            SQL(
                """
                SELECT payload->>'account_id' FROM crm_ai_message
                 WHERE channel_id = %s AND direction = 'in' AND sender_key = %s AND kind = 'message'
                 ORDER BY id DESC LIMIT 1
                """,
                channel.id,
                chat_id,
            )
        )
        row = self.env.cr.fetchone()
        return (row and row[0]) or None

    def _ai_send(self, channel, message):
        chat_id = message.recipient_key
        business = self._ai_business_connection(channel, chat_id)
        if message.attachment_ids:
            filename, content, mimetype = self._ai_attachment_payload(message.attachment_ids[:1])
            field = "photo" if outbound.media_kind(mimetype) == "image" else "document"
            params = {"chat_id": chat_id}
            if business:
                params["business_connection_id"] = business
            if message.body:
                params["caption"] = message.body[:1024]
            data = self._ai_request(
                channel,
                "POST",
                self._ai_method_url(channel, "sendPhoto" if field == "photo" else "sendDocument"),
                data=params,
                files={field: (filename, content, mimetype)},
            )
        else:
            data = self._ai_request(
                channel,
                "POST",
                self._ai_method_url(channel, "sendMessage"),
                json=telegram.build_send_message(chat_id, message.body or "", business_connection_id=business),
            )
        try:
            return telegram.parse_send_response(data)
        except PayloadError as exc:
            raise ProviderError(str(exc)) from exc
