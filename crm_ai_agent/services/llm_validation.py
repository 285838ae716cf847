"""Check a model's answer field by field, then merge it with the rules engine's classification.

The model can only *fill fields*: unknown keys ("actions", "stage", "tool_calls"...)
are dropped, enums are whitelisted, the score is clamped, e-mails and phones are
re-validated with :mod:`.emails` / :mod:`.phone`. Nothing in an answer can trigger
anything by itself.

API (stable):

``validate_answer(raw_text_or_dict, *, mapping=None, catalog_names=None) -> (data | None, errors)``
    Parses JSON (also inside ```json fences or after some prose), keeps the keys of
    :data:`llm_prompt.FIELDS` only. ``data`` is ``None`` when the answer is not a JSON
    object or when a required key (:data:`REQUIRED`) is missing or invalid; ``errors``
    lists every problem found (also for fields that were only dropped). ``mapping``
    (from ``pii.mask_pii``) puts masked personal data back before checking it;
    ``catalog_names`` whitelists ``catalog_matches``.

``merge(llm_data, rules_classification, *, latest=None, catalog=None, known=None, thresholds=None) -> dict``
    A dict with the keys of ``Classification.to_dict()`` plus ``source``
    (``"rules"`` or ``"llm+rules"``). Valid model fields win; the rules fill the gaps
    and always keep: their signals, opt-out and spam (either side flagging wins), the
    cap on job seekers and suppliers, e-mail and phone found in the text, and ``known``
    data. When the rules saw an injection attempt, the model cannot raise the score.
    The score is the model's (moved into the band of its own temperature when the two
    disagree) plus the business rules' points; temperature and stage follow from it.

    Opt-out, like the rules engine's, is decided on the customer's newest message(s) only,
    ``latest`` (a text or a list of texts, not masked): an old "SAIR" must not opt the person
    out again after they gave their consent back. The model's ``opt_out`` counts only with an
    ``opt_out_quote`` found in one of those messages (:func:`opt_out_quote_in`); without
    ``latest`` it never counts, and the rules' opt-out alone decides. When it does not count,
    the model's intent, score and reason (shaped by that opt-out) give way to the rules'.
"""

import json
import math
import re

from . import rules_text
from .emails import normalize_email
from .llm_prompt import FIELDS
from .phone import normalize_phone
from .pii import unmask
from .rules_engine import (
    INTENTS,
    LANGUAGES,
    TEMPERATURES,
    TIMEFRAMES,
    Classification,
    normalize_thresholds,
    stage_for,
    temperature_for,
)

REQUIRED = ("intent", "temperature", "score")
_TEXT_LIMITS = {
    "name": 120,
    "company": 120,
    "interest": 200,
    "budget": 120,
    "reason": 500,
    "email": 254,
    "phone": 40,
    "opt_out_quote": 200,
}
_BOOLEANS = ("needs_human", "opt_out", "spam")
_ENUMS = {"intent": INTENTS, "temperature": TEMPERATURES, "language": LANGUAGES, "timeframe": (*TIMEFRAMES, "")}
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_TRUE = {"true", "1", "yes", "sim", "y"}
_FALSE = {"false", "0", "no", "nao", "não", "n", ""}
_MIN_QUOTE_CHARS = 3  # "end", "sair", "stop": shorter quotes would be found in any message


def _objects(text, limit=20):
    """Balanced ``{...}`` substrings of ``text``, outermost first (strings and escapes respected)."""
    start = text.find("{")
    tried = 0
    while start != -1 and tried < limit:
        tried += 1
        depth = 0
        in_string = False
        escaped = False
        end = None
        for i in range(start, len(text)):
            ch = text[i]
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    end = i + 1
                    break
        if end is None:
            return
        yield text[start:end]
        start = text.find("{", end)


