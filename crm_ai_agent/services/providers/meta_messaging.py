"""Instagram Messaging (``object: instagram``) and Messenger (``object: page``) webhooks.

Both deliver ``entry[].messaging[]`` events with a scoped ``sender.id`` (the
customer) and ``recipient.id`` (our page or Instagram account), timestamps in
milliseconds. The same events also come as ``entry[].changes[]`` items,
``{"field": "messages", "value": {"sender": ..., "recipient": ..., "timestamp":
"1527459824", "message": ...}}`` (Instagram API with Instagram Login, the App
Dashboard's test notifications), with the timestamp in seconds, often as a
string. Messages sent by us come back as echoes (``message.is_echo``) and are
kept with ``skip_reason="echo"``. Each item's ``raw`` is a complete webhook body
holding that one event, so ``parse(item.raw)`` gives the same item back.
"""

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
from ._util import as_dict, as_float, as_list, as_str, content_id, location, unique

OBJECTS = {"instagram": "Instagram", "page": "Messenger"}
# attachment type -> Attachment.kind; other types (share, story_mention, template...) stay in raw.
# A reel shared in a conversation (``ig_reel``, older ``reel``) carries the video's URL and title.
ATTACHMENT_KINDS = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "file": "document",
    "sticker": "sticker",
    "ig_reel": "video",
    "reel": "video",
}
# events without a message of their own: stored, skipped
EVENT_KEYS = (
    "optin",
    "referral",
    "account_linking",
    "policy_enforcement",
    "policy-enforcement",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "app_roles",
    "messaging_feedback",
    "response_feedback",
    "game_play",
    "checkout_update",
    "payment",
)
SEND_KINDS = {"image": "image", "video": "video", "audio": "audio", "file": "file", "document": "file"}


def parse(payload, expected_object=None):
    """Items of an Instagram or Messenger body; ``expected_object`` ("instagram"/"page") pins the kind."""
    if not isinstance(payload, dict):
        raise PayloadError("Meta messaging: body is not a JSON object")
    obj = payload.get("object")
    allowed = (expected_object,) if expected_object else tuple(OBJECTS)
    if obj not in allowed:
        raise PayloadError(f"Meta messaging: 'object' is {obj!r}, expected one of {allowed!r}")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("Meta messaging: 'entry' is missing or not a list")
    items = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise PayloadError("Meta messaging: an entry is not an object")
        if not any(isinstance(entry.get(k), list) for k in ("messaging", "standby", "changes")):
            raise PayloadError("Meta messaging: an entry has neither 'messaging' nor 'changes'")
        head = {k: v for k, v in entry.items() if k not in ("messaging", "standby", "changes")}
        entry_time = entry.get("time")
        for key in ("messaging", "standby"):
            for event in as_list(entry.get(key)):
                for piece in _split(event):
                    raw = {"object": obj, "entry": [{**head, key: [piece]}]}
                    items.append(_entry_item(piece, raw, entry, standby=key == "standby"))
        for change in as_list(entry.get("changes")):
            change_dict = as_dict(change)
            field = as_str(change_dict.get("field")) or "change"
            value = change_dict.get("value")
            if _is_messaging_event(value):
                # the same event as in ``messaging[]``, wrapped as a change of a messaging field
                for piece in _split(value):
                    raw = {"object": obj, "entry": [{**head, "changes": [{**change_dict, "value": piece}]}]}
                    items.append(_entry_item(piece, raw, entry, standby=field == "standby"))
                continue
            # comments, mentions, story insights...: not conversations
            raw = {"object": obj, "entry": [{**head, "changes": [change]}]}
            items.append(
                InboundItem(
                    kind=KIND_EVENT,
                    external_id=content_id(field, raw),
                    event_type=field,
                    account_id=as_str(entry.get("id")),
                    timestamp=_timestamp(entry_time),
                    raw=raw,
                )
            )
    return items


def parse_instagram(payload):
    return parse(payload, "instagram")


def parse_messenger(payload):
    return parse(payload, "page")


def _entry_item(event, raw, entry, standby=False):
    item = _parse_event(event, raw)
    if standby:  # another app holds the thread (handover protocol)
        item.skip_reason = item.skip_reason or "standby"
    item.account_id = item.account_id or as_str(entry.get("id"))
    if item.timestamp is None:  # when Meta sent the notification: the closest time there is
        item.timestamp = _timestamp(entry.get("time"))
    return item


def _is_messaging_event(value):
    """A ``changes[].value`` that is a messaging event (``sender``/``recipient`` and an event key)."""
    if not isinstance(value, dict):
        return False
    if not (isinstance(value.get("sender"), dict) or isinstance(value.get("recipient"), dict)):
        return False
    keys = ("message", "postback", "reaction", "read", "delivery", "message_edit", *EVENT_KEYS)
    return any(key in value for key in keys)


