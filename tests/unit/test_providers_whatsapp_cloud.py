"""WhatsApp Cloud API webhook parsing and outbound bodies."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from crm_ai_services.inbound import KIND_EVENT, KIND_MESSAGE, KIND_STATUS, InboundItem, PayloadError
from crm_ai_services.providers import whatsapp_cloud as wa

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PHONE_NUMBER_ID = "106540352242922"


def load(name):
    return json.loads((FIXTURES / "whatsapp_cloud" / name).read_text(encoding="utf-8"))


def parse_one(name):
    items = wa.parse(load(name))
    assert len(items) == 1
    return items[0]


def test_text_message():
    item = parse_one("text.json")
    assert item.kind == KIND_MESSAGE
    assert item.external_id == "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjBDNzE4RjA3NzJGMkU1QTQ1MDcA"
    assert item.message_type == "text"
    assert item.text == "Olá! Quero um orçamento para 3 licenças 😊 Vocês atendem em São Paulo?"
    assert item.sender_id == "5511987654321"
    assert item.phone == "5511987654321"
    assert item.sender_alt_ids == ["BR.1502576394655843"]
    assert item.name == "João Gonçalves 🇧🇷"
    assert item.account_id == PHONE_NUMBER_ID
    assert item.timestamp == datetime(2025, 6, 25, 13, 16, 24, tzinfo=timezone.utc)
    assert item.skip_reason == ""
    assert item.reply_to_id == ""


def test_raw_is_a_self_contained_body_for_the_item():
    item = parse_one("text.json")
    value = item.raw["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["phone_number_id"] == PHONE_NUMBER_ID
    assert value["contacts"][0]["wa_id"] == "5511987654321"
    assert value["messages"][0]["id"] == item.external_id


def test_reply_context_and_old_brazilian_number_kept_raw():
    item = parse_one("text_reply_old_number.json")
    assert item.text == "Pode ser amanhã às 14h?"
    assert item.reply_to_id == "wamid.HBgMNTUxMTg3NjU0MzIxFQIAERgSQUJDREVGMDEyMzQ1Njc4OTAA"
    # The 8-digit form is what WhatsApp sends; normalising it is services.phone's job.
    assert item.sender_id == item.phone == "551187654321"
    assert item.name == "Dona Zélia"


def test_image_with_caption():
    item = parse_one("image.json")
    assert item.message_type == "image"
    assert item.text == "Foto da nota fiscal 🧾"
    [att] = item.attachments
    assert att.kind == "image"
    assert att.media_id == "1003372398436574"
    assert att.mime_type == "image/jpeg"
    assert att.sha256 == "yhHV8zQ0yXg6bBrVx3m1BYXBTKvG3dFPl0mvmWKCDjY="
    assert att.caption == "Foto da nota fiscal 🧾"
    assert att.url == "" and att.data_b64 == ""


def test_audio_document_video_sticker():
    audio, document, video, sticker = wa.parse(load("media_mix.json"))
    assert [i.message_type for i in (audio, document, video, sticker)] == ["audio", "document", "video", "sticker"]
    assert audio.attachments[0].media_id == "2193844571003821"
    assert audio.attachments[0].mime_type == "audio/ogg; codecs=opus"
    assert audio.text == ""
    assert document.attachments[0].filename == "contrato_locação_2025.pdf"
    assert document.attachments[0].mime_type == "application/pdf"
    assert document.text == document.attachments[0].caption == "Contrato revisado"
    assert video.attachments[0].caption == "Vídeo do defeito"
    assert sticker.attachments[0].kind == "sticker"
    assert sticker.attachments[0].mime_type == "image/webp"
    assert len({i.external_id for i in (audio, document, video, sticker)}) == 4


@pytest.mark.parametrize(
    "name, text, interactive_id",
    [
        ("interactive_button_reply.json", "Falar com vendas", "quero_falar_vendas"),
        ("interactive_list_reply.json", "Plano Pro", "plano_pro"),
        ("interactive_nfm_reply.json", "Sent", "flow"),
        ("button_template_reply.json", "Não quero mais receber", "PARAR_PROMOCOES"),
    ],
)
def test_interactive_replies(name, text, interactive_id):
    item = parse_one(name)
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "interactive"
    assert item.text == text
    assert item.interactive_id == interactive_id
    assert item.reply_to_id.startswith("wamid.")


def test_flow_answer_fields_stay_in_raw():
    item = parse_one("interactive_nfm_reply.json")
    reply = item.raw["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["nfm_reply"]
    assert json.loads(reply["response_json"])["empresa"] == "Padaria Pão de Açúcar"


def test_location():
    item = parse_one("location.json")
    assert item.message_type == "location"
    assert item.location == {
        "latitude": -23.561414,
        "longitude": -46.655881,
        "name": "MASP",
        "address": "Av. Paulista, 1578 - Bela Vista, São Paulo - SP, 01310-200",
        "url": "https://masp.org.br",
    }
    assert item.text == ""


def test_shared_contact_card_is_not_the_sender():
    item = parse_one("contacts.json")
    assert item.message_type == "contacts"
    assert item.phone == "5511987654321"  # the sender's own number, not the card's
    assert item.shared_contacts == [
        {
            "name": "Maria Conceição Araújo",
            "phones": ["5521998765432", "+55 21 3456-7890"],
            "emails": ["maria.araujo@araujofilhos.com.br"],
        }
    ]


def test_contact_request_answer_gives_the_phone_of_a_username_user():
    body = load("username_only.json")
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update(
        type="contacts",
        origin="contact_request",
        contacts=[{"name": {"formatted_name": "Lúcia"}, "phones": [{"phone": "+55 11 91234-5678"}]}],
    )
    del message["text"]
    [item] = wa.parse(body)
    assert item.sender_id == "BR.2209318457102938"
    assert item.phone == "+55 11 91234-5678"


def test_reaction():
    item = parse_one("reaction.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "reaction"
    assert item.text == "❤️"
    assert item.reply_to_id == "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjk5QTdGMzk0MkQzQjE0RkIzOQA="


def test_unsupported_keeps_the_error():
    item = parse_one("unsupported.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "unsupported"
    assert item.text == ""
    assert item.status_error == "131051 Message type unknown: Message type is currently not supported."


@pytest.mark.parametrize(
    "name, status, timestamp",
    [
        ("status_sent.json", "sent", 1750857384),
        ("status_delivered.json", "delivered", 1750857386),
        ("status_read.json", "read", 1750857390),
    ],
)
def test_statuses(name, status, timestamp):
    item = parse_one(name)
    wamid = "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjgxQkVFRDVBQTVDODFDOTg3MQA="
    assert item.kind == KIND_STATUS
    assert item.status == status
    assert item.ref_external_id == wamid
    assert item.external_id == f"{wamid}:{status}"
    assert item.sender_id == "5511987654321"
    assert "BR.1502576394655843" in item.sender_alt_ids
    assert item.status_error == ""
    assert item.timestamp == datetime.fromtimestamp(timestamp, tz=timezone.utc)


def test_status_transitions_of_one_message_have_distinct_ids():
    ids = {parse_one(n).external_id for n in ("status_sent.json", "status_delivered.json", "status_read.json")}
    assert len(ids) == 3


def test_read_status_carries_username():
    item = parse_one("status_read.json")
    assert item.username == "joao.goncalves"
    assert item.sender_alt_ids == ["BR.1502576394655843", "joao.goncalves"]


def test_failed_status_without_contacts():
    item = parse_one("status_failed.json")
    assert item.kind == KIND_STATUS
    assert item.status == "failed"
    assert item.ref_external_id == "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEkZBSUxFRE1FU1NBR0UwMDAwMAA="
    assert item.status_error == (
        "131047 Re-engagement message: Message failed to send because more than 24 hours have passed"
        " since the customer last replied to this number."
    )
    assert item.sender_id == item.phone == "5511987654321"
    assert item.name == ""


def test_batched_entries_changes_messages_and_statuses():
    items = wa.parse(load("batched.json"))
    assert [(i.kind, i.external_id.split(":")[0]) for i in items[:4]] == [
        (KIND_MESSAGE, "wamid.BATCH.A1"),
        (KIND_MESSAGE, "wamid.BATCH.A2"),
        (KIND_MESSAGE, "wamid.BATCH.A3"),
        (KIND_STATUS, "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjgxQkVFRDVBQTVDODFDOTg3MQA="),
    ]
    a1, a2, a3, status, b1, b2, template = items
    assert a1.name == a3.name == "مُحَمَّد الحسيني"
    assert a1.text == "السلام عليكم — bom dia, vocês entregam no Rio?"
    assert a2.name == "<img src=x onerror=alert(1)>"  # data, escaped where rendered
    assert a2.text == "<script>alert('oi')</script> quanto custa?"
    assert a2.sender_id == "5531988887777"
    assert status.status == "delivered"
    assert {a1.account_id, a2.account_id, status.account_id} == {PHONE_NUMBER_ID}
    assert b1.account_id == b2.account_id == "209876543210987"
    assert b1.name == b2.name == "Ana Júlia"
    assert b2.message_type == "image" and b2.attachments[0].media_id == "555666777888999"
    assert template.kind == KIND_EVENT
    assert template.event_type == "message_template_status_update"
    # each raw only holds its own message and contact
    assert [m["id"] for m in a2.raw["entry"][0]["changes"][0]["value"]["messages"]] == ["wamid.BATCH.A2"]
    assert a2.raw["entry"][0]["changes"][0]["value"]["contacts"] == [
        {"profile": {"name": "<img src=x onerror=alert(1)>"}, "wa_id": "5531988887777"}
    ]


def test_username_only_user_has_no_phone():
    item = parse_one("username_only.json")
    assert item.kind == KIND_MESSAGE
    assert item.sender_id == "BR.2209318457102938"
    assert item.phone == ""
    assert item.username == "lucia.doces"
    assert item.sender_alt_ids == ["lucia.doces"]
    assert item.name == "Lúcia ✨"
    assert item.text == "Oi! Vi o anúncio no Instagram, ainda tem bolo de cenoura?"


def test_phone_user_later_seen_with_username_links_through_alt_ids():
    with_phone = parse_one("text.json")
    body = load("username_only.json")
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["user_id"] = value["messages"][0]["from_user_id"] = "BR.1502576394655843"
    without_phone = wa.parse(body)[0]
    assert without_phone.sender_id == "BR.1502576394655843"
    assert without_phone.sender_id in with_phone.sender_alt_ids


def test_template_status_update_is_an_event():
    item = parse_one("template_status_update.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "message_template_status_update"
    assert item.account_id == "102290129340398"
    assert item.external_id.startswith("message_template_status_update:")
    assert item.external_id == parse_one("template_status_update.json").external_id  # stable on redelivery
    assert item.timestamp == datetime.fromtimestamp(1750862000, tz=timezone.utc)


def test_system_number_change_is_an_event():
    item = parse_one("system_changed_number.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "user_changed_number"
    assert item.sender_id == "5511987654321"
    assert "5511912345678" in item.text


def test_group_message_is_skipped():
    body = load("text.json")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["group_id"] = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAz"
    assert wa.parse(body)[0].skip_reason == "group"


def test_message_without_id_is_kept_as_malformed_event():
    body = load("text.json")
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    [item] = wa.parse(body)
    assert item.kind == KIND_EVENT
    assert item.skip_reason == "malformed"
    assert item.external_id.startswith("malformed:")


def test_edited_text_is_a_new_version_of_the_original():
    """Meta, "Edit messages webhook reference" (type ``edit``, ``edit.original_message_id``, ``edit.message``)."""
    item = parse_one("edit.json")
    assert item.kind == KIND_MESSAGE
    assert item.is_edit is True
    assert item.message_type == "text"
    assert item.text == "Olá! Quero um orçamento para 5 licenças 😊 Vocês atendem em Campinas?"
    assert item.reply_to_id == "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjBDNzE4RjA3NzJGMkU1QTQ1MDcA"
    assert item.external_id == "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjBFRElUMDAwMDAwMDAwMDAwMDEA"
    assert item.external_id != parse_one("text.json").external_id  # stored beside the original, not deduplicated
    assert (item.sender_id, item.phone, item.name) == ("5511987654321", "5511987654321", "João Gonçalves 🇧🇷")
    assert item.timestamp == datetime.fromtimestamp(1750857444, tz=timezone.utc)


def test_edited_media_caption_keeps_the_media():
    """Meta, "Edit messages webhook reference": an edit of a media message carries the media object."""
    item = parse_one("edit_image_caption.json")
    assert item.is_edit is True
    assert item.message_type == "image"
    assert item.text == "Foto da nota fiscal (a certa) 🧾"
    assert item.attachments[0].media_id == "1003372398436574"
    assert item.reply_to_id == "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjBJTUFHRTAwMDAwMDAwMDAwMDEA"


def test_revoke_is_an_event_pointing_at_the_deleted_message():
    """Meta, "Revoke messages webhook reference" (type ``revoke``, ``revoke.original_message_id``)."""
    item = parse_one("revoke.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "revoke"
    assert item.ref_external_id == "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjBDNzE4RjA3NzJGMkU1QTQ1MDcA"
    assert item.sender_id == "5511987654321"


def test_order_lists_its_products():
    """Meta, "Order messages webhook reference" (``order.catalog_id``, ``text``, ``product_items[]``)."""
    item = parse_one("order.json")
    assert item.kind == KIND_MESSAGE
    assert item.message_type == "order"
    assert item.text == "Pode entregar hoje à tarde?\n3 x LIC-PRO-ANUAL (1290.9 BRL)\n1 x SUPORTE-PREMIUM (450 BRL)"
    body = load("order.json")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["order"]["text"] = ""
    assert wa.parse(body)[0].text == "3 x LIC-PRO-ANUAL (1290.9 BRL)\n1 x SUPORTE-PREMIUM (450 BRL)"


def test_call_permission_reply_is_an_event():
    """Meta, "Call permission reply webhook" (``interactive.type`` ``call_permission_reply``); pywa's test data."""
    item = parse_one("call_permission_reply.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "call_permission_reply"
    assert item.text == "accept"
    assert item.sender_id == "5511987654321"


def test_number_change_gives_the_new_number_as_another_id():
    """Meta, "System messages webhook reference" (``system.wa_id``; ``new_wa_id`` and
    ``customer_changed_number`` before v12, as pywa still reads them)."""
    current = parse_one("system_changed_number.json")
    assert current.sender_alt_ids == ["5511912345678"]
    old = parse_one("system_changed_number_v11.json")
    assert old.kind == KIND_EVENT
    assert old.event_type == "customer_changed_number"
    assert old.sender_id == old.phone == "5511987654321"
    assert old.sender_alt_ids == ["5511912345678"]


def test_user_id_change_of_a_username_user():
    """Meta, "System messages webhook reference" (``user_changed_user_id``: no phone, no contacts array)."""
    item = parse_one("system_changed_user_id.json")
    assert item.kind == KIND_EVENT
    assert item.event_type == "user_changed_user_id"
    assert item.sender_id == "BR.2209318457102938"
    assert item.phone == ""
    assert item.sender_alt_ids == ["BR.7730418826615507"]


def test_click_to_whatsapp_ad_message():
    """Meta, "Text messages webhook reference", message from a Click to WhatsApp ad (``referral``) and
    forwarded (``context.forwarded``): a normal text, the ad kept in raw."""
    item = parse_one("text_ad_referral.json")
    assert item.kind == KIND_MESSAGE
    assert item.text == "Olá! Posso saber mais sobre isso?"
    assert item.sender_id == "5511987654321"
    assert item.reply_to_id == ""  # forwarded, not a reply
    message = item.raw["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["referral"]["ctwa_clid"].startswith("ARAkLkA8")
    assert item.referral == {
        "source": "ad",
        "ad_id": "120212345678901234",
        "headline": "Licenças com 20% de desconto",
        "url": "https://fb.me/3cr4Wqqkv",
    }


def test_played_voice_message_counts_as_read():
    """Meta, "Status messages webhook reference" (``played``: a voice message was first played);
    ``conversation`` and ``pricing`` stay in raw."""
    item = parse_one("status_played.json")
    assert item.kind == KIND_STATUS
    assert item.status == "read"
    assert item.external_id == "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjgxQkVFRDVBQTVDODFDOTg3MQA=:played"
    assert item.external_id != parse_one("status_read.json").external_id


@pytest.mark.parametrize(
    "name, field",
    [("smb_message_echoes.json", "smb_message_echoes"), ("account_update.json", "account_update")],
)
def test_other_fields_are_events(name, field):
    """Meta, "smb_message_echoes webhook reference" and "account_update webhook reference"."""
    item = parse_one(name)
    assert item.kind == KIND_EVENT
    assert item.event_type == field
    assert item.external_id == parse_one(name).external_id


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "texto",
        None,
        {},
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": {"id": "1"}},
        {"object": "whatsapp_business_account", "entry": ["x"]},
        {"object": "whatsapp_business_account", "entry": [{"id": "1"}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages"}]}]},
    ],
)
def test_not_a_whatsapp_body(payload):
    with pytest.raises(PayloadError):
        wa.parse(payload)


def test_every_item_reparses_from_its_raw():
    for path in sorted((FIXTURES / "whatsapp_cloud").glob("*.json")):
        for item in wa.parse(json.loads(path.read_text(encoding="utf-8"))):
            again = wa.parse(item.raw)
            assert [i.to_dict() for i in again] == [item.to_dict()], path.name
            assert InboundItem.from_dict(item.to_dict()) == item


# -- outbound --------------------------------------------------------------


def test_build_text():
    assert wa.build_text("+5511987654321", "Olá, João! 👋", reply_to="wamid.ABC") == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511987654321",
        "type": "text",
        "text": {"body": "Olá, João! 👋", "preview_url": False},
        "context": {"message_id": "wamid.ABC"},
    }


def test_build_text_to_username_user_uses_recipient():
    body = wa.build_text("BR.2209318457102938", "Oi, Lúcia!")
    assert body["recipient"] == "BR.2209318457102938"
    assert "to" not in body


def test_build_template():
    components = [{"type": "body", "parameters": [{"type": "text", "text": "João"}]}]
    assert wa.build_template("5511987654321", "boas_vindas_cliente", "pt_BR", components) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511987654321",
        "type": "template",
        "template": {"name": "boas_vindas_cliente", "language": {"code": "pt_BR"}, "components": components},
    }


