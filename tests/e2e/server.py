"""A real Odoo 18 server running crm_ai_agent, on a fresh database, for end-to-end scripts.

What it does, each step bounded in time and on 127.0.0.1 only:

1. creates the database ``crm_ai_bench_<pid>_<time>`` with ``crm_ai_agent`` installed, demo data off
   (``odoo -i crm_ai_agent --without-demo=all --stop-after-init``);
2. in ``odoo shell``: sets the admin password, makes sure admin is a salesperson, and creates a
   WhatsApp Cloud channel with a known app secret (its API base URL points at a closed local port,
   so nothing ever leaves the machine);
3. starts Odoo in prefork mode (``--workers=2 --max-cron-threads=1`` by default, a gevent port for
   ``/websocket``) on free ports with the project's ``odoo.conf``, and waits for ``/web/health`` and
   ``/websocket/health``;
4. at the end stops every process it started (SIGTERM, then SIGKILL of its process group) and drops
   the database and its data directory.

As a module::

    from tests.e2e.server import OdooServer, wa_text, meta_body
    with OdooServer() as srv:
        body = meta_body(wa_text("wamid.1", "5511987650001", "Oi"))
        status, _headers, data = srv.post_webhook(body)

As a command (keeps a server up for manual runs; Ctrl-C stops and drops it)::

    python3 tests/e2e/server.py [--hold SECONDS] [--workers 2] [--max-cron-threads 1] [--keep]
    python3 tests/e2e/server.py --drop crm_ai_bench_1234_1700000000
"""

import argparse
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.harness import odoo_env  # noqa: E402

DB_PREFIX = "crm_ai_bench_"
APP_SECRET = "crm-ai-bench-app-secret-0123456789abcdef"
VERIFY_TOKEN = "crm-ai-bench-verify-token"
ADMIN_LOGIN = "admin"
ADMIN_PASSWORD = "admin"
MODULES = "crm_ai_agent"
SETUP_MARK = "CRM_AI_E2E_SETUP="

CREATE_TIMEOUT = 900
SETUP_TIMEOUT = 300
START_TIMEOUT = 180
STOP_TIMEOUT = 30

SETUP_SCRIPT = r"""
import json
admin = env.ref("base.user_admin")
admin.write({"login": %(login)r, "password": %(password)r})
salesman = env.ref("sales_team.group_sale_salesman")
if salesman not in admin.groups_id:
    admin.write({"groups_id": [(4, salesman.id)]})
team = env.ref("sales_team.team_sales_department", raise_if_not_found=False)
channel = env["crm.ai.channel"].create({
    "name": "WhatsApp E2E",
    "channel_type": "whatsapp_cloud",
    "meta_app_secret": %(secret)r,
    "meta_verify_token": %(verify)r,
    "meta_access_token": "e2e-token",
    "whatsapp_phone_number_id": "1234567890",
    "api_base_url": "http://127.0.0.1:9",
    "team_id": team.id if team else False,
})
env.cr.commit()
print(%(mark)r + json.dumps({
    "channel_id": channel.id,
    "webhook_path": channel._ai_webhook_path(),
    "admin_id": admin.id,
    "admin_partner_id": admin.partner_id.id,
    "company_id": channel.company_id.id,
    "salesman_group_id": salesman.id,
}), flush=True)
"""


LAUNCHER = """\
import sys

from odoo.cli.command import main

sys.exit(main())
"""


class ServerError(RuntimeError):
    pass


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ----------------------------------------------------------------------
# WhatsApp Cloud payloads, as Meta builds and signs them
# ----------------------------------------------------------------------


