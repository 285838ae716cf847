#!/usr/bin/env python3
"""Evaluate the lead classifier on the labelled first-contact messages.

Run from the repository root, without Odoo::

    python3 tests/eval_classifier.py                 # test split and overall
    python3 tests/eval_classifier.py --split dev --errors
    python3 tests/eval_classifier.py --split all --repeat 50    # timing benchmark

Prints, for the rules engine (and, when ``CRM_AI_LLM_BASE_URL`` is set, for an
OpenAI-compatible model through ``openai`` with ``CRM_AI_LLM_API_KEY`` and
``CRM_AI_LLM_MODEL``: ``build_messages`` -> model -> ``validate_answer`` -> ``merge``
with the rules), per split: temperature accuracy, intent macro-F1, both confusion
matrices, precision/recall of the extracted e-mail, phone, name and interest, and the
median and 95th percentile time per message (wall clock, and CPU time of the
calling thread, which a busy machine does not inflate). Always exits 0.

``evaluate(rows, predict)`` is importable (``tests/unit/test_eval_targets.py`` asserts the
targets on the test split with it).

Matching rules: e-mails and phones exactly (normalised); names after folding accents
and case; interests when their content words overlap with a Dice coefficient >= 0.5
("curso de inglês" ~ "curso de inglês intensivo"). A prediction where the label has
no value counts as a false positive.
"""

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "tests" / "data"
SERVICES = ROOT / "crm_ai_agent" / "services"

INTENTS = ("purchase", "price", "info", "schedule", "support", "other")
TEMPERATURES = ("hot", "warm", "cold")
FIELDS = ("email", "phone", "name", "interest")
TARGETS = {"temperature_accuracy": 0.80, "intent_macro_f1": 0.75, "email_recall": 1.0, "phone_recall": 1.0}