def test_build_media():
    doc = wa.build_media("5511987654321", "document", "1418907822839271", "Proposta", "proposta.pdf")
    assert doc["type"] == "document"
    assert doc["document"] == {"id": "1418907822839271", "caption": "Proposta", "filename": "proposta.pdf"}
    img = wa.build_media("5511987654321", "image", "https://cdn.example.com/catalogo.jpg", "Catálogo", "x.jpg")
    assert img["image"] == {"link": "https://cdn.example.com/catalogo.jpg", "caption": "Catálogo"}
    audio = wa.build_media("5511987654321", "audio", "2193844571003821", "ignored", None)
    assert audio["audio"] == {"id": "2193844571003821"}
    with pytest.raises(ValueError):
        wa.build_media("5511987654321", "gif", "1", None, None)


def test_build_mark_read():
    assert wa.build_mark_read("wamid.X") == {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"}


def test_parse_send_response():
    response = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+5511987654321", "wa_id": "5511987654321"}],
        "messages": [{"id": "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjgxQkVFRDVBQTVDODFDOTg3MQA="}],
    }
    assert wa.parse_send_response(response) == "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjgxQkVFRDVBQTVDODFDOTg3MQA="
    with pytest.raises(PayloadError, match="131047"):
        wa.parse_send_response({"error": {"code": 131047, "message": "Re-engagement message"}})
    with pytest.raises(PayloadError):
        wa.parse_send_response({"messages": []})
