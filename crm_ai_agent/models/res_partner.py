from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    ai_identity_ids = fields.One2many("crm.ai.identity", "partner_id", string="Channel Identities")
    ai_identity_count = fields.Integer(compute="_compute_ai_identity_count", string="Channel Identities Count")

    @api.depends("ai_identity_ids")
    def _compute_ai_identity_count(self):
        data = dict(
            self.env["crm.ai.identity"]._read_group([("partner_id", "in", self.ids)], ["partner_id"], ["__count"])
        )
        for partner in self:
            partner.ai_identity_count = data.get(partner, 0)


class UtmSource(models.Model):
    _inherit = "utm.source"

    @api.model
    def _ai_source_for(self, channel):
        name = dict(channel._fields["channel_type"]._description_selection(self.env)).get(channel.channel_type)
        source = self.search([("name", "=", name)], limit=1)
        return (source or self.create({"name": name})).id


class UtmMedium(models.Model):
    _inherit = "utm.medium"

    @api.model
    def _ai_medium_for(self, channel_type):
        xmlid = {
            "webchat": "utm.utm_medium_website",
        }.get(channel_type, "crm_ai_agent.utm_medium_messaging")
        medium = self.env.ref(xmlid, raise_if_not_found=False)
        return medium.id if medium else False
