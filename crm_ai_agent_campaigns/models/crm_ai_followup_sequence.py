from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval

from ..services.render import lead_values, render_text

ENROLL_BATCH = 500


class CrmAiFollowupSequence(models.Model):
    """A series of automatic messages to leads that stopped answering; it stops as soon as someone talks."""

    _name = "crm.ai.followup.sequence"
    _description = "AI Agent Follow-up Sequence"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, tracking=True
    )
    team_ids = fields.Many2many(
        "crm.team",
        string="Sales Teams",
        check_company=True,
        help="Only leads of these teams enter the sequence. Empty: every team.",
    )
    auto_enroll = fields.Boolean(
        string="Automatic Enrolment",
        default=True,
        tracking=True,
        help="Leads matching the filter enter the sequence by themselves. Otherwise, only by hand from the lead.",
    )
    trigger_domain = fields.Char(
        string="Leads Filter",
        default="[('ai_temperature', '=', 'warm')]",
        help="Open leads matching this filter enter the sequence, once per lead.",
    )
    enroll_after = fields.Datetime(
        string="Leads Created After",
        default=fields.Datetime.now,
        help="Automatic enrolment ignores older leads, so a new sequence does not write to the whole history.",
    )
    step_ids = fields.One2many("crm.ai.followup.step", "sequence_id", string="Steps", copy=True)
    enrollment_ids = fields.One2many("crm.ai.followup.enrollment", "sequence_id", string="Enrolments")
    running_count = fields.Integer(compute="_compute_counts", string="Running")
    enrollment_count = fields.Integer(compute="_compute_counts", string="Enrolments Count")

    @api.depends("enrollment_ids.state")
    def _compute_counts(self):
        data = {}
        for sequence, state, count in self.env["crm.ai.followup.enrollment"]._read_group(
            [("sequence_id", "in", self.ids)], ["sequence_id", "state"], ["__count"]
        ):
            data.setdefault(sequence.id, {})[state] = count
        for sequence in self:
            counts = data.get(sequence.id, {})
            sequence.running_count = counts.get("running", 0)
            sequence.enrollment_count = sum(counts.values())

    @api.constrains("trigger_domain")
    def _check_trigger_domain(self):
        for sequence in self:
            try:
                sequence._ai_trigger_domain()
            except Exception as exc:
                raise ValidationError(
                    self.env._("The leads filter of %(name)s is not valid: %(error)s", name=sequence.name, error=exc)
                ) from exc

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_enrollments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_ai_agent_campaigns.crm_ai_followup_enrollment_action"
        )
        action["domain"] = [("sequence_id", "=", self.id)]
        action["context"] = {"default_sequence_id": self.id}
        return action

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _ai_trigger_domain(self):
        self.ensure_one()
        domain = safe_eval(self.trigger_domain or "[]", {"uid": self.env.uid})
        if not isinstance(domain, list | tuple):
            raise ValueError(self.env._("a filter is a list of conditions"))
        self.env["crm.lead"].search_count(domain, limit=1)
        return list(domain)

    def _ai_enroll_domain(self):
        """Open leads of the company and teams matching the filter, not yet in this sequence."""
        self.ensure_one()
        Lead = self.env["crm.lead"]
        domain = [
            *self._ai_trigger_domain(),
            *Lead._ai_open_lead_domain(self.company_id),
            ("ai_followup_enrollment_ids", "not any", [("sequence_id", "=", self.id)]),
        ]
        if self.team_ids:
            domain.append(("team_id", "in", self.team_ids.ids))
        if self.enroll_after:
            domain.append(("create_date", ">=", self.enroll_after))
        return domain

    def _ai_first_step(self):
        self.ensure_one()
        return self.step_ids.sorted(lambda s: (s.sequence, s.id))[:1]

    def _ai_enroll_matching(self):
        """Enrol the leads that match each automatic sequence. Returns the new enrolments."""
        Enrollment = self.env["crm.ai.followup.enrollment"]
        created = Enrollment
        for sequence in self.filtered(lambda s: s.active and s.auto_enroll and s.step_ids):
            leads = self.env["crm.lead"].search(sequence._ai_enroll_domain(), order="id", limit=ENROLL_BATCH)
            created |= Enrollment._ai_enroll(sequence, leads)
        return created


