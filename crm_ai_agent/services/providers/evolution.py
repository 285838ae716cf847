"""Evolution API v2 (WhatsApp through Baileys): webhook bodies in, ``/message/sendText`` bodies out.

Body: ``{"event", "instance", "data", "destination", "date_time", "sender",
"server_url", "apikey"}``. ``sender`` is the instance's own number, never the
customer; the customer is ``data.key.remoteJid``. When WhatsApp addresses a
chat by LID (``…@lid``, a privacy id that is not a phone), the phone JID is in
``key.remoteJidAlt`` (or ``key.senderPn``). ``apikey`` (the instance's API key)
is removed from each item's ``raw``, and so is the QR code of ``qrcode.updated``.
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
    """``(sender_id, alt_ids, phone)`` of the chat partner of a message key."""
    jid = as_str(key.get("remoteJid"))
    alt = as_str(key.get("remoteJidAlt")) or as_str(key.get("senderPn"))
    if jid.endswith(LID_SUFFIX):
        lid = _jid_user(jid) + LID_SUFFIX  # kept with its suffix: LID digits are not a phone
        if alt.endswith(USER_SUFFIX):
            phone = _jid_user(alt)
            return phone, [lid], phone
        return lid, [], ""
    if jid.endswith(USER_SUFFIX):
        phone = _jid_user(jid)
        alt_ids = [_jid_user(alt) + LID_SUFFIX] if alt.endswith(LID_SUFFIX) else []
        return phone, alt_ids, phone
    return jid, [], ""


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
        timestamp=ts_from_seconds(data.get("messageTimestamp")),
        skip_reason="from_me" if from_me else _chat_skip_reason(jid),
        raw=raw,
    )
    message = _unwrap(as_dict(data.get("message")))
    context = as_dict(data.get("contextInfo"))
    _content(item, message, key)
    for value in message.values():  # the quoted message id sits in the content's contextInfo
        context = context or as_dict(as_dict(value).get("contextInfo"))
    item.reply_to_id = item.reply_to_id or as_str(context.get("stanzaId"))
    return item


def _content(item, message, key):
    item.text = as_str(message.get("conversation")) or as_str(as_dict(message.get("extendedTextMessage")).get("text"))
    for mkey, kind in MEDIA.items():
        media = as_dict(message.get(mkey))
        if not media:
            continue
        caption = as_str(media.get("caption"))
        item.message_type = kind
        item.text = item.text or caption
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
    protocol = as_dict(message.get("protocolMessage"))
    if protocol or isinstance(message.get("editedMessage"), dict):
        item.kind = KIND_EVENT
        item.event_type = "protocol:" + (as_str(protocol.get("type")) or "edit").lower()
        return
    if not item.text:
        item.message_type = "unsupported"  # poll, event, payment...: details in raw


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
