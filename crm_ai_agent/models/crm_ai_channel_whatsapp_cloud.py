from odoo import _, fields, models

from ..services.providers import whatsapp_cloud


class CrmAiChannel(models.Model):
    _inherit = "crm.ai.channel"

    channel_type = fields.Selection(
        selection_add=[("whatsapp_cloud", "WhatsApp (Cloud API)")], ondelete={"whatsapp_cloud": "cascade"}
    )
    whatsapp_phone_number_id = fields.Char(string="Phone Number ID", copy=False)


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
