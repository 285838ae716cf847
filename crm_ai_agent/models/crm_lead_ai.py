"""AI enrichment of channel leads: classification, field filling, corrections.

Flow, per inbound message (``_ai_after_inbound``, inside the inbox transaction):

1. the rules engine classifies the customer's recent messages at once and the
   lead is filled from it, so the lead is complete and visible without any model;
2. when a model is configured, one refinement is queued (``crm.ai.decision``,
   one per burst of messages) and run by its own cron, outside the inbox;
   a valid answer replaces the rules result, a failed one keeps it (the lead is
   marked ``fallback``) and the call is retried later with backoff.

What the AI writes is only ever field values from whitelists: it never sends
messages, moves stages or assigns users. Values typed by a person are never
overwritten; a person's change to an AI value is logged (``crm.ai.correction``)
and locks that field against later AI updates.
"""

import logging
import time

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import html2plaintext, is_html_empty

from ..services import rules_engine, rules_extract, rules_text
from ..services.emails import normalize_email
from ..services.phone import normalize_phone, phone_variants
from .crm_ai_llm import ANSWER_ERRORS

_logger = logging.getLogger(__name__)

# Context key of writes made by the AI itself (and by routing): they are not a person's corrections.
AI_WRITE = "crm_ai_system_write"

TIMEFRAMES = [
    ("today", "Today"),
    ("tomorrow", "Tomorrow"),
    ("this_week", "This Week"),
    ("next_week", "Next Week"),
    ("this_month", "This Month"),
    ("next_month", "Next Month"),
    ("later", "Later"),
]
AI_STATES = [
    ("rules", "Rules Engine"),
    ("queued", "Waiting for the AI Model"),
    ("llm", "AI Model"),
    ("fallback", "Rules Engine (AI Model Failed)"),
]
CLASSIFIER_TEMPERATURES = ("hot", "warm", "cold")  # never "in_service": routing sets it, not the classifier
RANK = {"cold": 0, "warm": 1, "hot": 2}
LANGUAGE_CODES = {"pt": "pt_BR", "en": "en_US", "es": "es_ES"}
MAX_CONTEXT_MESSAGES = 10
MAX_CONTEXT_CHARS = 3000
MAX_TAGS = 3
MIN_TAG_CHARS = 3
CATALOG_LIMIT = 300

