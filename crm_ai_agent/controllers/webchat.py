"""Website chat: the public endpoints the embeddable widget talks to (CORS)."""

import hashlib
import json
import logging
import os
import re

from odoo import http
from odoo.http import request
from odoo.tools.misc import file_path

from ..models.crm_ai_channel_provider import WebhookReject
from ..services.providers import webchat
from .webhook import Refused, json_response, read_body, reject, request_headers, store_items

_logger = logging.getLogger(__name__)

WIDGET_FILE = "crm_ai_agent/static/src/webchat/widget.js"
WIDGET_MAX_AGE = 3600
COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
DEFAULT_COLOR = "#714B67"
_widget_cache = {}


def channel_for_key(key):
    if not key or len(key) > 64:
        return None
    return (
        request.env["crm.ai.channel"]
        .sudo()
        .search([("webchat_public_key", "=", key), ("channel_type", "=", "webchat")], limit=1)
    ) or None


def cors_headers(channel):
    origin = (request.httprequest.headers.get("Origin") or "").rstrip("/")
    if not origin or origin not in channel._ai_webchat_origins():
        return []
    return [
        ("Access-Control-Allow-Origin", origin),
        ("Vary", "Origin"),
        ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
        ("Access-Control-Allow-Headers", "Content-Type, X-Visitor-Token"),
        ("Access-Control-Max-Age", "600"),
    ]


def with_cors(response, channel):
    for name, value in cors_headers(channel):
        response.headers[name] = value
    return response


