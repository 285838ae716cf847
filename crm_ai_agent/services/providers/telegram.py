"""Telegram Bot API: ``Update`` bodies in, ``sendMessage`` / ``sendPhoto`` / ``sendDocument`` parameters out.

Message ids: ``f"{chat_id}:{message_id}"``, and for an edit
``f"{chat_id}:{message_id}:edit:{edit_date}"``. Not ``update_id`` alone, because:

* ``message_id`` is only unique inside one chat, so the chat id is part of it;
* an edit keeps the ``message_id`` of the original, so the edit needs its own
  suffix to be stored next to the original instead of being dropped as a
  duplicate;
* ``update_id`` numbers a bot's update queue, not messages: after a week
  without updates Telegram restarts them from a random number, so an old id can
  come back for a new message; and replies (``reply_to_message``) as well as the
  bot's own sent messages are known by (chat, message id), which lets
  ``reply_to_id`` match the id stored for our outbound message.

Dicts are parsed directly rather than through python-telegram-bot's
``Update.de_json``: in v22 it wants a ``Bot`` instance, builds objects we would
turn back into dicts, and would add a heavy dependency to the Odoo server for
a few field reads.
"""

import re

from ..inbound import (
    KIND_EVENT,
    KIND_MESSAGE,
    Attachment,
    InboundItem,
    PayloadError,
    make_referral,
    ts_from_seconds,
)
from ..signatures import tokens_equal
from ._util import as_dict, as_list, as_str, content_id, location, unique

MESSAGE_KEYS = ("message", "edited_message", "business_message", "edited_business_message")
CHANNEL_KEYS = ("channel_post", "edited_channel_post")
# Service messages (``Message`` fields that describe something that happened in the chat, not something
# a person wrote): stored as events.
SERVICE_KEYS = (
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "channel_chat_created",
    "message_auto_delete_timer_changed",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "pinned_message",
    "successful_payment",
    "refunded_payment",
    "users_shared",
    "chat_shared",
    "gift",
    "unique_gift",
    "connected_website",
    "write_access_allowed",
    "passport_data",
    "proximity_alert_triggered",
    "boost_added",
    "chat_background_set",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "general_forum_topic_hidden",
    "general_forum_topic_unhidden",
    "giveaway_created",
    "giveaway_winners",
    "giveaway_completed",
    "video_chat_scheduled",
    "video_chat_started",
    "video_chat_ended",
    "video_chat_participants_invited",
    "paid_message_price_changed",
)
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def parse(update):
    """The item of one ``Update`` (Telegram sends one update per request)."""
    if not isinstance(update, dict):
        raise PayloadError("Telegram: body is not a JSON object")
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise PayloadError("Telegram: 'update_id' is missing or not an integer")
    for key in MESSAGE_KEYS:
        if isinstance(update.get(key), dict):
            return [_parse_message(update, key)]
    if isinstance(update.get("callback_query"), dict):
        return [_parse_callback(update)]
    if isinstance(update.get("message_reaction"), dict):
        return [_parse_reaction(update)]
    kind = next((k for k in update if k != "update_id"), "unknown")
    item = InboundItem(kind=KIND_EVENT, external_id=content_id(kind, update), event_type=kind, raw=update)
    data = as_dict(update.get(kind))
    if kind in CHANNEL_KEYS:
        item.skip_reason = "channel"
    elif kind in ("my_chat_member", "chat_member"):
        # "kicked" in a private chat: the user blocked the bot
        item.event_type = f"{kind}:{as_str(as_dict(data.get('new_chat_member')).get('status'))}"
    # who did it: "from" (queries, join requests, member changes), "user" (poll_answer, business_connection)
    _set_user(item, as_dict(data.get("from")) or as_dict(data.get("user")))
    date = data.get("date")
    if isinstance(date, int) and not isinstance(date, bool) and date > 0:
        item.timestamp = ts_from_seconds(date)
    return [item]


def _set_user(item, user):
    item.sender_id = as_str(user.get("id"))
    item.name = " ".join(p for p in (as_str(user.get("first_name")), as_str(user.get("last_name"))) if p)
    item.username = as_str(user.get("username"))
    item.language = as_str(user.get("language_code"))


def _chat_skip_reason(chat, user):
    chat_type = as_str(chat.get("type"))
    if chat_type and chat_type != "private":
        return "channel" if chat_type == "channel" else "group"
    if user.get("is_bot") is True:
        return "bot"
    return ""


