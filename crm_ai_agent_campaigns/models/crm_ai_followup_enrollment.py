import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

PROCESS_BATCH = 100
STOP_REASONS = [
    ("answered", "Customer answered"),
    ("in_service", "Salesperson took over"),
    ("human_reply", "Salesperson replied"),
    ("closed", "Lead won, lost or archived"),
    ("opt_out", "Contact opted out"),
    ("manual", "Stopped by hand"),
]


class CrmAiFollowupEnrollment(models.Model):
    """One lead in one follow-up sequence: where it stands and when the next step is due."""

    _name = "crm.ai.followup.enrollment"
    _description = "AI Agent Follow-up Enrolment"
    _order = "id desc"
    _rec_name = "lead_id"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    sequence_id = fields.Many2one(
        "crm.ai.followup.sequence", required=True, ondelete="cascade", index=True, readonly=True
    )
    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one(related="sequence_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="lead_id.partner_id", string="Contact")
    user_id = fields.Many2one(related="lead_id.user_id", string="Salesperson")
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("stopped", "Stopped")],
        default="running",
        required=True,
        index=True,
        readonly=True,
    )
    stop_reason = fields.Selection(STOP_REASONS, readonly=True)
    enroll_date = fields.Datetime(string="Enrolled On", default=fields.Datetime.now, required=True, readonly=True)
    enrolled_by = fields.Selection(
        [("auto", "Automatically"), ("manual", "By hand")], default="auto", required=True, readonly=True
    )
    next_step_id = fields.Many2one("crm.ai.followup.step", ondelete="set null", readonly=True)
    next_date = fields.Datetime(string="Next Step On", index=True, readonly=True)
    last_step_date = fields.Datetime(string="Last Step On", readonly=True)
    step_done_count = fields.Integer(string="Steps Sent", readonly=True)
    step_skipped_count = fields.Integer(string="Steps Skipped", readonly=True)
    end_date = fields.Datetime(readonly=True)
    message_ids = fields.One2many("crm.ai.message", "ai_followup_enrollment_id", string="Channel Messages")
    mail_ids = fields.One2many("mail.mail", "ai_followup_enrollment_id", string="E-mails")
    log = fields.Text(readonly=True, help="What each step did.")

    _sql_constraints = [
        (
            "sequence_lead_uniq",
            "unique(sequence_id, lead_id)",
            "A lead goes through a follow-up sequence once.",
        ),
    ]

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_stop(self):
        for enrollment in self:
            enrollment.lead_id.check_access("write")
        self.filtered(lambda e: e.state == "running")._ai_stop("manual")
        return True

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _ai_enroll(self, sequence, leads, manual=False):
        """Put ``leads`` in ``sequence`` (those not in it yet). Returns the new enrolments."""
        step = sequence._ai_first_step()
        if not step:
            raise UserError(self.env._("Sequence %s has no steps.", sequence.display_name))
        already = self.sudo().search([("sequence_id", "=", sequence.id), ("lead_id", "in", leads.ids)]).lead_id
        now = fields.Datetime.now()
        enrollments = self.sudo().create(
            [
                {
                    "sequence_id": sequence.id,
                    "lead_id": lead.id,
                    "enroll_date": now,
                    "enrolled_by": "manual" if manual else "auto",
                    "next_step_id": step.id,
                    "next_date": now + step._ai_delta(),
                }
                for lead in leads - already
            ]
        )
        for enrollment in enrollments:
            enrollment.lead_id.sudo().message_post(
                body=self.env._("Entered the follow-up sequence %s.", sequence.name),
                message_type="notification",
                subtype_xmlid="mail.mt_note",
            )
        if enrollments:
            self._ai_wake(min(enrollments.mapped("next_date")))
        return enrollments.with_env(self.env)

    @api.model
    def _ai_wake(self, when=None):
        self.env.ref("crm_ai_agent_campaigns.ir_cron_followup").sudo()._trigger(when)

    def _ai_stop_reason(self):
        """Why this enrolment must not send anything any more (a STOP_REASONS key), or False."""
        self.ensure_one()
        lead = self.lead_id.sudo().with_context(active_test=False)
        if not lead.active or lead.stage_id.is_won:
            return "closed"
        if lead.ai_temperature == "in_service":
            return "in_service"
        if lead.ai_last_inbound_date and lead.ai_last_inbound_date > self.enroll_date:
            return "answered"
        if lead.ai_last_outbound_date and lead.ai_last_outbound_date > self.enroll_date:
            return "human_reply"
        chatter = self._ai_chatter_since_enrolment()
        if chatter:
            return chatter
        if lead._ai_opted_out():
            return "opt_out"
        return False

    def _ai_chatter_since_enrolment(self):
        """``answered`` for an e-mail from the customer, ``human_reply`` for a message a salesperson sent
        from the chatter, since enrolment; False otherwise (notes and our own follow-ups do not count)."""
        self.ensure_one()
        Message = self.env["mail.message"].sudo()
        common = [("model", "=", "crm.lead"), ("res_id", "=", self.lead_id.id), ("date", ">=", self.enroll_date)]
        if Message.search_count([*common, ("message_type", "=", "email")], limit=1):
            return "answered"
        if Message.search_count(
            [
                *common,
                ("message_type", "=", "comment"),
                ("subtype_id", "=", self.env.ref("mail.mt_comment").id),
                ("author_id", "!=", self.env.ref("base.partner_root").id),
                ("author_id.user_ids", "any", [("share", "=", False)]),
            ],
            limit=1,
        ):
            return "human_reply"
        return False

    def _ai_stop(self, reason):
        labels = dict(self._fields["stop_reason"]._description_selection(self.env))
        for enrollment in self.filtered(lambda e: e.state == "running"):
            enrollment.sudo().write(
                {
                    "state": "stopped",
                    "stop_reason": reason,
                    "next_date": False,
                    "end_date": fields.Datetime.now(),
                }
            )
            enrollment.lead_id.sudo().message_post(
                body=self.env._(
                    "Follow-up sequence %(name)s stopped: %(reason)s.",
                    name=enrollment.sequence_id.name,
                    reason=labels.get(reason, reason),
                ),
                message_type="notification",
                subtype_xmlid="mail.mt_note",
            )
        # Messages already queued by these enrolments and not sent yet are cancelled by the send queue itself.
        return True

    def _ai_process(self):
        """Send the due step of each running enrolment, or stop it. Returns the number of steps handled."""
        done = 0
        for enrollment in self.filtered(lambda e: e.state == "running"):
            reason = enrollment._ai_stop_reason()
            if reason:
                enrollment._ai_stop(reason)
                continue
            step = enrollment.next_step_id
            if not step:
                enrollment._ai_finish()
                continue
            try:
                with self.env.cr.savepoint():
                    sent, note = enrollment._ai_send_step(step)
            except Exception as exc:  # one broken lead must not block the others
                _logger.exception("Follow-up enrolment %s: step %s failed", enrollment.id, step.id)
                sent, note = False, self.env._("Error: %s", exc)
            enrollment._ai_advance(step, sent, note)
            done += 1
        return done

    def _ai_send_step(self, step):
        """Queue ``step`` for the lead. Returns ``(sent, note)``."""
        self.ensure_one()
        if step.channel_kind == "email":
            return self._ai_send_email(step)
        return self._ai_send_channel(step)

    def _ai_send_channel(self, step):
        lead = self.lead_id.sudo()
        identity = lead._ai_reply_identities()[:1].sudo()
        if not identity:
            return False, self.env._("no conversation on a messaging channel")
        channel = identity.channel_id
        if not channel.active:
            return False, self.env._("channel %s is archived", channel.name)
        rows, refusal = lead._ai_queue_automated_on_channel(
            identity,
            step._ai_render_body(lead),
            step.template_id.sudo(),
            lead.user_id,
            self.env.ref("base.partner_root"),
            "followup",
        )
        if not rows:
            return False, refusal
        rows.write({"ai_followup_enrollment_id": self.id})
        return True, self.env._("queued on %s", channel.name)

    def _ai_send_email(self, step):
        lead = self.lead_id.sudo()
        if not lead.email_normalized:
            return False, self.env._("no e-mail address")
        if lead.is_blacklisted:
            return False, self.env._("e-mail address blacklisted")
        body = step._ai_render_body(lead)
        subject = step._ai_render_subject(lead) or self.sequence_id.name
        email_from = lead.user_id.email_formatted or lead.company_id.email_formatted or self.env.user.email_formatted
        author = lead.user_id.partner_id or self.env.ref("base.partner_root")
        Mail = self.env["mail.mail"].sudo()
        mail = Mail.create(
            {
                **Mail._ai_marketing_mail_values(lead.email_normalized, subject, body, lead, author, email_from),
                "ai_followup_enrollment_id": self.id,
            }
        )
        # The e-mail is a message of the lead: its chatter shows it.
        return bool(mail), self.env._("e-mail to %s", lead.email_normalized)

    def _ai_advance(self, step, sent, note):
        self.ensure_one()
        now = fields.Datetime.now()
        line = f"{fields.Datetime.to_string(now)} {step.display_name}: " + (
            note if sent else self.env._("skipped (%s)", note)
        )
        vals = {
            "last_step_date": now,
            "log": "\n".join(filter(None, [self.log, line])),
        }
        if sent:
            vals["step_done_count"] = self.step_done_count + 1
        else:
            vals["step_skipped_count"] = self.step_skipped_count + 1
            _logger.info("Follow-up enrolment %s: step %s skipped: %s", self.id, step.id, note)
        following = step._ai_next()
        if following:
            vals.update(next_step_id=following.id, next_date=now + following._ai_delta())
        else:
            vals.update(state="done", next_step_id=False, next_date=False, end_date=now)
        self.sudo().write(vals)

    def _ai_finish(self):
        self.sudo().write(
            {"state": "done", "next_step_id": False, "next_date": False, "end_date": fields.Datetime.now()}
        )

    # ------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------

    @api.model
    def _cron_process_followups(self, batch_size=PROCESS_BATCH):
        """Enrol the leads that match the automatic sequences, then send the due steps."""
        sequences = self.env["crm.ai.followup.sequence"].search([("auto_enroll", "=", True)])
        sequences._ai_enroll_matching()
        now = fields.Datetime.now()
        domain = [("state", "=", "running"), ("next_date", "<=", now), ("sequence_id.active", "=", True)]
        due = self.search(domain, order="next_date, id", limit=batch_size)
        done = due._ai_process()
        remaining = self.search_count(domain)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        following = self.search(
            [("state", "=", "running"), ("next_date", ">", now), ("sequence_id.active", "=", True)],
            order="next_date",
            limit=1,
        )
        if following:
            self._ai_wake(following.next_date)
