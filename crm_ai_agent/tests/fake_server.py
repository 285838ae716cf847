"""A real local HTTP server that plays a provider (Meta Graph, Telegram, Evolution, an LLM).

Tests point a channel's ``api_base_url`` (or the LLM base URL) at it. It
records every request and answers from a queue of scripted responses, or
with a default handler. Odoo's test runner lets requests to 127.0.0.1 through.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeProvider:
    def __init__(self, default=None):
        self.requests = []
        self.responses = []  # list of (status, body dict | bytes, delay seconds)
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
                status, payload, delay = scripted if scripted else (*fake.default(req), 0)
                if delay:
                    time.sleep(delay)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header(
                        "Content-Type",
                        "application/json" if not isinstance(payload, bytes) else "application/octet-stream",
                    )
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

    def queue(self, status, body, delay=0):
        self.responses.append((status, body, delay))
