from odoo import fields, models

from ..services.providers import meta_messaging


class CrmAiChannel(models.Model):
    _inherit = "crm.ai.channel"

    channel_type = fields.Selection(
        selection_add=[("instagram", "Instagram"), ("messenger", "Facebook Messenger")],
        ondelete={"instagram": "cascade", "messenger": "cascade"},
    )


class CrmAiChannelProviderMetaMessaging(models.AbstractModel):
    """Instagram Messaging and Messenger Platform: same envelope, same signature."""

    _name = "crm.ai.channel.provider.messenger"
    _inherit = "crm.ai.channel.provider.meta"
    _description = "AI Agent Channel Provider: Messenger"

    def _ai_parse(self, channel, payload):
        return meta_messaging.parse(payload)

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


class CrmAiChannelProviderInstagram(models.AbstractModel):
    _name = "crm.ai.channel.provider.instagram"
    _inherit = "crm.ai.channel.provider.messenger"
    _description = "AI Agent Channel Provider: Instagram"
