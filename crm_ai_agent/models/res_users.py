import logging
from datetime import timedelta

import pytz
from markupsafe import Markup

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..services.phone import normalize_phone
from .crm_ai_channel_provider import ProviderError

_logger = logging.getLogger(__name__)

BUS_HOT_LEAD = "crm_ai_agent/hot_lead"
ALERT_FIELDS = ["ai_alert_method", "ai_alert_address", "ai_alert_channel_id"]


class ResUsers(models.Model):
    _inherit = "res.users"

    ai_alert_method = fields.Selection(
        [("none", "Only in Odoo"), ("email", "E-mail"), ("telegram", "Telegram"), ("whatsapp", "WhatsApp")],
        string="Lead Alerts Outside Odoo",
        default="none",
        required=True,
        help="Besides the notification in Odoo, where to alert you when a lead is handed to you.",
    )
    ai_alert_address = fields.Char(
        string="Alert Address",
        help="Telegram: your chat id (write to the company's bot first). WhatsApp: your number with country "
        "code. E-mail: leave empty to use your e-mail address.",
    )
    ai_alert_channel_id = fields.Many2one(
        "crm.ai.channel",
        string="Alert Channel",
        domain="[('channel_type', 'in', ('telegram', 'whatsapp_cloud', 'whatsapp_evolution'))]",
        help="Channel the alerts are sent through. Empty: the first active channel of the chosen type.",
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + ALERT_FIELDS

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return super().SELF_WRITEABLE_FIELDS + ALERT_FIELDS

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _ai_on_duty(self, when=None):
        """Within working hours and not on leave at ``when`` (UTC, default now).

        Uses the user's resource (created with their employee): its working
        schedule and its leaves (time off, public holidays). A user without a
        resource is always on duty.
        """
        self.ensure_one()
        when = when or fields.Datetime.now()
        resource = (
            self.env["resource.resource"]
            .sudo()
            .search([("user_id", "=", self.id), ("company_id", "in", [self.company_id.id, False])], limit=1)
        )
        if not resource:
            return True
        start = pytz.utc.localize(when)
        calendar = resource.calendar_id
        if calendar:
            intervals = calendar._work_intervals_batch(
                start - timedelta(minutes=1), start + timedelta(minutes=1), resources=resource
            )[resource.id]
            return any(begin <= start < end for begin, end, __ in intervals)
        # Flexible hours: only leaves count.
        return (
            not self.env["resource.calendar.leaves"]
            .sudo()
            .search_count(
                [
                    ("resource_id", "=", resource.id),
                    ("date_from", "<=", when),
                    ("date_to", ">", when),
                ]
            )
        )

    def _ai_alert(self, lead, title, message):
        """Alert the user about a lead: live in Odoo at once, and outside Odoo as they chose."""
        for user in self:
            user._bus_send(BUS_HOT_LEAD, {"lead_id": lead.id, "title": title, "message": message})
            if user.ai_alert_method in (False, "none"):
                continue
            try:
                user._ai_alert_outside(lead, title, message)
            except (UserError, ProviderError) as exc:
                _logger.info("crm_ai_agent: alert to user %s by %s not sent: %s", user.id, user.ai_alert_method, exc)

    def _ai_alert_outside(self, lead, title, message):
        self.ensure_one()
        url = f"{lead.get_base_url()}/odoo/crm.lead/{lead.id}"
        if self.ai_alert_method == "email":
            email = self.ai_alert_address or self.email
            if not email:
                raise UserError(_("%s has no e-mail address.", self.name))
            body = Markup("<p>%s</p><p><a href='%s'>%s</a></p>") % (message, url, _("Open the lead"))
            self.env["mail.mail"].sudo().create(
                {
                    "subject": title,
                    "body_html": body,
                    "email_to": email,
                    "email_from": lead.company_id.email_formatted or self.env.company.email_formatted,
                    "auto_delete": True,
                    "model": "crm.lead",
                    "res_id": lead.id,
                }
            )
            return
        channel = self._ai_alert_channel(lead.company_id)
        if not channel or not self.ai_alert_address:
            raise UserError(
                _("No %(method)s channel or address to alert %(user)s.", method=self.ai_alert_method, user=self.name)
            )
        text = f"{title}\n{message}\n{url}"
        template = channel.ai_alert_template_id if channel.channel_type == "whatsapp_cloud" else False
        values = {}
        if template:
            for variable, value in zip(template.variable_ids, [title, message, url], strict=False):
                values[(variable.component, variable.key)] = value
        address = self.ai_alert_address.strip()
        if self.ai_alert_method == "whatsapp":
            address = (normalize_phone(address) or address).lstrip("+")
        self.env["crm.ai.message"].sudo()._ai_queue(
            channel,
            address,
            lead=lead,
            body=text,
            template=template or None,
            template_values=values,
            origin="alert",
            alert_user=self,
        )

    def _ai_alert_channel(self, company):
        self.ensure_one()
        if self.ai_alert_channel_id.active:
            return self.ai_alert_channel_id.sudo()
        types = ["telegram"] if self.ai_alert_method == "telegram" else ["whatsapp_evolution", "whatsapp_cloud"]
        channels = (
            self.env["crm.ai.channel"].sudo().search([("channel_type", "in", types), ("company_id", "=", company.id)])
        )
        return channels.sorted(lambda c: types.index(c.channel_type))[:1]
