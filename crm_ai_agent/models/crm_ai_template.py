import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import outbound

_logger = logging.getLogger(__name__)

TEMPLATE_STATUSES = [
    ("approved", "Approved"),
    ("pending", "Pending Review"),
    ("rejected", "Rejected"),
    ("paused", "Paused"),
    ("disabled", "Disabled"),
    ("draft", "Not Submitted"),
]
VARIABLE_SOURCES = [
    ("free", "Typed by the salesperson"),
    ("contact_name", "Contact name"),
    ("contact_first_name", "Contact first name"),
    ("user_name", "Salesperson name"),
    ("company_name", "Company name"),
    ("lead_name", "Lead title"),
    ("interest", "Customer interest"),
]
HEADER_FORMATS = [
    ("text", "Text"),
    ("image", "Image"),
    ("video", "Video"),
    ("document", "Document"),
    ("location", "Location"),
]


class CrmAiTemplate(models.Model):
    """An approved WhatsApp message template: the only thing WhatsApp lets a
    business send more than 24 hours after the customer's last message."""

    _name = "crm.ai.template"
    _description = "AI Agent WhatsApp Template"
    _order = "channel_id, name, language"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(
        required=True, help="Template name as registered at Meta (lower case letters, digits and underscores)."
    )
    language = fields.Char(required=True, default="pt_BR", help="Language code of the template, e.g. pt_BR, en_US.")
    channel_id = fields.Many2one(
        "crm.ai.channel",
        required=True,
        ondelete="cascade",
        index=True,
        domain="[('channel_type', '=', 'whatsapp_cloud')]",
    )
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True)
    active = fields.Boolean(default=True)
    status = fields.Selection(
        TEMPLATE_STATUSES,
        default="approved",
        required=True,
        help="Review status at Meta; only approved templates can be sent.",
    )
    category = fields.Selection(
        [("utility", "Utility"), ("marketing", "Marketing"), ("authentication", "Authentication")],
        default="utility",
    )
    external_id = fields.Char(string="Meta Template ID", readonly=True, copy=False)
    header_format = fields.Selection(
        HEADER_FORMATS,
        string="Header Type",
        default="text",
        required=True,
        help="Kind of header registered at Meta; image, video and document headers need a media at each send.",
    )
    header = fields.Char(help="Text header, with {{1}} style placeholders.")
    header_media_file = fields.Binary(
        string="Header File",
        attachment=True,
        copy=False,
        help="Default media sent in the header; uploaded at each send.",
    )
    header_media_filename = fields.Char(
        string="Header File Name", help="Name of the header file; the customer sees it on a document header."
    )
    header_media_url = fields.Char(
        string="Header Media URL", help="Public https link to the default header media, used when no file is set."
    )
    header_example_url = fields.Char(
        string="Header Example",
        readonly=True,
        copy=False,
        help="Sample media submitted to Meta for review (a temporary link, never sent to customers).",
    )
    url_buttons = fields.Json(
        string="URL Buttons",
        readonly=True,
        help="Buttons whose URL ends with a variable, as imported from Meta: [{index, text, url}].",
    )
    body = fields.Text(required=True, help="Body text with placeholders {{1}}, {{2}}... (or named ones).")
    footer = fields.Char()
    buttons = fields.Char(help="Quick reply / call to action button labels, for information.")
    variable_ids = fields.One2many("crm.ai.template.variable", "template_id", string="Variables", copy=True)
    variable_count = fields.Integer(compute="_compute_variable_count")
    last_sync_date = fields.Datetime(readonly=True, copy=False)

    _sql_constraints = [
        (
            "channel_name_lang_uniq",
            "unique(channel_id, name, language)",
            "A template exists once per channel, name and language.",
        ),
    ]

    @api.depends("name", "language")
    def _compute_display_name(self):
        for template in self:
            template.display_name = f"{template.name} ({template.language})" if template.language else template.name

    @api.depends("variable_ids")
    def _compute_variable_count(self):
        for template in self:
            template.variable_count = len(template.variable_ids)

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        templates = super().create(vals_list)
        templates._ai_sync_variables()
        return templates

    def write(self, vals):
        res = super().write(vals)
        if {"header", "header_format", "body", "url_buttons"} & set(vals):
            self._ai_sync_variables()
        return res

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_preview(self):
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": self.display_name, "message": self._ai_render({}), "sticky": False},
        }

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _ai_placeholders(self):
        """``[(component, key)]`` in the order Meta expects them; a URL button's key is its index."""
        self.ensure_one()
        header = outbound.template_placeholders(self.header) if self.header_format == "text" else []
        return (
            [("header", key) for key in header]
            + [("body", key) for key in outbound.template_placeholders(self.body)]
            + [("button", str(button["index"])) for button in self._ai_url_buttons()]
        )

    def _ai_url_buttons(self):
        self.ensure_one()
        return [b for b in self.url_buttons or [] if isinstance(b, dict) and str(b.get("index", "")).isdigit()]

    def _ai_variable_label(self, component, key):
        self.ensure_one()
        if component == "button":
            text = next((b.get("text") for b in self._ai_url_buttons() if str(b["index"]) == key), "") or key
            return _("End of the URL of button %s", text)
        return _("Variable %s", key) if key.isdigit() else key.replace("_", " ").capitalize()

    def _ai_header_media_attachment(self):
        """The ``ir.attachment`` holding the default header file, if any."""
        self.ensure_one()
        if not self.header_media_file:
            return self.env["ir.attachment"]
        return (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [("res_model", "=", self._name), ("res_field", "=", "header_media_file"), ("res_id", "=", self.id)],
                limit=1,
            )
        )

    def _ai_check_header_media(self):
        """Raise a UserError when the media header has no media: Meta would refuse the message."""
        for template in self:
            if template.header_format == "location":
                raise UserError(_("Template %s has a location header, which cannot be sent yet.", template.name))
            if template.header_format in outbound.MEDIA_HEADERS and not (
                template.header_media_file or template.header_media_url
            ):
                raise UserError(
                    _(
                        "Template %(template)s needs a header media (%(format)s): set its header file or URL first.",
                        template=template.display_name,
                        format=dict(template._fields["header_format"]._description_selection(template.env))[
                            template.header_format
                        ],
                    )
                )

    def _ai_sync_variables(self):
        """One variable line per placeholder of the texts; labels and sources kept."""
        for template in self:
            wanted = template._ai_placeholders()
            existing = {(v.component, v.key): v for v in template.variable_ids}
            commands = []
            for sequence, (component, key) in enumerate(wanted):
                variable = existing.pop((component, key), None)
                if variable:
                    if variable.sequence != sequence:
                        commands.append(fields.Command.update(variable.id, {"sequence": sequence}))
                else:
                    commands.append(
                        fields.Command.create(
                            {
                                "component": component,
                                "key": key,
                                "sequence": sequence,
                                "name": template._ai_variable_label(component, key),
                            }
                        )
                    )
            commands += [fields.Command.delete(v.id) for v in existing.values()]
            if commands:
                template.variable_ids = commands

    def _ai_default_values(self, lead, user=None):
        """``{(component, key): text}`` pre-filled for a lead."""
        self.ensure_one()
        return {(v.component, v.key): v._ai_default_for(lead, user or self.env.user) for v in self.variable_ids}

    def _ai_render(self, values):
        """The text the customer reads, for the chatter and the message history."""
        self.ensure_one()
        header = outbound.render_template(self.header, {k: v for (c, k), v in values.items() if c == "header"})
        body = outbound.render_template(self.body, {k: v for (c, k), v in values.items() if c == "body"})
        return "\n\n".join(p for p in (header, body, self.footer or "") if p)

    def _ai_components(self, values, media_id=None):
        """Graph API ``components`` for the given ``{(component, key): text}``.

        ``media_id``: the header file already uploaded to WhatsApp; otherwise the header
        media URL is sent as a link. Raises a UserError when a media header has no media.
        """
        self.ensure_one()
        self._ai_check_header_media()
        placeholders = self._ai_placeholders()
        by_component = {
            component: [(key, values.get((component, key), "")) for c, key in placeholders if c == component]
            for component in ("header", "body", "button")
        }
        media = {}
        if self.header_format in outbound.MEDIA_HEADERS:
            media = {"id": media_id} if media_id else {"link": self.header_media_url}
            media["filename"] = self.header_media_filename
        try:
            return outbound.template_components(
                by_component["header"],
                by_component["body"],
                header_format=self.header_format,
                header_media=media,
                button_values=by_component["button"],
            )
        except outbound.TemplateError as exc:
            raise UserError(
                _("Template %(template)s cannot be sent: %(reason)s", template=self.name, reason=exc)
            ) from exc

    @api.model
    def _ai_sync_channel(self, channel):
        """Import the templates of the channel's WhatsApp Business Account. Returns the number synced."""
        channel.ensure_one()
        waba = channel.sudo().whatsapp_business_account_id
        if channel.channel_type != "whatsapp_cloud" or not waba:
            raise UserError(
                _("Set the WhatsApp Business Account ID of channel %s to sync its templates.", channel.display_name)
            )
        provider = channel._ai_provider()
        params = {"fields": "id,name,language,status,category,components", "limit": 100}
        seen = self.browse()
        for __ in range(50):  # 5000 templates at most
            data = provider._ai_request(
                channel, "GET", f"{waba}/message_templates", params=params, headers=provider._ai_auth_headers(channel)
            )
            for entry in (data.get("data") or []) if isinstance(data, dict) else []:
                vals = outbound.parse_graph_template(entry)
                if vals:
                    seen |= self._ai_upsert(channel, vals)
            after = ((data.get("paging") or {}).get("cursors") or {}).get("after") if isinstance(data, dict) else None
            if not after or not (data.get("paging") or {}).get("next"):
                break
            params = {**params, "after": after}
        now = fields.Datetime.now()
        seen.write({"last_sync_date": now})
        # Templates deleted at Meta cannot be sent any more.
        gone = self.search([("channel_id", "=", channel.id), ("external_id", "!=", False), ("id", "not in", seen.ids)])
        gone.write({"active": False})
        return len(seen)

    @api.model
    def _ai_upsert(self, channel, vals):
        known = dict(TEMPLATE_STATUSES)
        values = {
            "status": vals["status"] if vals["status"] in known else "disabled",
            "category": vals["category"] if vals["category"] in ("utility", "marketing", "authentication") else False,
            "external_id": vals["external_id"] or False,
            "header": vals["header"] or False,
            "header_format": vals["header_format"] if vals["header_format"] in dict(HEADER_FORMATS) else "text",
            "header_example_url": vals["header_example"] or False,
            "url_buttons": vals["url_buttons"] or False,
            "body": vals["body"] or vals["name"],
            "footer": vals["footer"] or False,
            "buttons": ", ".join(b for b in vals["buttons"] if b) or False,
            "active": True,
        }
        template = self.with_context(active_test=False).search(
            [("channel_id", "=", channel.id), ("name", "=", vals["name"]), ("language", "=", vals["language"])],
            limit=1,
        )
        if template:
            template.write(values)
            return template
        return self.create({"channel_id": channel.id, "name": vals["name"], "language": vals["language"], **values})


class CrmAiTemplateVariable(models.Model):
    _name = "crm.ai.template.variable"
    _description = "AI Agent WhatsApp Template Variable"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one("crm.ai.template", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    component = fields.Selection(
        [("header", "Header"), ("body", "Body"), ("button", "URL Button")], required=True, default="body"
    )
    key = fields.Char(
        required=True, help="Placeholder: 1 for {{1}}, or the name of a named parameter; for a URL button, its index."
    )
    name = fields.Char(string="Label", required=True, translate=True)
    source = fields.Selection(
        VARIABLE_SOURCES,
        default="free",
        required=True,
        help="Where the composer takes the value from; the salesperson can change it.",
    )
    default_value = fields.Char(help="Value when the source gives none.")

    def _ai_default_for(self, lead, user):
        self.ensure_one()
        partner = lead.partner_id
        name = lead.contact_name or partner.name or ""
        value = {
            "contact_name": name,
            "contact_first_name": name.split(" ")[0] if name else "",
            "user_name": (lead.user_id or user).name or "",
            "company_name": (lead.company_id or user.company_id).name or "",
            "lead_name": lead.name or "",
            "interest": lead.ai_interest or "",
        }.get(self.source, "")
        return value or self.default_value or ""
