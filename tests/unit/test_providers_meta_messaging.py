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


def test_instagram_changes_format_message():
    """``entry[].changes[]`` with ``field: messages`` and the event as ``value``, timestamp in seconds as a string:
    the Instagram API with Instagram Login and the App Dashboard's test notifications
    (developers.facebook.com/docs/instagram-platform/webhooks/examples,
    .../messenger-platform/webhooks/webhook-events/messaging_postbacks)."""
    item = one("instagram", "changes_message.json")
    assert item.kind == KIND_MESSAGE
    assert item.external_id.startswith("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOkNIQU5HRVMw")
    assert item.sender_id == IGSID
    assert item.account_id == IG_ACCOUNT
    assert item.text == "Qual o prazo de entrega para Recife?"
    assert item.timestamp == datetime.fromtimestamp(1750870099, tz=timezone.utc)
    assert item.skip_reason == ""


def test_instagram_changes_format_echo_seen_and_reaction():
    body = load("instagram", "changes_message.json")
    value = body["entry"][0]["changes"][0]["value"]
    echo = {**value, "sender": {"id": IG_ACCOUNT}, "recipient": {"id": IGSID}}
    echo["message"] = {**value["message"], "mid": "aWdfECHO", "is_echo": True}
    seen = {k: v for k, v in value.items() if k != "message"}
    seen["read"] = {"mid": "aWdfECHO"}
    reaction = {k: v for k, v in value.items() if k != "message"}
    reaction["reaction"] = {"mid": "aWdfECHO", "action": "react", "reaction": "love", "emoji": "❤️"}
    body["entry"][0]["changes"] = [
        {"field": "messages", "value": echo},
        {"field": "messaging_seen", "value": seen},
        {"field": "message_reactions", "value": reaction},
    ]
    items = mm.parse_instagram(body)
    assert [(i.kind, i.skip_reason, i.sender_id) for i in items] == [
        (KIND_MESSAGE, "echo", IGSID),
        (KIND_STATUS, "", IGSID),
        (KIND_MESSAGE, "", IGSID),
    ]
    assert items[1].ref_external_id == "aWdfECHO"
    assert items[2].message_type == "reaction" and items[2].text == "❤️"
    for item in items:
        assert [i.to_dict() for i in mm.parse_instagram(item.raw)] == [item.to_dict()]


def test_instagram_changes_standby_is_skipped():
    body = load("instagram", "changes_message.json")
    body["entry"][0]["changes"][0]["field"] = "standby"
    [item] = mm.parse_instagram(body)
    assert item.kind == KIND_MESSAGE and item.skip_reason == "standby"


