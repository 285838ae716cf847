"""WhatsApp Cloud API (Meta): webhook bodies in, Graph API ``/messages`` bodies out.

One POST (``object: whatsapp_business_account``) can carry several entries, each
with several changes, each with several messages and statuses; every one becomes
an :class:`InboundItem`. Each item's ``raw`` is a complete webhook body holding
only that item (its message or status, the matching contact, the metadata), so
``parse(item.raw)`` gives the same item back and a job can work from it alone.

Senders: ``messages[].from`` is the phone (wa_id). Users with a username may
arrive without a phone, identified only by their business-scoped user id
(BSUID, ``from_user_id`` / ``contacts[].user_id``, e.g. ``BR.1502576394655843``).
``sender_id`` is the phone when there is one, else the BSUID; every other form
(BSUID, parent BSUID, username) goes to ``sender_alt_ids``.

An edit (``type: edit``, WhatsApp Business app numbers) is a message of its own with
``is_edit`` set and ``reply_to_id`` naming the edited message; a deletion (``revoke``),
a system notice (number or BSUID changed) and a call permission answer are events.
"""

import math
import re

from ..inbound import (
    KIND_EVENT,
    KIND_MESSAGE,
    KIND_STATUS,
    Attachment,
    InboundItem,
    PayloadError,
    make_referral,
    ts_from_seconds,
)
from ._util import as_dict, as_list, as_str, content_id, location, unique

OBJECT = "whatsapp_business_account"
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
# "played": a voice message was first played, after (or instead of a lost) "read"
STATUS_MAP = {"sent": "sent", "delivered": "delivered", "read": "read", "played": "read", "failed": "failed"}
_PHONE_ID = re.compile(r"^\+?\d{6,20}$")
_BSUID = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9.]+$")


def parse(payload):
    """Every message, status and event of one webhook body, in order."""
    if not isinstance(payload, dict):
        raise PayloadError("WhatsApp Cloud: body is not a JSON object")
    if payload.get("object") != OBJECT:
        raise PayloadError(f"WhatsApp Cloud: 'object' is {payload.get('object')!r}, expected {OBJECT!r}")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("WhatsApp Cloud: 'entry' is missing or not a list")
    items = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise PayloadError("WhatsApp Cloud: an entry is not an object")
        changes = entry.get("changes")
        if not isinstance(changes, list):
            raise PayloadError("WhatsApp Cloud: 'entry[].changes' is missing or not a list")
        for change in changes:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                raise PayloadError("WhatsApp Cloud: a change has no 'value' object")
            items.extend(_parse_change(entry, change))
    return items


# -- envelope ------------------------------------------------------------


def _envelope(entry, field, value, **parts):
    """A webhook body carrying only ``parts`` (messages / statuses / contacts / errors) of ``value``."""
    new_value = {k: v for k, v in value.items() if k not in ("messages", "statuses", "contacts", "errors")}
    new_value.update({k: v for k, v in parts.items() if v})
    new_entry = {k: v for k, v in entry.items() if k != "changes"}
    new_entry["changes"] = [{"field": field, "value": new_value}]
    return {"object": OBJECT, "entry": [new_entry]}


def _parse_change(entry, change):
    field = as_str(change.get("field"))
    value = change["value"]
    if field != "messages":
        # message_template_status_update, account_update, phone_number_quality_update...
        raw = {"object": OBJECT, "entry": [{**{k: v for k, v in entry.items() if k != "changes"}, "changes": [change]}]}
        return [
            InboundItem(
                kind=KIND_EVENT,
                external_id=content_id(field or "event", raw),
                event_type=field or "unknown",
                account_id=as_str(entry.get("id")),
                timestamp=ts_from_seconds(entry.get("time")),
                raw=raw,
            )
        ]
    account_id = as_str(as_dict(value.get("metadata")).get("phone_number_id"))
    contacts = [c for c in as_list(value.get("contacts")) if isinstance(c, dict)]
    items = []
    for message in as_list(value.get("messages")):
        contact = _match_contact(contacts, message)
        raw = _envelope(entry, field, value, messages=[message], contacts=[contact] if contact else None)
        item = _parse_message(message, contact, raw)
        item.account_id = account_id
        items.append(item)
    for status in as_list(value.get("statuses")):
        contact = _match_contact(contacts, status, status=True)
        raw = _envelope(entry, field, value, statuses=[status], contacts=[contact] if contact else None)
        item = _parse_status(status, contact, raw)
        item.account_id = account_id
        items.append(item)
    for error in as_list(value.get("errors")):
        raw = _envelope(entry, field, value, errors=[error])
        items.append(
            InboundItem(
                kind=KIND_EVENT,
                external_id=content_id("error", raw),
                event_type="error",
                status_error=_error_text([error]),
                account_id=account_id,
                raw=raw,
            )
        )
    return items


