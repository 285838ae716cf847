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


def test_template_components_body_only():
    assert outbound.template_components([], [("1", "Ana")]) == [
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}
    ]


def test_template_components_image_header_by_link_and_url_button():
    components = outbound.template_components(
        [],
        [("1", "Ana")],
        header_format="IMAGE",
        header_media={"link": "https://cdn.example.com/onix.jpg", "filename": "ignored.jpg"},
        button_values=[("1", "proposta/12")],
    )
    assert components == [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example.com/onix.jpg"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
        {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "proposta/12"}]},
    ]


def test_template_components_document_header_by_id_with_filename():
    components = outbound.template_components(
        [], [], header_format="document", header_media={"id": "MEDIA1", "link": "https://x", "filename": "proposta.pdf"}
    )
    assert components == [
        {
            "type": "header",
            "parameters": [{"type": "document", "document": {"id": "MEDIA1", "filename": "proposta.pdf"}}],
        }
    ]
    video = outbound.template_components([], [], header_format="video", header_media={"id": "V1"})
    assert video[0]["parameters"] == [{"type": "video", "video": {"id": "V1"}}]


def test_template_components_text_header_variable():
    assert outbound.template_components([("1", "Maria")], [], header_format="text") == [
        {"type": "header", "parameters": [{"type": "text", "text": "Maria"}]}
    ]
    # A media header has no text parameters, whatever is passed.
    components = outbound.template_components([("1", "x")], [], header_format="image", header_media={"id": "M"})
    assert components == [{"type": "header", "parameters": [{"type": "image", "image": {"id": "M"}}]}]


@pytest.mark.parametrize("media", [None, {}, {"link": ""}, {"filename": "a.pdf"}])
@pytest.mark.parametrize("header_format", ["image", "video", "document"])
def test_template_components_media_header_without_media_is_an_error(header_format, media):
    with pytest.raises(outbound.TemplateError, match=f"{header_format} header"):
        outbound.template_components([], [("1", "Ana")], header_format=header_format, header_media=media)


def test_template_components_location_header_is_refused():
    with pytest.raises(outbound.TemplateError, match="location"):
        outbound.template_components([], [], header_format="location")


def test_parse_graph_template_keeps_media_header_and_url_buttons():
    entry = {
        "id": "7",
        "name": "oferta",
        "language": "pt_BR",
        "status": "APPROVED",
        "category": "MARKETING",
        "components": [
            {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": ["https://scontent.example/x.pdf"]}},
            {"type": "BODY", "text": "Oi {{1}}"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Sim"},
                    {"type": "URL", "text": "Ver proposta", "url": "https://loja.example/p/{{1}}"},
                    {"type": "URL", "text": "Site", "url": "https://loja.example/"},
                ],
            },
        ],
    }
    vals = outbound.parse_graph_template(entry)
    assert vals["header_format"] == "document"
    assert vals["header_example"] == "https://scontent.example/x.pdf"
    assert vals["header"] == ""
    assert vals["buttons"] == ["Sim", "Ver proposta", "Site"]
    assert vals["url_buttons"] == [{"index": 1, "text": "Ver proposta", "url": "https://loja.example/p/{{1}}"}]
    text = outbound.parse_graph_template(
        {"name": "t", "language": "en", "components": [{"type": "HEADER", "format": "TEXT", "text": "Hi {{1}}"}]}
    )
    assert (text["header_format"], text["header"], text["header_example"], text["url_buttons"]) == (
        "text",
        "Hi {{1}}",
        "",
        [],
    )


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
