"""Public webhook of every channel: verify, store, enqueue, answer.

Nothing slow happens here: the provider gets its answer as soon as the raw
items are stored; contacts, leads and AI run later in ``crm.ai.message``'s
queue. Every refusal is a 4xx with a log line, never a 500, and never writes
a row.

A POST is handled by :func:`handle_post`, whoever serves it: the Odoo route
below, or the direct WSGI path of ``direct.py`` that serves the same POSTs
without Odoo's HTTP layer (session, routing, dispatch) when it can.
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


class Refused(Exception):
    """A request refused with a 4xx: nothing was written."""

    def __init__(self, status, reason, level=logging.WARNING):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.level = level
        self.channel_id = None


class WebhookPost:
    """One POST to a webhook URL, read the same way by the Odoo route and the direct path.

    ``read(n)`` reads at most ``n`` bytes of the body; ``content_length`` is None when the
    request announced none (chunked).
    """

    __slots__ = ("content_length", "headers", "mimetype", "read", "remote_addr", "token")

    def __init__(self, token, mimetype, content_length, headers, read, remote_addr):
        self.token = token
        self.mimetype = mimetype
        self.content_length = content_length
        self.headers = headers
        self.read = read
        self.remote_addr = remote_addr


def max_body_bytes(env):
    value = env["ir.config_parameter"].sudo().get_param("crm_ai_agent.webhook_max_bytes") or config.get(
        "crm_ai_agent_webhook_max_bytes"
    )
    try:
        return int(value) if value else DEFAULT_MAX_BYTES
    except (TypeError, ValueError):
        return DEFAULT_MAX_BYTES


def log_refusal(channel_id, status, reason, remote_addr, level=logging.WARNING):
    _logger.log(
        level,
        "crm_ai_agent webhook refused (channel=%s, status=%s, ip=%s): %s",
        channel_id or "-",
        status,
        remote_addr,
        reason,
    )


def json_response(status, **data):
    return request.make_json_response(data, status=status)


def reject(channel_id, status, reason, level=logging.WARNING):
    log_refusal(channel_id, status, reason, request.httprequest.remote_addr, level)
    return json_response(status, ok=False, error=reason)


def read_limited(env, content_length, read):
    """Raw body within the size limit; raises Refused(413) beyond it, before reading it all."""
    limit = max_body_bytes(env)
    if content_length is not None and content_length > limit:
        raise Refused(413, "body too large")
    raw = read(limit + 1)
    if len(raw) > limit:
        raise Refused(413, "body too large")
    return raw


def request_reader(httprequest):
    """``read(n)`` of an Odoo request's body: the body once its announced length is known to be
    within the limit, else at most ``n`` bytes of the stream (Odoo's request hides werkzeug's)."""
    if httprequest.content_length is not None:
        return lambda limit: httprequest.get_data()
    return getattr(httprequest, "_HTTPRequest__wrapped", httprequest).stream.read


def read_body(channel_id):
    """Raw body within the size limit, or a response refusing it (for the Odoo routes)."""
    httprequest = request.httprequest
    try:
        return read_limited(request.env, httprequest.content_length, request_reader(httprequest)), None
    except Refused as exc:
        return None, reject(channel_id, exc.status, exc.reason, exc.level)


def lowercase_headers(headers):
    return {k.lower(): v for k, v in headers.items()}


def request_headers():
    return lowercase_headers(request.httprequest.headers)


def store_items(env, channel, provider, raw, payload):
    """Parse and insert; return ``(stored, duplicates)``, or raise Refused(400) for a payload
    the provider's format rules out. A parser bug must not lose the message: the raw body is
    kept as a failed event."""
    try:
        items = provider._ai_parse(channel, payload)
    except inbound.PayloadError as exc:
        raise Refused(400, f"unexpected payload: {exc}", logging.INFO) from None
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
    Message = env["crm.ai.message"].sudo()
    try:
        return Message._ai_store_inbound(channel, items)
    except psycopg2.errors.SerializationFailure:
        # A simultaneous redelivery committed the same item first (repeatable read): a fresh
        # transaction sees it, and the item counts as a duplicate. Nothing else was written yet.
        env.cr.rollback()
        return Message._ai_store_inbound(channel, items)


def handle_post(env, post, recheck=None):
    """Verify, store and answer one webhook POST: ``(status, data)`` of the JSON answer.

    Refusals are logged and write nothing; a failure to store answers 503 so that the
    provider delivers the body again. ``recheck``, when given, is called before a refusal
    is answered: when it returns True (the caches the request was checked against have just
    been refreshed), the request is handled once more.
    """
    status, data, refused = _handle_post(env, post)
    if refused and recheck is not None and recheck():
        env.invalidate_all()
        status, data, refused = _handle_post(env, post)
    if refused:
        log_refusal(refused.channel_id, refused.status, refused.reason, post.remote_addr, refused.level)
    return status, data


def _handle_post(env, post):
    """``(status, data, refused)``: ``refused`` is the :class:`Refused` answered, if any."""
    channel_id = None
    try:
        channel = env["crm.ai.channel"]._ai_webhook_channel(post.token)
        if not channel:
            raise Refused(404, "unknown or inactive channel", logging.INFO)
        channel_id = channel.id
        if post.mimetype not in JSON_TYPES:
            raise Refused(400, f"content type must be application/json, not {post.mimetype or 'none'}", logging.INFO)
        raw = read_limited(env, post.content_length, post.read)
        provider = channel._ai_provider()
        try:
            provider._ai_verify_request(channel, post.headers, raw)
        except WebhookReject as exc:
            raise Refused(exc.status, exc.reason) from None
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            raise Refused(400, "malformed JSON", logging.INFO) from None
        try:
            stored, duplicates = store_items(env, channel, provider, raw, payload)
        except Refused:
            raise
        except Exception:
            _logger.exception("crm_ai_agent webhook: could not store the body of channel %s", channel_id)
            env.cr.rollback()
            return 503, {"ok": False, "error": "temporarily unavailable, retry"}, None
    except Refused as exc:
        exc.channel_id = channel_id
        return exc.status, {"ok": False, "error": exc.reason}, exc
    return 200, {"ok": True, "stored": stored, "duplicates": duplicates}, None


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
        httprequest = request.httprequest
        if httprequest.method == "GET":
            return self._webhook_handshake(token)
        post = WebhookPost(
            token,
            httprequest.mimetype,
            httprequest.content_length,
            request_headers(),
            request_reader(httprequest),
            httprequest.remote_addr,
        )
        status, data = handle_post(request.env, post)
        return json_response(status, **data)

    def _webhook_handshake(self, token):
        channel = request.env["crm.ai.channel"]._ai_webhook_channel(token)
        if not channel:
            return reject(None, 404, "unknown or inactive channel", logging.INFO)
        try:
            body = channel._ai_provider()._ai_handshake(channel, request.httprequest.args)
        except WebhookReject as exc:
            return reject(channel.id, exc.status, exc.reason)
        return request.make_response(body, headers=[("Content-Type", "text/plain")])

    @http.route("/crm_ai_agent/ping", type="http", auth="public", methods=["GET"], csrf=False, save_session=False)
    def ping(self):
        """Liveness probe, and the baseline the webhook benchmark compares against."""
        return request.make_response("ok", headers=[("Content-Type", "text/plain")])
