"""The classifier meets its targets on the held-out split of the labelled set, and the set stays well-formed."""

import collections
import importlib.util
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import phonenumbers
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_eval():
    spec = importlib.util.spec_from_file_location("eval_classifier", ROOT / "tests" / "eval_classifier.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EVAL = _load_eval()


@pytest.fixture(scope="module")
def test_metrics():
    return EVAL.evaluate(EVAL.load_rows(split="test"), EVAL.rules_predictor())


def test_temperature_accuracy_on_the_test_split(test_metrics):
    assert test_metrics["temperature_accuracy"] >= 0.80


def test_intent_macro_f1_on_the_test_split(test_metrics):
    assert test_metrics["intent_macro_f1"] >= 0.75


@pytest.mark.parametrize("field", ["email", "phone"])
def test_contact_extraction_recall_on_the_test_split(test_metrics, field):
    extraction = test_metrics["extraction"][field]
    assert extraction["support"] > 0
    assert extraction["recall"] == 1.0


def test_the_labelled_set_is_well_formed():
    assert len(EVAL.data_files()) >= 3  # the first set and two sets written later, blind to the rules
    rows = EVAL.load_rows()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    languages = collections.Counter(r["language"] for r in rows)
    assert languages["pt"] >= 0.8 * len(rows)
    assert 0.04 <= languages["en"] / len(rows) <= 0.15
    splits = collections.Counter(r["split"] for r in rows)
    assert set(splits) == {"dev", "test"}
    assert 0.30 <= splits["test"] / len(rows) <= 0.50
    assert len({r["sector"] for r in rows}) >= 6
    for row in rows:
        assert row["temperature"] in EVAL.TEMPERATURES, row["id"]
        assert row["intent"] in EVAL.INTENTS, row["id"]
        assert row["text"].strip(), row["id"]
        if "phone" in row:
            assert phonenumbers.is_valid_number(phonenumbers.parse(row["phone"])), row["id"]
        if "email" in row:
            assert row["email"] == row["email"].lower() and "@" in row["email"], row["id"]
    for intent in EVAL.INTENTS:  # every class is represented in the held-out split
        assert any(r["intent"] == intent for r in rows if r["split"] == "test"), intent


def test_the_script_runs_without_odoo_and_exits_0():
    done = subprocess.run(
        [sys.executable, "tests/eval_classifier.py", "--split", "test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ""},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "temperature accuracy:" in done.stdout
    assert "intent macro-F1:" in done.stdout
    assert "time per message: median" in done.stdout
    assert "targets on test:" in done.stdout


# ---------------------------------------------------------------- the LLM path, against a local fake model


class _FakeModel(BaseHTTPRequestHandler):
    """Plays an OpenAI-compatible server: answers every chat completion with a fixed classification."""

    requests = []
    answer = {
        "name": "",
        "email": "",
        "phone": "",
        "company": "",
        "interest": "Onix",
        "catalog_matches": [],
        "budget": "",
        "timeframe": "today",
        "intent": "purchase",
        "temperature": "hot",
        "score": 90,
        "reason": "quer comprar hoje",
        "language": "pt",
        "needs_human": True,
        "opt_out": False,
        "spam": False,
    }

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.path, body))
        content = "Aqui está:\n```json\n" + json.dumps(self.answer) + "\n```"
        payload = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_llm_path_goes_through_prompt_validation_and_merge(monkeypatch):
    pytest.importorskip("openai")
    server = HTTPServer(("127.0.0.1", 0), _FakeModel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("CRM_AI_LLM_BASE_URL", f"http://127.0.0.1:{server.server_port}/v1")
        monkeypatch.setenv("CRM_AI_LLM_API_KEY", "test")
        monkeypatch.setenv("CRM_AI_LLM_MODEL", "fake-model")
        predict = EVAL.llm_predictor()
        result = predict("quero comprar um onix hoje")
        spam = predict("ganhe dinheiro com bitcoin, clique aqui http://x.example")
    finally:
        server.shutdown()
        server.server_close()
    path, body = _FakeModel.requests[0]
    assert path == "/v1/chat/completions"
    assert body["model"] == "fake-model"
    assert body["response_format"]["type"] == "json_schema"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "<<<CUSTOMER_MESSAGE\nquero comprar um onix hoje\nCUSTOMER_MESSAGE>>>" in body["messages"][1]["content"]
    assert result["source"] == "llm+rules"
    assert (result["intent"], result["temperature"], result["score"]) == ("purchase", "hot", 90)
    assert any(s["name"] == "urgency" for s in result["signals"])
    assert (spam["spam"], spam["temperature"], spam["score"]) == (True, "cold", 0)  # the rules' spam verdict holds