def _malformed(raw):
    """A piece without the ids needed to process it: stored under a content hash, never processed."""
    return InboundItem(
        kind=KIND_EVENT,
        external_id=content_id("malformed", raw),
        event_type="malformed",
        skip_reason="malformed",
        raw=raw,
    )


# -- who -------------------------------------------------------------------


def _match_contact(contacts, data, status=False):
    """The ``contacts[]`` element describing the sender (or the recipient of a status)."""
    data = as_dict(data)
    if status:
        phone, user_id = as_str(data.get("recipient_id")), as_str(data.get("recipient_user_id"))
    else:
        phone, user_id = as_str(data.get("from")), as_str(data.get("from_user_id"))
    for contact in contacts:
        wa_id, c_user_id = as_str(contact.get("wa_id")), as_str(contact.get("user_id"))
        if (phone and phone in (wa_id, c_user_id)) or (user_id and user_id == c_user_id):
            return contact
    return contacts[0] if len(contacts) == 1 else None


def _identity(phone_candidates, user_ids, contact):
    """``(sender_id, alt_ids, phone, name, username)`` from the ids known for one person."""
    contact = as_dict(contact)
    profile = as_dict(contact.get("profile"))
    phones, bsuids = [], list(user_ids)
    for value in [*phone_candidates, as_str(contact.get("wa_id"))]:
        if _PHONE_ID.match(value):
            phones.append(value)
        elif value:  # a BSUID where a phone usually is
            bsuids.append(value)
    bsuids += [as_str(contact.get("user_id")), as_str(contact.get("parent_user_id"))]
    username = as_str(profile.get("username"))
    phones, bsuids = unique(phones), unique(bsuids)
    phone = phones[0] if phones else ""
    ids = unique(phones + bsuids + [username])
    sender_id = ids[0] if ids else ""
    return sender_id, ids[1:], phone, as_str(profile.get("name")), username


# -- messages ---------------------------------------------------------------


def _parse_message(message, contact, raw):
    if not isinstance(message, dict):
        return _malformed(raw)
    sender_id, alt_ids, phone, name, username = _identity(
        [as_str(message.get("from"))],
        [as_str(message.get("from_user_id")), as_str(message.get("from_parent_user_id"))],
        contact,
    )
    item = InboundItem(
        kind=KIND_MESSAGE,
        external_id=as_str(message.get("id")),
        sender_id=sender_id,
        sender_alt_ids=alt_ids,
        name=name,
        username=username,
        phone=phone,
        timestamp=ts_from_seconds(message.get("timestamp")),
        reply_to_id=as_str(as_dict(message.get("context")).get("id")),
        raw=raw,
    )
    if not item.external_id:
        return _malformed(raw)
    referral = as_dict(message.get("referral"))  # a click-to-WhatsApp ad or a post the customer came from
    if referral:
        item.referral = make_referral(
            source=as_str(referral.get("source_type")),
            ad_id=as_str(referral.get("source_id")),
            headline=as_str(referral.get("headline")) or as_str(referral.get("body")),
            url=as_str(referral.get("source_url")),
        )
    if message.get("group_id"):
        item.skip_reason = "group"
    mtype = as_str(message.get("type"))
    body = as_dict(message.get(mtype)) if mtype else {}
    if mtype == "edit":  # the customer edited an earlier message: the new content, pointing at the old one
        item.is_edit = True
        _content(item, as_dict(body.get("message")))
        item.reply_to_id = as_str(body.get("original_message_id")) or item.reply_to_id
    elif mtype == "system":  # user_changed_number / user_changed_user_id / customer_identity_changed
        item.kind = KIND_EVENT
        item.event_type = as_str(body.get("type")) or "system"
        item.text = as_str(body.get("body"))
        # The person's new phone (wa_id; new_wa_id before v12) or new BSUID: another id of the same person.
        new_ids = [as_str(body.get(k)) for k in ("wa_id", "new_wa_id", "user_id", "parent_user_id")]
        item.sender_alt_ids = [i for i in unique(item.sender_alt_ids + new_ids) if i != item.sender_id]
    elif mtype in ("request_welcome", "ephemeral", "revoke"):
        item.kind = KIND_EVENT
        item.event_type = mtype
        item.ref_external_id = as_str(body.get("original_message_id"))  # revoke: the deleted message
    else:
        _content(item, message)
    errors = as_list(message.get("errors"))
    if errors:
        item.status_error = _error_text(errors)
    return item


