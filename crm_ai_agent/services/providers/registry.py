"""Channel type -> parser of its webhook bodies.

Every parser takes the decoded JSON body and returns ``list[InboundItem]``, or
raises :class:`~..inbound.PayloadError` when the body is not of its provider's
shape. A new channel is one module plus one line here.
"""

from . import evolution, meta_messaging, telegram, webchat, whatsapp_cloud

PARSERS = {
    "whatsapp_cloud": whatsapp_cloud.parse,
    "whatsapp_evolution": evolution.parse,
    "instagram": meta_messaging.parse_instagram,
    "messenger": meta_messaging.parse_messenger,
    "telegram": telegram.parse,
    "webchat": webchat.parse,
}


def parse_for(channel_type, payload):
    """Parse ``payload`` with the parser of ``channel_type``; ``LookupError`` for an unknown type."""
    try:
        parser = PARSERS[channel_type]
    except (KeyError, TypeError):
        raise LookupError(f"no parser for channel type {channel_type!r}") from None
    return parser(payload)
