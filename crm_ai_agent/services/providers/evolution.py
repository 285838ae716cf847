"""Evolution API v2 (WhatsApp through Baileys): webhook bodies in, ``/message/sendText`` bodies out.

Body: ``{"event", "instance", "data", "destination", "date_time", "sender",
"server_url", "apikey"}``. ``sender`` is the instance's own number, never the
customer; the customer is ``data.key.remoteJid``. When WhatsApp addresses a
chat by LID (``…@lid``, a privacy id that is not a phone), the phone JID is in
``key.remoteJidAlt`` (or ``key.senderPn``). ``apikey`` (the instance's API key)
is removed from each item's ``raw``, and so is the QR code of ``qrcode.updated``.

Edits come as ``messages.edited`` (the protocolMessage), deletions for everyone as
``messages.delete`` (the key); both are events naming the message they change, except an edit
whose key names the customer, which is a message with ``is_edit`` set.
"""

import json
import re

from ..inbound import (
    KIND_EVENT,
    KIND_MESSAGE,
    KIND_STATUS,
    Attachment,
    InboundItem,
    PayloadError,
    make_referral,
    ts_from_millis,
    ts_from_seconds,
)
from ..signatures import bearer_token, verify_hs256_jwt
from ._util import as_dict, as_list, as_str, content_id, location, unique

USER_SUFFIX = "@s.whatsapp.net"
LID_SUFFIX = "@lid"
STATUS_MAP = {
    "SERVER_ACK": "sent",
    "DELIVERY_ACK": "delivered",
    "READ": "read",
    "PLAYED": "read",
    "ERROR": "failed",
}
# Baileys numeric statuses, as Evolution's renderStatus names them
STATUS_CODES = {0: "ERROR", 1: "PENDING", 2: "SERVER_ACK", 3: "DELIVERY_ACK", 4: "READ", 5: "PLAYED"}
MEDIA = {
    "imageMessage": "image",
    "videoMessage": "video",
    "ptvMessage": "video",
    "audioMessage": "audio",
    "documentMessage": "document",
    "stickerMessage": "sticker",
}
WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
)
# proto.Message.ProtocolMessage.Type, when a version serialises the enum as its number
PROTOCOL_TYPES = {0: "REVOKE", 3: "EPHEMERAL_SETTING", 5: "HISTORY_SYNC_NOTIFICATION", 14: "MESSAGE_EDIT"}
_TEL = re.compile(r"^(?:item\d+\.)?TEL(?P<params>[^:]*):(?P<number>.*)$", re.IGNORECASE)
_WAID = re.compile(r"waid=(\d+)", re.IGNORECASE)


def event_name(value):
    """``MESSAGES_UPSERT`` / ``messages-upsert`` / ``messages.upsert`` -> ``messages.upsert``."""
    return as_str(value).strip().lower().replace("_", ".").replace("-", ".")


def parse(payload):
    """Items of one webhook body; ``data`` may be one object or a list of them."""
    if not isinstance(payload, dict):
        raise PayloadError("Evolution: body is not a JSON object")
    event = event_name(payload.get("event"))
    if not event:
        raise PayloadError("Evolution: 'event' is missing")
    if "data" not in payload:
        raise PayloadError("Evolution: 'data' is missing")
    data = payload["data"]
    pieces = data if isinstance(data, list) else [data]
    head = {k: v for k, v in payload.items() if k not in ("data", "apikey")}
    instance = as_str(payload.get("instance"))
    if event in ("messages.upsert", "messages.update") and not all(isinstance(p, dict) for p in pieces):
        raise PayloadError(f"Evolution: '{event}' data is not an object or a list of objects")
    items = []
    if event == "qrcode.updated":
        pieces = [{"redacted": "qrcode"} for _ in pieces]  # a live device-link code: not kept
    for piece in pieces:
        raw = {**head, "data": piece}
        if event == "messages.upsert":
            item = _parse_upsert(piece, raw)
        elif event == "messages.update":
            item = _parse_update(piece, raw)
        elif event == "messages.edited":
            item = _parse_edited(piece, raw, as_str(payload.get("sender")))
        elif event == "messages.delete":
            item = _parse_delete(piece, raw)
        else:  # connection.update, qrcode.updated, contacts.upsert, chats.update, send.message...
            item = InboundItem(kind=KIND_EVENT, external_id=content_id(event, raw), event_type=event, raw=raw)
        item.account_id = instance
        items.append(item)
    return items


