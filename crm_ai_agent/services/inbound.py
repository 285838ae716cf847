"""Provider-neutral description of what a webhook delivered.

Every channel parser turns one provider request body into a list of
:class:`InboundItem`. The webhook stores one ``crm.ai.message`` per item
(deduplicated on the provider id), and the processing job works from the
stored raw piece only, so parsing must be deterministic and side-effect free.

No Odoo import here: this module is used by the server and by plain unit tests.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone

KIND_MESSAGE = "message"  # something a person wrote (or sent as media)
KIND_STATUS = "status"  # delivery state of one of our outbound messages
KIND_EVENT = "event"  # anything else: stored, marked skipped, never an error

KINDS = (KIND_MESSAGE, KIND_STATUS, KIND_EVENT)

MESSAGE_TYPES = (
    "text",
    "interactive",  # button / list reply, quick reply, postback, callback query
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "order",  # a cart sent from the catalog: its items are in the text
    "unsupported",
)

STATUSES = ("sent", "delivered", "read", "failed")
# Events are stored and skipped, except these, which change who the person is (WhatsApp system
# messages: the person now writes from another number).
NUMBER_CHANGES = ("user_changed_number", "customer_changed_number")


@dataclass
class Attachment:
    """A media item. Bytes are fetched later, by the job, never in the request."""

    kind: str  # image / audio / video / document / sticker
    media_id: str = ""  # provider media id (WhatsApp Cloud id, Telegram file_id)
    url: str = ""  # direct URL when the provider gives one (Meta IG/Messenger, Evolution)
    mime_type: str = ""
    filename: str = ""
    caption: str = ""
    sha256: str = ""
    data_b64: str = ""  # inline bytes (Evolution with base64 enabled)


@dataclass
class InboundItem:
    """One thing a provider told us about.

    ``external_id`` is the provider's id for the item and must be stable across
    redeliveries of the same item (it is the deduplication key together with
    the channel and direction).
    """

    kind: str
    external_id: str
    # -- who --------------------------------------------------------------
    sender_id: str = ""  # main channel identity (wa_id, scoped id, tg user id, visitor id)
    sender_alt_ids: list = field(default_factory=list)  # other ids of the same person
    name: str = ""
    username: str = ""
    phone: str = ""  # raw, as the provider gives it; normalised by services.phone
    email: str = ""
    language: str = ""
    account_id: str = ""  # our own account it was addressed to (phone_number_id, page/IG id, instance)
    # -- what -------------------------------------------------------------
    message_type: str = "text"
    text: str = ""
    interactive_id: str = ""  # machine value of the chosen button / list row / quick reply / postback / callback
    attachments: list = field(default_factory=list)  # list[Attachment]
    location: dict = field(default_factory=dict)  # {latitude, longitude, name, address}
    shared_contacts: list = field(default_factory=list)  # [{name, phones, emails}]
    reply_to_id: str = ""
    is_edit: bool = False
    referral: dict = field(default_factory=dict)  # how the person reached us: see make_referral()
    timestamp: datetime | None = None  # UTC, naive-free
    # -- status events ----------------------------------------------------
    status: str = ""  # one of STATUSES
    status_error: str = ""
    ref_external_id: str = ""  # our outbound message the status refers to
    # -- bookkeeping ------------------------------------------------------
    skip_reason: str = ""  # non-empty: store but do not process (echo, fromMe, group...)
    event_type: str = ""  # provider event name, for KIND_EVENT items
    raw: dict = field(default_factory=dict)  # the part of the payload this item came from

    def to_dict(self):
        """JSON-ready view of the item, shallow: nested values are shared with the item, not copied
        (``asdict`` deep-copies the raw payload, the bulk of the webhook's own time)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["attachments"] = [dict(vars(a)) if isinstance(a, Attachment) else a for a in self.attachments]
        if self.timestamp:
            data["timestamp"] = self.timestamp.isoformat()
        return data

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        data["attachments"] = [
            a if isinstance(a, Attachment) else Attachment(**a) for a in data.get("attachments") or []
        ]
        ts = data.get("timestamp")
        if isinstance(ts, str) and ts:
            data["timestamp"] = datetime.fromisoformat(ts)
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


REFERRAL_KEYS = ("source", "ad_id", "ref", "headline", "url", "utm_source", "utm_medium", "utm_campaign")


def make_referral(**values):
    """What brought the person to this conversation, as the provider tells it.

    ``source``: ``ad``, ``post``, ``link``, ``website``... (lower case); ``ad_id``: the ad's id;
    ``ref``: the parameter of an m.me / t.me / wa.me link; ``headline``: the ad's or post's title;
    ``url``: the ad's, post's or page's address; ``utm_*``: the page's UTM parameters (web chat).
    Empty values are left out; an empty dict means nothing is known.
    """
    referral = {}
    for key in REFERRAL_KEYS:
        value = values.get(key)
        if not isinstance(value, str):
            continue
        value = " ".join(value.split())[: 2048 if key == "url" else 255]
        if value:
            referral[key] = value.lower() if key == "source" else value
    return referral


def ts_from_seconds(value):
    """Provider timestamp in seconds (int or numeric string) -> aware UTC datetime."""
    try:
        return datetime.fromtimestamp(int(float(value)), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def ts_from_millis(value):
    try:
        return datetime.fromtimestamp(int(float(value)) / 1000.0, tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class PayloadError(ValueError):
    """The body is not a payload of the expected provider shape (answer 400)."""