def wa_text(wamid, wa_id, text, name="Cliente", ts=None, phone_number_id="1234567890"):
    """A WhatsApp Cloud API text message notification (same shape as crm_ai_agent/tests/common.py)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": wamid,
                                    "timestamp": str(ts or int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def meta_body(payload):
    """Bytes as Meta sends them: compact JSON, unicode ASCII-escaped."""
    return json.dumps(payload, separators=(",", ":")).encode()


def meta_signature(body, secret=APP_SECRET):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def br_mobile(n, salt=0):
    """A valid, distinct Brazilian mobile wa_id (São Paulo, 9 digits) for sender number ``n``."""
    return f"55119{(6000_0000 + (salt * 100_000 + n) % 3000_0000):08d}"


# ----------------------------------------------------------------------
# Minimal HTTP client (one connection per request, as Odoo's prefork workers close them)
# ----------------------------------------------------------------------


def http_request(port, method, path, body=None, headers=None, timeout=30, host="127.0.0.1"):
    """Return ``(status, headers, body_bytes)``."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def export_snapshot(rev, dest):
    """Export the addons and odoo.conf of git revision ``rev`` into ``dest`` (read-only for the repository).

    Lets a run measure one fixed revision while the working tree changes. Returns ``(dest, commit)``.
    """
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    dest.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", "archive", commit, *odoo_env.ADDONS, odoo_env.CONF.name], cwd=ROOT, stdout=subprocess.PIPE
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise ServerError(f"git archive {rev} failed")
    return dest, commit


