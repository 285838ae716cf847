"""Concurrency, forgery and crash checks of the webhook against a real server (run as a script).

    python3 tests/e2e/test_concurrency.py [--snapshot HEAD] [--time-limit 1500]

Starts its own server with ``tests/e2e/server.py`` (fresh ``crm_ai_bench_*`` database, ``--workers=2
--max-cron-threads=1``), then over real HTTP:

1. 20 simultaneous first messages (different wamids) from one new sender -> after processing, exactly
   one contact and one lead for that phone, 20 processed rows on that lead, 20 chatter messages;
2. 5 simultaneous redeliveries of one wamid, 10 rounds -> one row each; every delivery answered 200
   with ``stored`` 1 + ``duplicates`` 4 in all;
3. forged requests (no signature, wrong secret, re-serialised body, signature of another body) -> 403,
   no row;
4. malformed JSON (correctly signed) -> 400, no row;
5. a 4 MB body -> 413, no row;
6. the idle PostgreSQL connections of the HTTP workers are terminated (a PostgreSQL restart, a
   pooler or a firewall closing them): the next webhooks are still answered 200 and stored;
7. the channel's app secret is changed over XML-RPC: webhooks signed with the new secret are stored at
   once by every worker, those signed with the old one are refused (after the fifth of a second a
   worker may serve with the caches it checked last);
8. a burst of messages from several new senders; the cron worker is killed with SIGKILL while it
   processes them, then the whole server is killed and restarted -> every message processed exactly
   once: one contact and one lead per sender, one chatter message per inbound message.

Prints one PASS/FAIL line per check and ``N passed, N failed``; exits 1 on any failure. Not collected
by the unit test run (no ``test_*`` function; the entry point is ``main()``).
"""

import argparse
import json
import signal
import socket
import sys
import threading
import time
import xmlrpc.client
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.server import (  # noqa: E402
    ADMIN_LOGIN,
    ADMIN_PASSWORD,
    APP_SECRET,
    OdooServer,
    br_mobile,
    meta_body,
    meta_signature,
    wa_text,
)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'}  {name}{f'  ({detail})' if detail else ''}", flush=True)
        return ok


class TimeLimit(Exception):
    pass