def _parse_message(update, key):
    message = update[key]
    chat = as_dict(message.get("chat"))
    chat_id = as_str(chat.get("id"))
    message_id = as_str(message.get("message_id"))
    user = as_dict(message.get("from")) or (chat if chat.get("type") == "private" else {})
    is_edit = key.startswith("edited_")
    # In a private chat the chat is the customer. A message there from someone else is the business
    # account owner (or its business bot) writing to the customer through a business connection.
    echo = chat.get("type") == "private" and user is not chat and as_str(user.get("id")) not in ("", chat_id)
    if not chat_id or not message_id:
        return InboundItem(
            kind=KIND_EVENT,
            external_id=content_id("malformed", update),
            event_type="malformed",
            skip_reason="malformed",
            raw=update,
        )
    external_id = f"{chat_id}:{message_id}"
    if is_edit:
        external_id += f":edit:{as_str(message.get('edit_date'))}"
    item = InboundItem(
        kind=KIND_MESSAGE,
        external_id=external_id,
        is_edit=is_edit,
        timestamp=ts_from_seconds(message.get("edit_date") if is_edit else message.get("date")),
        skip_reason=_chat_skip_reason(chat, user),
        raw=update,
    )
    _set_user(item, user)
    if echo:
        item.skip_reason = "echo"
        _set_user(item, chat)  # the customer of the conversation, as for Meta's echoes
    elif is_edit and isinstance(as_dict(message.get("location")).get("live_period"), int):
        item.skip_reason = "live location update"  # sent every few seconds while a live location is shared
    service = next((k for k in SERVICE_KEYS if k in message), "")
    if service and not item.skip_reason:
        return InboundItem(
            kind=KIND_EVENT,
            external_id=external_id,
            event_type=f"service:{service}",
            sender_id=item.sender_id,
            name=item.name,
            username=item.username,
            language=item.language,
            timestamp=item.timestamp,
            raw=update,
        )
    business = as_str(message.get("business_connection_id"))
    if business:
        item.account_id = business
    reply = as_dict(message.get("reply_to_message"))
    if reply.get("message_id") is not None:
        item.reply_to_id = f"{chat_id}:{as_str(reply.get('message_id'))}"
    item.text = as_str(message.get("text")) or as_str(message.get("caption"))
    item.referral = _start_referral(item.text)
    _content(item, message)
    return item


def _start_referral(text):
    """``/start <parameter>``: the person opened a ``t.me/<bot>?start=<parameter>`` link (deep linking)."""
    command, __, parameter = text.partition(" ")
    if command.split("@")[0] != "/start" or not parameter.strip():
        return {}
    return make_referral(source="link", ref=parameter.strip())


def _content(item, message):
    photos = [as_dict(p) for p in as_list(message.get("photo"))]
    if photos:
        # sizes come smallest first; pick the largest by area, then by bytes
        best = max(
            photos,
            key=lambda p: (
                _num(p.get("width")) * _num(p.get("height")),
                _num(p.get("file_size")),
            ),
        )
        item.attachments.append(_attachment("image", best))
    for key, kind in (
        ("animation", "video"),  # a GIF comes as animation and as document: keep the animation
        ("video", "video"),
        ("video_note", "video"),
        ("voice", "audio"),
        ("audio", "audio"),
        ("sticker", "sticker"),
        ("document", "document"),
    ):
        data = as_dict(message.get(key))
        if data and not (key == "document" and message.get("animation")):
            item.attachments.append(_attachment(kind, data))
    if item.attachments:
        item.message_type = item.attachments[0].kind
        for attachment in item.attachments:
            attachment.caption = as_str(message.get("caption"))
        return
    venue = as_dict(message.get("venue"))
    place = venue or message
    loc = as_dict(place.get("location"))
    if loc:
        item.message_type = "location"
        item.location = location(loc.get("latitude"), loc.get("longitude"), venue.get("title"), venue.get("address"))
        return
    contact = as_dict(message.get("contact"))
    if contact:
        item.message_type = "contacts"
        phone = as_str(contact.get("phone_number"))
        sender = item.sender_id
        if sender and as_str(contact.get("user_id")) == sender:
            # Shared with the "request_contact" keyboard button: the sender's own, verified number, in
            # international form; most clients send it without the "+" ("5548991234567"), some with it.
            digits = phone.strip().lstrip("+")
            item.phone = f"+{digits}" if digits.isdigit() else phone
        else:
            name = " ".join(p for p in (as_str(contact.get("first_name")), as_str(contact.get("last_name"))) if p)
            item.shared_contacts = [{"name": name, "phones": unique([phone]), "emails": []}]
        return
    if not item.text:
        item.message_type = "unsupported"  # poll, dice, game, service message...