# -- who -------------------------------------------------------------------------


def _jid_user(jid):
    """``5511987654321:12@s.whatsapp.net`` -> ``5511987654321``."""
    return jid.split("@", 1)[0].split(":", 1)[0]


def _chat_skip_reason(jid):
    if jid == "status@broadcast":
        return "status"
    if jid.endswith("@g.us"):
        return "group"
    if jid.endswith("@broadcast"):
        return "broadcast"
    if jid.endswith("@newsletter"):
        return "newsletter"
    return ""


def _identity(key):
    """``(sender_id, alt_ids, phone)`` of the chat partner of a message key.

    The other form of the JID is in ``remoteJidAlt`` (Baileys 7), ``senderPn`` / ``senderLid``
    (Baileys 6.7), or ``previousRemoteJid`` (Evolution 2.3.1-2.3.4 put the phone JID in
    ``remoteJid`` and moved the LID there).
    """
    jid = as_str(key.get("remoteJid"))
    if not jid.endswith((LID_SUFFIX, USER_SUFFIX)):
        return jid, [], ""
    others = [as_str(key.get(k)) for k in ("remoteJidAlt", "senderPn", "senderLid", "previousRemoteJid")]
    phone = next((_jid_user(j) for j in (jid, *others) if j.endswith(USER_SUFFIX)), "")
    # a LID is kept with its suffix: its digits are not a phone
    lid = next((_jid_user(j) + LID_SUFFIX for j in (jid, *others) if j.endswith(LID_SUFFIX)), "")
    if phone:
        return phone, [lid] if lid else [], phone
    return lid, [], ""


def _long(value):
    """A protobuf Long serialised by JSON.stringify (``{"low", "high", "unsigned"}``) as an int, else ``value``."""
    if isinstance(value, dict):
        low, high = value.get("low"), value.get("high", 0)
        if type(low) is not int or type(high) is not int:
            return None
        return (high << 32) | (low & 0xFFFFFFFF)
    return value


def _timestamp(value):
    """``messageTimestamp`` in seconds: an int, a numeric string, or a Long (Evolution before 2.3.3
    sent Baileys' Long as it was)."""
    return ts_from_seconds(_long(value))


# -- messages.upsert --------------------------------------------------------------


def _unwrap(message):
    """Content of ephemeral / view-once / document-with-caption wrappers."""
    for _ in range(4):
        wrapper = next((w for w in WRAPPERS if isinstance(message.get(w), dict)), None)
        if wrapper is None:
            break
        inner = as_dict(message[wrapper].get("message"))
        if not inner:
            break
        message = {**{k: v for k, v in message.items() if k != wrapper}, **inner}
    return message


def _parse_upsert(data, raw):
    key = as_dict(data.get("key"))
    message_id = as_str(key.get("id"))
    jid = as_str(key.get("remoteJid"))
    if not message_id or not jid:
        return _malformed(raw)
    sender_id, alt_ids, phone = _identity(key)
    from_me = key.get("fromMe") is True
    item = InboundItem(
        kind=KIND_MESSAGE,
        external_id=message_id,
        sender_id=sender_id,
        sender_alt_ids=alt_ids,
        phone=phone,
        name="" if from_me else as_str(data.get("pushName")),  # on our own messages it is our name
        timestamp=_timestamp(data.get("messageTimestamp")),
        skip_reason="from_me" if from_me else _chat_skip_reason(jid),
        raw=raw,
    )
    message = _unwrap(as_dict(data.get("message")))
    if not message and data.get("messageStubType") is not None:
        # a notice without content (decryption failure, call log, group change): nothing to answer
        item.kind = KIND_EVENT
        item.event_type = f"stub:{as_str(data['messageStubType']) or 'unknown'}".lower()
        return item
    context = as_dict(data.get("contextInfo"))
    _content(item, message, key)
    for value in message.values():  # the quoted message id sits in the content's contextInfo
        context = context or as_dict(as_dict(value).get("contextInfo"))
    item.reply_to_id = item.reply_to_id or as_str(context.get("stanzaId"))
    item.referral = _ad_referral(context)
    return item


