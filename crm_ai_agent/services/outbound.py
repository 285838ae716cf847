"""Outbound rules that need no ORM: messaging windows, media kinds, templates, backoff.

Times are naive UTC datetimes, as Odoo stores them.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

# WhatsApp customer-service window, Messenger/Instagram standard messaging window.
WINDOW = timedelta(hours=24)
# Messenger/Instagram "human agent" tag: a person may answer up to 7 days after the last message.
HUMAN_AGENT_WINDOW = timedelta(days=7)

FREE = "free"  # free text allowed
TEMPLATE = "template"  # only an approved template
TAG = "tag"  # free text with a message tag (Meta HUMAN_AGENT)
CLOSED = "closed"  # nothing may be sent

RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 3600

_PLACEHOLDER = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")


@dataclass(frozen=True)
class Window:
    """What a channel accepts now for one conversation."""

    mode: str
    expires_at: object = None  # datetime when the current mode ends, or None
    tag: str = ""  # Meta message tag to use in TAG mode

    @property
    def free_text(self):
        return self.mode in (FREE, TAG)


def whatsapp_window(last_inbound, now):
    """Free text inside 24 hours of the customer's last message, approved templates after it."""
    if last_inbound and now < last_inbound + WINDOW:
        return Window(FREE, last_inbound + WINDOW)
    return Window(TEMPLATE)


def meta_window(last_inbound, now, human_agent=False):
    """Messenger/Instagram: 24 hours, then 7 days with the HUMAN_AGENT tag when the app has it."""
    if last_inbound and now < last_inbound + WINDOW:
        return Window(FREE, last_inbound + WINDOW)
    if human_agent and last_inbound and now < last_inbound + HUMAN_AGENT_WINDOW:
        return Window(TAG, last_inbound + HUMAN_AGENT_WINDOW, "HUMAN_AGENT")
    return Window(CLOSED)


def no_window():
    return Window(FREE)


def retry_delay(attempts):
    """Seconds before attempt ``attempts + 1``: 30 s doubling, at most an hour."""
    return min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS)


# -- media ------------------------------------------------------------------------

WA_IMAGE = ("image/jpeg", "image/png")
WA_VIDEO = ("video/mp4", "video/3gpp")
WA_AUDIO = ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")


def media_kind(mimetype):
    """image / video / audio / document, as the WhatsApp, Evolution and Meta APIs name them.

    Only the formats every provider takes as media are sent as such; anything
    else (webp, gif, wav, pdf, zip...) goes as a document, which always works.
    """
    mimetype = (mimetype or "").split(";")[0].strip().lower()
    if mimetype in WA_IMAGE:
        return "image"
    if mimetype in WA_VIDEO:
        return "video"
    if mimetype in WA_AUDIO:
        return "audio"
    return "document"


# -- templates --------------------------------------------------------------------


def template_placeholders(text):
    """Placeholders of a template text in order of first appearance: ``['1', '2']`` or ``['name']``."""
    seen = []
    for match in _PLACEHOLDER.finditer(text or ""):
        key = match.group(1)
        if key not in seen:
            seen.append(key)
    return seen


def render_template(text, values):
    """The text the customer reads: placeholders replaced by ``values`` (dict key -> text)."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text or "")


MEDIA_HEADERS = ("image", "video", "document")


class TemplateError(ValueError):
    """A template cannot be sent as configured (e.g. its media header has no media)."""


def template_components(header_values, body_values, header_format="text", header_media=None, button_values=None):
    """Graph API ``components`` of a template message.

    ``header_values`` / ``body_values`` are lists of ``(key, text)``; numeric keys are
    positional parameters, other keys named ones (``parameter_name``). A header of
    ``header_format`` image/video/document needs ``header_media``: ``{"link": url}`` or
    ``{"id": media_id}``, plus ``filename`` for a document. ``button_values`` are
    ``(index, suffix)`` for the URL buttons whose URL ends with a variable.
    Raises :class:`TemplateError` when a media header has no media.
    """
    header_format = (header_format or "text").lower()
    if header_format not in ("text", *MEDIA_HEADERS):
        raise TemplateError(f"{header_format} headers are not supported")
    components = []
    if header_format in MEDIA_HEADERS:
        media = {k: str(v) for k, v in (header_media or {}).items() if v and k in ("link", "id", "filename")}
        if not (media.get("link") or media.get("id")):
            raise TemplateError(f"the {header_format} header of this template needs a media (a file or a URL)")
        if header_format != "document":
            media.pop("filename", None)
        if "id" in media:
            media.pop("link", None)
        components.append({"type": "header", "parameters": [{"type": header_format, header_format: media}]})
    for ctype, values in (("header", header_values if header_format == "text" else []), ("body", body_values)):
        if not values:
            continue
        params = []
        for key, text in values:
            param = {"type": "text", "text": str(text or "")}
            if not str(key).isdigit():
                param["parameter_name"] = str(key)
            params.append(param)
        components.append({"type": ctype, "parameters": params})
    for index, suffix in button_values or []:
        components.append(
            {
                "type": "button",
                "sub_type": "url",
                "index": str(index),
                "parameters": [{"type": "text", "text": str(suffix or "")}],
            }
        )
    return components


def parse_graph_template(data):
    """One entry of ``GET /{waba_id}/message_templates`` -> plain values for our template model."""
    if not isinstance(data, dict):
        return None
    name = str(data.get("name") or "").strip()
    language = str(data.get("language") or "").strip()
    if not name or not language:
        return None
    header = body = footer = header_example = ""
    header_format = "text"
    buttons = []
    url_buttons = []
    for component in data.get("components") or []:
        if not isinstance(component, dict):
            continue
        ctype = str(component.get("type") or "").upper()
        if ctype == "HEADER":
            header_format = str(component.get("format") or "TEXT").lower()
            if header_format == "text":
                header = str(component.get("text") or "")
            example = component.get("example") if isinstance(component.get("example"), dict) else {}
            handles = example.get("header_handle") or example.get("header_url") or []
            if isinstance(handles, str):
                handles = [handles]
            header_example = str(handles[0]) if handles and header_format in MEDIA_HEADERS else ""
        elif ctype == "BODY":
            body = str(component.get("text") or "")
        elif ctype == "FOOTER":
            footer = str(component.get("text") or "")
        elif ctype == "BUTTONS":
            entries = [b for b in component.get("buttons") or [] if isinstance(b, dict)]
            buttons = [str(b.get("text") or "") for b in entries]
            url_buttons = [
                {"index": index, "text": str(b.get("text") or ""), "url": str(b.get("url") or "")}
                for index, b in enumerate(entries)
                if str(b.get("type") or "").upper() == "URL" and template_placeholders(str(b.get("url") or ""))
            ]
    return {
        "name": name,
        "language": language,
        "status": str(data.get("status") or "").lower(),
        "category": str(data.get("category") or "").lower(),
        "external_id": str(data.get("id") or ""),
        "header": header,
        "header_format": header_format,
        "header_example": header_example,
        "body": body,
        "footer": footer,
        "buttons": buttons,
        "url_buttons": url_buttons,
    }