class OdooServer:
    """Create a database, start Odoo on it, and clean everything up (a context manager)."""

    def __init__(
        self,
        dbname=None,
        workers=2,
        max_cron_threads=1,
        keep=False,
        extra_args=(),
        env=None,
        log_level=None,
        verbose=True,
        snapshot=None,
        existing=False,
        db_filter=False,
        addons_root=None,
    ):
        self.dbname = dbname or f"{DB_PREFIX}{os.getpid()}_{int(time.time())}"
        if not self.dbname.startswith(DB_PREFIX):
            raise ValueError(f"database names must start with {DB_PREFIX}")
        self.workers = workers
        self.max_cron_threads = max_cron_threads
        self.keep = keep
        self.extra_args = list(extra_args)
        self.extra_env = dict(env or {})
        self.log_level = log_level
        self.verbose = verbose
        self.odoo_dir, pythonpath = odoo_env.locate_odoo()
        __, self.env = odoo_env.odoo_command(pythonpath)
        self.env.update(self.extra_env)
        self.settings = odoo_env.db_settings()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.dbname}_"))
        # the filestore belongs with the database: a kept database keeps its data directory
        self.data_dir = Path(tempfile.gettempdir()) / f"{self.dbname}.data"
        # Not ``python -m odoo``: the prefork master starts the gevent process as
        # ``sys.executable sys.argv[0] gevent ...``, which needs a script path in argv[0].
        launcher = self.workdir / "odoo-launcher.py"
        launcher.write_text(LAUNCHER)
        self.base_cmd = [sys.executable, str(launcher)]
        self.snapshot = snapshot
        self.source_root, self.source_rev = ROOT, None
        if snapshot:
            self.source_root, self.source_rev = export_snapshot(snapshot, self.workdir / "src")
        elif addons_root:
            self.source_root = Path(addons_root).resolve()
        self.conf = self.source_root / odoo_env.CONF.name
        self.addons_path = ",".join(
            str(self.source_root) if p == str(ROOT) else p for p in odoo_env.addons_path(self.odoo_dir).split(",")
        )
        self.log_path = self.workdir / "odoo.log"
        self.http_port = None
        self.gevent_port = None
        self.proc = None
        self.info = {}
        self.created = False
        self.existing = existing
        # --database alone, as docker/compose.yaml and docker/k8s/ run it; --db-filter on top makes Odoo
        # list the databases on a new PostgreSQL connection for every request without a session
        self.db_filter = db_filter

    # ------------------------------------------------------------------
    def say(self, text):
        if self.verbose:
            print(f"[server] {text}", flush=True)

    def _common_args(self):
        return [
            *self.base_cmd,
            "-c",
            str(self.conf),
            f"--addons-path={self.addons_path}",
            *odoo_env.db_args(self.settings),
            f"--data-dir={self.data_dir}",
            "-d",
            self.dbname,
            *([f"--db-filter=^{self.dbname}$"] if self.db_filter else []),
        ]

    def _run(self, args, timeout, stdin_text=None, label="odoo"):
        log = self.workdir / f"{label}.log"
        self.say(f"{label}: {' '.join(args[len(self.base_cmd) :])}")
        with open(log, "w", encoding="utf-8") as out:
            try:
                proc = subprocess.run(
                    args,
                    env=self.env,
                    cwd=ROOT,
                    input=stdin_text,
                    text=True,
                    stdout=subprocess.PIPE,
                    stderr=out,
                    timeout=timeout,
                    check=False,
                    start_new_session=True,
                )
            except subprocess.TimeoutExpired as exc:
                raise ServerError(f"{label} took more than {timeout}s (log: {log})") from exc
        if proc.returncode != 0:
            raise ServerError(f"{label} exited with {proc.returncode}:\n{tail(log)}")
        return proc.stdout

    # ------------------------------------------------------------------
    def create_database(self):
        if odoo_env.database_exists(self.dbname, self.settings):
            raise ServerError(f"database {self.dbname} already exists")
        started = time.monotonic()
        self.created = True
        self._run(
            [
                *self._common_args(),
                "-i",
                MODULES,
                "--without-demo=all",
                "--stop-after-init",
                "--workers=0",
                "--max-cron-threads=0",
                "--http-interface=127.0.0.1",
                f"--http-port={free_port()}",
                f"--gevent-port={free_port()}",
                "--log-level=warn",
            ],
            CREATE_TIMEOUT,
            label="install",
        )
        self.say(f"database {self.dbname} created in {time.monotonic() - started:.0f}s")
        script = SETUP_SCRIPT % {
            "login": ADMIN_LOGIN,
            "password": ADMIN_PASSWORD,
            "secret": APP_SECRET,
            "verify": VERIFY_TOKEN,
            "mark": SETUP_MARK,
        }
        out = self._run(
            [
                *self.base_cmd,
                "shell",
                *self._common_args()[len(self.base_cmd) :],
                "--no-http",
                "--workers=0",
                "--max-cron-threads=0",
                "--log-level=warn",
                "--shell-interface=python",
            ],
            SETUP_TIMEOUT,
            stdin_text=script,
            label="setup",
        )
        for line in out.splitlines():
            if line.startswith(SETUP_MARK):
                self.info = json.loads(line[len(SETUP_MARK) :])
                break
        else:
            raise ServerError(f"the setup script printed no result:\n{out[-2000:]}")
        self.say(f"channel {self.info['channel_id']} ready")
        return self.info

    def attach_database(self):
        """Use a database made earlier by :meth:`create_database` (kept with ``keep=True``)."""
        conn = self.pg()
        try:
            with conn.cursor() as cr:
                cr.execute(
                    "SELECT id, webhook_token, company_id FROM crm_ai_channel WHERE name = 'WhatsApp E2E' "
                    "ORDER BY id LIMIT 1"
                )
                channel_id, token, company_id = cr.fetchone()
                cr.execute("SELECT u.id, u.partner_id FROM res_users u WHERE u.login = %s", (ADMIN_LOGIN,))
                admin_id, partner_id = cr.fetchone()
        finally:
            conn.close()
        self.info = {
            "channel_id": channel_id,
            "webhook_path": f"/crm_ai_agent/webhook/{token}",
            "admin_id": admin_id,
            "admin_partner_id": partner_id,
            "company_id": company_id,
        }
        return self.info

    def start(self, timeout=START_TIMEOUT):
        if self.proc and self.proc.poll() is None:
            raise ServerError("already running")
        self.http_port = self.http_port or free_port()
        self.gevent_port = self.gevent_port or free_port()
        args = [
            *self._common_args(),
            f"--workers={self.workers}",
            f"--max-cron-threads={self.max_cron_threads}",
            "--http-interface=127.0.0.1",
            f"--http-port={self.http_port}",
            f"--gevent-port={self.gevent_port}",
            f"--logfile={self.log_path}",
            *([f"--log-level={self.log_level}"] if self.log_level else []),
            *self.extra_args,
        ]
        self.say(
            f"start: workers={self.workers} cron={self.max_cron_threads} http={self.http_port} "
            f"gevent={self.gevent_port} log={self.log_path}"
        )
        out = open(self.workdir / "odoo.stdout", "a", encoding="utf-8")
        self._stdout = out
        self.proc = subprocess.Popen(
            args,
            env=self.env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        for port, path in ((self.http_port, "/web/health"), (self.gevent_port, "/websocket/health")):
            while True:
                if self.proc.poll() is not None:
                    raise ServerError(f"Odoo exited with {self.proc.returncode}:\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    raise ServerError(f"Odoo not healthy on port {port} after {timeout}s:\n{self.log_tail()}")
                with contextlib.suppress(OSError, http.client.HTTPException):
                    status, _h, _b = http_request(port, "GET", path, timeout=5)
                    if status == 200:
                        break
                time.sleep(0.2)
        self.say(f"healthy after {timeout - (deadline - time.monotonic()):.1f}s")
        return self

    def stop(self, kill=False):
        """Stop every process of the server (SIGTERM, or SIGKILL at once with ``kill``)."""
        if not self.proc:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None and not kill:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        # forked workers may outlive the master for a moment: wait until the group is empty
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _group_alive(pgid):
            time.sleep(0.1)
        self.proc = None
        with contextlib.suppress(Exception):
            self._stdout.close()

    def restart(self, kill=False):
        self.stop(kill=kill)
        return self.start()

    def drop(self):
        """Drop the database (made here or attached) with its data directory, unless ``keep``."""
        if self.keep:
            self.say(f"kept: database {self.dbname}, data {self.data_dir}, logs {self.workdir}")
            return
        if self.created or self.existing:
            odoo_env.drop_database(self.dbname, self.settings)
            self.say(f"database {self.dbname} dropped")
            self.created = self.existing = False
        shutil.rmtree(self.data_dir, ignore_errors=True)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        try:
            if self.existing:
                self.attach_database()
            else:
                self.create_database()
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            self.drop()
        return False

    # ------------------------------------------------------------------
    # processes
    # ------------------------------------------------------------------
    def processes(self):
        """``{"master": pid, "http": [pids], "cron": [pids], "gevent": [pids]}`` of the running server.

        Workers are forks of the master with the same command line: HTTP workers still hold the
        listening socket, cron workers close it; the gevent process runs ``odoo gevent``.
        """
        import psutil

        master = psutil.Process(self.proc.pid)
        found = {"master": master.pid, "http": [], "cron": [], "gevent": []}
        for child in master.children(recursive=False):
            try:
                if "gevent" in child.cmdline():
                    found["gevent"].append(child.pid)
                    continue
                listening = any(
                    c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == self.http_port
                    for c in child.connections(kind="tcp")
                )
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            found["http" if listening else "cron"].append(child.pid)
        return found

    def kill_cron_workers(self):
        """SIGKILL the cron worker processes (the master forks new ones). Returns their pids."""
        pids = self.processes()["cron"]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    # ------------------------------------------------------------------
    # clients
    # ------------------------------------------------------------------
    @property
    def webhook_path(self):
        return self.info["webhook_path"]

    def url(self, path="/", port=None):
        return f"http://127.0.0.1:{port or self.http_port}{path}"

    def ws_url(self):
        from tests.e2e.wsclient import WS_VERSION

        return f"ws://127.0.0.1:{self.gevent_port}/websocket?version={WS_VERSION}"

    def request(self, method, path, body=None, headers=None, timeout=30):
        return http_request(self.http_port, method, path, body=body, headers=headers, timeout=timeout)

    def post_webhook(self, body, signature=True, headers=None, secret=APP_SECRET, timeout=30):
        hdrs = {"Content-Type": "application/json"}
        if signature is True:
            hdrs["X-Hub-Signature-256"] = meta_signature(body, secret)
        elif signature:
            hdrs["X-Hub-Signature-256"] = signature
        hdrs.update(headers or {})
        return self.request("POST", self.webhook_path, body=body, headers=hdrs, timeout=timeout)

    def pg(self, dbname=None, application_name="crm_ai_e2e"):
        """A new autocommit psycopg2 connection to the server's database (or to ``dbname``)."""
        import psycopg2

        kwargs = {
            "host": self.settings["host"],
            "port": self.settings["port"],
            "dbname": dbname or self.dbname,
            "application_name": application_name,
        }
        if self.settings["user"]:
            kwargs["user"] = self.settings["user"]
        if self.settings["password"]:
            kwargs["password"] = self.settings["password"]
        conn = psycopg2.connect(**kwargs)
        conn.autocommit = True
        return conn

    def wake_cron(self):
        """Send the notification ``ir.cron._trigger()`` sends: the cron worker polls its jobs now."""
        conn = self.pg(dbname="postgres")
        try:
            with conn.cursor() as cr:
                cr.execute("SELECT pg_notify('cron_trigger', %s)", (self.dbname,))
        finally:
            conn.close()

    def login(self, login=ADMIN_LOGIN, password=ADMIN_PASSWORD):
        """Authenticate over JSON-RPC; return the ``session_id`` cookie value."""
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "id": 1,
                "params": {"db": self.dbname, "login": login, "password": password},
            }
        ).encode()
        status, headers, data = self.request(
            "POST", "/web/session/authenticate", body=body, headers={"Content-Type": "application/json"}
        )
        result = json.loads(data or b"{}")
        if status != 200 or "error" in result or not result.get("result", {}).get("uid"):
            raise ServerError(f"login failed ({status}): {data[:500]!r}")
        cookie = headers.get("set-cookie", "")
        for part in cookie.split(";"):
            name, __, value = part.strip().partition("=")
            if name == "session_id":
                return value
        raise ServerError(f"no session cookie in {cookie!r}")

    def log_tail(self, lines=40):
        return tail(self.log_path, lines) + tail(self.workdir / "odoo.stdout", lines)


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def tail(path, lines=60):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except FileNotFoundError:
        return f"({path} does not exist)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-cron-threads", type=int, default=1)
    parser.add_argument("--hold", type=float, default=0, help="seconds to keep it up (0: until Ctrl-C)")
    parser.add_argument("--keep", action="store_true", help="keep the database and its directory at the end")
    parser.add_argument("--db-filter", action="store_true", help="serve the database with --db-filter too")
    parser.add_argument(
        "--snapshot", metavar="REV", help="run the addons of this git revision (e.g. HEAD) instead of the working tree"
    )
    parser.add_argument(
        "--addons-root",
        metavar="DIR",
        help="a directory holding the addons and odoo.conf "
        "(e.g. an exported and modified copy) instead of the working tree",
    )
    parser.add_argument("--drop", metavar="DB", help=f"drop a leftover {DB_PREFIX}* database and exit")
    args = parser.parse_args(argv)
    if args.drop:
        if not args.drop.startswith(DB_PREFIX):
            parser.error(f"only {DB_PREFIX}* databases")
        odoo_env.drop_database(args.drop, odoo_env.db_settings())
        print(f"dropped {args.drop}")
        return 0
    with OdooServer(
        workers=args.workers,
        max_cron_threads=args.max_cron_threads,
        keep=args.keep,
        snapshot=args.snapshot,
        db_filter=args.db_filter,
        addons_root=args.addons_root,
    ) as srv:
        print(
            json.dumps(
                {
                    "db": srv.dbname,
                    "http": srv.url(),
                    "websocket": srv.ws_url(),
                    "webhook": srv.url(srv.webhook_path),
                    "app_secret": APP_SECRET,
                    "admin": f"{ADMIN_LOGIN}/{ADMIN_PASSWORD}",
                    "log": str(srv.log_path),
                    "addons": str(srv.source_root),
                    "revision": srv.source_rev,
                    **srv.info,
                },
                indent=2,
            ),
            flush=True,
        )
        deadline = time.monotonic() + args.hold if args.hold else None
        try:
            while deadline is None or time.monotonic() < deadline:
                if srv.proc.poll() is not None:
                    print("Odoo exited", file=sys.stderr)
                    return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
