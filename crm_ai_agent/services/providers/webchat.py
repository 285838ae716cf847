"""Our website chat widget: strict validation of its JSON, visitor tokens.

Body::

    {"visitor_id": "8-64 chars of A-Z a-z 0-9 _ -", "message_id": "<uuid made by the widget>",
     "text": "...", "name": "...", "email": "...", "phone": "...", "page_url": "https://...",
     "language": "pt-BR", "attachments": [{"filename": "...", "mime_type": "...", "data_b64": "..."}]}

``text`` is required unless there are attachments. Unknown keys, wrong types and
values over their limits raise :class:`PayloadError`. Attachments come inline
only: a URL given by a visitor is never fetched by the server.

The item id is ``f"{visitor_id}:{message_id}"``: the message id is chosen by the
browser, so it is scoped to the visitor, and one visitor cannot make another's
message look like a duplicate. The visitor proves it owns ``visitor_id`` with
:func:`visitor_token`, handed out by the server when the id is created.
"""

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import uuid
from urllib.parse import parse_qs, urlsplit

from ..emails import normalize_email
from ..inbound import KIND_MESSAGE, Attachment, InboundItem, PayloadError, make_referral

MAX_TEXT = 4000
MAX_NAME = 128
MAX_EMAIL = 254
MAX_PHONE = 32
MAX_URL = 2048
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_FILENAME = 255
FIELDS = ("visitor_id", "message_id", "text", "name", "email", "phone", "page_url", "language", "attachments")

VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
PHONE = re.compile(r"^\+?[0-9 ().-]{6,32}$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$")
MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
# C0/C1 control characters other than tab, line feed and carriage return
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The first half of a surrogate pair at the very end: a browser's ``slice()`` / ``maxlength`` counts
# UTF-16 units and can cut an emoji in two; ``JSON.stringify`` then sends the half as "\ud83d".
CUT_PAIR = re.compile("[\ud800-\udbff]\\Z")


def parse(payload):
    """One visitor message; raises :class:`PayloadError` with the reason on any invalid field."""
    if not isinstance(payload, dict):
        raise PayloadError("webchat: body is not a JSON object")
    unknown = sorted(k for k in payload if k not in FIELDS)
    if unknown:
        raise PayloadError(f"webchat: unknown field(s): {', '.join(map(str, unknown))[:200]}")
    visitor_id = _required(payload, "visitor_id")
    if not VISITOR_ID.match(visitor_id):
        raise PayloadError("webchat: 'visitor_id' must be 8 to 64 characters of A-Z a-z 0-9 _ -")
    message_id = _message_id(_required(payload, "message_id"))
    text = _text(payload, "text", MAX_TEXT, multiline=True).strip()
    attachments = _attachments(payload.get("attachments"))
    if not text and not attachments:
        raise PayloadError("webchat: 'text' is required when there are no attachments")
    name = _text(payload, "name", MAX_NAME).strip()
    email = _text(payload, "email", MAX_EMAIL).strip()
    if email and not normalize_email(email):
        raise PayloadError("webchat: 'email' is not a valid e-mail address")
    phone = _text(payload, "phone", MAX_PHONE).strip()
    if phone and not PHONE.match(phone):
        raise PayloadError("webchat: 'phone' may only hold digits, spaces and + ( ) - .")
    page_url = _text(payload, "page_url", MAX_URL).strip()
    if page_url and (urlsplit(page_url).scheme not in ("http", "https") or not urlsplit(page_url).netloc):
        raise PayloadError("webchat: 'page_url' must be an http(s) URL")
    language = _text(payload, "language", 16).strip()
    if language and not LANGUAGE.match(language):
        raise PayloadError("webchat: 'language' must be a language tag such as 'pt-BR'")
    raw = {k: v for k, v in payload.items() if v is not None}
    utm = {k: v[0] for k, v in parse_qs(urlsplit(page_url).query).items() if k.startswith("utm_") and v}
    return [
        InboundItem(
            kind=KIND_MESSAGE,
            external_id=f"{visitor_id}:{message_id}",
            sender_id=visitor_id,
            name=name,
            email=email,
            phone=phone,
            language=language,
            message_type=attachments[0].kind if attachments else "text",
            text=text,
            attachments=attachments,
            referral=make_referral(
                source="website" if utm else "",
                url=page_url if utm else "",
                utm_source=utm.get("utm_source"),
                utm_medium=utm.get("utm_medium"),
                utm_campaign=utm.get("utm_campaign"),
            ),
            raw=raw,
        )
    ]


def _required(payload, key):
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"webchat: '{key}' is required and must be a string")
    return value


def _message_id(value):
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise PayloadError("webchat: 'message_id' must be a UUID") from None


def _text(payload, key, limit, multiline=False):
    """Optional string field: ``None`` or absent -> ``""``; wrong type, too long or control characters -> error."""
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"webchat: '{key}' must be a string")
    value = CUT_PAIR.sub("", value)
    if len(value) > limit:
        raise PayloadError(f"webchat: '{key}' is longer than {limit} characters")
    if CONTROL.search(value) or (not multiline and ("\n" in value or "\r" in value)):
        raise PayloadError(f"webchat: '{key}' contains control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(f"webchat: '{key}' is not valid Unicode text") from None
    return value


def _attachments(value):
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError("webchat: 'attachments' must be a list")
    if len(value) > MAX_ATTACHMENTS:
        raise PayloadError(f"webchat: at most {MAX_ATTACHMENTS} attachments")
    result = []
    for index, att in enumerate(value):
        if not isinstance(att, dict):
            raise PayloadError(f"webchat: attachment {index} is not an object")
        extra = sorted(k for k in att if k not in ("filename", "mime_type", "data_b64"))
        if extra:
            raise PayloadError(f"webchat: attachment {index} has unknown field(s) (only inline data is accepted)")
        filename = _text(att, "filename", MAX_FILENAME).strip()
        mime_type = _text(att, "mime_type", 191).strip().lower()
        if not MIME.match(mime_type):
            raise PayloadError(f"webchat: attachment {index} needs a valid 'mime_type'")
        data = att.get("data_b64")
        if not isinstance(data, str) or not data:
            raise PayloadError(f"webchat: attachment {index} needs 'data_b64'")
        if len(data) > (MAX_ATTACHMENT_BYTES * 4) // 3 + 4:
            raise PayloadError(f"webchat: attachment {index} is larger than {MAX_ATTACHMENT_BYTES} bytes")
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise PayloadError(f"webchat: attachment {index} 'data_b64' is not base64") from None
        major = mime_type.split("/", 1)[0]
        kind = major if major in ("image", "audio", "video") else "document"
        result.append(Attachment(kind=kind, mime_type=mime_type, filename=filename, data_b64=data))
    return result


# -- visitor identity ------------------------------------------------------------


def new_visitor_id():
    """A fresh random visitor id (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def visitor_token(secret, visitor_id):
    """Proof that the server issued ``visitor_id``: HMAC-SHA256 of it under the channel secret, URL-safe."""
    if not secret:
        raise ValueError("a webchat secret is required to issue visitor tokens")
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    digest = hmac.new(key, b"crm_ai_webchat_visitor:" + visitor_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_visitor_token(secret, visitor_id, token):
    """Constant-time check of a visitor token; ``False`` without a secret, id or token."""
    if not secret or not isinstance(visitor_id, str) or not VISITOR_ID.match(visitor_id):
        return False
    if not isinstance(token, str) or not token:
        return False
    expected = visitor_token(secret, visitor_id)
    return hmac.compare_digest(expected.encode("ascii"), token.encode("utf-8", "replace"))