def test_instagram_ig_reel_is_a_video_with_its_title():
    """A reel shared in the conversation: ``attachments[].type: ig_reel`` with ``payload.{reel_video_id,title,url}``
    (developers.facebook.com/docs/instagram-platform/webhooks/examples, "Messaging payload")."""
    item = one("instagram", "ig_reel.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "video"
    [att] = item.attachments
    assert att.kind == "video"
    assert att.url.startswith("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18034567890123456")
    assert att.caption == "Coleção de inverno ❄️ #moda"


def test_instagram_story_reply_is_a_text_message():
    """A reply to our story: ``message.text`` with ``message.reply_to.story.{url,id}``
    (developers.facebook.com/docs/instagram-platform/webhooks/examples)."""
    item = one("instagram", "story_reply.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "text"
    assert item.text == "Esse vestido ainda tem no tamanho M?"
    assert item.reply_to_id == ""  # a story, not one of our messages
    assert item.raw["entry"][0]["messaging"][0]["message"]["reply_to"]["story"]["id"] == "17987654321098765"


def test_instagram_share_is_kept_as_unsupported_message():
    """``attachments[].type: share`` carries only the shared post's URL (Instagram Messaging webhooks, Limitations)."""
    item = one("instagram", "share.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "unsupported"
    assert item.sender_id == IGSID and item.skip_reason == ""


def test_instagram_message_from_an_ad_keeps_its_text():
    """First message from a click-to-Instagram ad: ``message.referral`` with ``ad_id``, ``source: ADS``."""
    item = one("instagram", "referral_ad.json")
    assert item.kind == KIND_MESSAGE
    assert item.text == "Olá! Tenho interesse neste anúncio."
    assert item.raw["entry"][0]["messaging"][0]["message"]["referral"]["ad_id"] == "120208765432109876"
    assert item.referral == {
        "source": "ads",
        "ad_id": "120208765432109876",
        "ref": "campanha_inverno",
        "headline": "Coleção de inverno",
        "url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/ad.jpg",
    }


def test_instagram_is_unsupported_message_without_text():
    body = load("instagram", "text.json")
    body["entry"][0]["messaging"][0]["message"]["is_unsupported"] = True
    del body["entry"][0]["messaging"][0]["message"]["text"]
    [item] = mm.parse_instagram(body)
    assert item.kind == KIND_MESSAGE and item.message_type == "unsupported"


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


def test_messenger_changes_format_postback_with_user_ref():
    """Messenger's own ``messaging_postbacks`` example: a ``changes[]`` item, ``sender.user_ref`` instead of an id,
    timestamp a string in seconds (developers.facebook.com/documentation/business-messaging/messenger-platform/
    webhooks/webhook-events/messaging_postbacks)."""
    item = one("messenger", "changes_postback_user_ref.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "interactive"
    assert item.external_id == "m_CHANGESPOSTBACKa1B2c3D4e5F6g7H8i9J0"
    assert item.text == "Ver ofertas" and item.interactive_id == "VER_OFERTAS"
    assert item.sender_id == ""
    assert item.sender_alt_ids == ["user_ref:cb-7f3a9c2e-4b1d-4e8a-9f6b-2d5c8e1a3b7f"]
    assert item.account_id == PAGE
    assert item.timestamp == datetime.fromtimestamp(1750880099, tz=timezone.utc)


def test_messenger_link_without_text_becomes_its_title_and_url():
    """A link Messenger cannot render arrives as ``attachments[].type: fallback`` with ``payload.{url,title}``."""
    item = one("messenger", "fallback_link.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "text"
    assert item.text == "Sofá 3 lugares cinza - Loja Exemplo\nhttps://www.lojaexemplo.com.br/produtos/sofa-3-lugares"
    assert item.attachments == []


def test_messenger_text_with_link_preview_stays_text():
    body = load("messenger", "fallback_link.json")
    body["entry"][0]["messaging"][0]["message"]["text"] = (
        "Vocês têm este? https://www.lojaexemplo.com.br/produtos/sofa-3-lugares"
    )
    [item] = mm.parse_messenger(body)
    assert item.message_type == "text"
    assert item.text.startswith("Vocês têm este?")


def test_messenger_legacy_location():
    item = one("messenger", "location.json")
    assert item.message_type == "location"
    assert item.location == {"latitude": -25.4284, "longitude": -49.2733, "name": "Localização de Ana"}


def test_messenger_ad_referral_is_event():
    """``messaging_referrals`` from an ad: ``referral.{ref,ad_id,source: ADS,type: OPEN_THREAD,ads_context_data}``
    (developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/
    messaging_referrals)."""
    item = one("messenger", "referral_ad.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "referral"
    assert item.referral["source"] == "ads" and item.referral["ad_id"]
    assert item.sender_id == PSID and item.account_id == PAGE
    assert item.timestamp == ms(1750880008000)


def test_messenger_handover_events():
    item = one("messenger", "take_thread_control.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "take_thread_control"
    body = load("messenger", "take_thread_control.json")
    event = body["entry"][0]["messaging"][0]
    event["request_thread_control"] = event.pop("take_thread_control")
    assert mm.parse_messenger(body)[0].event_type == "request_thread_control"


def test_messenger_policy_enforcement_without_sender():
    body = load("messenger", "take_thread_control.json")
    event = body["entry"][0]["messaging"][0]
    del event["take_thread_control"], event["sender"]
    event["policy-enforcement"] = {"action": "block", "reason": "The bot violated our Platform Policies"}
    [item] = mm.parse_messenger(body)
    assert item.kind == KIND_EVENT
    assert item.event_type == "policy_enforcement"
    assert item.account_id == PAGE


def test_messenger_notification_messages_optin():
    """``messaging_optins`` for Marketing Messages: ``optin.type: notification_messages`` with a token."""
    item = one("messenger", "optin_notification_messages.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "optin"
    assert item.sender_id == PSID


def test_messenger_message_edit():
    """``message_edits``: ``message_edit.{mid,text,num_edit}``."""
    body = load("messenger", "text.json")
    event = body["entry"][0]["messaging"][0]
    del event["message"]
    event["message_edit"] = {"mid": "m_EDITED", "text": "Qual o horário aos sábados?", "num_edit": 2}
    [item] = mm.parse_messenger(body)
    assert (item.kind, item.is_edit, item.external_id) == (KIND_MESSAGE, True, "m_EDITED:edit:2")
    assert item.sender_id == PSID


def test_missing_event_timestamp_falls_back_to_entry_time():
    body = load("messenger", "text.json")
    del body["entry"][0]["messaging"][0]["timestamp"]
    [item] = mm.parse_messenger(body)
    assert item.timestamp == ms(1750880000456)


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


def test_build_text_to_a_user_ref():
    """Send API: ``recipient.user_ref`` addresses a person known only by the checkbox plugin's ``user_ref``."""
    body = mm.build_text("user_ref:cb-7f3a9c2e", "Olá!")
    assert body["recipient"] == {"user_ref": "cb-7f3a9c2e"}
    assert mm.build_attachment("user_ref:cb-7f3a9c2e", "image", "https://e.com/a.jpg")["recipient"] == {
        "user_ref": "cb-7f3a9c2e"
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