def parse_json_object(raw):
    """A dict from a model's raw answer, or ``None``."""
    if isinstance(raw, dict):
        return raw
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    text = str(raw).strip()
    candidates = [text, *(m.group(1).strip() for m in _FENCE.finditer(text))]
    for candidate in (*candidates, *_objects(text)):
        try:
            value = json.loads(candidate)
        except (ValueError, TypeError):
            continue
        if isinstance(value, dict):
            return value
    return None


def _clean_text(value, limit):
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple, set)):
        return None
    text = _CONTROL.sub("", str(value))
    return " ".join(text.split())[:limit]


def _as_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return None


def _as_score(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(-?\d+(?:[.,]\d+)?)\s*%?\s*", value)
        if not match:
            return None
        value = float(match.group(1).replace(",", "."))
    if not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value):
        return None
    return max(0, min(100, round(value)))


def validate_answer(raw_text_or_dict, *, mapping=None, catalog_names=None):
    """``(data, errors)``; see the module docstring."""
    errors = []
    obj = parse_json_object(raw_text_or_dict)
    if obj is None:
        return None, ["the answer is not a JSON object"]
    for key in obj:
        if key not in FIELDS:
            errors.append(f"unknown key dropped: {str(key)[:40]}")
    data = {}
    for key in FIELDS:
        if key not in obj:
            if key in REQUIRED:
                errors.append(f"missing required key: {key}")
            continue
        value = obj[key]
        if isinstance(value, str) and mapping:
            value = unmask(value, mapping)
        if key in _ENUMS:
            choice = value.strip().lower() if isinstance(value, str) else None
            if choice not in _ENUMS[key]:
                errors.append(f"{key}: {str(value)[:40]!r} is not one of {', '.join(v for v in _ENUMS[key] if v)}")
                continue
            data[key] = choice
        elif key == "score":
            score = _as_score(value)
            if score is None:
                errors.append(f"score: {str(value)[:40]!r} is not a number")
                continue
            if isinstance(value, (int, float)) and not 0 <= value <= 100:
                errors.append(f"score {value} clamped to {score}")
            data[key] = score
        elif key in _BOOLEANS:
            flag = _as_bool(value)
            if flag is None:
                errors.append(f"{key}: {str(value)[:40]!r} is not a boolean")
                continue
            data[key] = flag
        elif key == "catalog_matches":
            data[key] = _catalog_matches(value, catalog_names, errors)
        else:
            text = _clean_text(value, _TEXT_LIMITS[key])
            if text is None:
                errors.append(f"{key}: not a text")
                continue
            if key == "email" and text:
                email = normalize_email(text)
                if not email:
                    errors.append(f"email: {text[:60]!r} is not a valid address")
                text = email
            elif key == "phone" and text:
                phone = normalize_phone(text)
                if not phone:
                    errors.append(f"phone: {text[:40]!r} is not a valid number")
                text = phone
            data[key] = text
    if any(key not in data for key in REQUIRED):
        return None, errors
    return data, errors


def _catalog_matches(value, catalog_names, errors):
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        errors.append("catalog_matches: not a list")
        return []
    allowed = {str(n).strip().lower(): str(n) for n in catalog_names or ()}
    out = []
    for item in value:
        if not isinstance(item, str):
            continue
        name = allowed.get(item.strip().lower())
        if name is None:
            errors.append(f"catalog_matches: {item[:40]!r} is not in the catalog")
        elif name not in out:
            out.append(name)
    return out


def _fold(text):
    """Folded words, one space apart (the rules engine's folding): how a quote is looked up."""
    return " ".join(rules_text.tokens(rules_text.fold(str(text or ""))))


def opt_out_quote_in(quote, latest):
    """Whether ``quote`` (the model's words asking to stop) is in one of the ``latest`` messages.

    Compared folded (case, accents, punctuation, spaces), on whole words.
    """
    needle = _fold(quote)
    if len(needle) < _MIN_QUOTE_CHARS:
        return False
    messages = latest if isinstance(latest, (list, tuple)) else [latest]
    return any(f" {needle} " in f" {_fold(message)} " for message in messages if message)


