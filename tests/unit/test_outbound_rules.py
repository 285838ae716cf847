"""Outbound rules without Odoo: messaging windows, backoff, media kinds, templates, asking for a person."""

from datetime import datetime, timedelta

import pytest
from crm_ai_services import handoff, outbound

LAST = datetime(2026, 11, 25, 10, 0, 0)


@pytest.mark.parametrize(
    ("after", "mode"),
    [
        (timedelta(0), outbound.FREE),
        (timedelta(hours=23, minutes=59), outbound.FREE),
        (timedelta(hours=23, minutes=59, seconds=59), outbound.FREE),
        (timedelta(hours=24), outbound.TEMPLATE),
        (timedelta(hours=24, minutes=1), outbound.TEMPLATE),
        (timedelta(days=30), outbound.TEMPLATE),
    ],
)
def test_whatsapp_window(after, mode):
    window = outbound.whatsapp_window(LAST, LAST + after)
    assert window.mode == mode
    assert window.free_text is (mode == outbound.FREE)
    if mode == outbound.FREE:
        assert window.expires_at == LAST + timedelta(hours=24)


def test_whatsapp_window_without_any_message_is_template_only():
    assert outbound.whatsapp_window(None, LAST).mode == outbound.TEMPLATE


@pytest.mark.parametrize(
    ("after", "human_agent", "mode"),
    [
        (timedelta(hours=23), False, outbound.FREE),
        (timedelta(hours=25), False, outbound.CLOSED),
        (timedelta(hours=25), True, outbound.TAG),
        (timedelta(days=6, hours=23), True, outbound.TAG),
        (timedelta(days=7, minutes=1), True, outbound.CLOSED),
    ],
)
def test_meta_window(after, human_agent, mode):
    window = outbound.meta_window(LAST, LAST + after, human_agent=human_agent)
    assert window.mode == mode
    assert window.tag == ("HUMAN_AGENT" if mode == outbound.TAG else "")


def test_retry_delay_doubles_and_is_capped():
    assert [outbound.retry_delay(n) for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert outbound.retry_delay(20) == 3600


@pytest.mark.parametrize(
    ("mimetype", "kind"),
    [
        ("image/jpeg", "image"),
        ("image/png", "image"),
        ("image/webp", "document"),
        ("image/gif", "document"),
        ("video/mp4", "video"),
        ("audio/ogg; codecs=opus", "audio"),
        ("application/pdf", "document"),
        ("", "document"),
        (None, "document"),
    ],
)
def test_media_kind(mimetype, kind):
    assert outbound.media_kind(mimetype) == kind


def test_template_placeholders_render_and_components():
    text = "Olá {{1}}, sua proposta {{2}} vence {{ 2 }}. {{1}}"
    assert outbound.template_placeholders(text) == ["1", "2"]
    assert outbound.render_template(text, {"1": "Ana", "2": "#12"}) == "Olá Ana, sua proposta #12 vence #12. Ana"
    assert outbound.render_template("Oi {{1}} {{3}}", {"1": "Bo"}) == "Oi Bo {{3}}"
    components = outbound.template_components([("1", "Ana")], [("1", "#12"), ("first_name", "Bo")])
    assert components == [
        {"type": "header", "parameters": [{"type": "text", "text": "Ana"}]},
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "#12"},
                {"type": "text", "text": "Bo", "parameter_name": "first_name"},
            ],
        },
    ]
    assert outbound.template_components([], []) == []


def test_parse_graph_template():
    entry = {
        "id": "99",
        "name": "retomar",
        "language": "pt_BR",
        "status": "APPROVED",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "IMAGE"},
            {"type": "BODY", "text": "Oi {{1}}"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Sim"}]},
        ],
    }
    vals = outbound.parse_graph_template(entry)
    assert vals["status"] == "approved"
    assert vals["header"] == "", "media headers carry no text"
    assert vals["body"] == "Oi {{1}}"
    assert vals["buttons"] == ["Sim"]
    assert outbound.parse_graph_template({"name": "x"}) is None
    assert outbound.parse_graph_template("nope") is None


@pytest.mark.parametrize(
    "text",
    [
        "Quero falar com um atendente",
        "quero falar com atendente por favor",
        "Posso falar com uma pessoa?",
        "atendimento humano",
        "vc é um robô?",
        "Me liga agora",
        "can I talk to a human",
        "I want to speak with a real person",
        "Quisiera hablar con un asesor",
        "FALAR COM VENDEDOR",
    ],
)
def test_asks_for_person(text):
    assert handoff.asks_for_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "Quanto custa o Onix?",
        "não quero falar com atendente, só o preço",
        "I don't want to talk to a human",
        "a pessoa que me atendeu foi ótima",
        "",
        None,
    ],
)
def test_does_not_ask_for_person(text):
    assert not handoff.asks_for_person(text)
