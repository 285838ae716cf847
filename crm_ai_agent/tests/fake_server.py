"""A real local HTTP server that plays a provider (Meta Graph, Telegram, Evolution, an LLM).

Tests point a channel's ``api_base_url`` (or the LLM base URL) at it. It
records every request and answers from a queue of scripted responses, or
with a default handler. Odoo's test runner lets requests to 127.0.0.1 through.

A response may carry headers: ``queue(429, body, headers={"Retry-After": "30"})``, or a
default handler returning ``(status, body, headers)``. Headers are a dict or a list of
``(name, value)`` pairs (a name may repeat); a ``Content-Type`` given there replaces the
default one, ``Content-Length`` is always computed.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeProvider:
    def __init__(self, default=None):
        self.requests = []
        self.responses = []  # list of (status, body dict | bytes, delay seconds[, headers])
        self.default = default or (lambda req: (200, {"ok": True}))
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                req = {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                    "raw": raw,
                }
                with fake._lock:
                    fake.requests.append(req)
                    scripted = fake.responses.pop(0) if fake.responses else None
                if scripted:
                    status, payload, delay, *extra = scripted
                else:
                    status, payload, *extra = fake.default(req)
                    delay = 0
                headers = _header_pairs(extra[0] if extra else None)
                if delay:
                    time.sleep(delay)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    if not any(name.lower() == "content-type" for name, _value in headers):
                        self.send_header(
                            "Content-Type",
                            "application/json" if not isinstance(payload, bytes) else "application/octet-stream",
                        )
                    for name, value in headers:
                        if name.lower() != "content-length":
                            self.send_header(name, str(value))
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def queue(self, status, body, delay=0, headers=None):
        """Script the next answer; ``headers``: a dict or ``(name, value)`` pairs sent with it."""
        self.responses.append((status, body, delay) if headers is None else (status, body, delay, headers))


def _header_pairs(headers):
    if not headers:
        return []
    items = headers.items() if isinstance(headers, dict) else headers
    return [(str(name), str(value)) for name, value in items]