# Fields the AI owns: updated on every classification unless a person corrected them.
AI_FIELDS = (
    "ai_temperature",
    "ai_score",
    "ai_intent",
    "ai_interest",
    "ai_reason",
    "ai_budget",
    "ai_timeframe",
    "ai_needs_human",
    "ai_language",
)
# Fields a person may type: the AI fills them when empty and only updates its own values.
FILL_FIELDS = ("contact_name", "email_from", "phone", "partner_name", "description", "tag_ids")
CORRECTABLE_FIELDS = AI_FIELDS + FILL_FIELDS


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    ai_state = fields.Selection(
        AI_STATES,
        string="Classified By",
        readonly=True,
        copy=False,
        help="Who produced the AI values of the lead. Rules Engine (AI Model Failed): the model did not "
        "answer usefully, the rules result stays and the model is asked again later.",
    )
    ai_classified_date = fields.Datetime(string="Last Classification", readonly=True, copy=False)
    ai_budget = fields.Char(string="Budget", help="Budget as the customer wrote it.")
    ai_timeframe = fields.Selection(TIMEFRAMES, string="Timeframe", help="When the customer means to buy.")
    ai_needs_human = fields.Boolean(
        string="Needs a Person", help="The customer asked for a person, complained, or is ready to buy."
    )
    ai_spam = fields.Boolean(string="Spam", readonly=True, copy=False)
    ai_language = fields.Char(string="Message Language", help="Language of the customer's messages (pt, en, es).")
    ai_locked_fields = fields.Char(
        string="Fields Corrected by a Person",
        readonly=True,
        copy=False,
        help="Technical names of the fields the AI no longer updates on this lead.",
    )
    ai_filled_values = fields.Json(string="Values Written by the AI", readonly=True, copy=False)
    ai_decision_ids = fields.One2many("crm.ai.decision", "lead_id", string="AI Decisions", groups="base.group_system")
    ai_correction_ids = fields.One2many(
        "crm.ai.correction", "lead_id", string="AI Corrections", groups="sales_team.group_sale_manager"
    )
    ai_locked_labels = fields.Char(string="Locked Against the AI", compute="_compute_ai_locked_labels")

    @api.depends("ai_locked_fields")
    def _compute_ai_locked_labels(self):
        for lead in self:
            lead.ai_locked_labels = ", ".join(
                lead._fields[name]._description_string(self.env) for name in lead._ai_locked() if name in lead._fields
            )

    # ------------------------------------------------------------
    # ORM: a person's changes to AI values are corrections
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        if not self.env.su and not self.env.context.get(AI_WRITE):
            for lead, vals in zip(leads, vals_list, strict=True):
                typed = [name for name in AI_FIELDS if vals.get(name)]
                if typed:
                    lead.sudo().with_context(**{AI_WRITE: True}).ai_locked_fields = ",".join(typed)
        return leads

    def write(self, vals):
        watched = [name for name in CORRECTABLE_FIELDS if name in vals]
        if not watched or self.env.su or self.env.context.get(AI_WRITE):
            return super().write(vals)
        ai_leads = self.filtered("ai_classified_date")
        before = {lead.id: {name: lead._ai_raw_value(name) for name in watched} for lead in ai_leads}
        result = super().write(vals)
        for lead in ai_leads:
            lead._ai_record_corrections(before[lead.id])
        return result

    def _ai_raw_value(self, name):
        value = self[name]
        if isinstance(value, models.BaseModel):
            return tuple(sorted(value.ids))
        if name == "description":
            return "" if is_html_empty(value) else html2plaintext(value).strip()
        return value

    def _ai_display_value(self, name, value):
        field = self._fields[name]
        if value in (None, False, "", ()):
            return ""
        if field.type == "selection":
            return dict(field._description_selection(self.env)).get(value, str(value))
        if field.type in ("many2many", "one2many", "many2one"):
            ids = value if isinstance(value, (list, tuple)) else [value]
            return ", ".join(self.env[field.comodel_name].sudo().browse(ids).exists().mapped("display_name"))
        return str(value)

    def _ai_record_corrections(self, before):
        """Log the fields a person changed on this AI lead and lock them against the AI."""
        self.ensure_one()
        filled = self.ai_filled_values or {}
        locked = self._ai_locked()
        corrections = []
        for name, old in before.items():
            new = self._ai_raw_value(name)
            if old == new:
                continue
            if name == "ai_temperature" and "in_service" in (old, new):
                continue  # taking over or releasing a conversation is routing, not a correction
            ai_value = filled.get(name)
            if name == "tag_ids" and ai_value is not None:
                ai_value = tuple(ai_value)
            corrections.append(
                {
                    "lead_id": self.id,
                    "company_id": self.company_id.id,
                    "user_id": self.env.uid,
                    "field_name": name,
                    "field_label": self._fields[name]._description_string(self.env),
                    "old_value": self._ai_display_value(name, old),
                    "new_value": self._ai_display_value(name, new),
                    "ai_value": self._ai_display_value(name, ai_value) if ai_value is not None else False,
                    "decision_id": self._ai_last_applied_decision().id,
                }
            )
            if name not in locked:
                locked.append(name)
        if corrections:
            self.env["crm.ai.correction"].sudo().create(corrections)
            self.sudo().with_context(**{AI_WRITE: True}).write({"ai_locked_fields": ",".join(locked)})

    def _ai_locked(self):
        self.ensure_one()
        return [name for name in (self.ai_locked_fields or "").split(",") if name]

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_ai_reclassify(self):
        """Classify the conversation again now (rules at once, the model in the background)."""
        for lead in self:
            lead.check_access("write")
            lead.sudo()._ai_classify()
        return True

    def action_ai_unlock(self):
        """Let the AI update the fields a person had corrected."""
        for lead in self.filtered("ai_locked_fields"):
            lead.check_access("write")
            labels = lead.ai_locked_labels
            lead.sudo().with_context(**{AI_WRITE: True}).write({"ai_locked_fields": False})
            lead.message_post(
                body=self.env._("The AI may update these fields again: %s", labels),
                message_type="notification",
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_view_ai_corrections(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_ai_agent.crm_ai_correction_action")
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------
    # BUSINESS: classification
    # ------------------------------------------------------------

    def _ai_after_inbound(self, message, item, created=False):
        """Classify first, so that the other hooks (acknowledgement, routing) see the result."""
        for lead in self:
            try:
                with self.env.cr.savepoint():
                    lead.sudo()._ai_classify(message)
            except Exception:  # the capture never fails because of the classifier
                _logger.exception("crm.lead %s: classification of message %s failed", lead.id, message.id)
        return super()._ai_after_inbound(message, item, created=created)

    def _ai_on_classified(self, result):
        """Hook called after each classification was applied to the lead (routing overrides it).

        ``result`` is a dict: ``source`` (``rules``, ``llm`` or ``fallback``), ``temperature``,
        ``previous_temperature``, ``became_hot``, ``needs_human``, ``score``, ``reason``,
        ``changed`` (field names written), ``data`` (the classification), ``decision``
        (``crm.ai.decision``, sudo) and ``message`` (``crm.ai.message``, may be empty).
        Called in the inbox transaction for the rules result and again by the model cron.
        """
        return True

    def _ai_classify(self, message=None):
        """Rules engine now; one model refinement queued when a model is configured."""
        self.ensure_one()
        message = message or self.env["crm.ai.message"]
        text = self._ai_conversation_text()
        if not text:
            return False
        config = self.env["crm.ai.llm"]._ai_llm_config()
        catalog = self._ai_catalog()
        start = time.monotonic()
        classification = self._ai_rules_classify(text, catalog, latest=self._ai_latest_text(message))
        data = classification.to_dict()
        latency_ms = int((time.monotonic() - start) * 1000)
        Decision = self.env["crm.ai.decision"]
        decision = Decision._ai_log_rules(self, message, data, latency_ms)
        refined = config.enabled and self._ai_last_applied_decision().provider not in (False, "rules")
        self._ai_apply(
            data, source="rules", decision=decision, message=message, partial=refined, catalog=catalog, text=text
        )
        state = "rules"
        if config.enabled and not (classification.opt_out or classification.spam):
            burst = int(self.env["ir.config_parameter"].sudo().get_param("crm_ai_agent.llm_burst_seconds", 0) or 0)
            Decision._ai_enqueue(self, message, config, delay_seconds=burst)
            state = "queued"
        self.with_context(**{AI_WRITE: True}).write({"ai_state": state})
        return True

    def _ai_refine_with_llm(self, decision):
        """Run one queued model refinement (called by ``crm.ai.decision._cron_run_queue``)."""
        self.ensure_one()
        LLM = self.env["crm.ai.llm"]
        config = LLM._ai_llm_config()
        text = self._ai_conversation_text()
        if not config.enabled or not self.active or self.stage_id.is_won or not text:
            decision.write({"state": "cancelled", "due_at": False})
            if self.ai_state == "queued" and not self._ai_queued():
                self.with_context(**{AI_WRITE: True}).write({"ai_state": "rules"})
            return False
        catalog = self._ai_catalog()
        latest = self._ai_latest_text(decision.message_id)
        classification = self._ai_rules_classify(text, catalog, latest=latest)
        known = self._ai_known()
        outcome = LLM._ai_llm_classify(
            text,
            classification,
            latest=latest,
            channel=self.ai_channel_type or "",
            known={key: known[key] for key in ("name", "email", "phone", "company") if known.get(key)},
            catalog=catalog,
            language=classification.language,
            thresholds=self._ai_thresholds(),
            config=config,
        )
        rows = decision._ai_store_calls(config, outcome)
        message = decision.message_id
        if outcome.data:
            final = rows[-1]
            final.write({"applied": True, **final._ai_result_vals(outcome.data)})
            self._ai_apply(outcome.data, source="llm", decision=final, message=message, catalog=catalog, text=text)
            state = "llm"
        else:
            retry = decision._ai_retry_later(outcome.retry_after) if outcome.transient else False
            _logger.warning(
                "crm.lead %s: the AI model failed (%s%s); rules engine result kept%s",
                self.id,
                outcome.error_kind,
                # answer errors may quote the customer: they stay in the admin-only decision log
                "" if outcome.error_kind in ANSWER_ERRORS else ": %s" % outcome.error[:300],
                ", retried at %s" % retry.due_at if retry else ", not retried",
            )
            fallback = self.env["crm.ai.decision"]._ai_log_rules(self, message, classification.to_dict(), 0)
            fallback.write({"fallback": True})
            self._ai_apply(
                classification.to_dict(),
                source="fallback",
                decision=fallback,
                message=message,
                catalog=catalog,
                text=text,
            )
            state = "fallback"
        if self._ai_queued() and state == "llm":
            state = "queued"  # a newer message is waiting for its own refinement
        self.with_context(**{AI_WRITE: True}).write({"ai_state": state})
        self._ai_notify_updated()
        return bool(outcome.data)

    def _ai_queued(self):
        return bool(
            self.env["crm.ai.decision"]
            .sudo()
            .search_count([("lead_id", "=", self.id), ("state", "=", "queued")], limit=1)
        )

    def _ai_last_applied_decision(self):
        self.ensure_one()
        return (
            self.env["crm.ai.decision"]
            .sudo()
            .search([("lead_id", "=", self.id), ("applied", "=", True)], order="id desc", limit=1)
        )

    def _ai_rules_classify(self, text, catalog=None, latest=None):
        """``text``: the conversation; ``latest``: the newest message, the only one read for an opt-out."""
        self.ensure_one()
        return rules_engine.classify(
            text,
            latest=latest,
            catalog=self._ai_catalog() if catalog is None else catalog,
            rules=self.env["crm.ai.scoring.rule"]._ai_engine_rules(self.company_id),
            thresholds=self._ai_thresholds(),
            known=self._ai_known(),
        )

    @api.model
    def _ai_thresholds(self):
        get = self.env["ir.config_parameter"].sudo().get_param
        return rules_engine.normalize_thresholds(
            {
                "hot": get("crm_ai_agent.threshold_hot") or None,
                "warm": get("crm_ai_agent.threshold_warm") or None,
            }
        )

    def _ai_conversation_messages(self, limit=MAX_CONTEXT_MESSAGES):
        """The customer's latest messages on this lead, newest first."""
        self.ensure_one()
        return (
            self.env["crm.ai.message"]
            .sudo()
            .search(
                [
                    ("lead_id", "=", self.id),
                    ("direction", "=", "in"),
                    ("kind", "=", "message"),
                    ("state", "=", "processed"),
                    ("body", "!=", False),
                ],
                order="id desc",
                limit=limit,
            )
        )

    def _ai_conversation_text(self):
        """The customer's latest messages on this lead, oldest first (what is classified)."""
        messages = self._ai_conversation_messages()
        text = "\n".join(body.strip() for body in reversed(messages.mapped("body")) if body and body.strip())
        return text[-MAX_CONTEXT_CHARS:]

    def _ai_latest_text(self, message=None):
        """The customer's newest message: ``message`` (the one being classified), else the lead's last one.

        Opt-outs are read in it alone ("SAIR" counts only as a whole message, and an old one
        must not be read again on every new message).
        """
        self.ensure_one()
        message = message or self._ai_conversation_messages(limit=1)
        return (message.body or "").strip()

    def _ai_known(self):
        """What the lead already knows: kept as is by the classifier, and read by the scoring rules."""
        self.ensure_one()
        partner = self.partner_id
        return {
            "name": self.contact_name or (partner.name if partner and not partner.is_company else "") or "",
            "email": self.email_from or "",
            "phone": self.phone or "",
            "company": self.partner_name or "",
            "channel_type": self.ai_channel_type or "",
            "team": self.team_id.name or "",
            "source": self.source_id.name or "",
            "tags": self.tag_ids.mapped("name"),
            "country": self.country_id.code or "",
            "messages": self.ai_message_count,
        }

    def _ai_catalog(self):
        """Products the customer may name (``product`` installed): the rules engine's catalogue."""
        if "product.template" not in self.env:
            return []
        company = self.company_id or self.env.company
        products = (
            self.env["product.template"]
            .sudo()
            .search_read(
                [("sale_ok", "=", True), ("company_id", "in", [company.id, False])],
                ["name", "default_code"],
                limit=CATALOG_LIMIT,
                order="id",
            )
        )
        return [
            {"id": p["id"], "name": p["name"], "keywords": [p["default_code"]] if p["default_code"] else []}
            for p in products
        ]

    # ------------------------------------------------------------
    # BUSINESS: applying a classification
    # ------------------------------------------------------------

    def _ai_apply(self, data, *, source, decision, message=None, partial=False, catalog=None, text=""):
        """Write a classification on the lead, within the whitelists, respecting people's values.

        ``partial``: the lead holds a model result and a model refinement is on its way; the
        rules result then only fills contact data, flags opt-outs, and raises the temperature
        (a hotter lead must not wait for the model).
        """
        self.ensure_one()
        message = message or self.env["crm.ai.message"]
        data = data or {}
        locked = set(self._ai_locked())
        filled = dict(self.ai_filled_values or {})
        previous_temperature = self.ai_temperature
        vals = {}

        temperature = data.get("temperature") if data.get("temperature") in CLASSIFIER_TEMPERATURES else None
        escalate = bool(temperature) and RANK[temperature] > RANK.get(self.ai_temperature, -1)
        full = not partial or escalate
        if full:
            for name, value in self._ai_owned_values(data).items():
                if name in locked or value is None:
                    continue
                if name == "ai_temperature" and self.ai_temperature == "in_service":
                    continue
                if value != self[name]:
                    vals[name] = value
                filled[name] = value
        for name, value in self._ai_contact_values(data).items():
            if name in locked or not value:
                continue
            current = self[name]
            if not current or (name in filled and current == filled[name]):
                if value != current:
                    vals[name] = value
                filled[name] = value
        if not partial and "description" not in locked:
            summary = self._ai_summary(data)
            current = "" if is_html_empty(self.description) else html2plaintext(self.description).strip()
            summary_text = html2plaintext(summary).strip() if summary else ""
            if summary_text and (not current or current == filled.get("description")) and current != summary_text:
                vals["description"] = summary
                filled["description"] = summary_text
        if "tag_ids" not in locked:
            tags = self._ai_interest_tags(data, catalog, text) - self.tag_ids
            if tags:
                vals["tag_ids"] = [fields.Command.link(tag.id) for tag in tags]
                filled["tag_ids"] = sorted(set(filled.get("tag_ids") or []) | set(tags.ids))
        language = LANGUAGE_CODES.get(data.get("language") or "")
        if language and not self.lang_id:
            lang = self.env["res.lang"]._lang_get(language)
            if lang:
                vals["lang_id"] = lang.id
        partner_vals = self._ai_partner_values(data, vals)
        vals.update(partner_vals)
        vals.update(
            {
                "ai_spam": bool(data.get("spam")),
                "ai_classified_date": fields.Datetime.now(),
                "ai_filled_values": filled,
            }
        )
        changed = [name for name in vals if name not in ("ai_classified_date", "ai_filled_values")]
        self.with_context(**{AI_WRITE: True}).write(vals)
        decision.sudo().write({"applied": full})
        if data.get("opt_out"):
            self._ai_apply_opt_out(message)
        return self._ai_on_classified(
            {
                "source": source,
                "decision": decision,
                "message": message,
                "data": data,
                "changed": changed,
                "temperature": self.ai_temperature,
                "previous_temperature": previous_temperature,
                "became_hot": self.ai_temperature == "hot" and previous_temperature != "hot",
                "needs_human": bool(self.ai_needs_human),
                "score": self.ai_score,
                "reason": self.ai_reason or "",
            }
        )

    @api.model
    def _ai_owned_values(self, data):
        """The AI-owned fields from a classification, whitelisted (``None``: leave as it is)."""

        def text(key, size):
            value = data.get(key)
            return str(value).strip()[:size] or None if value not in (None, False) else None

        try:
            score = max(0, min(100, round(float(data.get("score")))))
        except (TypeError, ValueError):
            score = None
        intent = data.get("intent")
        timeframe = data.get("timeframe")
        language = data.get("language")
        return {
            "ai_temperature": data.get("temperature") if data.get("temperature") in CLASSIFIER_TEMPERATURES else None,
            "ai_score": score,
            "ai_intent": intent if intent in dict(self._fields["ai_intent"].selection) else None,
            "ai_reason": text("reason", 2000),
            "ai_interest": text("interest", 256),
            "ai_budget": text("budget", 64),
            "ai_timeframe": timeframe if timeframe in dict(TIMEFRAMES) else None,
            "ai_needs_human": bool(data.get("needs_human")),
            "ai_language": language if language in LANGUAGE_CODES else None,
        }

    @api.model
    def _ai_contact_values(self, data):
        name = str(data.get("name") or "").strip()[:128]
        company = str(data.get("company") or "").strip()[:128]
        return {
            "contact_name": name or None,
            "email_from": normalize_email(data.get("email")) or None,
            "phone": normalize_phone(str(data.get("phone") or "")) or None,
            "partner_name": company or None,
        }

    def _ai_summary(self, data):
        """Short HTML summary for the lead's notes (escaped: the values are the customer's words)."""
        lines = []
        if data.get("summary"):
            lines.append((self.env._("Summary"), str(data["summary"])[:500]))
        if data.get("interest"):
            lines.append((self.env._("Interest"), str(data["interest"])[:256]))
        if data.get("budget"):
            lines.append((self.env._("Budget"), str(data["budget"])[:64]))
        if data.get("timeframe") in dict(TIMEFRAMES):
            lines.append((self.env._("Timeframe"), self._ai_display_value("ai_timeframe", data["timeframe"])))
        if data.get("quantity"):
            lines.append((self.env._("Quantity"), str(data["quantity"])[:16]))
        if not lines:
            return ""
        items = Markup("").join(Markup("<li><b>%s:</b> %s</li>") % (label, value) for label, value in lines)
        return Markup("<ul>%s</ul>") % items

    def _ai_interest_tags(self, data, catalog=None, text=""):
        """Tags for what the customer asked about: the catalogue products named (tag created if
        needed), and the existing tags whose name the customer wrote. Never free text as a tag."""
        Tag = self.env["crm.tag"].sudo()
        catalog = self._ai_catalog() if catalog is None else catalog
        by_id = {item["id"]: item["name"] for item in catalog}
        tags = Tag
        for product_id in data.get("interest_product_ids") or []:
            name = by_id.get(product_id)
            if name and len(tags) < MAX_TAGS:
                tags |= Tag.search([("name", "=ilike", name)], limit=1) or Tag.create({"name": name})
        if text and len(tags) < MAX_TAGS:
            existing = [
                {"id": tag["id"], "name": tag["name"]}
                for tag in Tag.search_read([], ["name"], limit=500)
                if len(tag["name"] or "") >= MIN_TAG_CHARS
            ]
            hits = rules_extract.match_catalog(rules_text.Folded(text), existing)
            tags |= Tag.browse([tag_id for tag_id, __, __ in hits][: MAX_TAGS - len(tags)])
        return tags

    def _ai_partner_values(self, data, vals):
        """Link a contact when the conversation gave an e-mail or a phone; complete the linked one."""
        Identity = self.env["crm.ai.identity"]
        email = vals.get("email_from") or normalize_email(data.get("email"))
        phone = vals.get("phone") or normalize_phone(str(data.get("phone") or ""))
        name = vals.get("contact_name") or str(data.get("name") or "").strip()[:128]
        if self.partner_id:
            Identity._ai_complete_partner(self.partner_id, phone, email, name)
            return {}
        if not (email or phone):
            return {}
        Identity._ai_lock(
            *(f"phone:{p}" for p in phone_variants(phone)[:1]),
            f"email:{email}" if email else None,
        )
        company = self.company_id or self.env.company
        partner = Identity._ai_find_partner_by_phone(phone, company) if phone else self.env["res.partner"]
        if not partner and email:
            partner = Identity._ai_find_partner_by_email(email, company)
        if partner:
            Identity._ai_complete_partner(partner, phone, email, name)
        else:
            partner_vals = {"name": name or email or phone, "company_id": False}
            if phone:
                partner_vals["mobile"] = phone
            if email:
                partner_vals["email"] = email
            partner = self.env["res.partner"].sudo().with_context(mail_create_nolog=True).create(partner_vals)
        identities = Identity.sudo().search([("lead_id", "=", self.id), ("partner_id", "=", False)])
        identities.write({"partner_id": partner.id})
        return {"partner_id": partner.id}

    def _ai_apply_opt_out(self, message):
        """The customer asked for no more messages: flag their identities, blacklist phone and e-mail."""
        self.ensure_one()
        Identity = self.env["crm.ai.identity"].sudo()
        identities = (message.identity_id if message else Identity) | Identity.search([("lead_id", "=", self.id)])
        if identities and all(identities.mapped("opt_out")):
            return False
        identities.write({"opt_out": True})
        phones = {p for p in [self.phone_sanitized, *identities.mapped("phone")] if p}
        emails = {e for e in [self.email_normalized, *identities.mapped("email")] if e}
        channel = message.channel_id.name if message else self.ai_channel_id.name
        note = self.env._("Opt-out requested by the customer on %s.", channel or "-")
        if phones:
            self.env["phone.blacklist"].sudo()._add(sorted(phones), message=note)
        for email in sorted(emails):
            self.env["mail.blacklist"].sudo()._add(email, message=note)
        self.message_post(
            body=self.env._(
                "The customer asked to receive no more messages: %(what)s blacklisted.",
                what=", ".join(sorted(phones | emails)) or self.env._("channel identity"),
            ),
            message_type="notification",
            subtype_xmlid="mail.mt_note",
        )
        return True