def simultaneously(funcs, timeout=60):
    """Run the callables in threads released together by a barrier; return their results in order."""
    barrier = threading.Barrier(len(funcs))
    results = [None] * len(funcs)

    def run(i, func):
        barrier.wait(timeout)
        try:
            results[i] = func()
        except Exception as exc:  # noqa: BLE001 - returned as the result
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(funcs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results


def query(srv, sql, params=()):
    conn = srv.pg()
    try:
        with conn.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall()
    finally:
        conn.close()


def wait_processed(srv, wamids, timeout):
    """Wait until none of ``wamids`` is still ``received``; return ``{state: count}``."""
    deadline = time.monotonic() + timeout
    while True:
        rows = query(
            srv,
            "SELECT state, count(*) FROM crm_ai_message WHERE external_id = ANY(%s) GROUP BY state",
            (list(wamids),),
        )
        states = dict(rows)
        if not states.get("received") and sum(states.values()) >= len(wamids):
            return states
        if time.monotonic() > deadline:
            return states
        time.sleep(0.25)


def rows_for(srv, wamids):
    return query(srv, "SELECT count(*) FROM crm_ai_message WHERE external_id = ANY(%s)", (list(wamids),))[0][0]


def people(srv, e164):
    """Contacts, leads and inbound chatter messages for one phone number."""
    partners = [
        r[0]
        for r in query(
            srv,
            "SELECT id FROM res_partner WHERE phone_sanitized = %s OR mobile = %s OR phone = %s",
            (e164, e164, e164),
        )
    ]
    leads = [
        r[0] for r in query(srv, "SELECT id FROM crm_lead WHERE partner_id = ANY(%s) OR phone = %s", (partners, e164))
    ]
    comments = query(
        srv,
        "SELECT count(*) FROM mail_message WHERE model = 'crm.lead' AND res_id = ANY(%s) "
        "AND message_type = 'comment' AND author_id = ANY(%s)",
        (leads, partners),
    )[0][0]
    return partners, leads, comments


# ----------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------


def check_lost_connections(srv, checks, run):
    """Webhooks keep their cursor from one request to the next: losing its connection costs nothing."""
    warm = [f"wamid.conc.{run}.warm.{i}" for i in range(8)]
    statuses = [srv.post_webhook(meta_body(wa_text(wamid, br_mobile(5, run), "oi")))[0] for wamid in warm]
    killed = query(
        srv,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle' "
        "AND backend_type = 'client backend' AND application_name NOT LIKE 'crm_ai_e2e%%'",
    )[0][0]
    time.sleep(0.5)  # the terminations are asynchronous
    after = [f"wamid.conc.{run}.reconnect.{i}" for i in range(8)]
    statuses += [srv.post_webhook(meta_body(wa_text(wamid, br_mobile(5, run), "oi de novo")))[0] for wamid in after]
    checks.check(
        f"idle connections of the workers terminated ({killed}), next webhooks -> 200",
        killed > 0 and statuses == [200] * 16,
        f"statuses {statuses}",
    )
    checks.check("... and stored", rows_for(srv, warm + after) == 16, f"{rows_for(srv, warm + after)} rows")


def check_secret_rotation(srv, checks, run):
    """A secret changed in one worker applies to every worker's webhooks."""
    common = xmlrpc.client.ServerProxy(srv.url("/xmlrpc/2/common"))
    uid = common.authenticate(srv.dbname, ADMIN_LOGIN, ADMIN_PASSWORD, {})
    models = xmlrpc.client.ServerProxy(srv.url("/xmlrpc/2/object"))

    def set_secret(secret):
        models.execute_kw(
            srv.dbname, uid, ADMIN_PASSWORD, "crm.ai.channel", "write",
            [[srv.info["channel_id"]], {"meta_app_secret": secret}],
        )  # fmt: skip

    def post(tag, count, secret):
        bodies = [meta_body(wa_text(f"wamid.conc.{run}.{tag}.{i}", br_mobile(6, run), "oi")) for i in range(count)]
        return [srv.post_webhook(body, secret=secret)[0] for body in bodies]

    new_secret = f"rotated-app-secret-{run}-0123456789abcdef"
    post("before", 8, APP_SECRET)  # every worker has the channel in its cache
    set_secret(new_secret)
    statuses = post("new", 8, new_secret)
    checks.check("secret changed over XML-RPC: new signatures -> 200 at once", statuses == [200] * 8, f"{statuses}")
    time.sleep(0.5)
    statuses = post("old", 8, APP_SECRET)
    checks.check("... old signatures -> 403", statuses == [403] * 8, f"{statuses}")
    set_secret(APP_SECRET)
    time.sleep(0.5)
    stored = rows_for(srv, [f"wamid.conc.{run}.new.{i}" for i in range(8)])
    checks.check("... the new ones stored, the old ones not", stored == 8, f"{stored} stored")


def check_same_sender(srv, checks, run, timeout):
    wa_id = br_mobile(1, run)
    e164 = "+" + wa_id
    wamids = [f"wamid.conc.{run}.same.{i}" for i in range(20)]
    bodies = [
        meta_body(wa_text(w, wa_id, f"Oi, mensagem {i}", name="Cliente Simultâneo")) for i, w in enumerate(wamids)
    ]
    answers = simultaneously([lambda b=b: srv.post_webhook(b) for b in bodies])
    statuses = [a[0] if isinstance(a, tuple) else repr(a) for a in answers]
    checks.check(
        "20 simultaneous first messages of one sender are acknowledged",
        statuses == [200] * 20,
        f"statuses {sorted(set(map(str, statuses)))}",
    )
    states = wait_processed(srv, wamids, timeout)
    checks.check("... and all processed", states == {"processed": 20}, f"states {states}")
    partners, leads, comments = people(srv, e164)
    checks.check("... exactly one contact for the phone", len(partners) == 1, f"partners {partners}")
    checks.check("... exactly one lead for the phone", len(leads) == 1, f"leads {leads}")
    lead_ids = query(srv, "SELECT DISTINCT lead_id FROM crm_ai_message WHERE external_id = ANY(%s)", (wamids,))
    checks.check("... every message on that lead", [r[0] for r in lead_ids] == leads, f"lead ids {lead_ids}")
    checks.check("... 20 chatter messages, each once", comments == 20, f"{comments} chatter messages")


def check_redelivery(srv, checks, run, rounds):
    """5 simultaneous deliveries of one wamid, ``rounds`` times (a race shows only in some rounds)."""
    rows, statuses, counts = [], [], []
    for r in range(rounds):
        wamid = f"wamid.conc.{run}.redelivered.{r}"
        body = meta_body(wa_text(wamid, br_mobile(2, run), f"Mensagem reenviada {r}"))
        answers = simultaneously([lambda b=body: srv.post_webhook(b) for __ in range(5)])
        statuses.append([a[0] if isinstance(a, tuple) else repr(a) for a in answers])
        data = [json.loads(a[2]) for a in answers if isinstance(a, tuple) and a[0] == 200]
        counts.append((sum(d.get("stored", 0) for d in data), sum(d.get("duplicates", 0) for d in data)))
        rows.append(rows_for(srv, [wamid]))
    checks.check(
        f"5 simultaneous redeliveries of one wamid ({rounds} rounds) -> one row each",
        rows == [1] * rounds,
        f"rows per wamid {rows}",
    )
    refused = [s for s in statuses if s != [200] * 5]
    checks.check(
        "... every delivery answered 200",
        not refused,
        f"{len(refused)}/{rounds} rounds with another answer, e.g. {refused[:2]}" if refused else "",
    )
    wrong = [c for c, s in zip(counts, statuses, strict=True) if s == [200] * 5 and c != (1, 4)]
    checks.check("... answers say stored 1, duplicates 4", not wrong, f"{wrong[:3]}" if wrong else "")


def check_forged(srv, checks, run):
    cases = []
    payload = wa_text(f"wamid.conc.{run}.forged.0", br_mobile(3, run), "Promoção de ação")
    body = meta_body(payload)
    cases.append(("unsigned", body, None))
    payload = wa_text(f"wamid.conc.{run}.forged.1", br_mobile(3, run), "Promoção de ação")
    body = meta_body(payload)
    cases.append(("signed with another secret", body, meta_signature(body, "not-the-app-secret")))
    payload = wa_text(f"wamid.conc.{run}.forged.2", br_mobile(3, run), "Promoção de ação")
    signed = meta_body(payload)
    reserialised = json.dumps(payload, ensure_ascii=False).encode()  # same JSON, other bytes
    cases.append(("re-serialised body (signature of the original bytes)", reserialised, meta_signature(signed)))
    payload = wa_text(f"wamid.conc.{run}.forged.3", br_mobile(3, run), "Promoção de ação")
    other = meta_body(wa_text(f"wamid.conc.{run}.forged.other", br_mobile(3, run), "Outra"))
    cases.append(("signature of another body", meta_body(payload), meta_signature(other)))
    cases.append(("malformed signature header", meta_body(payload), "sha256=zz"))
    for label, raw, signature in cases:
        status, __, data = srv.post_webhook(raw, signature=signature or False)
        checks.check(f"forged request, {label} -> 403", status == 403, f"{status} {data[:120]!r}")
    wamids = [f"wamid.conc.{run}.forged.{i}" for i in range(4)]
    checks.check("... no row for any forged request", rows_for(srv, wamids) == 0, f"{rows_for(srv, wamids)} rows")


def check_malformed(srv, checks, run):
    raw = f'{{"object": "whatsapp_business_account", "entry": [{{"id": "wamid.conc.{run}.malformed"'.encode()
    status, __, data = srv.post_webhook(raw)
    checks.check("malformed JSON, correctly signed -> 400", status == 400, f"{status} {data[:120]!r}")
    count = query(srv, "SELECT count(*) FROM crm_ai_message WHERE payload::text LIKE %s", (f"%conc.{run}.malformed%",))[
        0
    ][0]
    checks.check("... no row", count == 0, f"{count} rows")


def post_large(srv, size, timeout=60):
    """POST ``size`` bytes of signed JSON; return the status (the server may answer before reading it all)."""
    wamid = f"wamid.big.{size}"
    filler = "x" * (size - 600)
    raw = meta_body(wa_text(wamid, br_mobile(4), filler))
    head = (
        f"POST {srv.webhook_path} HTTP/1.1\r\nHost: 127.0.0.1:{srv.http_port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n"
        f"X-Hub-Signature-256: {meta_signature(raw)}\r\nConnection: close\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", srv.http_port), timeout=timeout)
    received = b""
    try:
        sock.sendall(head)
        try:
            for start in range(0, len(raw), 65536):
                sock.sendall(raw[start : start + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed before the whole body was sent: read what it said
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    finally:
        sock.close()
    status = int(received[9:12]) if received.startswith(b"HTTP/") else None
    return status, len(raw), wamid, received[:300]


def check_too_large(srv, checks):
    status, size, wamid, head = post_large(srv, 4 * 1024 * 1024)
    checks.check(f"{size / 1024 / 1024:.1f} MB body -> 413", status == 413, f"{status} {head[:100]!r}")
    checks.check("... no row", rows_for(srv, [wamid]) == 0)


def check_crash(srv, checks, run, senders, per_sender, timeout):
    wamids, bodies, phones = [], [], []
    for s in range(senders):
        wa_id = br_mobile(100 + s, run)
        phones.append("+" + wa_id)
        for k in range(per_sender):
            wamid = f"wamid.conc.{run}.crash.{s}.{k}"
            wamids.append(wamid)
            bodies.append(meta_body(wa_text(wamid, wa_id, f"Mensagem {k} do cliente {s}", name=f"Cliente {s}")))
    # interleave senders, as a real burst would
    order = sorted(range(len(bodies)), key=lambda i: (i % per_sender, i))
    statuses = []
    for start in range(0, len(order), 8):
        answers = simultaneously([lambda b=bodies[i]: srv.post_webhook(b) for i in order[start : start + 8]])
        statuses += [a[0] if isinstance(a, tuple) else repr(a) for a in answers]
    checks.check(
        f"crash burst: {len(bodies)} messages from {senders} new senders acknowledged",
        statuses == [200] * len(bodies),
        f"statuses {sorted(set(map(str, statuses)))}",
    )

    def processed():
        return query(
            srv, "SELECT count(*) FROM crm_ai_message WHERE external_id = ANY(%s) AND state <> 'received'", (wamids,)
        )[0][0]

    # 1. SIGKILL the cron worker once it is in the middle of the burst
    deadline = time.monotonic() + timeout
    while processed() < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    done_before = processed()
    killed = srv.kill_cron_workers()
    killed_at = time.monotonic()
    print(f"      killed cron worker(s) {killed} with {done_before}/{len(wamids)} processed", flush=True)
    checks.check(
        "... the cron worker was killed mid-burst",
        bool(killed) and done_before < len(wamids),
        f"pids {killed}, {done_before} processed",
    )
    # 2. once the new cron worker has made some progress, SIGKILL the whole server and start it again
    while processed() <= done_before and time.monotonic() < deadline:
        time.sleep(0.1)
    done_mid = processed()
    print(f"      processing resumed {time.monotonic() - killed_at:.1f}s after the cron worker was killed", flush=True)
    srv.stop(kill=True)
    print(f"      killed the whole server with {done_mid}/{len(wamids)} processed; restarting", flush=True)
    srv.start()
    restarted = time.monotonic()
    states = wait_processed(srv, wamids, max(deadline - time.monotonic(), 60))
    print(f"      all handled {time.monotonic() - restarted:.1f}s after the restart", flush=True)
    checks.check(
        "... after the kills and the restart every message is processed",
        states == {"processed": len(wamids)},
        f"states {states}",
    )
    bad = []
    for e164 in phones:
        partners, leads, comments = people(srv, e164)
        if len(partners) != 1 or len(leads) != 1 or comments != per_sender:
            bad.append(f"{e164}: {len(partners)} contacts, {len(leads)} leads, {comments} chatter messages")
    checks.check(
        f"... each sender: one contact, one lead, {per_sender} chatter messages (exactly once)",
        not bad,
        "; ".join(bad[:5]),
    )
    linked = query(
        srv,
        "SELECT count(DISTINCT mail_message_id), count(*) FROM crm_ai_message WHERE external_id = ANY(%s)",
        (wamids,),
    )[0]
    checks.check("... one chatter message per inbound row", linked[0] == linked[1] == len(wamids), f"{linked}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", metavar="REV", help="run the addons of this git revision (e.g. HEAD)")
    parser.add_argument("--db", help="reuse a kept crm_ai_bench_* database")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--redelivery-rounds", type=int, default=10, help="rounds of 5 simultaneous redeliveries")
    parser.add_argument("--senders", type=int, default=12, help="senders of the crash burst")
    parser.add_argument("--per-sender", type=int, default=5, help="messages per sender in the crash burst")
    parser.add_argument("--process-timeout", type=float, default=300.0)
    parser.add_argument("--time-limit", type=float, default=1500.0)
    args = parser.parse_args(argv)

    def on_alarm(*__):
        raise TimeLimit(f"time limit of {args.time_limit:.0f}s reached")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.time_limit))
    checks = Checks()
    run = int(time.time()) % 250
    try:
        with OdooServer(
            dbname=args.db, existing=bool(args.db), keep=args.keep or bool(args.db), snapshot=args.snapshot
        ) as srv:
            check_redelivery(srv, checks, run, args.redelivery_rounds)
            check_forged(srv, checks, run)
            check_malformed(srv, checks, run)
            check_too_large(srv, checks)
            check_lost_connections(srv, checks, run)
            check_secret_rotation(srv, checks, run)
            check_same_sender(srv, checks, run, args.process_timeout)
            check_crash(srv, checks, run, args.senders, args.per_sender, args.process_timeout)
    except TimeLimit as exc:
        checks.check("the checks finished within the time limit", False, str(exc))
    except Exception as exc:  # noqa: BLE001 - a broken run is a failure, not a traceback
        checks.check("the run completed", False, f"{type(exc).__name__}: {exc}")
    finally:
        signal.alarm(0)
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
