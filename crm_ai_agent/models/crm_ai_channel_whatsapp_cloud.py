from odoo import _, api, fields, models

from ..services import outbound
from ..services.inbound import PayloadError
from ..services.providers import whatsapp_cloud
from .crm_ai_channel_provider import ProviderError


class CrmAiChannel(models.Model):
    _inherit = "crm.ai.channel"

    channel_type = fields.Selection(
        selection_add=[("whatsapp_cloud", "WhatsApp (Cloud API)")], ondelete={"whatsapp_cloud": "cascade"}
    )
    whatsapp_phone_number_id = fields.Char(string="Phone Number ID", copy=False)
    whatsapp_business_account_id = fields.Char(
        string="WhatsApp Business Account ID",
        copy=False,
        help="Needed to import the approved message templates from Meta.",
    )
    ai_template_ids = fields.One2many("crm.ai.template", "channel_id", string="WhatsApp Templates")
    ai_template_count = fields.Integer(string="Templates", compute="_compute_ai_template_count")

    @api.depends("ai_template_ids")
    def _compute_ai_template_count(self):
        data = dict(
            self.env["crm.ai.template"]._read_group([("channel_id", "in", self.ids)], ["channel_id"], ["__count"])
        )
        for channel in self:
            channel.ai_template_count = data.get(channel, 0)

    def action_sync_whatsapp_templates(self):
        self.ensure_one()
        self.check_access("write")  # managers: the import runs with the channel's credentials
        count = self.env["crm.ai.template"].sudo()._ai_sync_channel(self)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("WhatsApp Templates"),
                "message": _("%s templates synchronised from Meta.", count),
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_view_templates(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_ai_agent.crm_ai_template_action")
        action["domain"] = [("channel_id", "=", self.id)]
        action["context"] = {"default_channel_id": self.id}
        return action


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

    # ------------------------------------------------------------
    # OUTBOUND
    # ------------------------------------------------------------

    def _ai_window(self, channel, identity, now):
        return outbound.whatsapp_window(identity.last_inbound_date, now)

    def _ai_supports_templates(self, channel):
        return True

    def _ai_send(self, channel, message):
        phone_number_id = channel.whatsapp_phone_number_id
        if not phone_number_id:
            raise ProviderError(_("Set the Phone Number ID of channel %s first.", channel.display_name))
        to = message.recipient_key
        if message.template_id:
            template = message.template_id
            # a missing media uploads nothing: _ai_components() refuses it before anything reaches Meta
            media_file = (
                template._ai_header_media_attachment() if template.header_format in outbound.MEDIA_HEADERS else None
            )
            media_id = self._ai_upload_media(channel, media_file) if media_file else None
            body = whatsapp_cloud.build_template(
                to,
                template.name,
                template.language,
                template._ai_components(message._ai_template_values(), media_id=media_id),
            )
        elif message.attachment_ids:
            attachment = message.attachment_ids[:1]
            kind = outbound.media_kind(attachment.mimetype)
            media_id = self._ai_upload_media(channel, attachment)
            body = whatsapp_cloud.build_media(
                to,
                kind,
                media_id,
                caption=message.body or None,
                filename=attachment.name if kind == "document" else None,
            )
        else:
            body = whatsapp_cloud.build_text(to, message.body or "", preview_url=True)
        # Echoed back in the status webhooks: lets a status find its message even without the wamid.
        body["biz_opaque_callback_data"] = f"crm_ai:{message.id}"
        data = self._ai_request(
            channel, "POST", f"{phone_number_id}/messages", json=body, headers=self._ai_auth_headers(channel)
        )
        try:
            return whatsapp_cloud.parse_send_response(data)
        except PayloadError as exc:
            raise ProviderError(str(exc)) from exc

    def _ai_upload_media(self, channel, attachment):
        filename, content, mimetype = self._ai_attachment_payload(attachment)
        data = self._ai_request(
            channel,
            "POST",
            f"{channel.whatsapp_phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mimetype},
            files={"file": (filename, content, mimetype)},
            headers=self._ai_auth_headers(channel),
        )
        media_id = data.get("id") if isinstance(data, dict) else None
        if not media_id:
            raise ProviderError(_("WhatsApp did not return a media id for %s.", filename))
        return media_id
