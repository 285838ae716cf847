"""Website chat: the public endpoints the embeddable widget talks to (CORS)."""

import json
import logging

from odoo import http
from odoo.http import request

from ..models.crm_ai_channel_provider import WebhookReject
from .webhook import json_response, read_body, reject, request_headers, store_items

_logger = logging.getLogger(__name__)


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
        except (ValueError, UnicodeDecodeError):
            return with_cors(reject(channel.id, 400, "malformed JSON", logging.INFO), channel)
        result, refusal = store_items(channel, provider, raw, payload)
        if refusal:
            return with_cors(refusal, channel)
        stored, duplicates = result
        visitor_id = payload.get("visitor_id") if isinstance(payload, dict) else None
        token = provider._ai_visitor_token(channel, visitor_id) if visitor_id else None
        return with_cors(
            json_response(200, ok=True, stored=stored, duplicates=duplicates, visitor_token=token), channel
        )