def _timestamp(value):
    """Meta times: milliseconds in ``messaging[]`` events, seconds (often a string) in ``changes[]`` values."""
    number = as_float(value)
    if number is None or number <= 0:
        return None
    return ts_from_millis(number) if number >= 1e11 else ts_from_seconds(number)


def _split(event):
    """A delivery confirming several messages becomes one event per message."""
    delivery = as_dict(event).get("delivery") if isinstance(event, dict) else None
    mids = as_list(as_dict(delivery).get("mids"))
    if len(mids) <= 1:
        return [event]
    return [{**event, "delivery": {**delivery, "mids": [mid]}} for mid in mids]


def _parse_event(event, raw):
    if not isinstance(event, dict):
        return _event(raw, "malformed", skip_reason="malformed")
    sender_data = as_dict(event.get("sender"))
    sender = as_str(sender_data.get("id"))
    recipient = as_str(as_dict(event.get("recipient")).get("id"))
    timestamp = _timestamp(event.get("timestamp"))
    who = {"sender_id": sender, "account_id": recipient, "timestamp": timestamp}
    user_ref = as_str(sender_data.get("user_ref"))
    if user_ref and not sender:  # checkbox plugin / chat plugin guest: no scoped id yet
        who["sender_alt_ids"] = [f"user_ref:{user_ref}"]
    base = {**who, "raw": raw}

    message = event.get("message")
    if isinstance(message, dict):
        item = _parse_message(message, base, sender, recipient)
        if not item.referral:  # an ad or link that opened the conversation, beside its first message
            item.referral = _referral(event.get("referral"))
        return item
    postback = event.get("postback")
    if isinstance(postback, dict):
        return InboundItem(
            kind=KIND_MESSAGE,
            external_id=as_str(postback.get("mid")) or content_id("postback", raw),
            message_type="interactive",
            text=as_str(postback.get("title")),
            interactive_id=as_str(postback.get("payload")),
            referral=_referral(postback.get("referral")) or _referral(event.get("referral")),
            **base,
        )
    reaction = event.get("reaction")
    if isinstance(reaction, dict):
        mid = as_str(reaction.get("mid"))
        action = as_str(reaction.get("action")) or "react"
        return InboundItem(
            kind=KIND_MESSAGE,
            # no id of its own: the reacted message, the action and the time identify it
            external_id=f"reaction:{mid}:{action}:{as_str(event.get('timestamp'))}"
            if mid
            else content_id("reaction", raw),
            message_type="reaction",
            text=as_str(reaction.get("emoji")) if action == "react" else "",
            reply_to_id=mid,
            **base,
        )
    read = event.get("read")
    if isinstance(read, dict):
        mid = as_str(read.get("mid"))  # Instagram names the message; Messenger gives a watermark
        mark = as_str(read.get("watermark")) or content_id("read", raw)
        return InboundItem(
            kind=KIND_STATUS,
            external_id=f"{mid}:read" if mid else f"read:{sender}:{mark}",
            status="read",
            ref_external_id=mid,
            **base,
        )
    delivery = event.get("delivery")
    if isinstance(delivery, dict):
        mid = next((as_str(m) for m in as_list(delivery.get("mids")) if as_str(m)), "")
        mark = as_str(delivery.get("watermark")) or content_id("delivered", raw)
        return InboundItem(
            kind=KIND_STATUS,
            external_id=f"{mid}:delivered" if mid else f"delivered:{sender}:{mark}",
            status="delivered",
            ref_external_id=mid,
            **base,
        )
    edit = event.get("message_edit")
    if isinstance(edit, dict):
        mid = as_str(edit.get("mid"))
        return InboundItem(
            kind=KIND_MESSAGE,
            external_id=f"{mid}:edit:{as_str(edit.get('num_edit'))}" if mid else content_id("edit", raw),
            text=as_str(edit.get("text")),
            is_edit=True,
            reply_to_id=mid,
            **base,
        )
    event_type = next((k for k in EVENT_KEYS if k in event), "unknown")
    if event_type == "policy-enforcement":
        event_type = "policy_enforcement"
    return _event(raw, event_type, referral=_referral(event.get("referral")), **who)


def _referral(data):
    """Meta's ``referral`` object (ads, m.me links, chat plugin, shops) as ``make_referral`` keys."""
    data = as_dict(data)
    if not data:
        return {}
    ads = as_dict(data.get("ads_context_data"))
    product = as_dict(data.get("product"))
    return make_referral(
        source=as_str(data.get("source")),
        ad_id=as_str(data.get("ad_id")),
        ref=as_str(data.get("ref")),
        headline=as_str(ads.get("ad_title")) or as_str(product.get("id")),
        url=as_str(data.get("referer_uri")) or as_str(ads.get("photo_url")) or as_str(ads.get("video_url")),
    )


