import logging
import secrets

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

WEBHOOK_ROUTE = "/crm_ai_agent/webhook/"


class CrmAiChannel(models.Model):
    """One connected messaging account (a WhatsApp number, a Telegram bot...).

    The behaviour of each ``channel_type`` lives in its provider model,
    ``crm.ai.channel.provider.<channel_type>`` (see crm_ai_channel_provider.py):
    adding a channel type is one new file that extends the selection below and
    implements that provider.
    """

    _name = "crm.ai.channel"
    _description = "AI Agent Channel"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    channel_type = fields.Selection(
        selection=[],
        string="Type",
        required=True,
        tracking=True,
        help="Messaging provider of this account.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, tracking=True
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        check_company=True,
        tracking=True,
        help="Sales team that receives the leads of this channel.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Default Salesperson",
        domain="[('share', '=', False)]",
        tracking=True,
        help="Salesperson of new leads when routing assigns nobody.",
    )
    source_id = fields.Many2one("utm.source", string="UTM Source", help="Source set on the leads of this channel.")
    medium_id = fields.Many2one("utm.medium", string="UTM Medium", help="Medium set on the leads of this channel.")
    api_base_url = fields.Char(
        string="API Base URL",
        help="Root of the provider API. Leave empty for the official one; set it for a self-hosted server or a proxy.",
    )
    webhook_token = fields.Char(
        copy=False,
        readonly=True,
        index="btree_not_null",
        groups="base.group_system",
        default=lambda self: secrets.token_urlsafe(24),
    )
    webhook_url = fields.Char(
        string="Webhook URL",
        compute="_compute_webhook_url",
        compute_sudo=True,
        help="Paste this URL in the provider's console. It is unique to this channel and secret: "
        "anyone who knows it can send messages to it, so regenerate it if it leaked.",
    )
    message_ids_count = fields.Integer(string="Channel Messages", compute="_compute_counts")
    lead_count = fields.Integer(string="Leads", compute="_compute_counts")
    failed_message_count = fields.Integer(string="Failed", compute="_compute_counts")
    last_message_date = fields.Datetime(readonly=True, copy=False)

    _sql_constraints = [
        ("webhook_token_uniq", "unique(webhook_token)", "The webhook token of a channel must be unique."),
    ]

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("webhook_token")
    def _compute_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for channel in self:
            channel.webhook_url = (
                f"{base_url.rstrip('/')}{channel._ai_webhook_path()}" if channel.webhook_token else False
            )

    def _ai_webhook_path(self):
        self.ensure_one()
        return f"{WEBHOOK_ROUTE}{self.sudo().webhook_token}"

    def _compute_counts(self):
        Message = self.env["crm.ai.message"]
        msg_data = dict(
            Message._read_group([("channel_id", "in", self.ids), ("kind", "=", "message")], ["channel_id"], ["__count"])
        )
        failed_data = dict(
            Message._read_group([("channel_id", "in", self.ids), ("state", "=", "failed")], ["channel_id"], ["__count"])
        )
        lead_data = dict(
            self.env["crm.lead"]
            .with_context(active_test=False)
            ._read_group([("ai_channel_id", "in", self.ids)], ["ai_channel_id"], ["__count"])
        )
        for channel in self:
            channel.message_ids_count = msg_data.get(channel, 0)
            channel.failed_message_count = failed_data.get(channel, 0)
            channel.lead_count = lead_data.get(channel, 0)

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        channels = super().create(vals_list)
        channels._ai_ensure_utm()
        self.env.registry.clear_cache()  # webhook token lookup cache
        return channels

    def write(self, vals):
        res = super().write(vals)
        if set(vals) & self._ai_webhook_cached_fields():
            self.env.registry.clear_cache()  # the webhook snapshots (_ai_webhook_snapshot)
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    def _ai_ensure_utm(self):
        for channel in self:
            vals = {}
            if not channel.source_id:
                vals["source_id"] = self.env["utm.source"].sudo()._ai_source_for(channel)
            if not channel.medium_id:
                vals["medium_id"] = self.env["utm.medium"].sudo()._ai_medium_for(channel.channel_type)
            if vals:
                channel.write(vals)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_regenerate_webhook_token(self):
        self.ensure_one()
        if not self.env.user.has_group("base.group_system"):
            raise UserError(_("Only administrators can regenerate a webhook URL."))
        self.sudo().webhook_token = secrets.token_urlsafe(24)
        self.message_post(body=_("Webhook URL regenerated: update it in the provider's console."))
        return True

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_ai_agent.crm_ai_message_action")
        action["domain"] = [("channel_id", "=", self.id)]
        action["context"] = {"default_channel_id": self.id}
        return action

    def action_view_leads(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action["domain"] = [("ai_channel_id", "=", self.id)]
        action["context"] = {"active_test": False, "default_ai_channel_id": self.id}
        return action

    def action_test_connection(self):
        self.ensure_one()
        message = self._ai_provider()._ai_test_connection(self)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("Connection"), "message": message, "type": "success", "sticky": False},
        }

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _ai_provider(self):
        """The provider model implementing this channel's type."""
        self.ensure_one()
        return self.env[f"crm.ai.channel.provider.{self.channel_type}"]

    @api.model
    def _ai_webhook_channel(self, token):
        """The active channel of a webhook token (sudo), or an empty recordset.

        Every webhook request reads the same few fields of its channel (type, company, the secret
        that authenticates the request): they come from a per-worker cache, cleared when one of
        them is written, instead of a read of the whole record on each request.
        """
        snapshot = self._ai_webhook_snapshot(token)
        if not snapshot:
            return self.sudo().browse()
        channel = self.sudo().browse(snapshot["id"])
        cache = self.env.cache
        for name, value in snapshot.items():
            if name != "id":
                field = channel._fields[name]
                cache.set(channel, field, field.convert_to_cache(value, channel, validate=False), check_dirty=False)
        return channel

    @api.model
    @tools.ormcache("token")
    def _ai_webhook_snapshot(self, token):
        if not token or len(token) > 128:
            return None
        channel = self.sudo().search([("webhook_token", "=", token)], limit=1)
        if not channel:
            return None
        names = ("channel_type", "company_id", *channel._ai_provider()._ai_webhook_fields())
        return {
            "id": channel.id,
            **{name: channel._fields[name].convert_to_write(channel[name], channel) for name in names},
        }

    @api.model
    def _ai_webhook_cached_fields(self):
        """Fields whose change must clear the webhook snapshots."""
        names = {"webhook_token", "active", "channel_type", "company_id"}
        for channel_type, __ in self._fields["channel_type"].selection:
            provider = self.env.get(f"crm.ai.channel.provider.{channel_type}")
            if provider is not None:
                names.update(provider._ai_webhook_fields())
        return names

    def _ai_api_base_url(self):
        self.ensure_one()
        return (self.api_base_url or self._ai_provider()._ai_default_api_base_url()).rstrip("/")
