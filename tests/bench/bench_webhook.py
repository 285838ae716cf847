"""Benchmark of the webhook path against a real Odoo server, side by side with the bare controller.

Starts its own server (``tests/e2e/server.py``: fresh ``crm_ai_bench_*`` database, ``--workers=2
--max-cron-threads=1``, gevent port), then measures:

(a) ack throughput: the most requests per second N concurrent clients get from the webhook (signed
    WhatsApp text messages) and from ``GET /crm_ai_agent/ping``, for a fixed number of requests each;
    target: webhook >= 75 % of ping. Also measured with delivery statuses (``(a) statuses``), whose
    processing costs the cron almost nothing: the difference is the CPU the cron worker takes
    from the HTTP workers while it processes the messages of the first run.
(b) ack latency p50/p95/p99 at a fixed offered rate (50 msg/s for 20 s), open loop: request i is sent at
    t0 + i/rate whatever happened before, and its latency counts from that scheduled time (no
    coordinated omission); ping measured the same way; target: webhook p95 <= 50 ms.
(c) end-to-end processing rate, from the first POST to the last message seen processed (state
    ``processed`` and its lead present, polled in PostgreSQL every 20 ms): N first contacts (distinct
    new senders; target >= 15/s) then N follow-ups from the same senders (target >= 30/s).
(d) inbound -> card visible: an admin session listens on ``/websocket``; first contacts are posted at a
    low steady rate and each lead's first ``crm_ai_agent/lead_update`` notification is timed from its
    POST; target p95 <= 1 s. The same is reported for the leads of the (c) burst, and the time the
    lead row became visible in the database.

The table goes to stdout, the figures to ``tests/bench/results/bench_webhook_<time>.json``. Exit
status 0 even when a target is missed (``MISSED`` is printed next to it); non-zero only when the
benchmark itself could not run. Standard library + psycopg2 + websocket-client, 127.0.0.1 only,
bounded request counts, hard time limit (``--time-limit``).

    python3 tests/bench/bench_webhook.py                   # working tree
    python3 tests/bench/bench_webhook.py --snapshot HEAD   # the committed addons only
"""

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.server import (  # noqa: E402
    APP_SECRET,
    OdooServer,
    br_mobile,
    meta_body,
    meta_signature,
    wa_text,
)
from tests.e2e.wsclient import BusListener  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
BENCH_APP = "crm_ai_bench_client"  # application_name of our own connections, left out of the CPU figures
TARGETS = {
    "ack_ratio": 0.75,
    "ack_p95_ms": 50.0,
    "first_contacts_per_s": 15.0,
    "followups_per_s": 30.0,
    "card_p95_s": 1.0,
}


class BenchTimeout(Exception):
    pass


# ----------------------------------------------------------------------
# requests, built before the clock starts
# ----------------------------------------------------------------------


def http_get(port, path):
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").encode()


def http_post_json(port, path, body, headers):
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def webhook_request(srv, wamid, wa_id, text, name):
    body = meta_body(wa_text(wamid, wa_id, text, name=name))
    return http_post_json(
        srv.http_port, srv.webhook_path, body, {"X-Hub-Signature-256": meta_signature(body, APP_SECRET)}
    )


