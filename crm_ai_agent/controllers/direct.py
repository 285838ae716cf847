"""Direct WSGI path of the webhook POSTs.

A webhook POST needs nothing of Odoo's HTTP layer: no session, no user, no routing table, no
dispatch chain, no second cursor to match a route. When a worker already serves the database,
this path answers ``POST /crm_ai_agent/webhook/<token>`` itself with
:func:`.webhook.handle_post`, on a cursor of that database's registry and with the transaction
handling of Odoo's own requests: registry and cache signaling checked first, concurrency
failures retried, commit, post-commit hooks (the cron wake-up), cache changes signaled.

Everything else goes on to Odoo unchanged, and so does a webhook POST this path cannot place
alone: several databases to choose from, a registry not loaded yet in this worker, the addon not
installed in that database, no ``Content-Length``. GET handshakes always go through the Odoo
route. Both paths give the same answers and logs, since both call ``handle_post``.

``crm_ai_agent_webhook_direct = False`` in the server configuration turns this path off.
"""

import contextlib
import functools
import json
import logging
import threading
import time
import types

import psycopg2
from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import HTTP_STATUS_CODES, parse_options_header
from werkzeug.middleware.proxy_fix import ProxyFix

import odoo
from odoo import api, http
from odoo.modules.registry import Registry
from odoo.service import db as service_db
from odoo.service import model as service_model
from odoo.tools import config, str2bool

from .webhook import WebhookPost, handle_post, lowercase_headers

_logger = logging.getLogger(__name__)

PREFIX = "/crm_ai_agent/webhook/"
DB_LIST_TTL = 10.0
SIGNALING_INTERVAL = 0.2
_signaling_checked = {}
_kept = threading.local()
_databases = types.SimpleNamespace(names=None, at=0.0)


def enabled():
    return str2bool(str(config.get("crm_ai_agent_webhook_direct", True)), True)


def database_names():
    """The databases Odoo may serve, as ``odoo.http.db_list`` finds them, kept DB_LIST_TTL seconds.

    With a ``dbfilter``, Odoo lists them on a new PostgreSQL connection for every request without
    a session; a webhook POST never has one. A database created meanwhile is not seen here for a
    few seconds (its webhooks then go through Odoo), and one dropped meanwhile fails with a 503.
    """
    now = time.monotonic()
    if _databases.names is None or now - _databases.at > DB_LIST_TTL:
        try:
            _databases.names = service_db.list_dbs(True)
        except psycopg2.OperationalError:
            return []
        _databases.at = now
    return _databases.names


def registry_of(environ):
    """The loaded, ready registry of the only database this request can address, or None."""
    dbs = http.db_filter(database_names(), host=environ.get("HTTP_HOST", ""))
    if len(dbs) != 1:
        return None
    try:
        registry = Registry.registries[dbs[0]]
    except KeyError:
        return None
    if not registry.ready or "crm.ai.message" not in registry:
        return None
    return registry


def body_reader(stream, length):
    """``read(n)``: at most ``n`` bytes of a body of ``length`` bytes, the same bytes on every call."""
    cache = []

    def read(limit):
        if not cache:
            wanted = min(limit, length)
            chunks = []
            while wanted > 0:
                chunk = stream.read(wanted)
                if not chunk:
                    break
                chunks.append(chunk)
                wanted -= len(chunk)
            cache.append(b"".join(chunks))
        return cache[0][:limit]

    return read


