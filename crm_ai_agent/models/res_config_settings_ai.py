from odoo import api, fields, models

from .crm_ai_decision import DEFAULT_RETENTION_DAYS
from .crm_ai_llm import DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_TIMEOUT, JSON_MODES, PROVIDERS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_ai_llm_provider = fields.Selection(
        PROVIDERS,
        string="AI Provider",
        default="rules",
        required=True,
        config_parameter="crm_ai_agent.llm_provider",
        help="Rules only: leads are classified by the built-in rules, no text leaves the server. "
        "OpenAI or an OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio, a proxy) refines "
        "each classification in the background.",
    )
    crm_ai_llm_model = fields.Char(
        string="Model",
        config_parameter="crm_ai_agent.llm_model",
        help=f"Model name as the provider spells it ({DEFAULT_MODEL} by default for OpenAI; "
        "qwen2.5:7b-instruct, llama3.1:8b... on your own server).",
    )
    crm_ai_llm_base_url = fields.Char(
        string="Base URL",
        config_parameter="crm_ai_agent.llm_base_url",
        help="Root of the OpenAI-compatible API, with its /v1 (http://ollama:11434/v1). Empty for OpenAI itself.",
    )
    crm_ai_llm_api_key = fields.Char(
        string="API Key",
        config_parameter="crm_ai_agent.llm_api_key",
        groups="base.group_system",
    )
    crm_ai_llm_timeout = fields.Integer(
        string="Timeout (s)",
        config_parameter="crm_ai_agent.llm_timeout",
        default=DEFAULT_TIMEOUT,
        help="A slower answer counts as a failure: the rules result stays and the call is retried later.",
    )
    crm_ai_llm_max_tokens = fields.Integer(
        string="Max Answer Tokens",
        config_parameter="crm_ai_agent.llm_max_tokens",
        default=DEFAULT_MAX_TOKENS,
    )
    crm_ai_llm_temperature = fields.Float(
        string="Sampling Temperature",
        config_parameter="crm_ai_agent.llm_temperature",
        digits=(3, 2),
        help="0 gives the most repeatable answers.",
    )
    crm_ai_llm_mask_pii = fields.Boolean(
        string="Mask Personal Data",
        config_parameter="crm_ai_agent.llm_mask_pii",
        help="Replace CPF, card numbers, e-mails and phone numbers by placeholders before the text is "
        "sent to the model.",
    )
    crm_ai_llm_json_mode = fields.Selection(
        JSON_MODES,
        string="Structured Output",
        default="json_schema",
        config_parameter="crm_ai_agent.llm_json_mode",
        help="JSON schema where the server supports it; JSON mode otherwise. The answer is validated either way.",
    )
    crm_ai_llm_burst_seconds = fields.Integer(
        string="Wait for More Messages (s)",
        config_parameter="crm_ai_agent.llm_burst_seconds",
        help="A customer often sends several short messages in a row: the model is asked once for them all.",
    )
    crm_ai_llm_price_input = fields.Float(
        string="Input Price (USD / 1M tokens)",
        config_parameter="crm_ai_agent.llm_price_input",
        digits=(12, 4),
    )
    crm_ai_llm_price_output = fields.Float(
        string="Output Price (USD / 1M tokens)",
        config_parameter="crm_ai_agent.llm_price_output",
        digits=(12, 4),
    )
    crm_ai_threshold_hot = fields.Integer(
        string="Hot From Score",
        config_parameter="crm_ai_agent.threshold_hot",
        default=70,
    )
    crm_ai_threshold_warm = fields.Integer(
        string="Warm From Score",
        config_parameter="crm_ai_agent.threshold_warm",
        default=40,
    )
    crm_ai_decision_retention_days = fields.Integer(
        string="Keep AI Decisions (days)",
        config_parameter="crm_ai_agent.decision_retention_days",
        default=DEFAULT_RETENTION_DAYS,
    )
    crm_ai_scoring_rule_count = fields.Integer(string="Scoring Rules", compute="_compute_crm_ai_scoring_rule_count")

    def _compute_crm_ai_scoring_rule_count(self):
        count = self.env["crm.ai.scoring.rule"].search_count([])
        for settings in self:
            settings.crm_ai_scoring_rule_count = count

    @api.onchange("crm_ai_llm_provider")
    def _onchange_crm_ai_llm_provider(self):
        if self.crm_ai_llm_provider == "openai" and not self.crm_ai_llm_model:
            self.crm_ai_llm_model = DEFAULT_MODEL

    def action_crm_ai_llm_test(self):
        """Save the settings, then classify a sample message through the provider."""
        self.ensure_one()
        self.set_values()
        ok, message = self.env["crm.ai.llm"]._ai_llm_test()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if ok else "danger",
                "title": self.env._("AI Provider"),
                "message": message,
                "sticky": not ok,
            },
        }
