import logging

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.safe_eval import safe_eval

from ..services.render import render_text
from .crm_ai_campaign_recipient import EXCLUSION_REASONS
from .crm_ai_followup_sequence import _lead_values, _unfilled_variables

_logger = logging.getLogger(__name__)

WHATSAPP_TYPES = ("whatsapp_cloud", "whatsapp_evolution")


class CrmAiCampaign(models.Model):
    """One message to a segment of leads, over a messaging channel or by e-mail, sent in waves."""

    _name = "crm.ai.campaign"
    _description = "AI Agent Campaign"
    _inherit = ["mail.thread"]
    _order = "id desc"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, tracking=True
    )
    user_id = fields.Many2one("res.users", string="Responsible", default=lambda self: self.env.user, tracking=True)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("scheduled", "Scheduled"),
            ("sending", "Sending"),
            ("done", "Done"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        index=True,
        readonly=True,
        tracking=True,
        copy=False,
    )
    channel_kind = fields.Selection(
        [("channel", "Messaging channel"), ("email", "E-mail")],
        string="Send By",
        default="channel",
        required=True,
    )
    channel_id = fields.Many2one(
        "crm.ai.channel",
        string="Channel",
        check_company=True,
        domain="[('company_id', '=', company_id), ('channel_type', '!=', 'webchat')]",
        help="Only leads who already wrote on this channel can be reached on it.",
    )
    channel_type = fields.Selection(related="channel_id.channel_type")
    segment_domain = fields.Char(
        string="Segment",
        default="[]",
        help="The leads to reach: any filter of the CRM (temperature, score, stage, team, tags...).",
    )
    segment_count = fields.Integer(string="Leads in Segment", compute="_compute_segment_count")
    subject = fields.Char(help="Subject of the e-mail.")
    body = fields.Text(
        string="Message",
        help="Placeholders: {name} (first name), {full_name}, {interest}, {company}, {salesperson}.",
    )
    template_id = fields.Many2one(
        "crm.ai.template",
        string="WhatsApp Template",
        domain="[('channel_id', '=', channel_id), ('status', '=', 'approved')]",
        help="Sent to the recipients whose last WhatsApp message is more than 24 hours old (WhatsApp Cloud only). "
        "Without it, only recipients inside the 24-hour window get the message.",
    )
    schedule_date = fields.Datetime(string="Scheduled For", tracking=True, copy=False)
    wave_size = fields.Integer(
        default=100, required=True, help="Messages queued per run of the scheduled action (every 5 minutes)."
    )
    send_start_date = fields.Datetime(string="Started", readonly=True, copy=False)
    send_end_date = fields.Datetime(string="Finished", readonly=True, copy=False)
    recipient_ids = fields.One2many("crm.ai.campaign.recipient", "campaign_id", string="Recipients", copy=False)
    recipient_count = fields.Integer(compute="_compute_statistics", string="Recipients Count")
    excluded_count = fields.Integer(compute="_compute_statistics", string="Excluded")
    excluded_opt_out_count = fields.Integer(compute="_compute_statistics", string="Opted Out")
    excluded_blacklisted_count = fields.Integer(compute="_compute_statistics", string="Blacklisted")
    excluded_no_consent_count = fields.Integer(compute="_compute_statistics", string="No Consent")
    excluded_no_address_count = fields.Integer(compute="_compute_statistics", string="No Address")
    excluded_duplicate_count = fields.Integer(compute="_compute_statistics", string="Duplicates")
    excluded_in_service_count = fields.Integer(compute="_compute_statistics", string="In Service")
    excluded_closed_count = fields.Integer(compute="_compute_statistics", string="Closed Leads")
    to_send_count = fields.Integer(compute="_compute_statistics", string="Waiting")
    queued_count = fields.Integer(compute="_compute_statistics", string="Queued")
    sent_count = fields.Integer(compute="_compute_statistics", string="Sent")
    delivered_count = fields.Integer(compute="_compute_statistics", string="Delivered")
    read_count = fields.Integer(compute="_compute_statistics", string="Read")
    failed_count = fields.Integer(compute="_compute_statistics", string="Failed")
    answered_count = fields.Integer(compute="_compute_statistics", string="Answered")

    @api.depends("segment_domain", "company_id")
    def _compute_segment_count(self):
        for campaign in self:
            try:
                campaign.segment_count = self.env["crm.lead"].search_count(campaign._ai_segment())
            except Exception:  # noqa: BLE001 - a half-typed filter shows 0, the constraint explains it on save
                campaign.segment_count = 0

    @api.depends("recipient_ids.state", "recipient_ids.answered")
    def _compute_statistics(self):
        Recipient = self.env["crm.ai.campaign.recipient"]
        data = {}
        for campaign, state, reason, count in Recipient._read_group(
            [("campaign_id", "in", self.ids)], ["campaign_id", "state", "exclusion_reason"], ["__count"]
        ):
            stats = data.setdefault(campaign.id, {})
            stats[state] = stats.get(state, 0) + count
            if reason:
                stats[f"excluded_{reason}"] = count
        answered = dict(
            Recipient._read_group(
                [("campaign_id", "in", self.ids), ("answered", "=", True)], ["campaign_id"], ["__count"]
            )
        )
        for campaign in self:
            stats = data.get(campaign.id, {})
            campaign.excluded_count = stats.get("excluded", 0)
            campaign.recipient_count = sum(v for k, v in stats.items() if not k.startswith("excluded"))
            for reason, __ in EXCLUSION_REASONS:
                campaign[f"excluded_{reason}_count"] = stats.get(f"excluded_{reason}", 0)
            campaign.to_send_count = stats.get("to_send", 0)
            campaign.queued_count = stats.get("queued", 0)
            # Each stage counts the recipients that reached it or a later one.
            campaign.read_count = stats.get("read", 0)
            campaign.delivered_count = stats.get("delivered", 0) + campaign.read_count
            campaign.sent_count = stats.get("sent", 0) + campaign.delivered_count
            campaign.failed_count = stats.get("failed", 0)
            campaign.answered_count = answered.get(campaign, 0)

    @api.constrains("segment_domain")
    def _check_segment_domain(self):
        for campaign in self:
            try:
                self.env["crm.lead"].search_count(campaign._ai_segment(), limit=1)
            except Exception as exc:
                raise ValidationError(
                    self.env._("The segment of %(name)s is not valid: %(error)s", name=campaign.name, error=exc)
                ) from exc

    @api.constrains("wave_size")
    def _check_wave_size(self):
        if any(campaign.wave_size < 1 for campaign in self):
            raise ValidationError(self.env._("A wave sends at least one message."))

    @api.onchange("channel_id")
    def _onchange_channel_id(self):
        if self.template_id and self.template_id.channel_id != self.channel_id:
            self.template_id = False

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_compute_recipients(self):
        """List who will get the campaign and who is left out, and why; nothing is sent."""
        for campaign in self:
            if campaign.state not in ("draft", "scheduled"):
                raise UserError(self.env._("The recipients of a campaign being sent cannot change."))
            campaign._ai_check_content()
            campaign._ai_build_recipients()
        return True

    def action_send_now(self):
        self._ai_start(scheduled=False)
        return True

    def action_schedule(self):
        if any(not campaign.schedule_date for campaign in self):
            raise UserError(self.env._("Set the date to send the campaign first."))
        self._ai_start(scheduled=True)
        return True

    def action_cancel(self):
        for campaign in self.filtered(lambda c: c.state in ("draft", "scheduled", "sending")):
            campaign.recipient_ids.filtered(lambda r: r.state == "to_send").write({"cancelled": True})
            campaign.write({"state": "cancelled", "send_end_date": fields.Datetime.now()})
        return True

    def action_draft(self):
        for campaign in self:
            if campaign.state not in ("scheduled", "cancelled") or campaign.send_start_date:
                raise UserError(self.env._("Only a campaign that has not started can go back to draft."))
        self.recipient_ids.unlink()
        self.write({"state": "draft"})
        return True

    def action_preview(self):
        """The message as the first recipient (or the first lead of the segment) will read it."""
        self.ensure_one()
        self._ai_check_content()
        lead = self.recipient_ids.filtered(lambda r: r.state != "excluded")[:1].lead_id
        lead = (lead or self.env["crm.lead"].search(self._ai_segment(), order="id", limit=1)).sudo()
        if not lead:
            raise UserError(self.env._("No lead matches the segment of %s.", self.name))
        if (self.body or "").strip():
            text = render_text(self.body, _lead_values(lead))
        else:
            text = self.template_id._ai_render(self.template_id._ai_default_values(lead, self.user_id))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Preview for %s", lead.display_name),
                "message": text,
                "sticky": True,
            },
        }

    def action_view_recipients(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_ai_agent_campaigns.crm_ai_campaign_recipient_action"
        )
        action["domain"] = [("campaign_id", "=", self.id)]
        action["context"] = {"search_default_group_state": 1}
        filters = self.env.context.get("ai_recipient_filter")
        if filters:
            action["context"] = {f"search_default_{filters}": 1}
        return action

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _ai_segment(self):
        self.ensure_one()
        domain = safe_eval(self.segment_domain or "[]", {"uid": self.env.uid})
        if not isinstance(domain, list | tuple):
            raise ValueError(self.env._("a filter is a list of conditions"))
        return [*domain, ("company_id", "in", [self.company_id.id, False])]

    def _ai_is_whatsapp(self):
        self.ensure_one()
        return self.channel_kind == "channel" and self.channel_id.channel_type in WHATSAPP_TYPES

    def _ai_check_content(self):
        self.ensure_one()
        if self.channel_kind == "channel" and not self.channel_id:
            raise UserError(self.env._("Choose the channel of campaign %s.", self.name))
        if self.channel_kind == "channel" and not self.channel_id.active:
            raise UserError(self.env._("Channel %s is archived.", self.channel_id.display_name))
        if not (self.body or "").strip() and not (self.channel_kind == "channel" and self.template_id):
            raise UserError(self.env._("Write the message of campaign %s.", self.name))
        if self.template_id and (
            self.template_id.channel_id != self.channel_id or self.template_id.status != "approved"
        ):
            raise UserError(self.env._("Choose an approved template of channel %s.", self.channel_id.display_name))
        missing = _unfilled_variables(self.template_id) if self.template_id else []
        if missing:
            raise UserError(
                self.env._(
                    "Set where the variables %(names)s of template %(template)s come from (contact name, "
                    "interest...) or a default value, on the template.",
                    names=", ".join(missing),
                    template=self.template_id.display_name,
                )
            )

    def _ai_start(self, scheduled):
        for campaign in self:
            if campaign.state not in ("draft", "scheduled"):
                raise UserError(self.env._("Campaign %s was already sent.", campaign.name))
            campaign._ai_check_content()
            if campaign.state == "draft" or not campaign.recipient_ids:
                campaign._ai_build_recipients()
            if not campaign.recipient_ids.filtered(lambda r: r.state == "to_send"):
                raise UserError(self.env._("Campaign %s has nobody to send to.", campaign.name))
            if scheduled:
                campaign.state = "scheduled"
                self._ai_wake(campaign.schedule_date)
            else:
                campaign.write({"state": "sending", "schedule_date": fields.Datetime.now()})
                self._ai_wake()

    @api.model
    def _ai_wake(self, when=None):
        self.env.ref("crm_ai_agent_campaigns.ir_cron_campaign_send").sudo()._trigger(when)

    def _ai_build_recipients(self):
        """Replace the recipients by the segment's leads, each either to send or excluded with its reason."""
        self.ensure_one()
        self.recipient_ids.unlink()
        Recipient = self.env["crm.ai.campaign.recipient"]
        leads = self.env["crm.lead"].search(self._ai_segment(), order="id")
        data = Recipient._ai_exclusion_data(self, leads)
        seen = set()
        vals_list = []
        for lead in leads:
            vals = Recipient._ai_recipient_vals(self, lead, data)
            if not vals.get("exclusion_reason"):
                person = ("partner", vals["partner_id"]) if vals.get("partner_id") else ("address", vals["address"])
                if person in seen:
                    vals["exclusion_reason"] = "duplicate"
                seen.add(person)
            vals_list.append(vals)
        Recipient.create(vals_list)
        return True

    def _ai_send_wave(self):
        """Queue the next wave of each sending campaign; a campaign with nobody left is done."""
        for campaign in self.filtered(lambda c: c.state == "sending"):
            if not campaign.send_start_date:
                campaign.send_start_date = fields.Datetime.now()
            wave = campaign.recipient_ids.filtered(lambda r: r.state == "to_send").sorted("id")[: campaign.wave_size]
            for recipient in wave:
                try:
                    with self.env.cr.savepoint():
                        recipient._ai_send()
                except Exception as exc:  # one broken recipient must not block the campaign
                    _logger.exception("Campaign %s: recipient %s could not be queued", campaign.id, recipient.id)
                    recipient.write({"error": str(exc)[:255], "queued_date": fields.Datetime.now()})
            if not campaign.recipient_ids.filtered(lambda r: r.state == "to_send"):
                campaign.write({"state": "done", "send_end_date": fields.Datetime.now()})
        return True

    # ------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------

    @api.model
    def _cron_send_campaigns(self):
        """Start the scheduled campaigns that are due, then send one wave of each campaign being sent."""
        now = fields.Datetime.now()
        self.search([("state", "=", "scheduled"), ("schedule_date", "<=", now)]).write({"state": "sending"})
        sending = self.search([("state", "=", "sending")])
        sending._ai_send_wave()
        following = self.search([("state", "=", "scheduled")], order="schedule_date", limit=1)
        if following:
            self._ai_wake(following.schedule_date)
