"""Evolution API v2 webhook parsing, JWT check and outbound bodies."""

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import jwt
import pytest
from crm_ai_services.inbound import KIND_EVENT, KIND_MESSAGE, KIND_STATUS, PayloadError
from crm_ai_services.providers import evolution as evo

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "evolution"
API_KEY = "B6D711FCDE4D4FD5936544120E713976"


def load(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def one(name):
    items = evo.parse(load(name))
    assert len(items) == 1
    return items[0]


def test_text():
    item = one("upsert_text.json")
    assert item.kind == KIND_MESSAGE
    assert item.external_id == "3EB0C431C26A1916E07B"
    assert item.sender_id == item.phone == "5511976543210"
    assert item.sender_alt_ids == []
    assert item.name == "Carla Simões"
    assert item.text == "Oi! Vi o anúncio do sofá retrátil, ainda tem em estoque? 🛋️"
    assert item.message_type == "text"
    assert item.timestamp == datetime.fromtimestamp(1750932930, tz=timezone.utc)
    assert item.account_id == "loja-aurora"
    assert item.skip_reason == ""


def test_instance_number_is_never_the_customer():
    item = one("upsert_text.json")
    assert "551140028922" not in (item.sender_id, item.phone, *item.sender_alt_ids)


def test_api_key_is_not_kept_in_raw():
    for path in FIXTURES.glob("*.json"):
        for item in evo.parse(json.loads(path.read_text(encoding="utf-8"))):
            assert "apikey" not in item.raw
            assert API_KEY not in json.dumps(item.raw)


def test_uppercase_event_and_extended_text_reply():
    item = one("upsert_extended_text_reply.json")
    assert item.kind == KIND_MESSAGE
    assert item.text == "Pode ser na cor cinza, por favor 🙏"
    assert item.reply_to_id == "BAE5F1E2D3C4B5A6"


def test_image_with_base64():
    item = one("upsert_image_base64.json")
    assert item.message_type == "image"
    assert item.text == "Essa é a sala, cabe o sofá de 2,10m?"
    [att] = item.attachments
    assert att.kind == "image"
    assert att.mime_type == "image/jpeg"
    assert att.caption == item.text
    assert att.data_b64.startswith("/9j/4AAQSkZJRg")
    assert att.media_id == "3EB0D7E6F5A4B3C2D1E0"
    assert att.url == ""  # WhatsApp's encrypted CDN URL is useless without the media key
    assert att.sha256 == "n4mJ0b6yQv0yJb6pJm0lZ8m0s9dGx0eXr8iJvJxWc2s="


def test_lid_uses_remote_jid_alt_and_keeps_the_lid():
    item = one("upsert_lid.json")
    assert item.sender_id == item.phone == "5521998765432"
    assert item.sender_alt_ids == ["214365879012345@lid"]
    assert item.name == "Álvaro Peçanha"


def test_lid_without_alt_has_no_phone():
    body = load("upsert_lid.json")
    del body["data"]["key"]["remoteJidAlt"]
    [item] = evo.parse(body)
    assert item.sender_id == "214365879012345@lid"
    assert item.phone == ""


def test_phone_jid_with_lid_alt():
    body = load("upsert_text.json")
    body["data"]["key"]["remoteJidAlt"] = "99887766554433@lid"
    [item] = evo.parse(body)
    assert item.sender_id == "5511976543210"
    assert item.sender_alt_ids == ["99887766554433@lid"]


def test_device_suffix_is_removed():
    body = load("upsert_text.json")
    body["data"]["key"]["remoteJid"] = "5511976543210:17@s.whatsapp.net"
    assert evo.parse(body)[0].sender_id == "5511976543210"


def test_number_without_the_ninth_digit_is_kept_as_sent():
    """WhatsApp ids of Brazilian mobiles often lack the ninth digit; services.phone adds it, not the parser."""
    body = load("upsert_text.json")
    body["data"]["key"]["remoteJid"] = "551176543210@s.whatsapp.net"
    [item] = evo.parse(body)
    assert item.sender_id == item.phone == "551176543210"


def test_from_me_is_skipped():
    item = one("upsert_from_me.json")
    assert item.skip_reason == "from_me"
    assert item.sender_id == "5511976543210"  # the chat, i.e. the customer
    assert item.name == ""  # pushName is "Você" on our own messages


@pytest.mark.parametrize("name, reason", [("upsert_group.json", "group"), ("upsert_status_broadcast.json", "status")])
def test_group_and_status_broadcast_are_skipped(name, reason):
    item = one(name)
    assert item.kind == KIND_MESSAGE
    assert item.skip_reason == reason


def test_data_as_list_audio_and_document():
    audio, document = evo.parse(load("upsert_list_of_messages.json"))
    assert audio.external_id == "3EB0LIST000000000001"
    assert audio.name == document.name == "مريم الحداد"
    assert audio.message_type == "audio"
    assert audio.attachments[0].url.endswith("/3EB0LIST000000000001.oga")
    assert audio.attachments[0].mime_type == "audio/ogg; codecs=opus"
    assert document.message_type == "document"
    assert document.attachments[0].filename == "planta_apartamento_402.pdf"
    assert document.text == "Planta do apartamento"
    assert audio.raw["data"]["key"]["id"] == audio.external_id  # each raw holds one message


def test_interactive_replies():
    buttons, listed, template = evo.parse(load("upsert_interactive.json"))
    assert (buttons.message_type, buttons.text, buttons.interactive_id) == (
        "interactive",
        "Agendar visita",
        "agendar_visita",
    )
    assert buttons.reply_to_id == "BAE5BUTTONS00001"
    assert (listed.text, listed.interactive_id) == ("Sofá retrátil 3 lugares", "sku_SOFA-RET-3L")
    assert (template.text, template.interactive_id) == ("Sim, quero!", "sim_quero")


def test_location_contact_reaction():
    loc, card, reaction = evo.parse(load("upsert_location_contact_reaction.json"))
    assert loc.message_type == "location"
    assert loc.location == {
        "latitude": -23.5489,
        "longitude": -46.6388,
        "name": "Catedral da Sé",
        "address": "Praça da Sé - Sé, São Paulo - SP",
    }
    assert card.message_type == "contacts"
    assert card.phone == "5511976543210"
    assert card.shared_contacts == [
        {"name": "Zé do Frete", "phones": ["5511955554444"], "emails": ["ze.frete@example.com.br"]}
    ]
    assert reaction.message_type == "reaction"
    assert reaction.text == "👍"
    assert reaction.reply_to_id == "BAE5F1E2D3C4B5A6"


def test_ephemeral_wrapper_is_unwrapped():
    body = load("upsert_text.json")
    body["data"]["message"] = {
        "ephemeralMessage": {"message": {"extendedTextMessage": {"text": "Mensagem temporária"}}}
    }
    assert evo.parse(body)[0].text == "Mensagem temporária"


def test_messages_update_read():
    item = one("messages_update.json")
    assert item.kind == KIND_STATUS
    assert item.status == "read"
    assert item.ref_external_id == "BAE5F1E2D3C4B5A6"
    assert item.external_id == "BAE5F1E2D3C4B5A6:read"
    assert item.sender_id == "5511976543210"
    assert item.skip_reason == ""


def test_messages_update_list_maps_every_state():
    items = evo.parse(load("messages_update_list.json"))
    assert [(i.kind, i.external_id, i.status, i.skip_reason) for i in items] == [
        (KIND_STATUS, "BAE5AAAA00000001:sent", "sent", ""),
        (KIND_STATUS, "BAE5AAAA00000001:delivered", "delivered", ""),
        (KIND_STATUS, "BAE5AAAA00000002:read", "read", ""),  # PLAYED: a voice note was listened to
        (KIND_STATUS, "BAE5AAAA00000003:failed", "failed", ""),
        (KIND_STATUS, "3EB0C431C26A1916E07B:read", "read", "inbound"),  # the customer's message, read by us
    ]
    assert items[3].status_error == "ERROR"


def test_messages_update_numeric_status_and_old_shape():
    body = load("messages_update.json")
    body["data"] = {
        "key": {"remoteJid": "5511976543210@s.whatsapp.net", "fromMe": True, "id": "BAE5X"},
        "update": {"status": 3},
    }
    [item] = evo.parse(body)
    assert (item.kind, item.status, item.ref_external_id) == (KIND_STATUS, "delivered", "BAE5X")


def test_pending_and_deleted_are_events():
    body = load("messages_update.json")
    body["data"]["status"] = "DELETED"
    [item] = evo.parse(body)
    assert item.kind == KIND_EVENT
    assert item.event_type == "status:deleted"


def test_connection_update_is_event():
    item = one("connection_update.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "connection.update"
    assert item.account_id == "loja-aurora"
    assert item.raw["data"]["state"] == "open"
    assert item.external_id == one("connection_update.json").external_id


def test_qrcode_is_not_stored():
    item = one("qrcode_updated.json")
    assert item.event_type == "qrcode.updated"
    assert "WZYEH1YY" not in json.dumps(item.raw)
    assert "iVBORw0KGgo" not in json.dumps(item.raw)


def test_long_and_string_timestamps():
    """Evolution before 2.3.3 (``prepareMessage``: ``messageTimestamp as number``) sent Baileys' Long
    as JSON.stringify writes it: ``{"low", "high", "unsigned"}``; some send it as a string."""
    item = one("upsert_long_timestamp.json")
    assert item.timestamp == datetime.fromtimestamp(1750933500, tz=timezone.utc)
    assert item.text == "Vocês parcelam em 10x sem juros?"
    body = load("upsert_long_timestamp.json")
    body["data"]["messageTimestamp"] = {"low": -1, "high": 0, "unsigned": True}  # low is a signed int32
    assert evo.parse(body)[0].timestamp == datetime.fromtimestamp(2**32 - 1, tz=timezone.utc)
    body["data"]["messageTimestamp"] = "1750933500"
    assert evo.parse(body)[0].timestamp == datetime.fromtimestamp(1750933500, tz=timezone.utc)
    body["data"]["messageTimestamp"] = {"low": "x"}
    assert evo.parse(body)[0].timestamp is None


def test_phone_jid_with_previous_lid_keeps_the_lid():
    """Evolution 2.3.1-2.3.4 (commit 630f5c5): ``remoteJid`` replaced by ``senderPn``, the LID kept in
    ``key.previousRemoteJid``; Baileys 6.7 also gives ``senderLid``."""
    item = one("upsert_previous_remote_jid.json")
    assert item.sender_id == item.phone == "5521998765432"
    assert item.sender_alt_ids == ["214365879012345@lid"]
    body = load("upsert_previous_remote_jid.json")
    del body["data"]["key"]["previousRemoteJid"]
    assert evo.parse(body)[0].sender_alt_ids == ["214365879012345@lid"]  # from senderLid


def test_lid_with_sender_pn():
    """Baileys 6.7 (Evolution 2.2.x): the phone JID of an ``@lid`` chat in ``key.senderPn``."""
    body = load("upsert_lid.json")
    body["data"]["key"]["senderPn"] = body["data"]["key"].pop("remoteJidAlt")
    [item] = evo.parse(body)
    assert item.sender_id == item.phone == "5521998765432"
    assert item.sender_alt_ids == ["214365879012345@lid"]


def test_edit_event_with_the_instance_key_is_kept_as_event():
    """``messages.edited`` carries the protocolMessage (``whatsapp.baileys.service.ts``:
    ``sendDataWebhook(Events.MESSAGES_EDITED, editedMessage)``); its key has ``fromMe: true`` and the
    instance's JID even for the customer's edit (EvolutionAPI issues #1367, #1647)."""
    item = one("messages_edited.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "messages.edited"
    assert item.text == "Oi! Vi o anúncio do sofá retrátil cinza, ainda tem em estoque? 🛋️"
    assert item.ref_external_id == item.reply_to_id == "3EB0C431C26A1916E07B"
    assert item.external_id == "3EB0C431C26A1916E07B:edit:1750933020512"
    assert item.external_id != one("upsert_text.json").external_id
    assert item.timestamp == datetime.fromtimestamp(1750933020.512, tz=timezone.utc)
    assert (item.sender_id, item.phone) == ("", "")  # the key names the instance, not the customer


def test_edit_event_naming_the_customer_is_an_edited_message():
    """``messages.edited`` whose key names the customer (``fromMe: false``)."""
    body = load("messages_edited.json")
    body["data"]["key"].update(remoteJid="5511976543210@s.whatsapp.net", fromMe=False)
    [item] = evo.parse(body)
    assert item.kind == KIND_MESSAGE
    assert item.is_edit is True
    assert item.message_type == "text"
    assert item.sender_id == item.phone == "5511976543210"
    assert item.text == "Oi! Vi o anúncio do sofá retrátil cinza, ainda tem em estoque? 🛋️"
    assert item.reply_to_id == "3EB0C431C26A1916E07B"
    assert item.skip_reason == ""


def test_revoke_sent_as_edit_event_is_an_event():
    """Evolution sends every protocolMessage as ``messages.edited``, deletions (``REVOKE``) included."""
    body = load("messages_edited.json")
    body["data"] = {"key": body["data"]["key"], "type": "REVOKE"}
    [item] = evo.parse(body)
    assert (item.kind, item.event_type, item.is_edit) == (KIND_EVENT, "protocol:revoke", False)


def test_edit_sent_as_upsert_is_an_edited_message():
    """Evolution 1.x sent the customer's edit as ``messages.upsert`` with
    ``message.editedMessage.message.protocolMessage`` (EvolutionAPI issue #572)."""
    item = one("upsert_edited_message.json")
    assert item.kind == KIND_MESSAGE
    assert item.is_edit is True
    assert item.text == "Oi! Ainda tem o sofá retrátil na cor cinza?"
    assert item.sender_id == item.phone == "5511976543210"
    assert item.name == "Carla Simões"
    assert item.reply_to_id == "3EB0C431C26A1916E07B"
    assert item.external_id == "3EB0C431C26A1916E07B:edit:3EB0EDIT9F8E7D6C5B4A"
    assert item.timestamp == datetime.fromtimestamp(1750933025, tz=timezone.utc)
    assert item.skip_reason == ""


def test_other_protocol_messages_in_upsert_are_events():
    body = load("upsert_text.json")
    body["data"]["message"] = {"protocolMessage": {"key": {"id": "X"}, "type": 3, "ephemeralExpiration": 604800}}
    [item] = evo.parse(body)
    assert (item.kind, item.event_type) == (KIND_EVENT, "protocol:ephemeral_setting")


def test_message_deleted_for_everyone_is_an_event():
    """``messages.delete`` carries the key (``sendDataWebhook(Events.MESSAGES_DELETE, key)``) or, for a
    deletion through the API, the stored message."""
    item = one("messages_delete.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "messages.delete"
    assert item.ref_external_id == "3EB0C431C26A1916E07B"
    assert item.external_id == "3EB0C431C26A1916E07B:delete"
    assert item.sender_id == "5511976543210"
    body = load("messages_delete.json")
    body["data"] = {"id": "cm1x", "key": body["data"], "status": "DELETED", "messageType": "conversation"}
    assert evo.parse(body)[0].external_id == "3EB0C431C26A1916E07B:delete"


def test_voice_note_with_transcript():
    """``audioMessage`` with ``ptt``; ``message.base64`` (webhook base64 on) and ``message.speechToText``
    (``"[audio] …"``, set when the instance's OpenAI speech-to-text is on)."""
    item = one("upsert_voice_note_transcribed.json")
    assert item.message_type == "audio"
    assert item.text == "[audio] Oi, é a Carla de novo, queria saber se o sofá cabe no elevador"
    [att] = item.attachments
    assert att.kind == "audio"
    assert att.mime_type == "audio/ogg; codecs=opus"
    assert att.data_b64.startswith("T2dnUw")
    assert att.caption == ""


def test_view_once_document_with_caption_and_sticker():
    """``viewOnceMessageV2`` and ``documentWithCaptionMessage`` wrappers (passed through before
    Evolution 2.1 moved the document out), ``stickerMessage``."""
    image, document, sticker = evo.parse(load("upsert_wrapped_media.json"))
    assert (image.message_type, image.text, image.attachments[0].mime_type) == (
        "image",
        "Medida da parede 📏",
        "image/jpeg",
    )
    assert (document.message_type, document.text, document.attachments[0].filename) == (
        "document",
        "A planta da sala",
        "planta_sala.pdf",
    )
    assert document.timestamp == datetime.fromtimestamp(1750933901, tz=timezone.utc)
    assert (sticker.message_type, sticker.text, sticker.attachments[0].kind) == ("sticker", "", "sticker")
    assert {i.sender_id for i in (image, document, sticker)} == {"5511976543210"}


def test_notice_without_content_is_an_event():
    body = load("upsert_text.json")
    body["data"]["message"] = None
    body["data"]["messageStubType"] = 2
    body["data"]["messageStubParameters"] = ["Message absent from node"]
    [item] = evo.parse(body)
    assert (item.kind, item.event_type) == (KIND_EVENT, "stub:2")


@pytest.mark.parametrize(
    "name, event",
    [
        ("send_message.json", "send.message"),
        ("contacts_upsert.json", "contacts.upsert"),
        ("presence_update.json", "presence.update"),
    ],
)
def test_other_events_are_stored_as_events(name, event):
    """``sendDataWebhook`` events other than messages (``whatsapp.baileys.service.ts``)."""
    item = one(name)
    assert item.kind == KIND_EVENT
    assert item.event_type == event
    assert item.external_id == one(name).external_id


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "x",
        {},
        {"event": "messages.upsert"},
        {"data": {}},
        {"event": "messages.upsert", "data": "texto"},
        {"event": "messages.upsert", "data": [1, 2]},
        {"event": "messages.update", "data": None},
    ],
)
def test_not_an_evolution_body(payload):
    with pytest.raises(PayloadError):
        evo.parse(payload)


def test_every_item_reparses_from_its_raw():
    for path in sorted(FIXTURES.glob("*.json")):
        for item in evo.parse(json.loads(path.read_text(encoding="utf-8"))):
            assert [i.to_dict() for i in evo.parse(item.raw)] == [item.to_dict()], path.name


# -- JWT -------------------------------------------------------------------------------

JWT_KEY = "minha-chave-jwt-do-webhook-evolution-2025"


def bearer(key=JWT_KEY, **overrides):
    now = int(time.time())
    claims = {"iat": now, "exp": now + 600, "app": "evolution", "action": "webhook", **overrides}
    return "Bearer " + jwt.encode(claims, key, algorithm="HS256")


def test_verify_webhook_jwt():
    assert evo.verify_webhook_jwt(bearer(), JWT_KEY) is True
    assert evo.verify_webhook_jwt(bearer(key=JWT_KEY + "x"), JWT_KEY) is False
    assert evo.verify_webhook_jwt(bearer(app="outro"), JWT_KEY) is False
    assert evo.verify_webhook_jwt(bearer(action="login"), JWT_KEY) is False
    assert evo.verify_webhook_jwt(None, JWT_KEY) is False
    assert evo.verify_webhook_jwt(bearer(), "") is False
    assert evo.verify_webhook_jwt(bearer().replace("Bearer ", "Basic "), JWT_KEY) is False


# -- outbound ---------------------------------------------------------------------------


def test_build_send_text():
    assert evo.build_send_text("+5511976543210", "Olá, Carla! Temos sim 😊") == {
        "number": "5511976543210",
        "text": "Olá, Carla! Temos sim 😊",
    }
    assert evo.build_send_text("5511976543210", "ok", quoted_id="3EB0C431C26A1916E07B", delay=1200) == {
        "number": "5511976543210",
        "text": "ok",
        "quoted": {"key": {"id": "3EB0C431C26A1916E07B"}},
        "delay": 1200,
    }


def test_build_send_media():
    assert evo.build_send_media("5511976543210", "document", "https://x.example/p.pdf", "Proposta", "p.pdf") == {
        "number": "5511976543210",
        "mediatype": "document",
        "media": "https://x.example/p.pdf",
        "caption": "Proposta",
        "fileName": "p.pdf",
    }
    with pytest.raises(ValueError):
        evo.build_send_media("1", "sticker", "x")


def test_parse_send_response():
    response = {
        "key": {"remoteJid": "5511976543210@s.whatsapp.net", "fromMe": True, "id": "BAE5F1E2D3C4B5A6"},
        "message": {"extendedTextMessage": {"text": "ok"}},
        "messageTimestamp": "1750933600",
        "status": "PENDING",
    }
    assert evo.parse_send_response(response) == "BAE5F1E2D3C4B5A6"
    with pytest.raises(PayloadError, match="exists"):
        evo.parse_send_response(
            {"status": 400, "error": "Bad Request", "response": {"message": [{"exists": False, "number": "55119"}]}}
        )


def test_message_from_a_click_to_whatsapp_ad():
    """Baileys ``contextInfo.externalAdReply`` (``sourceType: ad``, ``sourceId``, ``sourceUrl``, ``ctwaClid``), which
    Evolution v2 copies to ``data.contextInfo``: the ad the conversation was opened from."""
    item = one("upsert_ctwa_ad.json")
    assert item.kind == KIND_MESSAGE
    assert item.text == "Olá! Quero saber mais sobre o sofá retrátil."
    assert item.referral == {
        "source": "ad",
        "ad_id": "120210987654321098",
        "headline": "Sofá retrátil em 10x sem juros",
        "url": "https://fb.me/7sofaRetratil",
    }
    assert one("upsert_text.json").referral == {}
