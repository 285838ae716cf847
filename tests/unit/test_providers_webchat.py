"""Website chat widget: strict validation and visitor tokens."""

import base64
import json
from pathlib import Path

import pytest
from crm_ai_services.inbound import KIND_MESSAGE, PayloadError
from crm_ai_services.providers import webchat

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "webchat"
SECRET = "segredo-do-canal-webchat-0123456789"


def load(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_text_message():
    [item] = webchat.parse(load("text.json"))
    assert item.kind == KIND_MESSAGE
    assert item.external_id == "v_Q2xpZW50ZTEyMzQ1Njc4:3f2b8c1e-9d4a-4e7b-8a6f-1c2d3e4f5a6b"
    assert item.sender_id == "v_Q2xpZW50ZTEyMzQ1Njc4"
    assert item.text == "Olá! Vocês emitem nota fiscal para CNPJ? 🧾"
    assert item.name == "Luíza Côrtes"
    assert item.email == "Luiza.Cortes@Exemplo.com.br"
    assert item.phone == "+55 (61) 99123-4567"
    assert item.language == "pt-BR"
    assert item.message_type == "text"
    assert item.timestamp is None  # the server stamps reception time; the browser's clock is not trusted
    assert item.raw["page_url"] == "https://www.aurora.com.br/precos?utm_source=google"


def test_minimal_message_keeps_html_as_text():
    [item] = webchat.parse(load("minimal.json"))
    assert item.text == "<img src=x onerror=alert(1)> oi"
    assert item.name == item.email == item.phone == ""


def test_attachment_only():
    [item] = webchat.parse(load("attachment_only.json"))
    assert item.text == ""
    assert item.message_type == "image"
    [att] = item.attachments
    assert (att.kind, att.filename, att.mime_type) == ("image", "logo.png", "image/png")
    assert base64.b64decode(att.data_b64).startswith(b"\x89PNG")
    assert "name" not in item.raw  # null fields dropped


def test_message_id_is_normalised():
    body = load("minimal.json")
    body["message_id"] = "A1B2C3D4E5F647118899AABBCCDDEEFF"
    assert webchat.parse(body)[0].external_id == "k3J9-xQ_7mPz:a1b2c3d4-e5f6-4711-8899-aabbccddeeff"


def test_same_message_id_from_two_visitors_is_two_messages():
    one, other = load("minimal.json"), load("minimal.json")
    other["visitor_id"] = "outro-visitante-42"
    assert webchat.parse(one)[0].external_id != webchat.parse(other)[0].external_id


def test_text_is_stripped_and_limit_is_4000():
    body = load("minimal.json")
    body["text"] = "  " + "ç" * 3998
    assert webchat.parse(body)[0].text == "ç" * 3998
    body["text"] = "🙂" * 4000  # characters, not bytes
    assert len(webchat.parse(body)[0].text) == 4000
    body["text"] = "a" * 4001
    with pytest.raises(PayloadError, match="longer than 4000"):
        webchat.parse(body)


def test_emoji_cut_in_two_by_the_browser_keeps_the_message():
    """The widget sends ``text.slice(0, 4000)``: JavaScript counts UTF-16 units, so the cut can fall inside an
    emoji, and ``JSON.stringify`` sends the lone first half as ``"\\ud83d"``. The half is dropped."""
    body = load("minimal.json")
    raw = json.dumps({**body, "text": "a" * 3999 + "\U0001f600"}, ensure_ascii=True)
    cut = raw.replace("\\ude00", "")  # what arrives after slice(0, 4000)
    [item] = webchat.parse(json.loads(cut))
    assert item.text == "a" * 3999
    body["name"] = "Luíza 😀"[:-1] + "\ud83d"
    assert webchat.parse(body)[0].name == "Luíza"


def bad(**changes):
    body = load("text.json")
    for key, value in changes.items():
        if value is ...:
            del body[key]
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    "body, message",
    [
        ([], "not a JSON object"),
        (bad(visitor_id=...), "'visitor_id' is required"),
        (bad(visitor_id=12345678), "'visitor_id' is required"),
        (bad(visitor_id="curto"), "8 to 64"),
        (bad(visitor_id="a" * 65), "8 to 64"),
        (bad(visitor_id="com espaço!"), "8 to 64"),
        (bad(message_id=...), "'message_id' is required"),
        (bad(message_id="msg-1"), "UUID"),
        (bad(text=...), "'text' is required"),
        (bad(text="   "), "'text' is required"),
        (bad(text=["oi"]), "'text' must be a string"),
        (bad(text="oi\x00"), "control characters"),
        (bad(text="a\ud83db"), "not valid Unicode"),
        (bad(text="\ude00 oi"), "not valid Unicode"),
        (bad(name="x" * 129), "'name' is longer than 128"),
        (bad(name="Luíza\nCôrtes"), "control characters"),
        (bad(name={"first": "Luíza"}), "'name' must be a string"),
        (bad(email="luiza@"), "'email' is not a valid"),
        (bad(phone="ligue 6199123"), "'phone'"),
        (bad(page_url="javascript:alert(1)"), "'page_url'"),
        (bad(language="português do Brasil"), "'language'"),
        (bad(admin=True), "unknown field"),
        (bad(attachments="x"), "'attachments' must be a list"),
        (bad(attachments=[{"url": "http://169.254.169.254/latest/meta-data/"}]), "only inline data"),
        (bad(attachments=[{"mime_type": "image/png", "data_b64": "não é base64"}]), "not base64"),
        (bad(attachments=[{"mime_type": "imagem", "data_b64": "aGVsbG8="}]), "mime_type"),
        (bad(attachments=[{"mime_type": "image/png", "data_b64": "aGVsbG8="}] * 6), "at most 5"),
    ],
)
def test_invalid_bodies(body, message):
    with pytest.raises(PayloadError, match=message):
        webchat.parse(body)