def _content(item, message):
    """What the person sent: type, text, media, location, contacts, reaction, interactive answer."""
    mtype = as_str(message.get("type"))
    body = as_dict(message.get(mtype)) if mtype else {}
    if mtype == "text":
        item.text = as_str(body.get("body"))
    elif mtype == "interactive":
        _interactive(item, body)
    elif mtype == "button":  # quick reply of a template
        item.message_type = "interactive"
        item.text = as_str(body.get("text"))
        item.interactive_id = as_str(body.get("payload"))
    elif mtype in MEDIA_TYPES:
        item.message_type = mtype
        item.text = as_str(body.get("caption"))
        item.attachments = [
            Attachment(
                kind=mtype,
                media_id=as_str(body.get("id")),
                url=as_str(body.get("url")),
                mime_type=as_str(body.get("mime_type")),
                filename=as_str(body.get("filename")),
                caption=item.text,
                sha256=as_str(body.get("sha256")),
            )
        ]
    elif mtype == "location":
        item.message_type = "location"
        item.location = location(
            body.get("latitude"), body.get("longitude"), body.get("name"), body.get("address"), body.get("url")
        )
    elif mtype == "contacts":
        item.message_type = "contacts"
        item.shared_contacts = [_shared_contact(c) for c in as_list(message.get("contacts")) if isinstance(c, dict)]
        # A contact card sent in answer to a REQUEST_CONTACT_INFO button is the sender's own.
        if message.get("origin") == "contact_request" and not item.phone and len(item.shared_contacts) == 1:
            phones = item.shared_contacts[0]["phones"]
            item.phone = phones[0] if phones else ""
    elif mtype == "reaction":
        item.message_type = "reaction"
        item.text = as_str(body.get("emoji"))  # empty: the reaction was removed
        item.reply_to_id = as_str(body.get("message_id"))
    elif mtype == "order":  # a cart sent from the catalog: its items are the message
        item.message_type = "order"
        item.text = _order_text(body)
    else:  # unsupported, unknown, ... : kept, described by errors[]
        item.message_type = "unsupported"


def _order_text(order):
    lines = [as_str(order.get("text"))]
    for product in map(as_dict, as_list(order.get("product_items"))):
        quantity = _number(product.get("quantity")) or "1"
        price = " ".join(p for p in (_number(product.get("item_price")), as_str(product.get("currency"))) if p)
        line = f"{quantity} x {as_str(product.get('product_retailer_id'))}"
        lines.append(f"{line} ({price})" if price else line)
    return "\n".join(line for line in lines if line)


def _number(value):
    """``30`` / ``30.0`` -> ``"30"``, ``12.5`` -> ``"12.5"``, strings as given."""
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else str(value)
    return as_str(value)


def _interactive(item, body):
    item.message_type = "interactive"
    itype = as_str(body.get("type"))
    reply = as_dict(body.get(itype))
    if itype in ("button_reply", "list_reply"):
        item.text = as_str(reply.get("title"))
        item.interactive_id = as_str(reply.get("id"))
    elif itype == "nfm_reply":  # WhatsApp Flow answer: the fields are in response_json
        item.text = as_str(reply.get("body"))
        item.interactive_id = as_str(reply.get("name")) or "flow"
    elif itype == "call_permission_reply":  # accepted or refused our request to call: not a message
        item.kind = KIND_EVENT
        item.event_type = itype
        item.text = as_str(reply.get("response"))
    else:
        item.text = as_str(reply.get("title")) or as_str(reply.get("body"))
        item.interactive_id = as_str(reply.get("id"))