def _band(score, temperature, limits):
    """``score`` moved into the band of ``temperature``."""
    if temperature == "hot":
        return max(score, limits["hot"])
    if temperature == "warm":
        return min(max(score, limits["warm"]), limits["hot"] - 1)
    return min(score, limits["warm"] - 1)


def merge(llm_data, rules_classification, *, latest=None, catalog=None, known=None, thresholds=None):
    """Final classification from a validated answer and the rules'; see the module docstring."""
    if isinstance(rules_classification, Classification):
        result = rules_classification.to_dict()
    else:
        result = {**Classification().to_dict(), **dict(rules_classification or {})}
    result = {**result, "signals": list(result.get("signals") or [])}
    if not llm_data:
        result["source"] = "rules"
        return result
    limits = normalize_thresholds(thresholds)
    signal_names = {s.get("name") for s in result["signals"]}
    known = {k: v for k, v in (known or {}).items() if v}

    for key in ("name", "company", "interest", "budget", "timeframe", "language"):
        if llm_data.get(key) and key not in known:
            result[key] = llm_data[key]
    for key in ("email", "phone"):  # exact extraction from the text first, then the model's
        if not result.get(key) and llm_data.get(key) and key not in known:
            result[key] = llm_data[key]
    if catalog and llm_data.get("catalog_matches"):
        ids = list(result.get("interest_product_ids") or [])
        by_name = {str(item.get("name", "")).strip().lower(): item.get("id") for item in catalog}
        for name in llm_data["catalog_matches"]:
            item_id = by_name.get(name.strip().lower())
            if item_id is not None and item_id not in ids:
                ids.append(item_id)
        result["interest_product_ids"] = ids

    # The model's opt-out only counts when it quotes the newest message(s), as the rules read it.
    llm_opt_out = bool(llm_data.get("opt_out"))
    ignored_opt_out = llm_opt_out and not (
        latest is not None and opt_out_quote_in(llm_data.get("opt_out_quote"), latest)
    )
    result["opt_out"] = bool(result.get("opt_out")) or (llm_opt_out and not ignored_opt_out)
    result["spam"] = bool(result.get("spam") or llm_data.get("spam")) and not result["opt_out"]
    disqualified = result["opt_out"] or result["spam"] or bool({"job_seeker", "supplier"} & signal_names)
    if ignored_opt_out and not result["opt_out"]:
        intent = result.get("intent") if result.get("intent") in INTENTS else "other"
        score = max(0, min(100, int(result.get("score") or 0)))  # the rules' score has the rules' points
    else:
        intent = llm_data["intent"]
        score = _band(llm_data["score"], llm_data["temperature"], limits)
        score = max(0, min(100, score + int(result.get("rule_points") or 0)))
    if "injection" in signal_names:
        score = min(score, int(result.get("score") or 0))
    if result["opt_out"] or result["spam"]:
        intent, score = "other", 0
    elif disqualified and result.get("intent") == "other":
        intent, score = "other", min(score, 5)
    result["intent"] = intent
    result["score"] = score
    result["temperature"] = temperature_for(score, limits)
    result["stage"] = stage_for(result["temperature"], intent, disqualified)
    result["needs_human"] = not result["opt_out"] and bool(
        result.get("needs_human") or llm_data.get("needs_human") or result["temperature"] == "hot"
    )
    rules_reason = result.get("reason") or ""
    llm_reason = llm_data.get("reason") or ""
    if ignored_opt_out and not result["opt_out"]:
        llm_reason = "modelo: pedido de saída ignorado, não está na última mensagem"
    result["reason"] = " | ".join(p for p in (llm_reason, f"regras: {rules_reason}" if rules_reason else "") if p)
    result["source"] = "llm+rules"
    return result
