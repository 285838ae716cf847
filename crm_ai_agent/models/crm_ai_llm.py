"""The one place the language model is called.

Everything that leaves the server for a model goes through
``crm.ai.llm._ai_llm_classify``: configuration from the settings, personal
data masking, prompt building, one HTTP call per attempt through the official
``openai`` client (``max_retries=0``: the retry policy is ours, here), answer
validation and merge with the rules engine. The model gets no tools; its answer
is only ever data that the lead code copies into whitelisted fields.
"""

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import openai

from odoo import api, models

from ..services import llm_prompt, llm_validation, pii

_logger = logging.getLogger(__name__)

PROVIDERS = [
    ("rules", "Rules only"),
    ("openai", "OpenAI"),
    ("openai_compatible", "OpenAI-compatible"),
]
JSON_MODES = [("json_schema", "JSON schema"), ("json_object", "JSON mode")]
DEFAULT_MODEL = "gpt-4.1-mini"
DEFAULT_TIMEOUT = 20
DEFAULT_MAX_TOKENS = 400
# Prices in USD per million tokens, used for the cost estimate when the settings leave them empty.
DEFAULT_PRICES = {"gpt-4.1-mini": (0.40, 1.60), "gpt-4.1-nano": (0.10, 0.40), "gpt-4o-mini": (0.15, 0.60)}
# The whole prompt (system text, context and the customer's words) stays under this many tokens.
PROMPT_TOKEN_BUDGET = 800
RETRY_NOTE_CHARS = 200  # the note added to the prompt of the immediate retry
RETRY_RESERVE_TOKENS = math.ceil(RETRY_NOTE_CHARS / 3.5) + 6
CHARS_PER_TOKEN = 3.5  # conservative for Portuguese and English with a BPE tokenizer
MIN_TEXT_CHARS = 200

# Kinds of failed calls. Transient ones are retried later with backoff; the others wait for
# someone to fix the configuration.
ERROR_KINDS = [
    ("timeout", "Timeout"),
    ("rate_limit", "Rate limited (429)"),
    ("server", "Server error (5xx)"),
    ("connection", "Connection error"),
    ("auth", "Authentication refused"),
    ("bad_request", "Request refused (4xx)"),
    ("refusal", "Model refused"),
    ("empty", "Empty answer"),
    ("invalid", "Invalid answer"),
    ("config", "Not configured"),
]
TRANSIENT_ERRORS = {"timeout", "rate_limit", "server", "connection", "refusal", "empty", "invalid"}
ANSWER_ERRORS = {"refusal", "empty", "invalid"}  # the server answered, the answer is unusable: retried at once


@dataclass(frozen=True)
class LlmConfig:
    provider: str = "rules"
    model: str = ""
    base_url: str = ""
    api_key: str = ""
    timeout: float = DEFAULT_TIMEOUT
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0
    mask_pii: bool = True
    json_mode: str = "json_schema"
    price_input: float = 0.0
    price_output: float = 0.0

    @property
    def enabled(self):
        if self.provider == "openai":
            return bool(self.model and self.api_key)
        if self.provider == "openai_compatible":
            return bool(self.model and self.base_url)
        return False

    def cost(self, prompt_tokens, completion_tokens):
        price_in, price_out = self.price_input, self.price_output
        if not (price_in or price_out) and self.provider == "openai":
            price_in, price_out = DEFAULT_PRICES.get(self.model, (0.0, 0.0))
        return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000


@dataclass
class LlmCall:
    """One HTTP call to the model and what came back."""

    messages: list
    json_mode: str = "json_schema"
    content: str = ""
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    finish_reason: str = ""
    error_kind: str = ""
    error: str = ""
    retry_after: float = 0.0
    data: dict | None = None  # validated answer (before the merge)

    @property
    def ok(self):
        return self.data is not None

    @property
    def transient(self):
        return self.error_kind in TRANSIENT_ERRORS


@dataclass
class LlmOutcome:
    """Result of one classification job: the merged fields, or why there are none."""

    data: dict | None = None
    calls: list = field(default_factory=list)
    error_kind: str = ""
    error: str = ""

    @property
    def transient(self):
        return not self.data and self.error_kind in TRANSIENT_ERRORS

    @property
    def retry_after(self):
        return max([c.retry_after for c in self.calls] or [0.0])


