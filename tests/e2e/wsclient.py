"""Listen to Odoo 18's bus on ``/websocket`` the way the web client's worker does.

Protocol (``bus/websocket.py``, ``bus/static/src/workers/websocket_worker.js``): open
``/websocket?version=<worker version>`` on the gevent port with the session cookie, send
``{"event_name": "subscribe", "data": {"channels": [], "last": <last bus id>}}``; the server adds the
user's groups and partner to the channels, and pushes JSON arrays of
``{"id": n, "message": {"type": ..., "payload": ...}}``.
"""

import json
import threading
import time

import websocket

WS_VERSION = "18.0-5"  # WebsocketConnectionHandler._VERSION in Odoo 18
LEAD_UPDATE = "crm_ai_agent/lead_update"


class BusListener(threading.Thread):
    """Record, with ``time.monotonic()``, when each lead first shows up in a ``lead_update`` notification."""

    def __init__(self, url, session_id, origin, last=0, types=(LEAD_UPDATE,)):
        super().__init__(daemon=True, name="bus-listener")
        self.url = url
        self.session_id = session_id
        self.origin = origin
        self.last = last
        self.types = set(types)
        self.first_seen = {}  # lead id -> monotonic time of the first notification naming it
        self.notifications = []  # (monotonic time, id, type, payload)
        self.errors = []
        self.ready = threading.Event()
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self.ws = None

    def run(self):
        try:
            self.ws = websocket.create_connection(
                self.url,
                cookie=f"session_id={self.session_id}",
                origin=self.origin,
                timeout=5,
                enable_multithread=True,
            )
            self.ws.send(json.dumps({"event_name": "subscribe", "data": {"channels": [], "last": self.last}}))
            self.ready.set()
            self.ws.settimeout(0.5)
            while not self._halt.is_set():
                try:
                    raw = self.ws.recv()
                except websocket.WebSocketTimeoutException:
                    continue
                now = time.monotonic()
                if not raw:
                    continue
                self._handle(now, raw)
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            if not self._halt.is_set():
                self.errors.append(repr(exc))
        finally:
            self.ready.set()

    def _handle(self, now, raw):
        try:
            batch = json.loads(raw)
        except ValueError:
            return
        with self._lock:
            for notif in batch if isinstance(batch, list) else [batch]:
                message = notif.get("message") or {}
                kind = message.get("type")
                if kind not in self.types:
                    continue
                payload = message.get("payload") or {}
                self.notifications.append((now, notif.get("id"), kind, payload))
                for lead_id in payload.get("lead_ids") or []:
                    self.first_seen.setdefault(lead_id, now)

    def seen(self, lead_id):
        with self._lock:
            return self.first_seen.get(lead_id)

    def stop(self):
        self._halt.set()
        if self.ws:
            try:
                self.ws.close()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        self.join(5)