class CrmAiWebchatController(http.Controller):
    @http.route(
        "/crm_ai_agent/webchat/<string:key>/messages",
        type="http",
        auth="public",
        methods=["POST", "OPTIONS"],
        csrf=False,
        save_session=False,
    )
    def webchat_post(self, key, **kwargs):
        channel = channel_for_key(key)
        if not channel:
            return reject(None, 404, "unknown web chat key", logging.INFO)
        if request.httprequest.method == "OPTIONS":
            return with_cors(request.make_response("", status=204), channel)
        if request.httprequest.mimetype not in ("application/json", "text/plain"):
            return with_cors(reject(channel.id, 400, "content type must be application/json", logging.INFO), channel)
        raw, refusal = read_body(channel.id)
        if refusal:
            return with_cors(refusal, channel)
        provider = channel._ai_provider()
        try:
            provider._ai_verify_request(channel, request_headers(), raw)
        except WebhookReject as exc:
            return reject(channel.id, exc.status, exc.reason)
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return with_cors(reject(channel.id, 400, "malformed JSON", logging.INFO), channel)
        try:
            stored, duplicates = store_items(request.env, channel, provider, raw, payload)
        except Refused as exc:
            return with_cors(reject(channel.id, exc.status, exc.reason, exc.level), channel)
        visitor_id = payload.get("visitor_id") if isinstance(payload, dict) else None
        token = provider._ai_visitor_token(channel, visitor_id) if visitor_id else None
        return with_cors(
            json_response(200, ok=True, stored=stored, duplicates=duplicates, visitor_token=token), channel
        )

    @http.route(
        "/crm_ai_agent/webchat/<string:key>/messages",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def webchat_poll(self, key, visitor_id=None, after=None, **kwargs):
        """Replies for one visitor, newer than ``after``; the widget polls it with its visitor token."""
        channel = channel_for_key(key)
        if not channel:
            return reject(None, 404, "unknown web chat key", logging.INFO)
        if request.httprequest.method == "OPTIONS":
            # Odoo adds OPTIONS to every route: the preflight of this URL, for the POST too, may land here
            return with_cors(request.make_response("", status=204), channel)
        provider = channel._ai_provider()
        try:
            provider._ai_verify_request(channel, request_headers(), b"")
        except WebhookReject as exc:
            return reject(channel.id, exc.status, exc.reason)
        token = request.httprequest.headers.get("X-Visitor-Token") or ""
        if not webchat.check_visitor_token(channel.sudo().webchat_secret or "", visitor_id, token):
            return with_cors(reject(channel.id, 403, "bad or missing visitor token"), channel)
        try:
            after_id = int(after or 0)
        except ValueError:
            return with_cors(reject(channel.id, 400, "'after' must be a message id", logging.INFO), channel)
        messages = provider._ai_visitor_messages(channel, visitor_id, after_id)
        return with_cors(
            json_response(200, ok=True, messages=messages, last_id=messages[-1]["id"] if messages else after_id),
            channel,
        )

    @http.route(
        "/crm_ai_agent/webchat/widget.js", type="http", auth="public", methods=["GET"], csrf=False, save_session=False
    )
    def webchat_widget(self, **kwargs):
        """The embeddable widget: one script for every site and channel (the channel is its ``data-key``)."""
        body, etag = widget_source()
        response = request.make_response(
            body,
            headers=[
                ("Content-Type", "text/javascript; charset=utf-8"),
                ("Cache-Control", f"public, max-age={WIDGET_MAX_AGE}"),
                ("X-Content-Type-Options", "nosniff"),
                ("Cross-Origin-Resource-Policy", "cross-origin"),
            ],
        )
        response.set_etag(etag)
        return response.make_conditional(request.httprequest)

    @http.route(
        "/crm_ai_agent/webchat/<string:key>/config",
        type="http",
        auth="public",
        methods=["GET", "OPTIONS"],
        csrf=False,
        save_session=False,
    )
    def webchat_config(self, key, lang=None, **kwargs):
        """What the widget shows before the first message: title, welcome text and colour of the channel,
        and the widget's own texts, in the visitor's language.

        The language is the site's ``data-lang`` (``lang``) when Odoo has it installed, else the
        first of the browser's ``Accept-Language`` that is, else the company's.
        """
        channel = channel_for_key(key)
        if not channel:
            return reject(None, 404, "unknown web chat key", logging.INFO)
        if request.httprequest.method == "OPTIONS":
            return with_cors(request.make_response("", status=204), channel)
        try:
            channel._ai_provider()._ai_verify_request(channel, request_headers(), b"")
        except WebhookReject as exc:
            return reject(channel.id, exc.status, exc.reason)
        code = visitor_lang(channel, lang)
        channel = channel.with_context(lang=code)
        color = channel.webchat_color if COLOR.match(channel.webchat_color or "") else DEFAULT_COLOR
        response = json_response(
            200,
            ok=True,
            title=channel.webchat_title or "",
            welcome=channel.webchat_welcome or "",
            color=color,
            lang=code,
            labels=widget_labels(channel.env),
        )
        response.headers["Cache-Control"] = "no-cache"
        response = with_cors(response, channel)
        response.vary.add("Accept-Language")
        return response


def widget_source():
    """Bytes and ETag of widget.js, read again only when the file changes."""
    path = file_path(WIDGET_FILE)
    stat = os.stat(path)
    stamp = (stat.st_mtime_ns, stat.st_size)
    if _widget_cache.get("stamp") != stamp:
        with open(path, "rb") as handle:
            body = handle.read()
        _widget_cache.update(stamp=stamp, body=body, etag=hashlib.sha256(body).hexdigest()[:32])
    return _widget_cache["body"], _widget_cache["etag"]


def widget_labels(env):
    """The widget's texts in ``env``'s language (widget.js keeps the English ones for when this call fails)."""
    _ = env._
    return {
        "open": _("Open chat"),
        "close": _("Close chat"),
        "title": _("Chat with us"),
        "welcome": _("Hi! How can we help?"),
        "log": _("Messages"),
        "input": _("Your message"),
        "placeholder": _("Type your message…"),
        "send": _("Send"),
        "details": _("Your contact details (optional)"),
        "name": _("Name"),
        "email": _("E-mail"),
        "phone": _("Phone"),
        "you": _("You"),
        "sending": _("Sending…"),
        "sent": _("Sent"),
        "failed": _("Could not be sent"),
        "badEmail": _("Please check the e-mail."),
        "badPhone": _("Please check the phone number."),
        "new1": _("new message"),
        "newN": _("new messages"),
    }


def visitor_lang(channel, tag=None):
    """Installed language for the visitor: ``tag`` (the site's choice), the browser's Accept-Language, the company's."""
    code = installed_lang(tag)
    if code:
        return code
    for browser_tag, __ in request.httprequest.accept_languages:
        code = installed_lang(browser_tag)
        if code:
            return code
    company_lang = channel.company_id.partner_id.lang
    return installed_lang(company_lang) or "en_US"


def installed_lang(tag):
    """Odoo language code for a browser tag (pt-BR -> pt_BR, pt -> pt_BR when only that is installed)."""
    if not tag or len(tag) > 16:
        return None
    code = tag.replace("-", "_")
    installed = [c for c, __ in request.env["res.lang"].get_installed()]
    for candidate in installed:
        if candidate.lower() == code.lower():
            return candidate
    prefix = code.split("_")[0].lower()
    return next((c for c in installed if c.split("_")[0].lower() == prefix), None)
