from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..services import rules_engine

# What a field rule can look at: fields of the classification, or of the lead ("known.*",
# filled by crm.lead._ai_known()).
RULE_FIELDS = [
    ("intent", "Intent"),
    ("signal_names", "Detected signals"),
    ("interest", "Interest"),
    ("budget_amount", "Budget amount"),
    ("quantity", "Quantity"),
    ("timeframe", "Timeframe"),
    ("language", "Language"),
    ("email", "E-mail"),
    ("phone", "Phone"),
    ("name", "Contact name"),
    ("company", "Company name"),
    ("score", "Classifier score"),
    ("text", "Message text"),
    ("known.channel_type", "Lead: channel type"),
    ("known.team", "Lead: sales team"),
    ("known.source", "Lead: UTM source"),
    ("known.tags", "Lead: tags"),
    ("known.country", "Lead: country code"),
    ("known.messages", "Lead: number of customer messages"),
]
OPERATORS = [
    ("=", "is equal to"),
    ("!=", "is not equal to"),
    (">", "is greater than"),
    (">=", "is at least"),
    ("<", "is less than"),
    ("<=", "is at most"),
    ("in", "is one of"),
    ("not in", "is none of"),
    ("contains", "contains"),
    ("not contains", "does not contain"),
    ("set", "is set"),
    ("not set", "is not set"),
]
KEYWORD_MATCHES = [("any", "any of the keywords"), ("all", "all the keywords"), ("none", "none of the keywords")]


class CrmAiScoringRule(models.Model):
    """A business rule of the lead score: a condition on the message or the lead, worth points.

    The rules engine adds the points of every rule that fires to its own score
    (``rules_engine.apply_rules``); the temperature follows from the total and
    the thresholds of the settings, and the lead's reason lists the rules that fired.
    """

    _name = "crm.ai.scoring.rule"
    _description = "AI Agent Scoring Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to apply the rule in every company.")
    condition = fields.Selection(
        [("keywords", "Keywords in the message"), ("field", "Value of a field")],
        required=True,
        default="keywords",
    )
    keywords = fields.Char(
        help="Comma-separated. Accents, capitals and doubled letters are ignored; end a keyword with * "
        "to match every word starting with it (financ*).",
    )
    keyword_match = fields.Selection(KEYWORD_MATCHES, string="Match", default="any", required=True)
    field_name = fields.Selection(RULE_FIELDS, string="Field")
    operator = fields.Selection(OPERATORS, default="=")
    value = fields.Char(
        help="Several values (for 'is one of'): comma-separated. Signals: purchase, schedule, "
        "price, urgency, credit_approved, cash_ready, price_objection, later, human_request..."
    )
    points = fields.Integer(required=True, default=10, help="Added to the score when the rule fires (may be negative).")

    @api.depends("name", "points")
    def _compute_display_name(self):
        for rule in self:
            rule.display_name = f"{rule.name or ''} ({rule.points:+d})"

    @api.constrains("condition", "keywords", "keyword_match", "field_name", "operator", "value", "points")
    def _check_rule(self):
        for rule in self:
            errors = rules_engine.check_rule(rule._ai_engine_dict())
            if errors:
                raise ValidationError(
                    self.env._("The rule %(rule)s is not valid: %(errors)s", rule=rule.name, errors="; ".join(errors))
                )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _ai_engine_dict(self):
        self.ensure_one()
        rule = {"id": self.id, "name": self.name or "", "points": self.points}
        if self.condition == "keywords":
            rule.update(keywords=self.keywords or "", operator=self.keyword_match or "any")
        else:
            rule.update(field=self.field_name or "", operator=self.operator or "=", value=self.value or "")
        return rule

    @api.model
    def _ai_engine_rules(self, company):
        """The active rules of a company as the rules engine takes them."""
        rules = self.sudo().search([("company_id", "in", [company.id, False])])
        return [rule._ai_engine_dict() for rule in rules]
