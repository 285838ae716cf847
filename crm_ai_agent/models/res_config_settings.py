from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_ai_webhook_max_bytes = fields.Integer(
        string="Webhook Body Limit (bytes)",
        config_parameter="crm_ai_agent.webhook_max_bytes",
        default=3 * 1024 * 1024,
        help="Larger webhook requests are refused with 413.",
    )
    crm_ai_archive_after_days = fields.Integer(
        string="Archive Inactive Leads After (days)",
        config_parameter="crm_ai_agent.archive_after_days",
        help="Channel leads with no interaction for this many days are archived. 0 disables it.",
    )
    crm_ai_payload_retention_days = fields.Integer(
        string="Keep Raw Payloads (days)",
        config_parameter="crm_ai_agent.payload_retention_days",
        default=90,
        help="Raw provider payloads of processed messages are deleted after this many days.",
    )
    crm_ai_channel_count = fields.Integer(string="Active AI Channels", compute="_compute_crm_ai_channel_count")

    def _compute_crm_ai_channel_count(self):
        count = self.env["crm.ai.channel"].search_count([])
        for settings in self:
            settings.crm_ai_channel_count = count