def webhook_post(environ, token):
    """The request as :class:`.webhook.WebhookPost`, or None without a valid Content-Length."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if length < 0:
        return None
    if config["proxy_mode"] and environ.get("HTTP_X_FORWARDED_HOST"):
        # as odoo.http.Application: trust the proxy's X-Forwarded-* headers (client address)
        ProxyFix(lambda environ, start_response: [])(environ, lambda status, headers: None)
    content_type = environ.get("CONTENT_TYPE") or ""
    mimetype = parse_options_header(content_type)[0].lower() if content_type else ""
    return WebhookPost(
        token,
        mimetype,
        length,
        lowercase_headers(EnvironHeaders(environ)),
        body_reader(environ["wsgi.input"], length),
        environ.get("REMOTE_ADDR"),
    )


def serve(environ):
    """``(status, data)`` of a webhook POST answered here, or None to let Odoo serve the request."""
    if environ.get("REQUEST_METHOD") != "POST":
        return None
    path = environ.get("PATH_INFO") or ""
    if not path.startswith(PREFIX) or not enabled():
        return None
    token = path[len(PREFIX) :]
    if not token or "/" in token:
        return None
    registry = registry_of(environ)
    if registry is None:
        return None
    post = webhook_post(environ, token)
    if post is None:
        return None
    thread = threading.current_thread()
    thread.query_count = 0
    thread.query_time = 0
    thread.perf_t0 = time.time()
    thread.dbname = registry.db_name
    thread.uid = None
    try:
        return answer(registry, post, kept_cursor(registry))
    except (psycopg2.InterfaceError, psycopg2.OperationalError):
        # the kept connection may have been closed meanwhile (PostgreSQL restarted, pool
        # closed); answer() dropped it: once more on a new one. A commit that did happen makes
        # this a redelivery.
        return answer(registry, post, kept_cursor(registry))


def answer(registry, post, cr):
    """Handle the POST in a transaction of its own, after the registry's signaling check."""
    try:
        registry, checked = check_signaling(registry, cr)
        if "crm.ai.message" not in registry:  # uninstalled since this worker loaded it
            cr.rollback()
            return None

        def recheck():
            # A refusal may come from caches another worker changed since the last check (a
            # channel just created or re-activated, a secret just rotated): check them now, and
            # say whether that cleared any (a reloaded registry serves the next request).
            if checked:
                return False
            before = dict(registry.cache_sequences)
            return check_signaling(registry, cr, force=True)[0] is registry and registry.cache_sequences != before

        env = api.Environment(cr, None, {})
        return service_model.retrying(functools.partial(handle_post, env, post, recheck), env)
    except Exception:
        drop_kept_cursor(cr)
        raise
    finally:
        if cr is not getattr(_kept, "cursor", None):
            cr.close()


def check_signaling(registry, cr, force=False):
    """Odoo's registry and cache signaling check, at most every SIGNALING_INTERVAL seconds:
    ``(registry, checked)``.

    Odoo reads its six signaling sequences at the start of every request, which costs PostgreSQL
    more than storing the webhook's row. Here the check runs as on any request, but at most every
    fifth of a second per worker and database, and again before a refusal is answered: a change
    made in another worker (a channel's secret rotated or the channel archived, a system
    parameter, a module upgraded) applies to accepted webhooks within that time. Changes made in
    the same worker apply at once, as its caches are cleared directly.
    """
    if registry.in_test_mode():
        return registry, True
    now = time.monotonic()
    if not force and now - _signaling_checked.get(registry.db_name, -SIGNALING_INTERVAL) < SIGNALING_INTERVAL:
        return registry, False
    registry = registry.check_signaling(cr)
    _signaling_checked[registry.db_name] = now
    return registry, True


def kept_cursor(registry):
    """This thread's cursor on the registry's database, kept from one webhook POST to the next.

    Each POST is one transaction on it (committed or rolled back before the answer), so no
    transaction stays open between requests; keeping the cursor saves borrowing a connection
    from the pool and resetting it on every request. Only a prefork HTTP worker keeps one (it
    serves one request at a time, on one thread); the threaded server (``--workers=0``, a new
    thread per request), the gevent process and the test runner get a new cursor each time.
    """
    if registry.in_test_mode() or not config["workers"] or odoo.evented:
        return registry.cursor()
    cr = getattr(_kept, "cursor", None)
    if cr is not None and (cr.closed or cr.dbname != registry.db_name):
        drop_kept_cursor()
        cr = None
    if cr is None:
        cr = _kept.cursor = registry.cursor()
    return cr


def drop_kept_cursor(cr=None):
    kept = getattr(_kept, "cursor", None)
    if kept is None or (cr is not None and cr is not kept):
        return
    _kept.cursor = None
    with contextlib.suppress(Exception):
        kept.close()


def respond(start_response, status, data):
    body = json.dumps(data, ensure_ascii=False).encode()
    start_response(
        f"{status} {HTTP_STATUS_CODES.get(status, '')}".strip(),
        [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
        ],
    )
    return [body]


def install():
    """Put the direct path in front of Odoo's WSGI application (once per process)."""
    odoo_call = http.Application.__call__
    if getattr(odoo_call, "crm_ai_direct", False):
        return

    @functools.wraps(odoo_call)
    def __call__(self, environ, start_response):
        try:
            answer = serve(environ)
        except Exception:
            _logger.exception("crm_ai_agent webhook: direct path failed on %s", environ.get("PATH_INFO"))
            answer = 503, {"ok": False, "error": "temporarily unavailable, retry"}
        if answer is None:
            return odoo_call(self, environ, start_response)
        return respond(start_response, *answer)

    __call__.crm_ai_direct = True
    http.Application.__call__ = __call__


install()