def _shared_contact(card):
    name = as_dict(card.get("name"))
    full_name = as_str(name.get("formatted_name")) or " ".join(
        p for p in (as_str(name.get("first_name")), as_str(name.get("last_name"))) if p
    )
    phones = [as_str(as_dict(p).get("wa_id")) or as_str(as_dict(p).get("phone")) for p in as_list(card.get("phones"))]
    emails = [as_str(as_dict(e).get("email")) for e in as_list(card.get("emails"))]
    return {"name": full_name, "phones": unique(phones), "emails": unique(emails)}


def _error_text(errors):
    parts = []
    for error in map(as_dict, errors):
        code = as_str(error.get("code"))
        title = as_str(error.get("title"))
        message = as_str(error.get("message"))
        details = as_str(as_dict(error.get("error_data")).get("details"))
        text = ": ".join(p for p in (title, message if message != title else "", details) if p)
        parts.append(f"{code} {text}".strip() if code else text)
    return "; ".join(p for p in parts if p)


# -- statuses ---------------------------------------------------------------


def _parse_status(status, contact, raw):
    if not isinstance(status, dict):
        return _malformed(raw)
    wamid = as_str(status.get("id"))
    state = as_str(status.get("status"))
    sender_id, alt_ids, phone, name, username = _identity(
        [as_str(status.get("recipient_id"))],
        [as_str(status.get("recipient_user_id")), as_str(status.get("recipient_parent_user_id"))],
        contact,
    )
    item = InboundItem(
        kind=KIND_STATUS,
        # One row per transition: "sent", "delivered" and "read" of one message are three items.
        external_id=f"{wamid}:{state}",
        ref_external_id=wamid,
        status=STATUS_MAP.get(state, ""),
        status_error=_error_text(as_list(status.get("errors"))),
        sender_id=sender_id,
        sender_alt_ids=alt_ids,
        phone=phone,
        name=name,
        username=username,
        timestamp=ts_from_seconds(status.get("timestamp")),
        raw=raw,
    )
    if not wamid or not state:
        return _malformed(raw)
    if not item.status:  # "deleted", "warning"...
        item.kind, item.event_type = KIND_EVENT, f"status:{state}"
    return item


def parse_send_response(response):
    """The wamid of a ``POST /{phone_number_id}/messages`` answer."""
    response = as_dict(response)
    if response.get("error"):
        error = as_dict(response["error"])
        raise PayloadError(f"WhatsApp Cloud error {as_str(error.get('code'))}: {as_str(error.get('message'))}")
    messages = as_list(response.get("messages"))
    wamid = as_str(as_dict(messages[0]).get("id")) if messages else ""
    if not wamid:
        raise PayloadError("WhatsApp Cloud: send response carries no message id")
    return wamid


# -- outbound ----------------------------------------------------------------


def _base(to, mtype):
    """Body head addressed by phone (``to``) or, for users without a phone, by BSUID (``recipient``)."""
    to = str(to or "").strip()
    body = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    if _BSUID.match(to):
        body["recipient"] = to
    else:
        body["to"] = to.lstrip("+")
    body["type"] = mtype
    return body


def build_text(to, text, reply_to=None, preview_url=False):
    """Free text (only inside the 24-hour window opened by the customer)."""
    body = _base(to, "text")
    body["text"] = {"body": text, "preview_url": bool(preview_url)}
    if reply_to:
        body["context"] = {"message_id": reply_to}
    return body


def build_template(to, name, language, components=None):
    """An approved template; ``components`` as the Graph API takes them (header/body/button parameters)."""
    body = _base(to, "template")
    body["template"] = {"name": name, "language": {"code": language}}
    if components:
        body["template"]["components"] = list(components)
    return body


def build_media(to, kind, media_id_or_link, caption=None, filename=None):
    """Media by uploaded media id or by public link; caption for image/video/document, filename for document."""
    if kind not in MEDIA_TYPES:
        raise ValueError(f"unknown WhatsApp media kind {kind!r}")
    body = _base(to, kind)
    ref = str(media_id_or_link)
    media = {"link": ref} if ref.startswith(("https://", "http://")) else {"id": ref}
    if caption and kind in ("image", "video", "document"):
        media["caption"] = caption
    if filename and kind == "document":
        media["filename"] = filename
    body[kind] = media
    return body


def build_mark_read(message_id):
    """Mark a received message as read (blue ticks)."""
    return {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