def _parse_message(message, base, sender, recipient):
    raw = base["raw"]
    mid = as_str(message.get("mid"))
    item = InboundItem(kind=KIND_MESSAGE, external_id=mid, **base)
    if not mid:
        return _event(raw, "malformed", skip_reason="malformed", **_who(item))
    if message.get("is_echo") is True:
        # Our own message (sent from here or from the Meta inbox): sender_id stays the customer of the
        # conversation, as for Evolution's fromMe, and the account is the one that sent it.
        item.skip_reason = "echo"
        item.sender_id, item.account_id = recipient, sender
    if message.get("is_deleted") is True:  # Instagram: the customer unsent it
        return _event(raw, "message_deleted", external_id=f"{mid}:deleted", reply_to_id=mid, **_who(item))
    item.text = as_str(message.get("text"))
    item.referral = _referral(message.get("referral"))
    reply_to = as_dict(message.get("reply_to"))
    item.reply_to_id = as_str(reply_to.get("mid"))
    quick_reply = as_dict(message.get("quick_reply"))
    if quick_reply:
        item.message_type = "interactive"
        item.interactive_id = as_str(quick_reply.get("payload"))
        return item
    attachments = [as_dict(a) for a in as_list(message.get("attachments"))]
    for att in attachments:
        att_type = as_str(att.get("type"))
        payload = as_dict(att.get("payload"))
        if att_type == "location":  # legacy Messenger location pin
            coords = as_dict(payload.get("coordinates"))
            item.location = location(coords.get("lat"), coords.get("long"), att.get("title"))
            continue
        if att_type == "fallback" and not item.text:
            # Messenger: a link it cannot render (the URL sits in the payload or, in older events,
            # beside it); with text, the text already holds the link
            link = unique([as_str(att.get("title")) or as_str(payload.get("title")), _fallback_url(att, payload)])
            item.text = "\n".join(link)
            continue
        kind = ATTACHMENT_KINDS.get(att_type)
        if payload.get("sticker_id") is not None:
            kind = "sticker"
        if kind:
            caption = as_str(payload.get("title")) if att_type in ("ig_reel", "reel") else ""
            item.attachments.append(Attachment(kind=kind, url=as_str(payload.get("url")), caption=caption))
    if item.attachments:
        item.message_type = item.attachments[0].kind
    elif item.location:
        item.message_type = "location"
    elif message.get("is_unsupported") is True or not item.text:
        item.message_type = "unsupported"  # share, story mention, template...: details in raw
    return item


def _fallback_url(att, payload):
    return as_str(payload.get("url")) or as_str(att.get("url")) or as_str(att.get("URL"))


def _who(item):
    return {
        "sender_id": item.sender_id,
        "sender_alt_ids": item.sender_alt_ids,
        "account_id": item.account_id,
        "timestamp": item.timestamp,
    }


def _event(raw, event_type, external_id="", skip_reason="", **fields):
    return InboundItem(
        kind=KIND_EVENT,
        external_id=external_id or content_id(event_type, raw),
        event_type=event_type,
        skip_reason=skip_reason,
        raw=raw,
        **fields,
    )


# -- outbound ----------------------------------------------------------------


def _recipient(recipient_id):
    """``{"id": ...}``, or ``{"user_ref": ...}`` for a person known only by the ``user_ref:`` key given to them."""
    if isinstance(recipient_id, str) and recipient_id.startswith("user_ref:"):
        return {"user_ref": recipient_id.removeprefix("user_ref:")}
    return {"id": recipient_id}


def build_text(recipient_id, text, messaging_type="RESPONSE"):
    """Send API body (``POST /me/messages``) for a text reply."""
    return {"recipient": _recipient(recipient_id), "messaging_type": messaging_type, "message": {"text": text}}


def build_attachment(recipient_id, kind, url, messaging_type="RESPONSE"):
    """Send API body for an image / video / audio / file (``document`` is sent as ``file``) given by URL."""
    if kind not in SEND_KINDS:
        raise ValueError(f"unknown attachment kind {kind!r}")
    return {
        "recipient": _recipient(recipient_id),
        "messaging_type": messaging_type,
        "message": {"attachment": {"type": SEND_KINDS[kind], "payload": {"url": url, "is_reusable": False}}},
    }


def parse_send_response(response):
    """The ``message_id`` (mid) of a Send API answer."""
    response = as_dict(response)
    if response.get("error"):
        error = as_dict(response["error"])
        raise PayloadError(f"Meta Send API error {as_str(error.get('code'))}: {as_str(error.get('message'))}")
    mid = as_str(response.get("message_id"))
    if not mid:
        raise PayloadError("Meta Send API: response carries no message_id")
    return mid