def load_services():
    """The services package under the alias ``crm_ai_services`` (no Odoo import)."""
    if "crm_ai_services" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "crm_ai_services", SERVICES / "__init__.py", submodule_search_locations=[str(SERVICES)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["crm_ai_services"] = module
        spec.loader.exec_module(module)
    return sys.modules["crm_ai_services"]


def data_files():
    """Every labelled set, in name order: ``labelled_messages.jsonl`` and the later ``labelled_messages_*.jsonl``."""
    return sorted(DATA_DIR.glob("labelled_messages*.jsonl"))


def load_rows(path=None, split=None):
    """The rows of one file (``path``) or of every labelled set, optionally of one split."""
    rows = []
    for file in [path] if path else data_files():
        with open(file, encoding="utf-8") as fh:
            for raw in fh:
                if raw.strip():
                    row = json.loads(raw)
                    if split in (None, "all") or row["split"] == split:
                        rows.append(row)
    return rows


# ---------------------------------------------------------------- matching


def _fold(text):
    load_services()
    from crm_ai_services.rules_text import fold

    return fold(text or "")


def field_match(name, predicted, gold):
    if not predicted or not gold:
        return False
    if name in ("email", "phone"):
        return predicted.strip().lower() == gold.strip().lower()
    if name == "name":
        return _fold(predicted) == _fold(gold)
    load_services()
    from crm_ai_services.rules_extract import interest_tokens

    p, g = set(interest_tokens(predicted)), set(interest_tokens(gold))
    if not p or not g:
        return False
    return 2 * len(p & g) / (len(p) + len(g)) >= 0.5


# ---------------------------------------------------------------- metrics


def _confusion(pairs, labels):
    matrix = {g: dict.fromkeys(labels, 0) for g in labels}
    for gold, pred in pairs:
        matrix.setdefault(gold, dict.fromkeys(labels, 0)).setdefault(pred, 0)
        matrix[gold][pred] += 1
    return matrix


def _macro_f1(pairs, labels):
    scores = {}
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        if tp + fp + fn == 0:
            continue  # label absent from both: not part of the average
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return (sum(scores.values()) / len(scores) if scores else 0.0), scores


def _percentile(values, q):
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def evaluate(rows, predict, repeat=1):
    """Metrics for ``predict(text) -> dict`` (Classification.to_dict()) over ``rows``.

    ``repeat`` > 1 times every message that many times (a steadier benchmark).
    """
    temps, intents, times, cpu_times, details = [], [], [], [], []
    counts = {f: {"tp": 0, "fp": 0, "fn": 0} for f in (*FIELDS, "opt_out", "spam")}
    for row in rows:
        for _ in range(max(1, repeat)):
            start, cpu_start = time.perf_counter(), time.thread_time()
            pred = predict(row["text"])
            times.append((time.perf_counter() - start) * 1000)
            cpu_times.append((time.thread_time() - cpu_start) * 1000)
        temps.append((row["temperature"], pred.get("temperature")))
        intents.append((row["intent"], pred.get("intent")))
        for f in FIELDS:
            gold, got = row.get(f) or "", pred.get(f) or ""
            ok = field_match(f, got, gold)
            counts[f]["tp"] += ok
            counts[f]["fp"] += bool(got) and not ok
            counts[f]["fn"] += bool(gold) and not ok
        for f in ("opt_out", "spam"):
            gold, got = bool(row.get(f)), bool(pred.get(f))
            counts[f]["tp"] += gold and got
            counts[f]["fp"] += got and not gold
            counts[f]["fn"] += gold and not got
        details.append((row, pred))
    n = len(rows) or 1
    macro, per_intent = _macro_f1(intents, INTENTS)
    extraction = {}
    for f, c in counts.items():
        extraction[f] = {
            "precision": c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0,
            "recall": c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0,
            "support": c["tp"] + c["fn"],
            **c,
        }
    return {
        "n": len(rows),
        "temperature_accuracy": sum(g == p for g, p in temps) / n,
        "intent_accuracy": sum(g == p for g, p in intents) / n,
        "intent_macro_f1": macro,
        "intent_f1": per_intent,
        "temperature_confusion": _confusion(temps, TEMPERATURES),
        "intent_confusion": _confusion(intents, INTENTS),
        "extraction": extraction,
        "ms_median": statistics.median(times) if times else 0.0,
        "ms_p95": _percentile(times, 0.95),
        "cpu_ms_median": statistics.median(cpu_times) if cpu_times else 0.0,
        "cpu_ms_p95": _percentile(cpu_times, 0.95),
        "details": details,
    }


# ---------------------------------------------------------------- predictors


def rules_predictor():
    load_services()
    from crm_ai_services.rules_engine import classify

    return lambda text: classify(text).to_dict()


def llm_predictor():
    """OpenAI-compatible model + validation + merge with the rules, or ``None`` when not configured."""
    base_url = os.environ.get("CRM_AI_LLM_BASE_URL")
    if not base_url:
        return None
    try:
        from openai import OpenAI
    except ImportError:
        print("CRM_AI_LLM_BASE_URL is set but the openai package is missing; LLM skipped.")
        return None
    load_services()
    from crm_ai_services.llm_prompt import build_messages, json_schema
    from crm_ai_services.llm_validation import merge, validate_answer
    from crm_ai_services.rules_engine import classify

    client = OpenAI(base_url=base_url, api_key=os.environ.get("CRM_AI_LLM_API_KEY") or "none", timeout=60)
    model = os.environ.get("CRM_AI_LLM_MODEL") or "gpt-4o-mini"
    use_schema = os.environ.get("CRM_AI_LLM_JSON_SCHEMA", "1") != "0"
    failures = {"count": 0}

    def predict(text):
        rules = classify(text)
        messages = build_messages(text, channel="whatsapp", known={}, catalog_names=[])
        kwargs = {"model": model, "messages": messages, "temperature": 0}
        if use_schema:
            kwargs["response_format"] = {"type": "json_schema", "json_schema": json_schema()}
        try:
            answer = client.chat.completions.create(**kwargs)
            raw = answer.choices[0].message.content or ""
        except Exception as exc:  # noqa: BLE001 - any API failure: the evaluation goes on with the rules alone
            failures["count"] += 1
            if failures["count"] <= 3:
                print(f"  LLM call failed ({type(exc).__name__}: {exc}); rules used for this message")
            return rules.to_dict()
        data, _errors = validate_answer(raw)
        return merge(data, rules, latest=text)  # one message: it is the newest

    return predict


# ---------------------------------------------------------------- report


def _matrix_lines(matrix, labels, title):
    width = max(len(label) for label in labels) + 2
    lines = [f"  {title} (rows = label, columns = predicted)"]
    lines.append("  " + " " * width + "".join(f"{label[:8]:>9}" for label in labels))
    for gold in labels:
        row = matrix.get(gold, {})
        lines.append("  " + f"{gold:<{width}}" + "".join(f"{row.get(p, 0):>9}" for p in labels))
    return lines


def report(name, split, metrics):
    lines = [f"== {name} / {split} ({metrics['n']} messages)"]
    lines.append(f"  temperature accuracy: {metrics['temperature_accuracy']:.1%}")
    per = ", ".join(f"{k} {v:.2f}" for k, v in metrics["intent_f1"].items())
    lines.append(
        f"  intent macro-F1: {metrics['intent_macro_f1']:.3f}  (accuracy {metrics['intent_accuracy']:.1%}; {per})"
    )
    lines += _matrix_lines(metrics["temperature_confusion"], TEMPERATURES, "temperature")
    lines += _matrix_lines(metrics["intent_confusion"], INTENTS, "intent")
    lines.append("  extraction            precision   recall   (labelled)")
    for f in (*FIELDS, "opt_out", "spam"):
        e = metrics["extraction"][f]
        lines.append(f"    {f:<18} {e['precision']:>10.1%} {e['recall']:>8.1%}   ({e['support']})")
    lines.append(
        f"  time per message: median {metrics['ms_median']:.2f} ms, p95 {metrics['ms_p95']:.2f} ms"
        f" (CPU: median {metrics['cpu_ms_median']:.2f} ms, p95 {metrics['cpu_ms_p95']:.2f} ms)"
    )
    return "\n".join(lines)


def error_lines(metrics):
    lines = []
    for row, pred in metrics["details"]:
        problems = []
        if row["temperature"] != pred.get("temperature"):
            problems.append(f"temp {row['temperature']}->{pred.get('temperature')}")
        if row["intent"] != pred.get("intent"):
            problems.append(f"intent {row['intent']}->{pred.get('intent')}")
        for f in FIELDS:
            gold, got = row.get(f) or "", pred.get(f) or ""
            if (gold or got) and not field_match(f, got, gold):
                problems.append(f"{f} {gold!r}->{got!r}")
        if problems:
            lines.append(f"  {row['id']} [{row['split']}] {row['text'][:90]!r}")
            lines.append(f"      {'; '.join(problems)} | score {pred.get('score')} | {pred.get('reason', '')[:150]}")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("test", "dev", "all"), help="only this split (default: test and all)")
    parser.add_argument("--errors", action="store_true", help="list the misclassified messages")
    parser.add_argument("--data", help="one labelled file (default: every tests/data/labelled_messages*.jsonl)")
    parser.add_argument("--repeat", type=int, default=1, help="time every message N times (rules engine only)")
    args = parser.parse_args(argv)
    splits = [args.split] if args.split else ["test", "all"]
    predictors = [("rules engine", rules_predictor())]
    llm = llm_predictor()
    if llm is not None:
        predictors.append((f"LLM {os.environ.get('CRM_AI_LLM_MODEL') or ''} + rules".replace("  ", " "), llm))
    else:
        print("(LLM not evaluated: set CRM_AI_LLM_BASE_URL [+ CRM_AI_LLM_API_KEY, CRM_AI_LLM_MODEL] to include it)")
    for name, predict in predictors:
        predict("aquecimento")  # first call outside the timings
        for split in splits:
            rows = load_rows(args.data, split)
            metrics = evaluate(rows, predict, args.repeat if name == "rules engine" else 1)
            print(report(name, split, metrics))
            if split == "test":
                status = ", ".join(
                    f"{k} {'OK' if metrics_value(metrics, k) >= v else 'BELOW'}" for k, v in TARGETS.items()
                )
                print(f"  targets on test: {status}")
            if args.errors:
                print("\n".join(error_lines(metrics)))
            print()
    return 0


def metrics_value(metrics, key):
    if key.endswith("_recall"):
        return metrics["extraction"][key[: -len("_recall")]]["recall"]
    return metrics[key]


if __name__ == "__main__":
    main()
    sys.exit(0)