class CrmAiFollowupStep(models.Model):
    _name = "crm.ai.followup.step"
    _description = "AI Agent Follow-up Step"
    _order = "sequence_id, sequence, id"

    sequence_id = fields.Many2one(
        "crm.ai.followup.sequence", string="Follow-up Sequence", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="sequence_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    delay = fields.Integer(
        default=1, required=True, help="Time to wait after the previous step (after enrolment for the first one)."
    )
    delay_unit = fields.Selection([("hours", "Hours"), ("days", "Days")], default="days", required=True)
    channel_kind = fields.Selection(
        [("lead_channel", "Lead's channel"), ("email", "E-mail")],
        string="Send By",
        default="lead_channel",
        required=True,
        help="Lead's channel: the conversation the customer wrote on (WhatsApp, Telegram...). "
        "E-mail: the lead's e-mail address.",
    )
    subject = fields.Char(translate=True, help="Subject of the e-mail.")
    body = fields.Text(
        string="Message",
        translate=True,
        help="Placeholders: {name} (first name), {full_name}, {interest}, {company}, {salesperson}.",
    )
    template_id = fields.Many2one(
        "crm.ai.template",
        string="WhatsApp Template",
        domain="[('status', '=', 'approved')]",
        help="Sent instead of the message when more than 24 hours passed since the customer's last WhatsApp "
        "message (WhatsApp Cloud only). Without it, the step is skipped for such leads.",
    )

    @api.depends("sequence_id", "delay", "delay_unit", "channel_kind")
    def _compute_display_name(self):
        units = dict(self._fields["delay_unit"]._description_selection(self.env))
        kinds = dict(self._fields["channel_kind"]._description_selection(self.env))
        for step in self:
            step.display_name = self.env._(
                "%(sequence)s: after %(delay)s %(unit)s, %(kind)s",
                sequence=step.sequence_id.name or "",
                delay=step.delay,
                unit=(units.get(step.delay_unit) or "").lower(),
                kind=kinds.get(step.channel_kind),
            )

    @api.constrains("delay")
    def _check_delay(self):
        if any(step.delay < 0 for step in self):
            raise ValidationError(self.env._("A step cannot wait a negative time."))

    @api.constrains("body", "template_id", "channel_kind")
    def _check_content(self):
        for step in self:
            if not (step.body or "").strip() and not (step.channel_kind == "lead_channel" and step.template_id):
                raise ValidationError(self.env._("Each step needs a message (or, on the lead's channel, a template)."))

    @api.constrains("template_id")
    def _check_template_variables(self):
        for step in self.filtered("template_id"):
            missing = _unfilled_variables(step.template_id)
            if missing:
                raise ValidationError(
                    self.env._(
                        "Template %(template)s is sent without a salesperson: set where its variables %(names)s "
                        "come from (contact name, interest...) or a default value, on the template.",
                        template=step.template_id.display_name,
                        names=", ".join(missing),
                    )
                )

    def _ai_delta(self):
        self.ensure_one()
        return timedelta(hours=self.delay) if self.delay_unit == "hours" else timedelta(days=self.delay)

    def _ai_next(self):
        """The step after this one in its sequence (empty at the end)."""
        self.ensure_one()
        steps = self.sequence_id.step_ids.sorted(lambda s: (s.sequence, s.id))
        ids = steps.ids
        index = ids.index(self.id) if self.id in ids else len(ids)
        return steps[index + 1 : index + 2]

    def _ai_render_body(self, lead):
        self.ensure_one()
        return render_text(self._ai_in_lang(lead).body, _lead_values(lead))

    def _ai_render_subject(self, lead):
        self.ensure_one()
        return render_text(self._ai_in_lang(lead).subject, _lead_values(lead))

    def _ai_in_lang(self, lead):
        return self.with_context(lang=lead.partner_id.lang or lead.lang_id.code or self.env.lang)


def _unfilled_variables(template):
    """Labels of the template's variables that nobody would fill in an automated message."""
    return [v.name for v in template.sudo().variable_ids if v.source == "free" and not v.default_value]


def _lead_values(lead):
    return lead_values(
        lead.contact_name,
        lead.partner_id.name,
        lead.ai_interest,
        lead.company_id.name,
        lead.user_id.name,
    )