def retry_after_seconds(headers, now=None):
    """Seconds a server asks to wait before the next request, 0.0 when it says nothing usable.

    ``retry-after-ms`` (OpenAI's) first, then ``Retry-After`` as delay-seconds or as an HTTP-date
    (RFC 9110 section 10.2.3), relative to ``now`` (aware, default: the current time). A date in
    the past, a negative or unreadable value mean no particular wait.
    """
    headers = headers or {}
    try:
        if headers.get("retry-after-ms"):
            seconds = float(headers["retry-after-ms"]) / 1000
        else:
            value = str(headers.get("retry-after") or "").strip()
            if not value:
                return 0.0
            try:
                seconds = float(value)
            except ValueError:
                when = parsedate_to_datetime(value)
                if when.tzinfo is None:  # asctime dates carry no zone: HTTP dates are GMT
                    when = when.replace(tzinfo=timezone.utc)
                seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def estimate_tokens(messages):
    """Upper estimate of the prompt tokens (no tokenizer dependency): characters / 3.5, plus framing."""
    chars = sum(len(m.get("content") or "") for m in messages)
    return math.ceil(chars / CHARS_PER_TOKEN) + 4 * len(messages) + 3


class CrmAiLlm(models.AbstractModel):
    _name = "crm.ai.llm"
    _description = "AI Agent Language Model"

    # ------------------------------------------------------------
    # CONFIGURATION
    # ------------------------------------------------------------

    @api.model
    def _ai_llm_config(self):
        get = self.env["ir.config_parameter"].sudo().get_param

        def number(key, default, cast=float):
            try:
                value = cast(get(key) or default)
            except (TypeError, ValueError):
                return default
            return value if value > 0 else default

        provider = get("crm_ai_agent.llm_provider") or "rules"
        if provider not in dict(PROVIDERS):
            provider = "rules"
        json_mode = get("crm_ai_agent.llm_json_mode") or "json_schema"
        return LlmConfig(
            provider=provider,
            model=(get("crm_ai_agent.llm_model") or (DEFAULT_MODEL if provider == "openai" else "")).strip(),
            base_url=(get("crm_ai_agent.llm_base_url") or "").strip(),
            api_key=(get("crm_ai_agent.llm_api_key") or "").strip(),
            timeout=min(number("crm_ai_agent.llm_timeout", DEFAULT_TIMEOUT), 120.0),
            max_tokens=min(number("crm_ai_agent.llm_max_tokens", DEFAULT_MAX_TOKENS, int), 4000),
            temperature=min(max(number("crm_ai_agent.llm_temperature", 0.0), 0.0), 2.0),
            mask_pii=bool(get("crm_ai_agent.llm_mask_pii")),
            json_mode=json_mode if json_mode in dict(JSON_MODES) else "json_schema",
            price_input=number("crm_ai_agent.llm_price_input", 0.0),
            price_output=number("crm_ai_agent.llm_price_output", 0.0),
        )

    @api.model
    def _ai_llm_client(self, config):
        """The only ``openai`` client of the suite: base URL from the settings, a timeout, no retries."""
        return openai.OpenAI(
            api_key=config.api_key or "not-needed",
            base_url=config.base_url or None,
            timeout=config.timeout,
            max_retries=0,
        )

    # ------------------------------------------------------------
    # CLASSIFICATION
    # ------------------------------------------------------------

    @api.model
    def _ai_llm_classify(
        self,
        text,
        rules_classification,
        *,
        latest=None,
        channel="",
        known=None,
        catalog=None,
        language="",
        thresholds=None,
        config=None,
    ):
        """Classify a conversation with the model; ``LlmOutcome.data`` is the merged result or None.

        ``text``: the conversation, oldest first; ``latest``: its newest message(s), the only
        ones read for an opt-out (default: all of ``text``). The prompt shows them apart.

        One call, plus one immediate retry when the answer is unusable (invalid JSON, wrong
        enum values, refusal, empty). Transport errors (timeout, 429, 5xx) end the job at once:
        the caller keeps the rules engine result and queues a later attempt.
        """
        config = config or self._ai_llm_config()
        outcome = LlmOutcome()
        if not config.enabled:
            outcome.error_kind, outcome.error = "config", "The AI provider is not configured."
            return outcome
        known = {key: value for key, value in (known or {}).items() if value}
        catalog_names = [item["name"] for item in catalog or () if item.get("name")]
        prompt_known = dict(known)
        earlier, newest = llm_prompt.split_latest(text, latest)
        prompt_earlier, prompt_newest = earlier, newest
        mapping = {}
        if config.mask_pii:
            prompt_earlier, mapping = pii.mask_pii(earlier)
            prompt_newest, mapping = pii.mask_pii(newest, mapping=mapping)
            for key, value in prompt_known.items():
                if isinstance(value, str):
                    prompt_known[key], mapping = pii.mask_pii(value, mapping=mapping)
        messages = self._ai_llm_messages(
            prompt_newest,
            earlier=prompt_earlier,
            channel=channel,
            known=prompt_known,
            catalog_names=catalog_names,
            language=language,
        )
        json_mode = config.json_mode
        for attempt in range(2):
            call = self._ai_llm_call(messages, config, json_mode)
            if call.error_kind == "bad_request" and json_mode == "json_schema":
                # The server does not take a JSON schema: JSON mode, the answer is validated anyway.
                _logger.info("crm.ai.llm: the server refused the JSON schema (%s), retrying in JSON mode", call.error)
                outcome.calls.append(call)
                json_mode = "json_object"
                call = self._ai_llm_call(messages, config, json_mode)
            if not call.error_kind:
                self._ai_llm_validate(call, mapping, catalog_names)
            outcome.calls.append(call)
            if call.ok or call.error_kind not in ANSWER_ERRORS or attempt:
                break
            _logger.info("crm.ai.llm: unusable answer (%s: %s), asking once more", call.error_kind, call.error)
            note = "Your previous answer was rejected (%s). Reply with only one JSON object following the schema."
            note = (note % call.error[:110])[:RETRY_NOTE_CHARS]
            if config.mask_pii:  # the errors may quote the answer, with the personal data already put back
                note = pii.mask_pii(note)[0]
            messages = [*messages, {"role": "system", "content": note}]
        last = outcome.calls[-1]
        if not last.ok:
            outcome.error_kind, outcome.error = last.error_kind, last.error
            return outcome
        outcome.data = llm_validation.merge(
            last.data, rules_classification, latest=newest, catalog=catalog, known=known, thresholds=thresholds
        )
        return outcome

    @api.model
    def _ai_llm_validate(self, call, mapping, catalog_names):
        """Check the answer of a call: enums whitelisted, unknown keys dropped, personal data put back."""
        if not call.content.strip():
            call.error_kind, call.error = "empty", "The model returned no content."
            return call
        data, errors = llm_validation.validate_answer(call.content, mapping=mapping, catalog_names=catalog_names)
        if data is None:
            call.error_kind = "invalid"
            call.error = "; ".join(str(e) for e in errors)[:1000] or "The answer is not valid."
        else:
            call.data = data
            call.error = "; ".join(str(e) for e in errors)[:1000]  # dropped fields, kept for tuning
        return call

    @api.model
    def _ai_llm_messages(self, text, *, channel, known, catalog_names, language, earlier=""):
        """Chat messages for the model, shortened until the prompt fits the token budget.

        ``text``: the newest message(s); ``earlier``: the messages before. The earlier
        messages are cut from their start, then the newest (the latest words matter most),
        then the catalogue names are dropped, so the system instructions always go out whole.
        """
        catalog_names = list(catalog_names or ())
        text = text or ""
        earlier = earlier or ""
        while True:
            messages = llm_prompt.build_messages(
                text, channel=channel, known=known, catalog_names=catalog_names, language=language, earlier=earlier
            )
            excess = estimate_tokens(messages) - (PROMPT_TOKEN_BUDGET - RETRY_RESERVE_TOKENS)
            if excess <= 0:
                return messages
            if earlier:
                cut = math.ceil(excess * CHARS_PER_TOKEN) + 16
                earlier = "…" + earlier[cut + 1 :] if cut + 1 < len(earlier) - 16 else ""
                continue
            if len(text) > MIN_TEXT_CHARS:
                cut = min(len(text) - MIN_TEXT_CHARS, math.ceil(excess * CHARS_PER_TOKEN) + 16)
                text = "…" + text[cut + 1 :] if cut > 0 else text[-MIN_TEXT_CHARS:]
                continue
            if catalog_names:
                catalog_names = catalog_names[: len(catalog_names) // 2]
                continue
            return messages

    @api.model
    def _ai_llm_call(self, messages, config, json_mode):
        """One chat-completions request; never raises for the provider's errors."""
        call = LlmCall(messages=messages, json_mode=json_mode, model=config.model)
        kwargs = {"model": config.model, "messages": messages, "temperature": config.temperature, "n": 1}
        if config.provider == "openai":
            kwargs["max_completion_tokens"] = config.max_tokens
        else:
            kwargs["max_tokens"] = config.max_tokens
        if json_mode == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": llm_prompt.json_schema(),
            }
        else:
            kwargs["response_format"] = {"type": "json_object"}
        start = time.monotonic()
        try:
            completion = self._ai_llm_client(config).chat.completions.create(**kwargs)
        except openai.APITimeoutError as exc:
            call.error_kind, call.error = "timeout", str(exc)
        except openai.APIConnectionError as exc:
            call.error_kind, call.error = "connection", str(exc)
        except openai.APIStatusError as exc:
            call.error_kind, call.error = self._ai_llm_status_kind(exc.status_code), self._ai_llm_error_text(exc)
            call.retry_after = self._ai_llm_retry_after(exc)
        except openai.OpenAIError as exc:
            call.error_kind, call.error = "invalid", str(exc)
        else:
            self._ai_llm_read_completion(call, completion)
        call.latency_ms = int((time.monotonic() - start) * 1000)
        return call

    @api.model
    def _ai_llm_read_completion(self, call, completion):
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list) or not choices:
            call.error_kind, call.error = "invalid", "The server answer has no choices."
            if isinstance(completion, str):
                call.content = completion[:4000]
            return
        usage = getattr(completion, "usage", None)
        call.prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        call.completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        call.model = str(getattr(completion, "model", "") or call.model)[:128]
        choice = choices[0]
        call.finish_reason = str(getattr(choice, "finish_reason", "") or "")
        message = getattr(choice, "message", None)
        refusal = getattr(message, "refusal", None)
        content = getattr(message, "content", None)
        call.content = content if isinstance(content, str) else ""
        if refusal:
            call.error_kind, call.error = "refusal", str(refusal)[:1000]
        elif call.finish_reason == "content_filter":
            call.error_kind, call.error = "refusal", "The answer was filtered by the provider."

    @api.model
    def _ai_llm_status_kind(self, status):
        if status == 429:
            return "rate_limit"
        if status in (401, 403):
            return "auth"
        if status >= 500 or status in (408, 409):
            return "server"
        return "bad_request"

    @api.model
    def _ai_llm_error_text(self, exc):
        return str(getattr(exc, "message", "") or exc)[:1000]

    @api.model
    def _ai_llm_retry_after(self, exc):
        """The wait a 429/5xx answer asks for (see :func:`retry_after_seconds`); the queue honours it."""
        response = getattr(exc, "response", None)
        return retry_after_seconds(getattr(response, "headers", None))

    # ------------------------------------------------------------
    # SETTINGS
    # ------------------------------------------------------------

    @api.model
    def _ai_llm_test(self):
        """Classify a fixed sample through the configured provider; returns ``(ok, message)``."""
        config = self._ai_llm_config()
        if not config.enabled:
            return False, self.env._("Choose a provider, a model and its base URL or API key first.")
        sample = "Oi, quero saber o preço do plano anual, posso pagar no pix?"
        messages = self._ai_llm_messages(sample, channel="test", known={}, catalog_names=[], language="pt_BR")
        call = self._ai_llm_call(messages, config, config.json_mode)
        if not call.error_kind:
            self._ai_llm_validate(call, {}, [])
        if call.error_kind == "bad_request" and config.json_mode == "json_schema":
            json_call = self._ai_llm_call(messages, config, "json_object")
            if not json_call.error_kind and self._ai_llm_validate(json_call, {}, []).ok:
                return True, self.env._(
                    "The model answered in %(ms)s ms, but the server does not accept a JSON schema: choose JSON mode.",
                    ms=json_call.latency_ms,
                )
        if call.ok:
            return True, self.env._(
                "%(model)s answered in %(ms)s ms (%(tokens)s tokens).",
                model=call.model,
                ms=call.latency_ms,
                tokens=call.prompt_tokens + call.completion_tokens,
            )
        return False, self.env._(
            "The model call failed (%(kind)s): %(error)s",
            kind=dict(ERROR_KINDS).get(call.error_kind, call.error_kind),
            error=call.error,
        )
