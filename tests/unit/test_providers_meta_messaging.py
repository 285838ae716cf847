"""Instagram Messaging and Messenger webhook parsing and Send API bodies."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from crm_ai_services.inbound import KIND_EVENT, KIND_MESSAGE, KIND_STATUS, PayloadError
from crm_ai_services.providers import meta_messaging as mm

FIXTURES = Path(__file__).resolve().parent / "fixtures"
IG_ACCOUNT, IGSID = "17841405793187218", "6827364518293746"
PAGE, PSID = "104285678912345", "7345129876543210"
ECHO_MID = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOkVDSE8wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMQZDZD"


def load(provider, name):
    return json.loads((FIXTURES / provider / name).read_text(encoding="utf-8"))


def one(provider, name):
    parser = mm.parse_instagram if provider == "instagram" else mm.parse_messenger
    items = parser(load(provider, name))
    assert len(items) == 1
    return items[0]


def ms(value):
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


# -- Instagram ------------------------------------------------------------------


def test_instagram_text():
    item = one("instagram", "text.json")
    assert item.kind == KIND_MESSAGE
    assert item.external_id.startswith("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx")
    assert item.sender_id == IGSID
    assert item.account_id == IG_ACCOUNT
    assert item.message_type == "text"
    assert item.text == "Oi! Vocês fazem entrega em Belo Horizonte? 🚚"
    assert item.timestamp == ms(1750870000001)
    assert item.timestamp.microsecond == 1000
    assert item.name == "" and item.phone == ""  # Instagram gives neither: profile API
    assert item.skip_reason == ""


def test_instagram_echo_is_skipped():
    item = one("instagram", "echo.json")
    assert item.kind == KIND_MESSAGE
    assert item.skip_reason == "echo"
    assert item.external_id == ECHO_MID
    assert item.sender_id == IGSID  # the customer of the conversation
    assert item.account_id == IG_ACCOUNT
    assert item.text == "Fazemos sim! Qual o seu CEP?"


def test_instagram_image_attachment():
    item = one("instagram", "attachment.json")
    assert item.message_type == "image"
    assert item.text == ""
    [att] = item.attachments
    assert att.kind == "image"
    assert att.url.startswith("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18049287536112345")
    assert att.media_id == ""


def test_instagram_quick_reply():
    item = one("instagram", "quick_reply.json")
    assert item.message_type == "interactive"
    assert item.text == "Quero um orçamento"
    assert item.interactive_id == "ORCAMENTO"


def test_instagram_reaction():
    item = one("instagram", "reaction.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "reaction"
    assert item.text == "❤"
    assert item.reply_to_id == ECHO_MID
    assert item.external_id == f"reaction:{ECHO_MID}:react:1750870003000"


def test_instagram_unreact_has_empty_text_and_another_id():
    body = load("instagram", "reaction.json")
    event = body["entry"][0]["messaging"][0]
    event["reaction"] = {"mid": ECHO_MID, "action": "unreact"}
    event["timestamp"] = 1750870009000
    [item] = mm.parse_instagram(body)
    assert item.text == ""
    assert item.external_id != one("instagram", "reaction.json").external_id


def test_instagram_read_refers_to_the_message():
    item = one("instagram", "read.json")
    assert item.kind == KIND_STATUS
    assert item.status == "read"
    assert item.ref_external_id == ECHO_MID
    assert item.external_id == f"{ECHO_MID}:read"


def test_instagram_story_mention_is_unsupported_with_details_in_raw():
    item = one("instagram", "story_mention.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "unsupported"
    assert item.attachments == []
    assert item.raw["entry"][0]["messaging"][0]["message"]["attachments"][0]["type"] == "story_mention"


def test_instagram_unsent_message():
    body = load("instagram", "text.json")
    body["entry"][0]["messaging"][0]["message"] = {"mid": "aWdfMID", "is_deleted": True}
    [item] = mm.parse_instagram(body)
    assert item.kind == KIND_EVENT
    assert item.event_type == "message_deleted"
    assert item.external_id == "aWdfMID:deleted"


def test_message_edit():
    body = load("instagram", "text.json")
    event = body["entry"][0]["messaging"][0]
    del event["message"]
    event["message_edit"] = {"mid": "aWdfMID", "text": "Vocês entregam em Contagem?", "num_edit": 1}
    [item] = mm.parse_instagram(body)
    assert item.is_edit is True
    assert item.text == "Vocês entregam em Contagem?"
    assert item.external_id == "aWdfMID:edit:1"
    assert item.reply_to_id == "aWdfMID"


def test_instagram_comment_change_is_event():
    body = {
        "object": "instagram",
        "entry": [
            {
                "id": IG_ACCOUNT,
                "time": 1750870010,
                "changes": [
                    {"field": "comments", "value": {"id": "1790", "text": "Quanto custa? 😍", "from": {"id": "1"}}}
                ],
            }
        ],
    }
    [item] = mm.parse_instagram(body)
    assert item.kind == KIND_EVENT
    assert item.event_type == "comments"
    assert item.account_id == IG_ACCOUNT


# -- Messenger --------------------------------------------------------------------


def test_messenger_text():
    item = one("messenger", "text.json")
    assert item.kind == KIND_MESSAGE
    assert item.external_id == "m_AG5Hz2Uq7qDEBqKxJ8Zo8sQyJ2Yl1e3Yc9t0VxQzYb5aM8rTj2Kl0qWn6pLs4dFgHj"
    assert item.sender_id == PSID
    assert item.account_id == PAGE
    assert item.text == "Boa tarde! Qual o horário de funcionamento da loja de Curitiba?"
    assert item.timestamp == ms(1750880000100)


def test_messenger_postback():
    item = one("messenger", "postback.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "interactive"
    assert item.external_id == "m_POSTBACK8mQe2kXoZ1pV7rN3sT9uW5yA0bC4dE6fG"
    assert item.text == "Falar com um atendente"
    assert item.interactive_id == "FALAR_ATENDENTE"


def test_messenger_postback_without_mid_has_stable_id():
    body = load("messenger", "postback.json")
    del body["entry"][0]["messaging"][0]["postback"]["mid"]
    first, again = mm.parse_messenger(body)[0], mm.parse_messenger(json.loads(json.dumps(body)))[0]
    assert first.external_id.startswith("postback:")
    assert first.external_id == again.external_id


def test_messenger_file_and_audio():
    item = one("messenger", "attachment.json")
    assert item.message_type == "document"
    assert [(a.kind, a.url.split("?")[0]) for a in item.attachments] == [
        ("document", "https://cdn.fbsbx.com/v/t59.2708-21/orcamento_reforma.pdf"),
        ("audio", "https://cdn.fbsbx.com/v/t59.3654-21/audio_clip.mp4"),
    ]


def test_messenger_sticker():
    item = one("messenger", "sticker.json")
    assert item.message_type == "sticker"
    assert item.attachments[0].kind == "sticker"


def test_messenger_delivery_gives_one_status_per_message():
    items = mm.parse_messenger(load("messenger", "delivery.json"))
    assert [(i.kind, i.status, i.ref_external_id, i.external_id) for i in items] == [
        (
            KIND_STATUS,
            "delivered",
            "m_OUTBOUND1aBcDeFgHiJkLmNoPqRsTuVwXyZ",
            "m_OUTBOUND1aBcDeFgHiJkLmNoPqRsTuVwXyZ:delivered",
        ),
        (
            KIND_STATUS,
            "delivered",
            "m_OUTBOUND2aBcDeFgHiJkLmNoPqRsTuVwXyZ",
            "m_OUTBOUND2aBcDeFgHiJkLmNoPqRsTuVwXyZ:delivered",
        ),
    ]
    assert all(i.sender_id == PSID for i in items)


def test_messenger_read_watermark():
    item = one("messenger", "read.json")
    assert item.kind == KIND_STATUS
    assert item.status == "read"
    assert item.ref_external_id == ""  # everything before the watermark is read
    assert item.external_id == f"read:{PSID}:1750880003900"


def test_standby_events_are_skipped():
    body = load("messenger", "text.json")
    body["entry"][0]["standby"] = body["entry"][0].pop("messaging")
    [item] = mm.parse_messenger(body)
    assert item.skip_reason == "standby"


def test_optin_is_event():
    body = load("messenger", "text.json")
    event = body["entry"][0]["messaging"][0]
    del event["message"]
    event["optin"] = {"type": "notification_messages", "payload": "OFERTAS", "notification_messages_token": "t"}
    [item] = mm.parse_messenger(body)
    assert item.kind == KIND_EVENT
    assert item.event_type == "optin"
    assert item.sender_id == PSID


def test_object_is_checked_per_channel():
    with pytest.raises(PayloadError):
        mm.parse_instagram(load("messenger", "text.json"))
    with pytest.raises(PayloadError):
        mm.parse_messenger(load("instagram", "text.json"))
    assert mm.parse(load("instagram", "text.json"))[0].sender_id == IGSID


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"object": "whatsapp_business_account", "entry": []},
        {"object": "page"},
        {"object": "page", "entry": "x"},
        {"object": "page", "entry": [1]},
        {"object": "page", "entry": [{"id": PAGE, "time": 1}]},
    ],
)
def test_not_a_meta_messaging_body(payload):
    with pytest.raises(PayloadError):
        mm.parse(payload)


def test_every_item_reparses_from_its_raw():
    for provider in ("instagram", "messenger"):
        for path in sorted((FIXTURES / provider).glob("*.json")):
            for item in mm.parse(json.loads(path.read_text(encoding="utf-8"))):
                assert [i.to_dict() for i in mm.parse(item.raw)] == [item.to_dict()], path.name


# -- outbound -------------------------------------------------------------------


def test_build_text():
    assert mm.build_text(PSID, "Olá! Abrimos às 9h 😊") == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Olá! Abrimos às 9h 😊"},
    }


def test_build_attachment():
    body = mm.build_attachment(IGSID, "document", "https://example.com/catalogo.pdf")
    assert body["message"]["attachment"] == {
        "type": "file",
        "payload": {"url": "https://example.com/catalogo.pdf", "is_reusable": False},
    }
    assert mm.build_attachment(IGSID, "image", "https://example.com/a.jpg")["message"]["attachment"]["type"] == "image"
    with pytest.raises(ValueError):
        mm.build_attachment(IGSID, "sticker", "https://example.com/a.webp")


def test_parse_send_response():
    assert mm.parse_send_response({"recipient_id": PSID, "message_id": "m_abc"}) == "m_abc"
    with pytest.raises(PayloadError, match="10"):
        mm.parse_send_response({"error": {"code": 10, "message": "Outside of allowed window"}})