def _num(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _attachment(kind, data):
    return Attachment(
        kind=kind,
        media_id=as_str(data.get("file_id")),
        mime_type=as_str(data.get("mime_type")),
        filename=as_str(data.get("file_name")),
    )


def _parse_callback(update):
    query = update["callback_query"]
    message = as_dict(query.get("message"))
    chat = as_dict(message.get("chat"))
    user = as_dict(query.get("from"))
    query_id = as_str(query.get("id"))
    item = InboundItem(
        kind=KIND_MESSAGE,
        external_id=f"callback:{query_id}" if query_id else content_id("callback", update),
        message_type="interactive",
        text=as_str(query.get("data")),
        interactive_id=as_str(query.get("data")),
        skip_reason=_chat_skip_reason(chat, user),
        raw=update,
    )
    _set_user(item, user)
    if chat.get("id") is not None and message.get("message_id") is not None:
        item.reply_to_id = f"{as_str(chat.get('id'))}:{as_str(message.get('message_id'))}"
    # No timestamp: a callback has no date of its own (message.date is when our message was sent).
    return item


def _parse_reaction(update):
    """``message_reaction``: a user changed their reactions to a message, as Meta's and WhatsApp's reactions."""
    data = update["message_reaction"]
    chat = as_dict(data.get("chat"))
    user = as_dict(data.get("user"))  # absent when the reaction is anonymous (``actor_chat``)
    chat_id, message_id = as_str(chat.get("id")), as_str(data.get("message_id"))
    date = as_str(data.get("date"))
    new = [as_dict(r) for r in as_list(data.get("new_reaction"))]
    emoji = next((as_str(r.get("emoji")) for r in new if r.get("type") == "emoji" and r.get("emoji")), "")
    if not emoji and any(r.get("type") == "paid" for r in new):
        emoji = "⭐"
    item = InboundItem(
        kind=KIND_MESSAGE,
        external_id=f"reaction:{chat_id}:{message_id}:{as_str(user.get('id'))}:{date}"
        if chat_id and message_id
        else content_id("reaction", update),
        message_type="reaction",
        text=emoji,  # empty: the reaction was removed (or is a custom emoji)
        reply_to_id=f"{chat_id}:{message_id}" if chat_id and message_id else "",
        timestamp=ts_from_seconds(data.get("date")),
        skip_reason=_chat_skip_reason(chat, user) or ("" if user else "anonymous"),
        raw=update,
    )
    _set_user(item, user)
    return item


# -- authentication ------------------------------------------------------------


def valid_secret_token(token):
    """Telegram accepts 1–256 characters of ``A-Z a-z 0-9 _ -`` as ``secret_token``."""
    return isinstance(token, str) and bool(SECRET_TOKEN.match(token))


def check_secret_token(header_value, expected):
    """``X-Telegram-Bot-Api-Secret-Token`` against the configured secret, in constant time."""
    return tokens_equal(header_value, expected)


# -- outbound ------------------------------------------------------------------


def build_send_message(chat_id, text, reply_to=None, parse_mode=None, business_connection_id=None):
    """``sendMessage`` parameters. ``reply_to`` is a message id or one of our ``chat:message`` ids;
    ``business_connection_id`` answers a customer who wrote through a Telegram Business account."""
    params = {"chat_id": chat_id, "text": text}
    if business_connection_id:
        params["business_connection_id"] = business_connection_id
    _reply(params, reply_to)
    if parse_mode:
        params["parse_mode"] = parse_mode
    return params


def build_send_photo(chat_id, photo, caption=None, reply_to=None):
    """``sendPhoto`` parameters; ``photo`` is a ``file_id`` or an HTTP URL."""
    params = {"chat_id": chat_id, "photo": photo}
    if caption:
        params["caption"] = caption
    _reply(params, reply_to)
    return params


def build_send_document(chat_id, document, caption=None, reply_to=None):
    """``sendDocument`` parameters; ``document`` is a ``file_id`` or an HTTP URL."""
    params = {"chat_id": chat_id, "document": document}
    if caption:
        params["caption"] = caption
    _reply(params, reply_to)
    return params


def _reply(params, reply_to):
    if reply_to:
        parts = str(reply_to).split(":")  # "chat:message[:edit:date]" or a bare message id
        message_id = parts[1] if len(parts) > 1 else parts[0]
        params["reply_parameters"] = {"message_id": int(message_id), "allow_sending_without_reply": True}


def parse_send_response(response):
    """The ``chat:message`` id of a sent message, as inbound items name messages."""
    response = as_dict(response)
    if response.get("ok") is not True:
        raise PayloadError(
            f"Telegram error {as_str(response.get('error_code'))}: {as_str(response.get('description'))}"
        )
    result = as_dict(response.get("result"))
    chat_id = as_str(as_dict(result.get("chat")).get("id"))
    message_id = as_str(result.get("message_id"))
    if not chat_id or not message_id:
        raise PayloadError("Telegram: send response carries no message")
    return f"{chat_id}:{message_id}"