def _ad_referral(context):
    """``contextInfo.externalAdReply``: the click-to-WhatsApp ad that opened the conversation."""
    ad = as_dict(context.get("externalAdReply"))
    if not ad:
        return {}
    return make_referral(
        source=as_str(ad.get("sourceType")) or "ad",
        ad_id=as_str(ad.get("sourceId")),
        headline=as_str(ad.get("title")) or as_str(ad.get("body")),
        url=as_str(ad.get("sourceUrl")),
    )


def _text(message):
    return as_str(message.get("conversation")) or as_str(as_dict(message.get("extendedTextMessage")).get("text"))


def _content(item, message, key):
    item.text = _text(message)
    for mkey, kind in MEDIA.items():
        media = as_dict(message.get(mkey))
        if not media:
            continue
        caption = as_str(media.get("caption"))
        item.message_type = kind
        # speechToText: "[audio] <transcript>" when the instance transcribes voice notes (OpenAI integration)
        item.text = item.text or caption or (as_str(message.get("speechToText")) if kind == "audio" else "")
        item.attachments = [
            Attachment(
                kind=kind,
                media_id=as_str(key.get("id")),  # Evolution fetches media by message key
                url=as_str(message.get("mediaUrl")),  # its own storage (S3/MinIO), not WhatsApp's encrypted URL
                mime_type=as_str(media.get("mimetype")),
                filename=as_str(media.get("fileName")),
                caption=caption,
                sha256=as_str(media.get("fileSha256")),
                data_b64=as_str(message.get("base64")),
            )
        ]
        return
    loc = as_dict(message.get("locationMessage")) or as_dict(message.get("liveLocationMessage"))
    if loc:
        item.message_type = "location"
        item.location = location(
            loc.get("degreesLatitude"), loc.get("degreesLongitude"), loc.get("name"), loc.get("address"), loc.get("url")
        )
        return
    cards = []
    if isinstance(message.get("contactMessage"), dict):
        cards = [message["contactMessage"]]
    elif isinstance(message.get("contactsArrayMessage"), dict):
        cards = [as_dict(c) for c in as_list(message["contactsArrayMessage"].get("contacts"))]
    if cards:
        item.message_type = "contacts"
        item.shared_contacts = [_vcard_contact(as_str(c.get("vcard")), as_str(c.get("displayName"))) for c in cards]
        return
    if _interactive(item, message):
        return
    reaction = as_dict(message.get("reactionMessage"))
    if reaction:
        item.message_type = "reaction"
        item.text = as_str(reaction.get("text"))
        item.reply_to_id = as_str(as_dict(reaction.get("key")).get("id"))
        return
    edited = as_dict(as_dict(message.get("editedMessage")).get("message"))
    protocol = as_dict(message.get("protocolMessage")) or as_dict(edited.get("protocolMessage"))
    if protocol or edited:
        if _protocol_type(protocol) == "MESSAGE_EDIT" or (edited and not protocol):
            # Evolution 1.x sent the customer's edit as an upsert (EvolutionAPI issue #572)
            _edit(item, protocol.get("editedMessage") if protocol else edited, as_dict(protocol.get("key")))
            item.timestamp = ts_from_millis(_long(protocol.get("timestampMs"))) or item.timestamp
            return
        item.kind = KIND_EVENT
        item.event_type = "protocol:" + (_protocol_type(protocol) or "unknown").lower()
        return
    if not item.text:
        item.message_type = "unsupported"  # poll, event, payment...: details in raw


def _protocol_type(protocol):
    value = protocol.get("type")
    if isinstance(value, int) and not isinstance(value, bool):
        return PROTOCOL_TYPES.get(value, str(value))
    return as_str(value).upper()


def _edited_text(content):
    """New text of an edit: the text, or the new caption of a media message."""
    content = _unwrap(as_dict(content))
    text = _text(content)
    for value in content.values():
        text = text or as_str(as_dict(value).get("caption")) or as_str(as_dict(value).get("text"))
    return text


def _edit(item, content, original_key):
    """The item becomes the new version of an earlier message (text only: no media is re-sent)."""
    item.kind = KIND_MESSAGE
    item.is_edit = True
    item.message_type = "text"
    item.attachments = []
    item.text = _edited_text(content)
    original = as_str(original_key.get("id"))
    if original:
        item.reply_to_id = original
        # beside the original, never taken for a redelivery of it
        item.external_id = f"{original}:edit:{item.external_id}"


