from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import outbound


class CrmAiReplyWizard(models.TransientModel):
    """Reply on the lead's channel (WhatsApp, Telegram...), not by e-mail."""

    _name = "crm.ai.reply.wizard"
    _description = "Reply on the Channel"

    lead_id = fields.Many2one("crm.lead", required=True, readonly=True, ondelete="cascade")
    identity_ids = fields.Many2many("crm.ai.identity", compute="_compute_identity_ids")
    identity_count = fields.Integer(compute="_compute_identity_ids")
    identity_id = fields.Many2one(
        "crm.ai.identity",
        string="To",
        compute="_compute_identity_id",
        store=True,
        readonly=False,
        precompute=True,
        domain="[('id', 'in', identity_ids)]",
    )
    channel_id = fields.Many2one(related="identity_id.channel_id", string="Channel")
    channel_type = fields.Selection(related="identity_id.channel_type")
    opt_out = fields.Boolean(related="identity_id.opt_out")
    window_mode = fields.Selection(
        [
            (outbound.FREE, "Free text"),
            (outbound.TAG, "Human agent"),
            (outbound.TEMPLATE, "Template only"),
            (outbound.CLOSED, "Closed"),
        ],
        compute="_compute_window",
    )
    window_text = fields.Char(compute="_compute_window")
    supports_templates = fields.Boolean(compute="_compute_window")
    body = fields.Text(string="Message")
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "crm_ai_reply_wizard_attachment_rel",
        "wizard_id",
        "attachment_id",
        string="Attachments",
    )
    template_id = fields.Many2one(
        "crm.ai.template",
        string="Template",
        domain="[('channel_id', '=', channel_id), ('status', '=', 'approved')]",
    )
    variable_ids = fields.One2many(
        "crm.ai.reply.wizard.variable",
        "wizard_id",
        string="Variables",
        compute="_compute_variable_ids",
        store=True,
        readonly=False,
    )
    preview = fields.Text(compute="_compute_preview")

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("lead_id")
    def _compute_identity_ids(self):
        for wizard in self:
            wizard.identity_ids = wizard.lead_id._ai_reply_identities() if wizard.lead_id else False
            wizard.identity_count = len(wizard.identity_ids)

    @api.depends("lead_id")
    def _compute_identity_id(self):
        for wizard in self:
            identities = wizard.lead_id._ai_reply_identities() if wizard.lead_id else self.env["crm.ai.identity"]
            if not wizard.identity_id or wizard.identity_id not in identities:
                wizard.identity_id = identities[:1]

    @api.depends("identity_id")
    def _compute_window(self):
        for wizard in self:
            identity = wizard.identity_id
            if not identity:
                wizard.window_mode = outbound.CLOSED
                wizard.window_text = _("This lead has no channel conversation to reply to.")
                wizard.supports_templates = False
                continue
            channel = identity.channel_id.sudo()
            window = wizard.lead_id._ai_reply_window(identity)
            wizard.window_mode = window.mode
            wizard.window_text = wizard.lead_id._ai_window_text(channel, window)
            wizard.supports_templates = channel._ai_provider()._ai_supports_templates(channel)

    @api.depends("template_id")
    def _compute_variable_ids(self):
        for wizard in self:
            commands = [fields.Command.clear()]
            template = wizard.template_id
            if template:
                defaults = template._ai_default_values(wizard.lead_id)
                for variable in template.variable_ids:
                    commands.append(
                        fields.Command.create(
                            {
                                "sequence": variable.sequence,
                                "component": variable.component,
                                "key": variable.key,
                                "name": variable.name,
                                "value": defaults.get((variable.component, variable.key), ""),
                            }
                        )
                    )
            wizard.variable_ids = commands

    @api.depends("template_id", "variable_ids.value")
    def _compute_preview(self):
        for wizard in self:
            wizard.preview = wizard.template_id._ai_render(wizard._values()) if wizard.template_id else False

    def _values(self):
        return {(v.component, v.key): v.value or "" for v in self.variable_ids}

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_send(self):
        self.ensure_one()
        if not self.identity_id:
            raise UserError(_("This lead has no channel conversation to reply to."))
        template = self.template_id
        if template:
            template._ai_check_header_media()
            missing = self.variable_ids.filtered(lambda v: not (v.value or "").strip())
            if missing:
                raise UserError(_("Fill in the template variables: %s", ", ".join(missing.mapped("name"))))
        elif self.window_mode == outbound.TEMPLATE:
            raise UserError(self.window_text)
        attachments = self.attachment_ids.filtered(lambda a: a.create_uid == self.env.user)
        self.lead_id._ai_send_reply(
            self.body or "",
            identity=self.identity_id,
            attachments=attachments if not template else None,
            template=template or None,
            template_values=self._values() if template else None,
        )
        return {"type": "ir.actions.act_window_close"}


class CrmAiReplyWizardVariable(models.TransientModel):
    _name = "crm.ai.reply.wizard.variable"
    _description = "Reply on the Channel: template variable"
    _order = "sequence, id"

    wizard_id = fields.Many2one("crm.ai.reply.wizard", required=True, ondelete="cascade")
    sequence = fields.Integer()
    component = fields.Selection(
        [("header", "Header"), ("body", "Body"), ("button", "URL Button")], required=True, default="body"
    )
    key = fields.Char(required=True)
    name = fields.Char(string="Variable", readonly=True)
    value = fields.Char()
