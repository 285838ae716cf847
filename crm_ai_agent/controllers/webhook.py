"""Public webhook of every channel: verify, store, enqueue, answer.

Nothing slow happens here: the provider gets its answer as soon as the raw
items are stored; contacts, leads and AI run later in ``crm.ai.message``'s
queue. Every refusal is a 4xx with a log line, never a 500, and never writes
a row.
"""

import hashlib
import json
import logging

import psycopg2

from odoo import http
from odoo.http import request
from odoo.tools import config

from ..models.crm_ai_channel_provider import WebhookReject
from ..services import inbound

_logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 3 * 1024 * 1024
JSON_TYPES = ("application/json", "text/json")


def max_body_bytes(env):
    value = env["ir.config_parameter"].sudo().get_param("crm_ai_agent.webhook_max_bytes") or config.get(
        "crm_ai_agent_webhook_max_bytes"
    )
    try:
        return int(value) if value else DEFAULT_MAX_BYTES
    except (TypeError, ValueError):
        return DEFAULT_MAX_BYTES


def json_response(status, **data):
    return request.make_json_response(data, status=status)


def reject(channel_id, status, reason, level=logging.WARNING):
    _logger.log(
        level,
        "crm_ai_agent webhook refused (channel=%s, status=%s, ip=%s): %s",
        channel_id or "-",
        status,
        request.httprequest.remote_addr,
        reason,
    )
    return json_response(status, ok=False, error=reason)


def read_body(channel_id):
    """Raw body within the size limit, or a response refusing it."""
    limit = max_body_bytes(request.env)
    length = request.httprequest.content_length
    if length is not None and length > limit:
        return None, reject(channel_id, 413, "body too large")
    raw = request.httprequest.stream.read(limit + 1) if length is None else request.httprequest.get_data()
    if len(raw) > limit:
        return None, reject(channel_id, 413, "body too large")
    return raw, None


def request_headers():
    return {k.lower(): v for k, v in request.httprequest.headers.items()}


def store_items(channel, provider, raw, payload):
    """Parse and insert. A parser bug must not lose the message: the raw body is kept as a failed event."""
    try:
        items = provider._ai_parse(channel, payload)
    except inbound.PayloadError as exc:
        return None, reject(channel.id, 400, f"unexpected payload: {exc}", logging.INFO)
    except Exception:
        _logger.exception("crm_ai_agent webhook: parser failure on channel %s; body kept", channel.id)
        items = [
            inbound.InboundItem(
                kind=inbound.KIND_EVENT,
                external_id="unparsed:" + hashlib.sha256(raw).hexdigest(),
                event_type="unparsed",
                skip_reason="parser error",
                raw=payload if isinstance(payload, dict) else {"body": payload},
            )
        ]
    Message = request.env["crm.ai.message"].sudo()
    try:
        stored, duplicates = Message._ai_store_inbound(channel, items)
    except psycopg2.errors.SerializationFailure:
        # A simultaneous redelivery committed the same item first (repeatable read): a fresh
        # transaction sees it, and the item counts as a duplicate. Nothing else was written yet.
        request.env.cr.rollback()
        stored, duplicates = Message._ai_store_inbound(channel, items)
    return (stored, duplicates), None


class CrmAiWebhookController(http.Controller):
    # auth="none": the request is authenticated by the channel's secret (signature, token or
    # header), not by an Odoo user; rows stored here have no author.
    @http.route(
        "/crm_ai_agent/webhook/<string:token>",
        type="http",
        auth="none",
        readonly=False,
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def webhook(self, token, **kwargs):
        channel = request.env["crm.ai.channel"]._ai_webhook_channel(token)
        if not channel:
            return reject(None, 404, "unknown or inactive channel", logging.INFO)
        channel_id = channel.id
        provider = channel._ai_provider()
        if request.httprequest.method == "GET":
            try:
                body = provider._ai_handshake(channel, request.httprequest.args)
            except WebhookReject as exc:
                return reject(channel_id, exc.status, exc.reason)
            return request.make_response(body, headers=[("Content-Type", "text/plain")])

        mimetype = request.httprequest.mimetype
        if mimetype not in JSON_TYPES:
            return reject(
                channel_id, 400, f"content type must be application/json, not {mimetype or 'none'}", logging.INFO
            )
        raw, refusal = read_body(channel_id)
        if refusal:
            return refusal
        try:
            provider._ai_verify_request(channel, request_headers(), raw)
        except WebhookReject as exc:
            return reject(channel_id, exc.status, exc.reason)
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return reject(channel_id, 400, "malformed JSON", logging.INFO)
        try:
            result, refusal = store_items(channel, provider, raw, payload)
        except Exception:
            _logger.exception("crm_ai_agent webhook: could not store the body of channel %s", channel_id)
            request.env.cr.rollback()
            return json_response(503, ok=False, error="temporarily unavailable, retry")
        if refusal:
            return refusal
        stored, duplicates = result
        return json_response(200, ok=True, stored=stored, duplicates=duplicates)

    @http.route("/crm_ai_agent/ping", type="http", auth="public", methods=["GET"], csrf=False, save_session=False)
    def ping(self):
        """Liveness probe, and the baseline the webhook benchmark compares against."""
        return request.make_response("ok", headers=[("Content-Type", "text/plain")])
