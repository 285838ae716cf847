import json

from odoo import _, fields, models

from ..services import outbound
from ..services.inbound import PayloadError
from ..services.providers import meta_messaging
from .crm_ai_channel_provider import ProviderError


class CrmAiChannel(models.Model):
    _inherit = "crm.ai.channel"

    channel_type = fields.Selection(
        selection_add=[("instagram", "Instagram"), ("messenger", "Facebook Messenger")],
        ondelete={"instagram": "cascade", "messenger": "cascade"},
    )
    meta_human_agent = fields.Boolean(
        string="Human Agent Tag",
        help="The Meta app has the Human Agent permission: salespeople may answer up to 7 days after the "
        "customer's last message (instead of 24 hours).",
    )


class CrmAiChannelProviderMetaMessaging(models.AbstractModel):
    """Instagram Messaging and Messenger Platform: same envelope, same signature."""

    _name = "crm.ai.channel.provider.messenger"
    _inherit = "crm.ai.channel.provider.meta"
    _description = "AI Agent Channel Provider: Messenger"

    def _ai_parse(self, channel, payload):
        return meta_messaging.parse_messenger(payload)

    def _ai_fetch_profile(self, channel, item):
        if not item.sender_id or not channel.sudo().meta_access_token:
            return {}
        data = self._ai_request(
            channel,
            "GET",
            item.sender_id,
            params={"fields": "name,first_name,last_name,username,profile_pic"},
            headers=self._ai_auth_headers(channel),
        )
        name = data.get("name") or " ".join(filter(None, [data.get("first_name"), data.get("last_name")]))
        return {"name": name or "", "username": data.get("username") or ""}

    # ------------------------------------------------------------
    # OUTBOUND
    # ------------------------------------------------------------

    def _ai_window(self, channel, identity, now):
        return outbound.meta_window(identity.last_inbound_date, now, human_agent=channel.meta_human_agent)

    def _ai_send(self, channel, message):
        recipient = message.recipient_key
        window = self._ai_window(channel, message.identity_id, message._ai_now())
        if window.mode == outbound.CLOSED:
            raise ProviderError(_("The messaging window of this conversation is closed."))
        messaging_type = "MESSAGE_TAG" if window.mode == outbound.TAG else "RESPONSE"
        if message.attachment_ids:
            data = self._ai_send_attachment(channel, message, recipient, messaging_type, window.tag)
        else:
            body = meta_messaging.build_text(recipient, message.body or "", messaging_type=messaging_type)
            if window.tag:
                body["tag"] = window.tag
            data = self._ai_request(channel, "POST", "me/messages", json=body, headers=self._ai_auth_headers(channel))
        try:
            return meta_messaging.parse_send_response(data)
        except PayloadError as exc:
            raise ProviderError(str(exc)) from exc

    def _ai_send_attachment(self, channel, message, recipient, messaging_type, tag):
        """Messenger takes the file itself (multipart ``filedata``)."""
        filename, content, mimetype = self._ai_attachment_payload(message.attachment_ids[:1])
        kind = meta_messaging.SEND_KINDS[outbound.media_kind(mimetype)]
        form = {
            "recipient": json.dumps({"id": recipient}),
            "messaging_type": messaging_type,
            "message": json.dumps({"attachment": {"type": kind, "payload": {"is_reusable": False}}}),
        }
        if tag:
            form["tag"] = tag
        return self._ai_request(
            channel,
            "POST",
            "me/messages",
            data=form,
            files={"filedata": (filename, content, mimetype)},
            headers=self._ai_auth_headers(channel),
        )


class CrmAiChannelProviderInstagram(models.AbstractModel):
    _name = "crm.ai.channel.provider.instagram"
    _inherit = "crm.ai.channel.provider.messenger"
    _description = "AI Agent Channel Provider: Instagram"

    def _ai_send_attachment(self, channel, message, recipient, messaging_type, tag):
        """Instagram only takes attachments by URL: a tokenised link to the file on this Odoo."""
        attachment = message.attachment_ids[:1]
        kind = outbound.media_kind(attachment.mimetype)
        body = meta_messaging.build_attachment(
            recipient, kind, self._ai_public_url(attachment), messaging_type=messaging_type
        )
        if tag:
            body["tag"] = tag
        return self._ai_request(channel, "POST", "me/messages", json=body, headers=self._ai_auth_headers(channel))

    def _ai_parse(self, channel, payload):
        return meta_messaging.parse_instagram(payload)