def status_request(srv, wamid, n):
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1234567890"},
                            # a delivery receipt of an outbound message this database never sent: stored like any
                            # item, then skipped by the cron after one indexed search
                            "statuses": [
                                {
                                    "id": wamid,
                                    "status": "delivered",
                                    "timestamp": str(int(time.time())),
                                    "recipient_id": br_mobile(n),
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    body = meta_body(payload)
    return http_post_json(
        srv.http_port, srv.webhook_path, body, {"X-Hub-Signature-256": meta_signature(body, APP_SECRET)}
    )


# ----------------------------------------------------------------------
# load generation (asyncio, one TCP connection per request: Odoo's prefork workers close them)
# ----------------------------------------------------------------------


async def send_once(port, raw, timeout=30.0):
    """Send one prepared request; return ``(status, body)``."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(raw)
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    if not data.startswith(b"HTTP/"):
        return 0, data
    head, __, body = data.partition(b"\r\n\r\n")
    return int(head[9:12]), body


async def closed_loop(port, requests, concurrency, on_sent=None):
    """Send every request with ``concurrency`` clients, each sending its next one when answered."""
    results = [None] * len(requests)
    index = iter(range(len(requests)))

    async def client():
        for i in index:
            started = time.monotonic()
            if on_sent:
                on_sent(i, started)
            try:
                status, body = await send_once(port, requests[i])
            except (OSError, asyncio.TimeoutError) as exc:
                status, body = 0, repr(exc).encode()
            results[i] = (started, time.monotonic(), status, body)

    t0 = time.monotonic()
    await asyncio.gather(*(client() for __ in range(concurrency)))
    return t0, time.monotonic(), results


async def open_loop(port, requests, rate, on_sent=None):
    """Send request i at t0 + i/rate, whatever the previous ones do; latency counts from that time."""
    results = [None] * len(requests)
    tasks = []

    async def one(i, scheduled):
        started = time.monotonic()
        if on_sent:
            on_sent(i, started)
        try:
            status, body = await send_once(port, requests[i])
        except (OSError, asyncio.TimeoutError) as exc:
            status, body = 0, repr(exc).encode()
        results[i] = (scheduled, started, time.monotonic(), status, body)

    t0 = time.monotonic() + 0.05
    for i in range(len(requests)):
        scheduled = t0 + i / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(i, scheduled)))
    await asyncio.gather(*tasks)
    return t0, time.monotonic(), results


def pct(values, p):
    """Percentile with linear interpolation (p in 0..100)."""
    if not values:
        return float("nan")
    data = sorted(values)
    k = (len(data) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def client_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def status_counts(statuses):
    counts = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return {str(k): v for k, v in sorted(counts.items())}


# ----------------------------------------------------------------------
# CPU accounting: this machine may be shared, so wall-clock figures come with the CPU they cost
# ----------------------------------------------------------------------


class CpuMeter:
    """CPU seconds of the server's processes (by role), of PostgreSQL backends of its database, and of the machine.

    ``pg_new_connections``: CPU of the PostgreSQL backends that ended during the run plus the
    postmaster's own (forking them), read from the postmaster's children times. Odoo opens a new
    connection, not a pooled one, for each ``ir.cron._notifydb()`` and, with ``--db-filter``, for
    each request without a session; each costs a few milliseconds of CPU that no long-lived process
    shows. Backends of other programs ending meanwhile count too: look at ``others_pct``.
    """

    def __init__(self, srv):
        import psutil

        self.psutil = psutil
        self.srv = srv

    def _cpu(self, pid):
        try:
            t = self.psutil.Process(pid).cpu_times()
            return t.user + t.system
        except (self.psutil.NoSuchProcess, self.psutil.AccessDenied):
            return None

    def snapshot(self):
        roles = self.srv.processes()
        snap = {"t": time.monotonic(), "roles": {}, "pg": {}}
        for role in ("http", "cron", "gevent"):
            snap["roles"][role] = {pid: self._cpu(pid) for pid in roles[role]}
        conn = self.srv.pg(application_name=BENCH_APP)
        try:
            with conn.cursor() as cr:
                cr.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name <> %s",
                    (self.srv.dbname, BENCH_APP),
                )
                snap["pg"] = {pid: self._cpu(pid) for (pid,) in cr.fetchall()}
                cr.execute("SELECT pg_backend_pid()")
                backend = cr.fetchone()[0]
        finally:
            conn.close()
        try:
            t = self.psutil.Process(backend).parent().cpu_times()
            snap["postmaster"] = t.user + t.system + t.children_user + t.children_system
        except (self.psutil.NoSuchProcess, self.psutil.AccessDenied, AttributeError):
            snap["postmaster"] = None
        times = self.psutil.cpu_times()
        snap["machine_busy"] = sum(times) - times.idle - getattr(times, "iowait", 0)
        snap["client"] = client_cpu()
        snap["load1"] = os.getloadavg()[0]
        return snap

    @staticmethod
    def _delta(before, after):
        total = 0.0
        for pid, value in after.items():
            if value is None:
                continue
            total += value - (before.get(pid) or 0.0)  # a process born during the run counts in full
        return total

    def delta(self, a, b, items):
        elapsed = b["t"] - a["t"]
        roles = {role: self._delta(a["roles"][role], b["roles"][role]) for role in a["roles"]}
        pg = self._delta(a["pg"], b["pg"])
        client = b["client"] - a["client"]
        machine = b["machine_busy"] - a["machine_busy"]
        new_conn = b["postmaster"] - a["postmaster"] if a["postmaster"] is not None and b["postmaster"] else 0.0
        ours = sum(roles.values()) + pg + client + new_conn
        ncpu = os.cpu_count() or 1
        per = (lambda x: round(1000 * x / items, 2)) if items else (lambda x: None)
        return {
            "ms_per_item": {
                **{role: per(v) for role, v in roles.items()},
                "postgres": per(pg),
                "pg_new_connections": per(new_conn),
                "client": per(client),
            },
            "machine_busy_pct": round(100 * machine / elapsed / ncpu, 1),
            "others_pct": round(100 * max(machine - ours, 0) / elapsed / ncpu, 1),
            "load1": [round(a["load1"], 2), round(b["load1"], 2)],
        }


# ----------------------------------------------------------------------
# the database, watched from outside
# ----------------------------------------------------------------------


class DbWatcher(threading.Thread):
    """Poll PostgreSQL and note when each watched message is processed with its lead present.

    Cheap on purpose (it shares the machine with the server): each wamid is looked up once, then
    only the rows still pending are polled by primary key, every ``interval`` seconds.
    """

    def __init__(self, srv, interval=0.05):
        super().__init__(daemon=True, name="db-watcher")
        self.srv = srv
        self.interval = interval
        self.unresolved = set()  # wamids whose row id is not known yet
        self.pending = {}  # row id -> wamid
        self.done = {}  # wamid -> (monotonic time seen, lead id, state)
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.errors = []

    def watch(self, wamids):
        with self.lock:
            self.unresolved.update(w for w in wamids if w not in self.done)

    def _poll(self, cr):
        with self.lock:
            unresolved = list(self.unresolved)
        if unresolved:
            cr.execute(
                "SELECT external_id, id FROM crm_ai_message "
                "WHERE channel_id = %s AND direction = 'in' AND external_id = ANY(%s)",
                (self.srv.info["channel_id"], unresolved),
            )
            rows = cr.fetchall()
            with self.lock:
                for wamid, row_id in rows:
                    self.unresolved.discard(wamid)
                    self.pending[row_id] = wamid
        with self.lock:
            ids = list(self.pending)
        if not ids:
            return
        cr.execute(
            """
            SELECT m.id, m.lead_id, m.state
              FROM crm_ai_message m
         LEFT JOIN crm_lead l ON l.id = m.lead_id
             WHERE m.id = ANY(%s)
               AND (m.state IN ('failed', 'skipped') OR (m.state = 'processed' AND l.id IS NOT NULL))
            """,
            (ids,),
        )
        now = time.monotonic()
        rows = cr.fetchall()
        with self.lock:
            for row_id, lead_id, state in rows:
                wamid = self.pending.pop(row_id)
                self.done[wamid] = (now, lead_id, state)

    def run(self):
        conn = self.srv.pg(application_name=BENCH_APP)
        try:
            with conn.cursor() as cr:
                while not self.stop_event.is_set():
                    self._poll(cr)
                    self.stop_event.wait(self.interval)
        except Exception as exc:  # noqa: BLE001 - reported with the results
            self.errors.append(repr(exc))
        finally:
            conn.close()

    def wait(self, wamids, timeout):
        deadline = time.monotonic() + timeout
        wamids = list(wamids)
        while time.monotonic() < deadline:
            with self.lock:
                if all(w in self.done for w in wamids):
                    return True
            time.sleep(0.05)
        return False

    def stop(self):
        self.stop_event.set()
        self.join(5)


def sql_one(srv, sql, params=()):
    conn = srv.pg(application_name=BENCH_APP)
    try:
        with conn.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchone()[0]
    finally:
        conn.close()


def queue_depth(srv):
    return sql_one(srv, "SELECT count(*) FROM crm_ai_message WHERE state = 'received' AND direction = 'in'")


def wait_idle(srv, timeout, wake_after=None):
    """Wait until the inbox is empty; return ``(seconds, nudges)`` (seconds is None on timeout).

    With ``wake_after``, a cron worker that made no progress for that many seconds while messages
    wait is woken up the way ``ir.cron._trigger()`` does it (counted in ``nudges``).
    """
    started = last_change = time.monotonic()
    last_depth, nudges = None, 0
    while time.monotonic() - started < timeout:
        depth = queue_depth(srv)
        now = time.monotonic()
        if depth == 0:
            return now - started, nudges
        if depth != last_depth:
            last_depth, last_change = depth, now
        elif wake_after and now - last_change > wake_after:
            srv.wake_cron()
            nudges += 1
            last_change = now
        time.sleep(0.2)
    return None, nudges


CRON_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) \d+ INFO \S+ odoo\.addons\.base\.models\.ir_cron: "
    r"Job 'CRM AI Agent: process received messages' \(\d+\) (?P<what>.*)$"
)


def cron_stalls(log_path, offset, min_gap=3.0):
    """Gaps during which the inbox cron sat idle although its last run reported messages remaining."""
    stalls = []
    waiting_since = None
    try:
        handle = open(log_path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return stalls
    with handle:
        handle.seek(offset)
        for line in handle:
            m = CRON_LINE.match(line.rstrip())
            if not m:
                continue
            when = datetime.strptime(m["ts"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            what = m["what"]
            remaining = re.match(r"processed \d+ records, (\d+) records remaining", what)
            if remaining:
                waiting_since = when if int(remaining[1]) else None
            elif what.startswith("starting") and waiting_since is not None:
                if when - waiting_since >= min_gap:
                    stalls.append(round(when - waiting_since, 1))
                waiting_since = None
    return stalls


def db_counts(srv, wamids):
    conn = srv.pg(application_name=BENCH_APP)
    try:
        with conn.cursor() as cr:
            cr.execute(
                "SELECT state, count(*), count(DISTINCT lead_id), count(DISTINCT partner_id) FROM crm_ai_message "
                "WHERE external_id = ANY(%s) GROUP BY state",
                (list(wamids),),
            )
            return {row[0]: {"messages": row[1], "leads": row[2], "partners": row[3]} for row in cr.fetchall()}
    finally:
        conn.close()


def max_bus_id(srv):
    return sql_one(srv, "SELECT coalesce(max(id), 0) FROM bus_bus")


# ----------------------------------------------------------------------
# phases
# ----------------------------------------------------------------------


class Bench:
    def __init__(self, srv, args):
        self.srv = srv
        self.args = args
        self.run_id = f"{os.getpid()}{int(time.time()) % 100000}"
        self.salt = int(time.time()) % 250
        self.next_sender = 0
        self.results = {}
        self.watcher = DbWatcher(srv)
        self.listener = None
        self.cpu = CpuMeter(srv)

    def log(self, text):
        print(f"[bench] {text}", flush=True)

    def new_senders(self, count):
        start = self.next_sender
        self.next_sender += count
        return [(br_mobile(start + i, self.salt), f"Cliente Bench {start + i}") for i in range(count)]

    def messages(self, phase, senders, text="Olá, quero saber o preço do produto"):
        wamids = [f"wamid.bench.{self.run_id}.{phase}.{i}" for i in range(len(senders))]
        raws = [
            webhook_request(self.srv, w, wa_id, text, name) for w, (wa_id, name) in zip(wamids, senders, strict=True)
        ]
        return wamids, raws

    def drain(self, label):
        """Empty the inbox between phases, so that a phase measures only its own messages.

        The cron worker may sit idle for a minute with messages waiting (see ``cron_stalls``): here,
        outside any measurement, it is woken up after 5 s without progress, and that is counted.
        """
        took, nudges = wait_idle(self.srv, self.args.drain_timeout, wake_after=5.0)
        self.results.setdefault("drains", []).append(
            {"after": label, "seconds": round(took, 1) if took is not None else None, "cron_woken": nudges}
        )
        if took is None:
            self.log(f"{label}: inbox not empty after {self.args.drain_timeout}s, going on")
        elif nudges:
            self.log(f"{label}: inbox drained in {took:.0f}s; the idle cron worker had to be woken {nudges}x")
        return took

    # -- warm-up ------------------------------------------------------
    def warm_up(self):
        port = self.srv.http_port
        pings = [http_get(port, "/crm_ai_agent/ping")] * 40
        self.warm_senders = self.new_senders(self.args.clients * 4)
        __, raws = self.messages("warm", self.warm_senders)
        asyncio.run(closed_loop(port, pings, self.args.clients))
        asyncio.run(closed_loop(port, raws, self.args.clients))
        self.drain("warm-up")

    # -- (a) ----------------------------------------------------------
    def run_closed(self, label, raws):
        cpu0 = client_cpu()
        snap = self.cpu.snapshot()
        t0, t1, res = asyncio.run(closed_loop(self.srv.http_port, raws, self.args.clients))
        cpu = client_cpu() - cpu0
        usage = self.cpu.delta(snap, self.cpu.snapshot(), len(raws))
        ok = [r for r in res if r[2] == 200]
        lat = [(r[1] - r[0]) * 1000 for r in ok]
        out = {
            "requests": len(raws),
            "ok": len(ok),
            "statuses": status_counts(r[2] for r in res),
            "seconds": round(t1 - t0, 3),
            "req_per_s": round(len(ok) / (t1 - t0), 1),
            "latency_ms": {"p50": round(pct(lat, 50), 1), "p95": round(pct(lat, 95), 1), "p99": round(pct(lat, 99), 1)},
            "client_cpu_s": round(cpu, 2),
            "cpu": usage,
        }
        self.log(
            f"{label}: {out['req_per_s']} req/s ({out['ok']}/{out['requests']} ok, {out['seconds']}s); "
            f"cpu ms/req {usage['ms_per_item']}; machine {usage['machine_busy_pct']}% busy, others "
            f"{usage['others_pct']}%"
        )
        return out

    def phase_a(self):
        port, n = self.srv.http_port, self.args.requests
        ping_raw = [http_get(port, "/crm_ai_agent/ping")] * n
        # follow-ups from known senders: the ack path is the same for any message
        senders = [self.warm_senders[i % len(self.warm_senders)] for i in range(n)]
        __, msg_raws = self.messages("a", senders)
        status_raws = [status_request(self.srv, f"wamid.bench.{self.run_id}.a_status.{i}", i) for i in range(n)]
        ping1 = self.run_closed("(a) ping", ping_raw)
        hook = self.run_closed("(a) webhook messages", msg_raws)
        backlog = queue_depth(self.srv)
        ping_busy = self.run_closed("(a) ping while the cron drains", ping_raw[: n // 2]) if backlog else None
        drained = self.drain("(a)")
        ping2 = self.run_closed("(a) ping again", ping_raw)
        statuses = self.run_closed("(a) webhook statuses", status_raws)
        self.drain("(a) statuses")
        ping_best = max(ping1["req_per_s"], ping2["req_per_s"])
        self.results["a"] = {
            "clients": self.args.clients,
            "ping": ping1,
            "ping_again": ping2,
            "ping_during_drain": ping_busy,
            "webhook_messages": hook,
            "webhook_statuses": statuses,
            "backlog_after_messages": backlog,
            "backlog_drain_s": drained,
            "ratio_messages": round(hook["req_per_s"] / ping_best, 3),
            "ratio_statuses": round(statuses["req_per_s"] / ping_best, 3),
        }

    # -- (b) ----------------------------------------------------------
    def run_open(self, label, raws, rate):
        cpu0 = client_cpu()
        snap = self.cpu.snapshot()
        t0, t1, res = asyncio.run(open_loop(self.srv.http_port, raws, rate))
        cpu = client_cpu() - cpu0
        usage = self.cpu.delta(snap, self.cpu.snapshot(), len(raws))
        ok = [r for r in res if r[3] == 200]
        lat = [(r[2] - r[0]) * 1000 for r in ok]  # from the scheduled time
        service = [(r[2] - r[1]) * 1000 for r in ok]  # from the actual send
        lag = [(r[1] - r[0]) * 1000 for r in res]
        out = {
            "rate": rate,
            "requests": len(raws),
            "ok": len(ok),
            "statuses": status_counts(r[3] for r in res),
            "seconds": round(t1 - t0, 2),
            "achieved_per_s": round(len(ok) / (t1 - t0), 1),
            "latency_ms": {p: round(pct(lat, int(p[1:])), 1) for p in ("p50", "p95", "p99")}
            | {"max": round(max(lat), 1) if lat else None, "mean": round(statistics.fmean(lat), 1) if lat else None},
            "service_ms": {p: round(pct(service, int(p[1:])), 1) for p in ("p50", "p95", "p99")},
            "client_send_lag_ms_p99": round(pct(lag, 99), 1),
            "client_cpu_s": round(cpu, 2),
            "cpu": usage,
        }
        self.log(
            f"{label}: p50 {out['latency_ms']['p50']} / p95 {out['latency_ms']['p95']} / "
            f"p99 {out['latency_ms']['p99']} ms ({out['ok']}/{out['requests']} ok, send lag p99 "
            f"{out['client_send_lag_ms_p99']} ms; others {usage['others_pct']}% of the machine)"
        )
        return out

    def phase_b(self):
        rate, n = self.args.rate, int(self.args.rate * self.args.duration)
        port = self.srv.http_port
        senders = [self.warm_senders[i % len(self.warm_senders)] for i in range(n)]
        __, raws = self.messages("b", senders)
        ping = self.run_open("(b) ping", [http_get(port, "/crm_ai_agent/ping")] * n, rate)
        hook = self.run_open("(b) webhook", raws, rate)
        backlog = queue_depth(self.srv)
        drained = self.drain("(b)")
        self.results["b"] = {"ping": ping, "webhook": hook, "backlog_at_end": backlog, "backlog_drain_s": drained}

    # -- (c) ----------------------------------------------------------
    def run_e2e(self, label, wamids, raws):
        self.watcher.watch(wamids)
        posted = {}
        cpu0 = client_cpu()
        snap = self.cpu.snapshot()
        log_offset = self.srv.log_path.stat().st_size if self.srv.log_path.exists() else 0
        t0, t1, res = asyncio.run(closed_loop(self.srv.http_port, raws, self.args.clients, on_sent=posted.__setitem__))
        acked = [r for r in res if r[2] == 200]
        complete = self.watcher.wait(wamids, self.args.process_timeout)
        usage = self.cpu.delta(snap, self.cpu.snapshot(), len(wamids))
        done = [self.watcher.done[w] for w in wamids if w in self.watcher.done]
        last = max((d[0] for d in done), default=time.monotonic())
        first_post = min(posted.values())
        processed = [d for d in done if d[2] == "processed"]
        elapsed = last - first_post
        # processing-only rate: from the first message seen processed to the last
        first_done = min((d[0] for d in done), default=last)
        out = {
            "messages": len(wamids),
            "acked": len(acked),
            "processed": len(processed),
            "failed_or_skipped": len(done) - len(processed),
            "complete": complete,
            "post_seconds": round(t1 - t0, 2),
            "ack_per_s": round(len(acked) / (t1 - t0), 1),
            "first_post_to_last_processed_s": round(elapsed, 2),
            "per_s": round(len(processed) / elapsed, 1) if elapsed > 0 else None,
            "first_to_last_processed_s": round(last - first_done, 2),
            "per_s_while_processing": round((len(processed) - 1) / (last - first_done), 1)
            if last > first_done
            else None,
            "client_cpu_s": round(client_cpu() - cpu0, 2),
            "db": db_counts(self.srv, wamids),
            "cpu": usage,
            "cron_stalls_s": cron_stalls(self.srv.log_path, log_offset),
        }
        lag = sorted(self.watcher.done[w][0] - posted[i] for i, w in enumerate(wamids) if w in self.watcher.done)
        out["post_to_processed_s"] = {
            "p50": round(pct(lag, 50), 2),
            "p95": round(pct(lag, 95), 2),
            "max": round(lag[-1], 2) if lag else None,
        }
        self.log(
            f"{label}: {out['processed']}/{out['messages']} processed in {out['first_post_to_last_processed_s']}s "
            f"-> {out['per_s']}/s (posting took {out['post_seconds']}s); cpu ms/msg {usage['ms_per_item']}; "
            f"others {usage['others_pct']}% of the machine"
        )
        return out, posted

    def card_latencies(self, wamids, posted, timeout=5.0):
        """Seconds from each POST to the lead's first bus notification and to the row visible in the database."""
        deadline = time.monotonic() + timeout
        ws, db, missing = [], [], 0
        for i, wamid in enumerate(wamids):
            done = self.watcher.done.get(wamid)
            if not done or not done[1]:
                missing += 1
                continue
            db.append(done[0] - posted[i])
            seen = None
            while seen is None and time.monotonic() < deadline:
                seen = self.listener.seen(done[1]) if self.listener else None
                if seen is None:
                    time.sleep(0.05)
            if seen is None:
                missing += 1
            else:
                ws.append(seen - posted[i])

        def summary(v):
            return {
                "n": len(v),
                "p50": round(pct(v, 50), 3),
                "p95": round(pct(v, 95), 3),
                "p99": round(pct(v, 99), 3),
                "max": round(max(v), 3) if v else None,
            }

        return {"websocket": summary(ws), "db_visible": summary(db), "missing": missing}

    def phase_c(self):
        n = self.args.contacts
        self.drain("before (c)")
        senders = self.new_senders(n)
        wamids, raws = self.messages("c_first", senders)
        first, posted = self.run_e2e("(c) first contacts", wamids, raws)
        first["card_under_load"] = self.card_latencies(wamids, posted)
        self.drain("(c) first contacts")
        wamids2, raws2 = self.messages("c_follow", senders, text="Pode me mandar o catálogo, por favor?")
        follow, __ = self.run_e2e("(c) follow-ups", wamids2, raws2)
        self.results["c"] = {"first_contacts": first, "followups": follow}

    # -- (d) ----------------------------------------------------------
    def phase_d(self):
        self.drain("before (d)")
        k, rate = self.args.card_messages, self.args.card_rate
        senders = self.new_senders(k)
        wamids, raws = self.messages("d", senders)
        self.watcher.watch(wamids)
        posted = {}
        asyncio.run(open_loop(self.srv.http_port, raws, rate, on_sent=posted.__setitem__))
        self.watcher.wait(wamids, self.args.process_timeout)
        self.results["d"] = {"messages": k, "rate": rate, **self.card_latencies(wamids, posted)}
        d = self.results["d"]
        self.log(
            f"(d) card: websocket p95 {d['websocket']['p95']}s, db p95 {d['db_visible']['p95']}s "
            f"(missing {d['missing']})"
        )

    def wait_quiet(self):
        """Other work on this machine skews every figure: give it a bounded chance to calm down."""
        deadline = time.monotonic() + self.args.quiet_wait
        load = os.getloadavg()[0]
        while load > self.args.quiet_load and time.monotonic() < deadline:
            self.log(
                f"load average {load:.1f} > {self.args.quiet_load}: waiting (until "
                f"{max(0, deadline - time.monotonic()):.0f}s more)"
            )
            time.sleep(15)
            load = os.getloadavg()[0]
        self.results["load_at_start"] = round(load, 2)

    # -- all ----------------------------------------------------------
    def run(self):
        self.watcher.start()
        session = self.srv.login()
        self.listener = BusListener(
            self.srv.ws_url(), session, origin=self.srv.url("").rstrip("/"), last=max_bus_id(self.srv)
        )
        self.listener.start()
        if not self.listener.ready.wait(10) or self.listener.errors:
            self.log(f"websocket not connected: {self.listener.errors}")
        self.log("warm-up")
        self.warm_up()
        self.wait_quiet()
        phases = [p.strip() for p in self.args.phases.split(",") if p.strip()]
        for phase in phases:
            self.log(f"phase {phase}")
            getattr(self, f"phase_{phase}")()
        self.results["websocket_errors"] = self.listener.errors
        self.results["db_watcher_errors"] = self.watcher.errors
        self.listener.stop()
        self.watcher.stop()
        return self.results


# ----------------------------------------------------------------------
# report
# ----------------------------------------------------------------------


def verdict(ok):
    return "ok" if ok else "MISSED"


def iter_runs(results):
    for phase in ("a", "b", "c"):
        for value in (results.get(phase) or {}).values():
            if isinstance(value, dict) and "cpu" in value:
                yield value


def table(results):
    rows = [("figure", "webhook", "bare /ping", "target", "")]
    a = results.get("a")
    if a:
        rows.append(
            (
                f"(a) ack throughput, {a['clients']} clients",
                f"{a['webhook_messages']['req_per_s']:.0f} req/s",
                f"{max(a['ping']['req_per_s'], a['ping_again']['req_per_s']):.0f} req/s",
                f"ratio >= {TARGETS['ack_ratio']:.0%}",
                f"{a['ratio_messages']:.0%} {verdict(a['ratio_messages'] >= TARGETS['ack_ratio'])}",
            )
        )
        rows.append(
            (
                "(a') same, delivery statuses",
                f"{a['webhook_statuses']['req_per_s']:.0f} req/s",
                "",
                "(info)",
                f"{a['ratio_statuses']:.0%}",
            )
        )
        if a.get("ping_during_drain"):
            rows.append(
                (
                    "(a'') /ping while the cron drains",
                    "",
                    f"{a['ping_during_drain']['req_per_s']:.0f} req/s",
                    "(info)",
                    f"backlog {a['backlog_after_messages']}",
                )
            )
        wc, pc = a["webhook_messages"]["cpu"]["ms_per_item"], a["ping"]["cpu"]["ms_per_item"]
        w_ms = wc["http"] + wc["postgres"] + (wc.get("pg_new_connections") or 0)
        p_ms = pc["http"] + pc["postgres"] + (pc.get("pg_new_connections") or 0)
        rows.append(
            (
                "(a) CPU/request: worker + PG + new PG conns",
                f"{wc['http']:.1f} + {wc['postgres']:.1f} + {wc.get('pg_new_connections') or 0:.1f} ms",
                f"{pc['http']:.1f} + {pc['postgres']:.1f} + {pc.get('pg_new_connections') or 0:.1f} ms",
                "(info)",
                f"ping/webhook {p_ms / w_ms:.0%}",
            )
        )
        rows.append(
            (
                "(a) closed-loop latency p50/p95",
                "{p50:.0f}/{p95:.0f} ms".format(**a["webhook_messages"]["latency_ms"]),
                "{p50:.0f}/{p95:.0f} ms".format(**a["ping"]["latency_ms"]),
                "(info)",
                "",
            )
        )
    b = results.get("b")
    if b:
        w, p = b["webhook"]["latency_ms"], b["ping"]["latency_ms"]
        rows.append(
            (
                f"(b) ack p50/p95/p99 @ {b['webhook']['rate']:g}/s open loop",
                f"{w['p50']:.1f}/{w['p95']:.1f}/{w['p99']:.1f} ms",
                f"{p['p50']:.1f}/{p['p95']:.1f}/{p['p99']:.1f} ms",
                f"p95 <= {TARGETS['ack_p95_ms']:g} ms",
                verdict(w["p95"] <= TARGETS["ack_p95_ms"]),
            )
        )
        rows.append(
            (
                "(b) max / non-200",
                f"{w['max']:.0f} ms / {b['webhook']['requests'] - b['webhook']['ok']}",
                f"{p['max']:.0f} ms / {b['ping']['requests'] - b['ping']['ok']}",
                "(info)",
                "",
            )
        )
    c = results.get("c")
    if c:
        f, u = c["first_contacts"], c["followups"]
        rows.append(
            (
                f"(c) first contacts, {f['messages']} new senders",
                f"{f['per_s']}/s",
                "",
                f">= {TARGETS['first_contacts_per_s']:g}/s",
                verdict((f["per_s"] or 0) >= TARGETS["first_contacts_per_s"] and f["complete"]),
            )
        )
        rows.append(
            (
                f"(c) follow-ups, {u['messages']} known senders",
                f"{u['per_s']}/s",
                "",
                f">= {TARGETS['followups_per_s']:g}/s",
                verdict((u["per_s"] or 0) >= TARGETS["followups_per_s"] and u["complete"]),
            )
        )
        fc, uc = f["cpu"]["ms_per_item"], u["cpu"]["ms_per_item"]
        rows.append(
            (
                "(c) cron CPU per message, worker + PG",
                f"{fc['cron']:.0f} + {fc['postgres']:.0f} ms (1st), "
                f"{uc['cron']:.0f} + {uc['postgres']:.0f} ms (follow-up)",
                "",
                "(info)",
                "PG includes the acks",
            )
        )
        stalls = (f.get("cron_stalls_s") or []) + (u.get("cron_stalls_s") or [])
        rows.append(
            (
                "(c) cron idle while messages waited",
                f"{sum(stalls):.0f} s ({len(stalls)}x)" if stalls else "never",
                "",
                "(info)",
                "partially done run, not woken" if stalls else "",
            )
        )
        rows.append(
            (
                "(c) processing only (1st->last done)",
                f"{f['per_s_while_processing']}/s, {u['per_s_while_processing']}/s",
                "",
                "(info)",
                "",
            )
        )
        card = f.get("card_under_load", {}).get("websocket")
        if card and card["n"]:
            rows.append(("(c) burst: POST -> card p50/p95", f"{card['p50']:.2f}/{card['p95']:.2f} s", "", "(info)", ""))
    d = results.get("d")
    if d:
        ws, db = d["websocket"], d["db_visible"]
        ok = ws["n"] == d["messages"] and ws["p95"] <= TARGETS["card_p95_s"]
        rows.append(
            (
                f"(d) POST -> card on websocket, {d['rate']:g}/s",
                f"p50 {ws['p50']:.3f} / p95 {ws['p95']:.3f} s",
                "",
                f"p95 <= {TARGETS['card_p95_s']:g} s",
                verdict(ok) + (f" ({d['missing']} missing)" if d["missing"] else ""),
            )
        )
        rows.append(
            ("(d) POST -> lead row visible in DB", f"p50 {db['p50']:.3f} / p95 {db['p95']:.3f} s", "", "(info)", "")
        )
    others = [run["cpu"]["others_pct"] for run in iter_runs(results) if run.get("cpu")]
    if others:
        rows.append(
            (
                "other processes on this machine",
                f"{min(others):.0f}-{max(others):.0f}% of its CPU",
                "",
                "(info)",
                "during the runs",
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    lines = []
    for n, row in enumerate(rows):
        lines.append(" | ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for (a) and (c)")
    parser.add_argument("--requests", type=int, default=1000, help="requests per run in (a)")
    parser.add_argument("--rate", type=float, default=50.0, help="offered rate for (b), msg/s")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of (b)")
    parser.add_argument("--contacts", type=int, default=300, help="first contacts (and follow-ups) in (c)")
    parser.add_argument("--card-messages", type=int, default=40, help="first contacts timed in (d)")
    parser.add_argument("--card-rate", type=float, default=2.0, help="their rate, msg/s")
    parser.add_argument("--phases", default="a,b,c,d")
    parser.add_argument("--process-timeout", type=float, default=240.0, help="max wait for a phase's processing")
    parser.add_argument("--drain-timeout", type=float, default=240.0)
    parser.add_argument("--time-limit", type=float, default=1800.0, help="hard limit of the whole run, seconds")
    parser.add_argument(
        "--quiet-load",
        type=float,
        default=1.0,
        help="before measuring, wait while the 1-min load average is above this",
    )
    parser.add_argument("--quiet-wait", type=float, default=300.0, help="... for at most this many seconds")
    parser.add_argument("--addons-root", metavar="DIR", help="addons and odoo.conf from this directory")
    parser.add_argument("--snapshot", metavar="REV", help="run the addons of this git revision (e.g. HEAD)")
    parser.add_argument("--db", help="reuse this kept crm_ai_bench_* database instead of creating one")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument(
        "--db-filter",
        action="store_true",
        help="serve the database with --db-filter too, not only --database as the deployments do",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-cron-threads", type=int, default=1)
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment variable for the Odoo processes (repeatable)",
    )
    parser.add_argument("--label", default="", help="free text stored in the JSON")
    args = parser.parse_args(argv)

    def on_alarm(*__):
        raise BenchTimeout(f"time limit of {args.time_limit:.0f}s reached")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.time_limit))
    started = datetime.now(timezone.utc)
    server_env = dict(item.split("=", 1) for item in args.server_env)
    meta = {
        "started": started.isoformat(timespec="seconds"),
        "label": args.label,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "args": vars(args),
        "targets": TARGETS,
    }
    results = {}
    try:
        with OdooServer(
            dbname=args.db,
            existing=bool(args.db),
            keep=args.keep or bool(args.db),
            workers=args.workers,
            max_cron_threads=args.max_cron_threads,
            snapshot=args.snapshot,
            addons_root=args.addons_root,
            env=server_env,
            db_filter=args.db_filter,
        ) as srv:
            meta["server"] = {
                "db": srv.dbname,
                "revision": srv.source_rev,
                "addons": str(srv.source_root),
                "workers": srv.workers,
                "max_cron_threads": srv.max_cron_threads,
                "env": server_env,
                "db_filter": srv.db_filter,
            }
            bench = Bench(srv, args)
            try:
                results = bench.run()
            finally:
                meta["server"]["processes"] = srv.processes() if srv.proc else None
                RESULTS.mkdir(parents=True, exist_ok=True)
                if srv.log_path.exists():
                    log_copy = RESULTS / f"bench_webhook_{started.strftime('%Y%m%dT%H%M%SZ')}.odoo.log"
                    shutil.copyfile(srv.log_path, log_copy)
                    meta["server"]["log"] = str(log_copy)
    except BenchTimeout as exc:
        print(f"[bench] {exc}: partial results", flush=True)
        results = results or getattr(locals().get("bench"), "results", {})
        meta["aborted"] = str(exc)
    finally:
        signal.alarm(0)
    meta["seconds"] = round((datetime.now(timezone.utc) - started).total_seconds(), 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench_webhook_{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps({**meta, "results": results}, indent=2, default=str))
    print()
    server = meta.get("server", {})
    print(
        f"CRM AI Agent webhook benchmark - {meta['machine']['cpus']} CPUs, workers={args.workers}, "
        f"cron={args.max_cron_threads}, db-filter={'on' if args.db_filter else 'off'}"
        f"{', env ' + ' '.join(args.server_env) if args.server_env else ''}, "
        f"addons {server.get('revision') or server.get('addons') or 'working tree'}"
    )
    print(table(results))
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
