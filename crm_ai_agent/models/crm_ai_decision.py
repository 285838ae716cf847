import json
import logging
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .crm_ai_llm import ERROR_KINDS, PROVIDERS

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # runs of the model job per queued refinement (1 + 4 retries with backoff)
BACKOFF_SECONDS = 60  # 1, 2, 4, 8 minutes
BATCH_SIZE = 5
BATCH_SECONDS = 30  # stop taking new jobs after this long in one cron transaction
DEFAULT_RETENTION_DAYS = 90


class CrmAiDecision(models.Model):
    """One classification of a lead: by the rules engine, or one call to the language model.

    The model calls are also the queue: the inbound processing creates a
    ``queued`` row per lead (one for a burst of messages) and triggers
    ``_cron_run_queue``, which locks only that row (``FOR UPDATE SKIP LOCKED``)
    while the model answers, so a slow model never holds the lead or the inbox.
    Admin-only: the prompt and the raw answer quote the customer.
    """

    _name = "crm.ai.decision"
    _description = "AI Agent Decision"
    _order = "id desc"

    lead_id = fields.Many2one("crm.lead", required=True, index=True, ondelete="cascade", readonly=True)
    message_id = fields.Many2one(
        "crm.ai.message",
        string="Last Message",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="The inbound message that triggered this decision (the latest one of a burst).",
    )
    company_id = fields.Many2one("res.company", index=True, readonly=True)
    provider = fields.Selection(PROVIDERS, required=True, readonly=True)
    model = fields.Char(readonly=True)
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("done", "Done"),
            ("invalid", "Invalid Answer"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="done",
        index=True,
        readonly=True,
    )
    applied = fields.Boolean(readonly=True, help="Its result was written on the lead.")
    fallback = fields.Boolean(
        string="Rules Fallback", readonly=True, help="The model failed: the rules engine result was applied instead."
    )
    attempt = fields.Integer(default=1, readonly=True, help="Run of the refinement job (retried with backoff).")
    due_at = fields.Datetime(string="Due", readonly=True)
    error_kind = fields.Selection(ERROR_KINDS, readonly=True)
    error = fields.Text(readonly=True)
    latency_ms = fields.Integer(string="Latency (ms)", readonly=True, aggregator="avg")
    prompt_tokens = fields.Integer(readonly=True, aggregator="sum")
    completion_tokens = fields.Integer(readonly=True, aggregator="sum")
    total_tokens = fields.Integer(compute="_compute_total_tokens", store=True, aggregator="sum")
    cost = fields.Float(string="Cost Estimate (USD)", digits=(16, 6), readonly=True, aggregator="sum")
    request = fields.Json(readonly=True, help="The messages sent to the model (masked when masking is on).")
    raw_answer = fields.Text(readonly=True)
    result = fields.Json(readonly=True, help="Fields of the classification.")
    temperature = fields.Selection([("hot", "Hot"), ("warm", "Warm"), ("cold", "Cold")], readonly=True)
    score = fields.Integer(readonly=True, aggregator="avg")
    intent = fields.Char(readonly=True)
    reason = fields.Text(readonly=True)
    result_text = fields.Text(string="Result (JSON)", compute="_compute_json_texts")
    request_text = fields.Text(string="Request (JSON)", compute="_compute_json_texts")

    def init(self):
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS crm_ai_decision_queue_idx ON crm_ai_decision (due_at, id) "
                "WHERE state = 'queued'"
            )
        )

    @api.depends("prompt_tokens", "completion_tokens")
    def _compute_total_tokens(self):
        for decision in self:
            decision.total_tokens = decision.prompt_tokens + decision.completion_tokens

    @api.depends("result", "request")
    def _compute_json_texts(self):
        for decision in self:
            decision.result_text = json.dumps(decision.result, ensure_ascii=False, indent=2) if decision.result else ""
            decision.request_text = (
                json.dumps(decision.request, ensure_ascii=False, indent=2) if decision.request else ""
            )

    @api.depends("lead_id", "provider", "create_date")
    def _compute_display_name(self):
        providers = dict(self._fields["provider"]._description_selection(self.env))
        for decision in self:
            decision.display_name = f"{decision.lead_id.display_name or ''} · {providers.get(decision.provider, '')}"

    # ------------------------------------------------------------
    # LOG (called with sudo by the lead code only)
    # ------------------------------------------------------------

    @api.model
    def _ai_result_vals(self, data):
        data = data or {}
        temperature = data.get("temperature")
        try:
            score = int(data.get("score") or 0)
        except (TypeError, ValueError):
            score = 0
        return {
            "result": data,
            "temperature": temperature if temperature in ("hot", "warm", "cold") else False,
            "score": score,
            "intent": str(data.get("intent") or "")[:32] or False,
            "reason": str(data.get("reason") or "")[:2000] or False,
        }

    @api.model
    def _ai_log_rules(self, lead, message, data, latency_ms):
        return self.sudo().create(
            {
                "lead_id": lead.id,
                "message_id": message.id if message else False,
                "company_id": lead.company_id.id,
                "provider": "rules",
                "model": "rules_engine",
                "state": "done",
                "latency_ms": latency_ms,
                **self._ai_result_vals(data),
            }
        )

    @api.model
    def _ai_enqueue(self, lead, message, config, delay_seconds=0):
        """Queue one model refinement of the lead: one queued row per lead, shared by a burst.

        A row being run right now is locked and skipped, so a message arriving
        during a call gets its own row, run with the whole conversation afterwards.
        """
        due = fields.Datetime.now() + timedelta(seconds=max(delay_seconds, 0))
        self.flush_model(["lead_id", "state"])
        self.env.cr.execute(
            SQL(
                "SELECT id FROM crm_ai_decision WHERE lead_id = %s AND state = 'queued' "
                "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
                lead.id,
            )
        )
        row = self.env.cr.fetchone()
        Decision = self.sudo()
        if row:
            decision = Decision.browse(row[0])
            vals = {"due_at": max(decision.due_at or due, due)}
            if message:
                vals["message_id"] = message.id
            decision.write(vals)
        else:
            decision = Decision.create(
                {
                    "lead_id": lead.id,
                    "message_id": message.id if message else False,
                    "company_id": lead.company_id.id,
                    "provider": config.provider,
                    "model": config.model,
                    "state": "queued",
                    "due_at": due,
                }
            )
        self.env.ref("crm_ai_agent.ir_cron_ai_refine_leads").sudo()._trigger(decision.due_at)
        return decision

    # ------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------

    @api.model
    def _cron_run_queue(self, batch_size=BATCH_SIZE):
        """Run due model refinements, a few per transaction; each locks only its own queue row.

        Capture comes first: when received messages wait in the inbox, this run
        stops taking jobs and hands the cron worker back (it triggers itself
        again), so a slow model never delays new leads, even with one cron thread.
        """
        started = time.monotonic()
        done = 0
        yielded = False
        while done < batch_size and time.monotonic() - started < BATCH_SECONDS:
            if done and self._ai_inbox_waiting():
                yielded = True
                break
            self.flush_model(["state", "due_at"])
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM crm_ai_decision WHERE state = 'queued' AND due_at <= %s "
                    "ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
                    fields.Datetime.now(),
                )
            )
            row = self.env.cr.fetchone()
            if not row:
                break
            self.sudo().browse(row[0])._ai_run()
            done += 1
        cron = self.env.ref("crm_ai_agent.ir_cron_ai_refine_leads").sudo()
        remaining = self.search_count([("state", "=", "queued"), ("due_at", "<=", fields.Datetime.now())])
        if yielded and remaining:
            cron._trigger()  # after the inbox cron, which has the higher priority
            remaining = 0
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        nxt = self.search([("state", "=", "queued"), ("due_at", ">", fields.Datetime.now())], order="due_at", limit=1)
        if nxt:
            cron._trigger(nxt.due_at)
        return done

    @api.model
    def _ai_inbox_waiting(self):
        return bool(
            self.env["crm.ai.message"]
            .sudo()
            .search_count(
                [
                    ("state", "=", "received"),
                    ("direction", "=", "in"),
                    ("next_attempt_at", "<=", fields.Datetime.now()),
                ],
                limit=1,
            )
        )

    def _ai_run(self):
        """Run one queued refinement; every failure ends recorded on the row, never raised."""
        self.ensure_one()
        lead = self.lead_id
        try:
            with self.env.cr.savepoint():
                lead._ai_refine_with_llm(self)
        except Exception as exc:
            _logger.exception("crm.ai.decision %s: refinement of lead %s crashed", self.id, lead.id)
            self.write({"state": "failed", "error_kind": False, "error": str(exc)[:2000]})
            self._ai_retry_later(0.0)

    def _ai_store_calls(self, config, outcome):
        """Write the calls of one job run: the first on this queued row, others on new rows."""
        self.ensure_one()
        rows = self
        for index, call in enumerate(outcome.calls):
            if call.ok:
                state = "done"
            elif call.error_kind in ("invalid", "refusal", "empty"):
                state = "invalid"
            else:
                state = "failed"
            vals = {
                "state": state,
                "provider": config.provider,
                "model": call.model or config.model,
                "due_at": False,
                "error_kind": call.error_kind or False,
                "error": call.error or False,
                "latency_ms": call.latency_ms,
                "prompt_tokens": call.prompt_tokens,
                "completion_tokens": call.completion_tokens,
                "cost": config.cost(call.prompt_tokens, call.completion_tokens),
                "request": {"messages": call.messages, "response_format": call.json_mode},
                "raw_answer": call.content or False,
                **self._ai_result_vals(call.data),
            }
            if index == 0:
                self.write(vals)
            else:
                rows |= self.create(
                    {
                        "lead_id": self.lead_id.id,
                        "message_id": self.message_id.id,
                        "company_id": self.company_id.id,
                        "attempt": self.attempt,
                        **vals,
                    }
                )
        return rows

    def _ai_retry_later(self, retry_after):
        """Queue the next attempt with exponential backoff; False when attempts are exhausted."""
        self.ensure_one()
        if self.attempt >= MAX_ATTEMPTS:
            return False
        delay = max(BACKOFF_SECONDS * 2 ** (self.attempt - 1), min(retry_after or 0.0, 3600))
        due = fields.Datetime.now() + timedelta(seconds=delay)
        queued = self.search(
            [("lead_id", "=", self.lead_id.id), ("state", "=", "queued"), ("id", "!=", self.id)], limit=1
        )
        if queued:
            # A newer message already queued a refinement: it keeps the backoff and the attempt count.
            queued.write({"due_at": max(queued.due_at, due), "attempt": max(queued.attempt, self.attempt + 1)})
            return queued
        retry = self.create(
            {
                "lead_id": self.lead_id.id,
                "message_id": self.message_id.id,
                "company_id": self.company_id.id,
                "provider": self.provider,
                "model": self.model,
                "state": "queued",
                "attempt": self.attempt + 1,
                "due_at": due,
            }
        )
        self.env.ref("crm_ai_agent.ir_cron_ai_refine_leads").sudo()._trigger(due)
        return retry

    @api.model
    def _cron_purge(self):
        """Delete decisions older than the retention period (queued ones are kept)."""
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("crm_ai_agent.decision_retention_days", DEFAULT_RETENTION_DAYS)
            or DEFAULT_RETENTION_DAYS
        )
        limit = fields.Datetime.now() - timedelta(days=max(days, 1))
        self.env.cr.execute(
            SQL(
                "DELETE FROM crm_ai_decision WHERE create_date < %s AND state != 'queued'",
                limit,
            )
        )
        _logger.info("crm.ai.decision: %s decisions older than %s days deleted", self.env.cr.rowcount, days)


class CrmAiCorrection(models.Model):
    """A person changed a value the AI had set (or locked a field against it): who, when, before, after.

    The corrected field is locked on the lead against later AI updates. The log
    is what the classifier is tuned from, and the person's review of an
    automated decision (LGPD art. 20).
    """

    _name = "crm.ai.correction"
    _description = "AI Agent Correction"
    _order = "id desc"
    _rec_name = "field_label"

    lead_id = fields.Many2one("crm.lead", required=True, index=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", index=True, readonly=True)
    user_id = fields.Many2one("res.users", string="Corrected By", readonly=True, index=True)
    field_name = fields.Char(string="Field", required=True, readonly=True)
    field_label = fields.Char(string="Field Label", readonly=True)
    old_value = fields.Text(string="Before", readonly=True)
    new_value = fields.Text(string="After", readonly=True)
    ai_value = fields.Text(string="AI Value", readonly=True, help="What the AI had written in the field.")
    decision_id = fields.Many2one(
        "crm.ai.decision",
        string="Last AI Decision",
        readonly=True,
        ondelete="set null",
        groups="base.group_system",
    )