def _interactive(item, message):
    buttons = as_dict(message.get("buttonsResponseMessage"))
    template = as_dict(message.get("templateButtonReplyMessage"))
    listed = as_dict(message.get("listResponseMessage"))
    flow = as_dict(message.get("interactiveResponseMessage"))
    if buttons:
        item.text = as_str(buttons.get("selectedDisplayText"))
        item.interactive_id = as_str(buttons.get("selectedButtonId"))
    elif template:
        item.text = as_str(template.get("selectedDisplayText"))
        item.interactive_id = as_str(template.get("selectedId"))
    elif listed:
        item.text = as_str(listed.get("title"))
        item.interactive_id = as_str(as_dict(listed.get("singleSelectReply")).get("selectedRowId"))
    elif flow:
        native = as_dict(flow.get("nativeFlowResponseMessage"))
        item.text = as_str(as_dict(flow.get("body")).get("text"))
        try:
            params = json.loads(as_str(native.get("paramsJson")) or "{}")
        except ValueError:
            params = {}
        item.interactive_id = as_str(as_dict(params).get("id")) or as_str(native.get("name"))
    else:
        return False
    item.message_type = "interactive"
    return True


def _vcard_contact(vcard, display_name=""):
    """``{name, phones, emails}`` from a vCard (``TEL;type=CELL;waid=5511…:+55 11 …``)."""
    name, phones, emails = display_name, [], []
    for line in vcard.replace("\r\n", "\n").split("\n"):
        upper = line.upper()
        if upper.startswith("FN:") and not name:
            name = line[3:].strip()
        match = _TEL.match(line)
        if match:
            waid = _WAID.search(match.group("params"))
            phones.append(waid.group(1) if waid else match.group("number").strip())
        elif upper.startswith("EMAIL") and ":" in line:
            emails.append(line.split(":", 1)[1].strip())
    return {"name": name, "phones": unique(phones), "emails": unique(emails)}


# -- messages.update ------------------------------------------------------------------


def _parse_update(data, raw):
    key = as_dict(data.get("key"))
    message_id = as_str(data.get("keyId")) or as_str(key.get("id"))
    jid = as_str(data.get("remoteJid")) or as_str(key.get("remoteJid"))
    from_me = data.get("fromMe", key.get("fromMe"))
    state = data.get("status", as_dict(data.get("update")).get("status"))
    if isinstance(state, int) and not isinstance(state, bool):
        state = STATUS_CODES.get(state, str(state))
    state = as_str(state).upper()
    if not message_id or not state:
        return _malformed(raw)
    sender_id, alt_ids, phone = _identity({**key, "remoteJid": jid})
    status = STATUS_MAP.get(state, "")
    item = InboundItem(
        kind=KIND_STATUS if status else KIND_EVENT,
        # one row per transition; READ and PLAYED both mean read
        external_id=f"{message_id}:{status or state.lower()}",
        status=status,
        ref_external_id=message_id,
        event_type="" if status else f"status:{state.lower()}",
        sender_id=sender_id,
        sender_alt_ids=alt_ids,
        phone=phone,
        raw=raw,
    )
    if status == "failed":
        item.status_error = "ERROR"
    if from_me is False:
        item.skip_reason = "inbound"  # the state of a customer's message (read by us), not of ours
    elif _chat_skip_reason(jid):
        item.skip_reason = _chat_skip_reason(jid)
    return item


# -- messages.edited / messages.delete --------------------------------------------------