def test_attachment_size_limit(monkeypatch):
    monkeypatch.setattr(webchat, "MAX_ATTACHMENT_BYTES", 8)
    body = bad(attachments=[{"mime_type": "text/plain", "data_b64": base64.b64encode(b"0123456789abcdef").decode()}])
    with pytest.raises(PayloadError, match="larger than 8 bytes"):
        webchat.parse(body)


def test_reparses_from_raw():
    for path in FIXTURES.glob("*.json"):
        [item] = webchat.parse(json.loads(path.read_text(encoding="utf-8")))
        assert [i.to_dict() for i in webchat.parse(item.raw)] == [item.to_dict()]


# -- visitor tokens -------------------------------------------------------------------


def test_visitor_token_round_trip():
    visitor_id = webchat.new_visitor_id()
    assert webchat.VISITOR_ID.match(visitor_id)
    token = webchat.visitor_token(SECRET, visitor_id)
    assert webchat.check_visitor_token(SECRET, visitor_id, token)
    assert token == webchat.visitor_token(SECRET, visitor_id)
    assert "=" not in token and len(token) == 43


def test_visitor_token_is_bound_to_id_and_secret():
    token = webchat.visitor_token(SECRET, "k3J9-xQ_7mPz")
    assert not webchat.check_visitor_token(SECRET, "outro-visitante-42", token)
    assert not webchat.check_visitor_token("outro-segredo", "k3J9-xQ_7mPz", token)
    assert not webchat.check_visitor_token(SECRET, "k3J9-xQ_7mPz", token[:-1] + ("A" if token[-1] != "A" else "B"))


@pytest.mark.parametrize(
    "secret, visitor_id, token",
    [
        ("", "k3J9-xQ_7mPz", "x"),
        (None, "k3J9-xQ_7mPz", "x"),
        (SECRET, "", "x"),
        (SECRET, "k3J9-xQ_7mPz", None),
        (SECRET, "k3J9-xQ_7mPz", ""),
        (SECRET, "k3J9-xQ_7mPz", "çççç"),
        (SECRET, "\ud83d" * 8, "x"),
    ],
)
def test_check_visitor_token_refuses_missing_parts(secret, visitor_id, token):
    assert webchat.check_visitor_token(secret, visitor_id, token) is False


def test_visitor_token_needs_a_secret():
    with pytest.raises(ValueError):
        webchat.visitor_token("", "k3J9-xQ_7mPz")


def test_page_utm_parameters_are_the_referral():
    (item,) = webchat.parse(
        {
            "visitor_id": "visitor-utm-001",
            "message_id": "6a0f1c1e-8a55-4f3e-9d4b-2f3c1d9e7b10",
            "text": "Oi",
            "page_url": "https://www.loja.example/p?utm_source=google&utm_medium=cpc&utm_campaign=nov&gclid=x",
        }
    )
    assert item.referral == {
        "source": "website",
        "url": "https://www.loja.example/p?utm_source=google&utm_medium=cpc&utm_campaign=nov&gclid=x",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "nov",
    }
    (plain,) = webchat.parse(
        {
            "visitor_id": "visitor-utm-002",
            "message_id": "6a0f1c1e-8a55-4f3e-9d4b-2f3c1d9e7b11",
            "text": "Oi",
            "page_url": "https://a.example/",
        }
    )
    assert plain.referral == {}
