"""Telegram Bot API update parsing, secret token and outbound parameters."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from crm_ai_services.inbound import KIND_EVENT, KIND_MESSAGE, PayloadError
from crm_ai_services.providers import telegram as tg

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "telegram"
USER_ID = "583920174"


def load(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def one(name):
    items = tg.parse(load(name))
    assert len(items) == 1
    return items[0]


def ts(value):
    return datetime.fromtimestamp(value, tz=timezone.utc)


def test_text():
    item = one("text.json")
    assert item.kind == KIND_MESSAGE
    assert item.external_id == f"{USER_ID}:1542"
    assert item.sender_id == USER_ID
    assert item.name == "Fernanda Brandão"
    assert item.username == "fer_brandao"
    assert item.language == "pt-br"
    assert item.text == "Bom dia! Gostaria de saber o preço do plano anual 💼"
    assert item.message_type == "text"
    assert item.timestamp == ts(1750890000)
    assert item.is_edit is False
    assert item.skip_reason == ""
    assert item.phone == ""
    assert item.raw == load("text.json")


def test_edit_is_stored_beside_the_original():
    original, edit = one("text.json"), one("edited.json")
    assert edit.is_edit is True
    assert edit.external_id == f"{USER_ID}:1542:edit:1750890042"
    assert edit.external_id != original.external_id
    assert edit.text.endswith("e do mensal 💼")
    assert edit.timestamp == ts(1750890042)


def test_callback_query():
    item = one("callback_query.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "interactive"
    assert item.external_id == "callback:2508048262993712345"
    assert item.text == item.interactive_id == "ver_planos"
    assert item.sender_id == USER_ID
    assert item.name == "Fernanda Brandão"
    assert item.reply_to_id == f"{USER_ID}:1544"
    assert item.timestamp is None


def test_own_contact_gives_the_phone():
    item = one("contact_own.json")
    assert item.message_type == "contacts"
    assert item.phone == "+5548991234567"
    assert item.shared_contacts == []
    assert item.reply_to_id == f"{USER_ID}:1545"


def test_someone_elses_contact_is_only_shared():
    item = one("contact_other.json")
    assert item.message_type == "contacts"
    assert item.phone == ""
    assert item.shared_contacts == [{"name": "Ricardo Świętochowski", "phones": ["5548998887766"], "emails": []}]


def test_contact_without_user_id_is_not_trusted():
    body = load("contact_own.json")
    del body["message"]["contact"]["user_id"]
    [item] = tg.parse(body)
    assert item.phone == ""
    assert item.shared_contacts[0]["phones"] == ["+5548991234567"]


def test_photo_takes_the_largest_size_and_the_caption():
    item = one("photo_caption.json")
    assert item.message_type == "image"
    assert item.text == "Segue a foto do produto com defeito 😕"
    [att] = item.attachments
    assert att.kind == "image"
    assert att.media_id == "AgACAgEAAxkBAAIGDGZ1large"
    assert att.caption == item.text


def test_photo_largest_even_if_not_last():
    body = load("photo_caption.json")
    body["message"]["photo"].reverse()
    [item] = tg.parse(body)
    assert item.attachments[0].media_id == "AgACAgEAAxkBAAIGDGZ1large"


def test_voice():
    item = one("voice.json")
    assert item.message_type == "audio"
    assert item.text == ""
    assert item.attachments[0].media_id == "AwACAgEAAxkBAAIGDWZ1voice"
    assert item.attachments[0].mime_type == "audio/ogg"


def test_document():
    item = one("document.json")
    assert item.message_type == "document"
    att = item.attachments[0]
    assert (att.filename, att.mime_type, att.caption) == (
        "comprovante_pagamento_junho.pdf",
        "application/pdf",
        "Comprovante",
    )


def test_location():
    item = one("location.json")
    assert item.message_type == "location"
    assert item.location == {"latitude": -27.595378, "longitude": -48.54805}


def test_venue():
    body = load("location.json")
    body["message"]["venue"] = {
        "location": {"latitude": -27.5969, "longitude": -48.5495},
        "title": "Mercado Público",
        "address": "R. Jerônimo Coelho, 60 - Centro, Florianópolis",
    }
    [item] = tg.parse(body)
    assert item.location["name"] == "Mercado Público"
    assert item.location["address"].startswith("R. Jerônimo Coelho")


def test_group_is_skipped():
    item = one("group.json")
    assert item.kind == KIND_MESSAGE
    assert item.skip_reason == "group"
    assert item.external_id == "-1002003004005:88"
    assert item.name == "<img src=x onerror=alert(1)>"


def test_rtl_name():
    item = one("rtl_name.json")
    assert item.name == "יעל כהן"
    assert item.language == "he"
    assert item.skip_reason == ""


def test_blocked_bot_is_an_event():
    item = one("my_chat_member_kicked.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "my_chat_member:kicked"
    assert item.sender_id == USER_ID
    assert item.external_id == one("my_chat_member_kicked.json").external_id


def test_channel_post_is_an_ignored_event():
    item = one("channel_post.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "channel_post"
    assert item.skip_reason == "channel"


def test_unsupported_message():
    body = load("text.json")
    del body["message"]["text"]
    body["message"]["dice"] = {"emoji": "🎲", "value": 4}
    [item] = tg.parse(body)
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "unsupported"


def test_message_from_a_bot_is_skipped():
    body = load("text.json")
    body["message"]["from"]["is_bot"] = True
    assert tg.parse(body)[0].skip_reason == "bot"


def test_business_message_from_the_customer():
    """``business_message`` (Bot API 7.2): ``business_connection_id``, ``from`` = ``chat`` = the customer
    (core.telegram.org/bots/api#update, #message)."""
    item = one("business_message.json")
    assert item.kind == KIND_MESSAGE
    assert item.external_id == "902345671:310"
    assert item.sender_id == "902345671"
    assert item.name == "Marcos Teixeira" and item.username == "marcos_tx"
    assert item.account_id == "AQADvQ0AAqx7-Uk0ZLCtdN2h"
    assert item.text == "Oi, vocês abrem no feriado?"
    assert item.skip_reason == ""


def test_business_message_from_the_owner_is_an_echo():
    """Business connections deliver the account owner's own messages too:
    ``from`` is the owner, ``chat`` the customer (core.telegram.org/bots/api#business-connection)."""
    item = one("business_message_owner.json")
    assert item.kind == KIND_MESSAGE
    assert item.skip_reason == "echo"
    assert item.sender_id == "902345671"  # the customer of the conversation, not the owner
    assert item.name == "Marcos Teixeira"
    assert item.text == "Abrimos sim, das 9h às 14h."


def test_own_contact_without_plus_gets_it():
    """``request_contact`` phones come as international digits, usually without "+" (Contact.phone_number)."""
    item = one("contact_own_no_plus.json")
    assert item.message_type == "contacts"
    assert item.phone == "+5548991234567"
    assert item.shared_contacts == []


def test_message_reaction_is_a_reaction_message():
    """``message_reaction`` (MessageReactionUpdated): ``chat``, ``message_id``, ``user``, ``date``,
    ``old_reaction``/``new_reaction`` lists of ReactionType (core.telegram.org/bots/api#messagereactionupdated)."""
    item = one("message_reaction.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "reaction"
    assert item.text == "👍"
    assert item.sender_id == USER_ID
    assert item.name == "Fernanda Brandão"
    assert item.reply_to_id == f"{USER_ID}:1555"
    assert item.external_id == f"reaction:{USER_ID}:1555:{USER_ID}:1750891200"
    assert item.timestamp == ts(1750891200)
    assert item.skip_reason == ""


def test_removed_and_anonymous_reactions():
    body = load("message_reaction.json")
    data = body["message_reaction"]
    data["old_reaction"], data["new_reaction"] = data["new_reaction"], []
    [removed] = tg.parse(body)
    assert removed.text == "" and removed.kind == KIND_MESSAGE
    del data["user"]
    data["chat"] = {"id": -1002003004005, "title": "Clientes VIP", "type": "supergroup"}
    data["actor_chat"] = data["chat"]
    [anonymous] = tg.parse(body)
    assert anonymous.skip_reason == "group" and anonymous.sender_id == ""


def test_callback_from_an_inline_message():
    """A callback from an inline-mode message has ``inline_message_id`` and no ``message``."""
    item = one("callback_inline.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "interactive"
    assert item.external_id == "callback:2508048262993799999"
    assert item.interactive_id == "quero_orcamento"
    assert item.sender_id == USER_ID
    assert item.reply_to_id == ""
    assert item.skip_reason == ""


def test_poll_answer_names_its_user():
    """``poll_answer`` names the voter in ``user`` (not ``from``)."""
    item = one("poll_answer.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "poll_answer"
    assert item.sender_id == USER_ID
    assert item.name == "Fernanda Brandão"


def test_chat_join_request_is_an_event():
    item = one("chat_join_request.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "chat_join_request"
    assert item.sender_id == "902345671"
    assert item.timestamp == ts(1750891300)


@pytest.mark.parametrize(
    "key, data",
    [
        (
            "inline_query",
            {"id": "1", "from": {"id": 583920174, "first_name": "Fernanda"}, "query": "sofá", "offset": ""},
        ),
        (
            "pre_checkout_query",
            {
                "id": "2",
                "from": {"id": 583920174, "first_name": "Fernanda"},
                "currency": "BRL",
                "total_amount": 19900,
                "invoice_payload": "pedido-4471",
            },
        ),
        (
            "poll",
            {
                "id": "5436119275829348353",
                "question": "Melhor horário?",
                "options": [{"text": "Manhã", "voter_count": 1}],
                "total_voter_count": 1,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
            },
        ),
        ("edited_channel_post", {"message_id": 9, "chat": {"id": -1001, "type": "channel"}, "date": 1, "text": "x"}),
        (
            "deleted_business_messages",
            {"business_connection_id": "x", "chat": {"id": 1, "type": "private"}, "message_ids": [1]},
        ),
    ],
)
def test_other_updates_are_events(key, data):
    [item] = tg.parse({"update_id": 718293099, key: data})
    assert item.kind == KIND_EVENT
    assert item.event_type == key


def test_live_location_updates_are_skipped():
    """While a live location is shared, Telegram sends ``edited_message`` updates with the new position."""
    item = one("live_location_edit.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "location"
    assert item.skip_reason == "live location update"
    assert item.location == {"latitude": -27.5971, "longitude": -48.5489}


def test_service_message_is_an_event():
    item = one("pinned_message.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "service:pinned_message"
    assert item.external_id == f"{USER_ID}:1562"
    assert item.sender_id == USER_ID


def test_supergroup_message_of_an_anonymous_admin_is_skipped():
    item = one("supergroup_anonymous_admin.json")
    assert item.kind == KIND_MESSAGE
    assert item.skip_reason == "group"
    assert item.external_id == "-1002003004005:89"


def test_forwarded_text_is_the_forwarders_message():
    item = one("forwarded.json")
    assert item.kind == KIND_MESSAGE
    assert item.sender_id == USER_ID
    assert item.text == "Me indicaram vocês para reforma de estofados"


@pytest.mark.parametrize(
    "name, kind, media_id",
    [
        ("sticker.json", "sticker", "CAACAgIAAxkBAAIGEGZ1sticker"),
        ("video_note.json", "video", "DQACAgEAAxkBAAIGEWZ1videonote"),
        ("animation.json", "video", "CgACAgQAAxkBAAIGEmZ1anim"),
        ("audio.json", "audio", "CQACAgEAAxkBAAIGE2Z1audio"),
    ],
)
def test_media_kinds(name, kind, media_id):
    item = one(name)
    assert item.message_type == kind
    assert [(a.kind, a.media_id) for a in item.attachments] == [(kind, media_id)]


def test_audio_caption_and_file_name():
    item = one("audio.json")
    assert item.text == "Explico tudo no áudio"
    assert (item.attachments[0].filename, item.attachments[0].mime_type) == ("briefing.mp3", "audio/mpeg")


def test_venue_fixture():
    item = one("venue.json")
    assert item.message_type == "location"
    assert item.location["name"] == "Mercado Público"


@pytest.mark.parametrize(
    "payload",
    [[], "x", {}, {"update_id": "1"}, {"update_id": True}, {"message": {"text": "oi"}}],
)
def test_not_an_update(payload):
    with pytest.raises(PayloadError):
        tg.parse(payload)


def test_message_without_chat_is_malformed_event():
    [item] = tg.parse({"update_id": 5, "message": {"message_id": 1, "text": "oi"}})
    assert item.kind == KIND_EVENT
    assert item.skip_reason == "malformed"


def test_every_item_reparses_from_its_raw():
    for path in sorted(FIXTURES.glob("*.json")):
        for item in tg.parse(json.loads(path.read_text(encoding="utf-8"))):
            assert [i.to_dict() for i in tg.parse(item.raw)] == [item.to_dict()], path.name


# -- secret token ------------------------------------------------------------------


def test_secret_token():
    assert tg.valid_secret_token("Abc_123-xyz")
    assert not tg.valid_secret_token("")
    assert not tg.valid_secret_token("com espaço")
    assert not tg.valid_secret_token("a" * 257)
    assert tg.check_secret_token("Abc_123-xyz", "Abc_123-xyz")
    assert not tg.check_secret_token("Abc_123-xyZ", "Abc_123-xyz")
    assert not tg.check_secret_token(None, "Abc_123-xyz")
    assert not tg.check_secret_token("", "")  # no secret configured: refused


# -- outbound -------------------------------------------------------------------------


def test_build_send_message():
    assert tg.build_send_message(583920174, "Olá, Fernanda! 😊", reply_to=f"{USER_ID}:1542") == {
        "chat_id": 583920174,
        "text": "Olá, Fernanda! 😊",
        "reply_parameters": {"message_id": 1542, "allow_sending_without_reply": True},
    }
    assert tg.build_send_message(1, "<b>oi</b>", parse_mode="HTML") == {
        "chat_id": 1,
        "text": "<b>oi</b>",
        "parse_mode": "HTML",
    }


def test_build_send_photo_and_document():
    assert tg.build_send_photo(1, "https://example.com/p.jpg", "Catálogo") == {
        "chat_id": 1,
        "photo": "https://example.com/p.jpg",
        "caption": "Catálogo",
    }
    assert tg.build_send_document(1, "BQACAgEAAxkBAAIGDmZ1doc", reply_to=7) == {
        "chat_id": 1,
        "document": "BQACAgEAAxkBAAIGDmZ1doc",
        "reply_parameters": {"message_id": 7, "allow_sending_without_reply": True},
    }


def test_parse_send_response():
    response = {"ok": True, "result": {"message_id": 1555, "chat": {"id": 583920174, "type": "private"}, "date": 1}}
    assert tg.parse_send_response(response) == f"{USER_ID}:1555"
    with pytest.raises(PayloadError, match="403"):
        tg.parse_send_response(
            {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        )


@pytest.mark.parametrize(
    ("text", "referral"),
    [
        ("/start black-friday", {"source": "link", "ref": "black-friday"}),
        ("/start@LojaBot promo_42", {"source": "link", "ref": "promo_42"}),
        ("/start", {}),
        ("/starting now", {}),
        ("quero o /start kit", {}),
    ],
)
def test_start_parameter_is_the_link_the_person_came_from(text, referral):
    """Deep linking (core.telegram.org/bots/features#deep-linking): ``t.me/<bot>?start=<parameter>``
    opens the chat and sends ``/start <parameter>``."""
    body = load("text.json")
    body["message"]["text"] = text
    (item,) = tg.parse(body)
    assert item.referral == referral