def _parse_edited(data, raw, instance_jid):
    """``data`` is the protocolMessage: ``{key, type: "MESSAGE_EDIT", editedMessage, timestampMs}``.

    Its ``key`` names the edited message, but Evolution 2.x sends ``fromMe: true`` and the
    instance's own JID as ``remoteJid`` even when the customer edited (issues #1367, #1647): only
    a key that names the customer (``fromMe: false``) makes it the customer's message; otherwise it
    is stored as an event with the new text and the id of the edited message.
    """
    if not isinstance(data, dict):
        return _malformed(raw)
    key = as_dict(data.get("key"))
    message_id = as_str(key.get("id"))
    if not message_id:
        return InboundItem(
            kind=KIND_EVENT, external_id=content_id("messages.edited", raw), event_type="messages.edited", raw=raw
        )
    stamp = as_str(_long(data.get("timestampMs")))
    jid = as_str(key.get("remoteJid"))
    own = bool(instance_jid) and _jid_user(jid) == _jid_user(instance_jid)  # names us: the chat is unknown
    sender_id, alt_ids, phone = ("", [], "") if own else _identity(key)
    item = InboundItem(
        kind=KIND_EVENT,
        external_id=f"{message_id}:edit:{stamp or content_id('edit', raw)}",
        event_type="messages.edited",
        sender_id=sender_id,
        sender_alt_ids=alt_ids,
        phone=phone,
        text=_edited_text(data.get("editedMessage")),
        is_edit=True,
        reply_to_id=message_id,
        ref_external_id=message_id,
        timestamp=ts_from_millis(stamp),
        raw=raw,
    )
    if _protocol_type(data) not in ("MESSAGE_EDIT", ""):
        item.event_type = "protocol:" + _protocol_type(data).lower()
        item.is_edit = False
        return item
    if key.get("fromMe") is False and sender_id and jid.endswith((USER_SUFFIX, LID_SUFFIX)):
        item.kind, item.event_type, item.message_type = KIND_MESSAGE, "", "text"
    return item


def _parse_delete(data, raw):
    """A message deleted for everyone: ``data`` is its key, or (deleted through the API) its record."""
    if not isinstance(data, dict):
        return InboundItem(
            kind=KIND_EVENT, external_id=content_id("messages.delete", raw), event_type="messages.delete", raw=raw
        )
    key = as_dict(data.get("key")) or data
    message_id = as_str(key.get("id"))
    sender_id, alt_ids, phone = _identity(key)
    return InboundItem(
        kind=KIND_EVENT,
        external_id=f"{message_id}:delete" if message_id else content_id("messages.delete", raw),
        event_type="messages.delete",
        ref_external_id=message_id,
        sender_id=sender_id,
        sender_alt_ids=alt_ids,
        phone=phone,
        raw=raw,
    )


def _malformed(raw):
    return InboundItem(
        kind=KIND_EVENT,
        external_id=content_id("malformed", raw),
        event_type="malformed",
        skip_reason="malformed",
        raw=raw,
    )


# -- authentication ----------------------------------------------------------------------


def verify_webhook_jwt(authorization, jwt_key, leeway=30):
    """Check ``Authorization: Bearer <JWT>`` sent when the instance's webhook headers hold ``jwt_key``.

    Evolution signs ``{iat, exp: iat + 600, app: "evolution", action: "webhook"}`` with HS256.
    """
    claims = verify_hs256_jwt(bearer_token(authorization), jwt_key, leeway=leeway)
    return bool(claims) and claims.get("app") == "evolution" and claims.get("action") == "webhook"


# -- outbound ------------------------------------------------------------------------------


def build_send_text(number, text, quoted_id=None, delay=None):
    """Body of ``POST /message/sendText/{instance}``; ``number`` as digits (``5511987654321``)."""
    body = {"number": str(number).lstrip("+"), "text": text}
    if quoted_id:
        body["quoted"] = {"key": {"id": quoted_id}}
    if delay:
        body["delay"] = int(delay)
    return body


def build_send_media(number, mediatype, media, caption=None, filename=None, mimetype=None):
    """Body of ``POST /message/sendMedia/{instance}``; ``media`` is an URL or base64 data."""
    if mediatype not in ("image", "video", "audio", "document"):
        raise ValueError(f"unknown Evolution media type {mediatype!r}")
    body = {"number": str(number).lstrip("+"), "mediatype": mediatype, "media": media}
    if caption:
        body["caption"] = caption
    if filename:
        body["fileName"] = filename
    if mimetype:
        body["mimetype"] = mimetype
    return body


def parse_send_response(response):
    """The message id (``key.id``) of a send answer."""
    response = as_dict(response)
    message_id = as_str(as_dict(response.get("key")).get("id"))
    if not message_id:
        detail = as_dict(response.get("response")).get("message") or response.get("error") or "no message id"
        raise PayloadError(f"Evolution: send failed: {detail}")
    return message_id
