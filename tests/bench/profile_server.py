"""Where the time of the webhook path and of the inbox cron goes, on a real server.

Starts a server (``tests/e2e/server.py``), sends one workload, and reports for the processes that
serve it (HTTP workers for ``ping`` / ``webhook`` / ``status``; the cron worker for ``first`` /
``followup``):

- CPU milliseconds per item (worker and PostgreSQL backends, from /proc);
- with ``--py-spy``: the Python frames where the time goes (``py-spy record``, samples in folded form
  saved to ``tests/bench/results/``; inclusive share of the top frames printed);
- with ``--sql``: every SQL statement they ran (Odoo's ``odoo.sql_db`` DEBUG log), grouped by shape,
  with count and milliseconds per item.

    pip install py-spy
    python3 tests/bench/profile_server.py webhook --py-spy --sql
    python3 tests/bench/profile_server.py first --count 200 --py-spy --sql
"""

import argparse
import asyncio
import collections
import json
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.bench_webhook import (  # noqa: E402
    CpuMeter,
    DbWatcher,
    closed_loop,
    http_get,
    status_request,
    wait_idle,
    webhook_request,
)
from tests.e2e.server import OdooServer, br_mobile  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (?P<pid>\d+) (?P<level>[A-Z]+) \S+ (?P<logger>[\w.]+): ")
SQL_LINE = re.compile(r"^\[(?P<ms>[\d.]+) ms\] query: (?P<sql>.*)$", re.S)


def normalise_sql(sql):
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
    sql = re.sub(r"\s+", " ", sql).strip()
    sql = re.sub(r"\((?:\s*\?\s*,)+\s*\?\s*\)", "(?...)", sql)
    sql = re.sub(r"(\(\?\.\.\.\)\s*,\s*)+\(\?\.\.\.\)", "(?...)", sql)
    sql = re.sub(r"ARRAY\[[^\]]*\]", "ARRAY[?]", sql)
    return sql[:220]


def read_sql_log(path, offset, pids):
    """SQL statements logged by ``pids`` after byte ``offset`` of the log: ``{shape: [count, ms]}``."""
    stats = collections.defaultdict(lambda: [0, 0.0])
    record = None

    def flush(rec):
        if not rec or rec[0] not in pids:
            return
        m = SQL_LINE.match(rec[1])
        if m:
            entry = stats[normalise_sql(m["sql"])]
            entry[0] += 1
            entry[1] += float(m["ms"])

    with open(path, encoding="utf-8", errors="replace") as handle:
        handle.seek(offset)
        for line in handle:
            m = LOG_RECORD.match(line)
            if m:
                flush(record)
                record = (int(m["pid"]), line[m.end() :].rstrip("\n")) if m["logger"] == "odoo.sql_db" else None
            elif record:
                record = (record[0], record[1] + "\n" + line.rstrip("\n"))
        flush(record)
    return stats


def fold_report(paths, top=45):
    total = 0
    inclusive = collections.Counter()
    for path in paths:
        if not Path(path).exists():
            continue
        for line in open(path, encoding="utf-8", errors="replace"):
            stack, __, count = line.rstrip().rpartition(" ")
            if not count.isdigit():
                continue
            count = int(count)
            total += count
            seen = set()
            for frame in stack.split(";"):
                key = re.sub(r":\d+\)$", ")", frame)
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += count
    lines = [f"{total} samples"]
    skip = (
        "threading.py",
        "socketserver.py",
        "http/server.py",
        "werkzeug/serving.py",
        "decorator.py",
        "odoo/service/server.py",
    )
    shown = 0
    for frame, count in inclusive.most_common():
        if any(s in frame for s in skip):
            continue
        lines.append(f"{100 * count / total:5.1f}%  {frame}")
        shown += 1
        if shown >= top:
            break
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=["ping", "webhook", "status", "first", "followup"])
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--py-spy", action="store_true")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--sql", action="store_true", help="log and group the SQL statements")
    parser.add_argument("--addons-root", metavar="DIR", help="addons and odoo.conf from this directory")
    parser.add_argument("--snapshot", metavar="REV")
    parser.add_argument("--db", help="reuse a kept crm_ai_bench_* database")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--db-filter", action="store_true", help="serve the database with --db-filter too")
    parser.add_argument(
        "--max-cron-threads",
        type=int,
        default=1,
        help="0 measures the webhook path alone, with nothing processing what it stores",
    )
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)

    extra = ["--log-handler=odoo.sql_db:DEBUG"] if args.sql else []
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    with OdooServer(
        dbname=args.db,
        existing=bool(args.db),
        keep=args.keep or bool(args.db),
        snapshot=args.snapshot,
        addons_root=args.addons_root,
        extra_args=extra,
        db_filter=args.db_filter,
        env=dict(item.split("=", 1) for item in args.server_env),
        max_cron_threads=args.max_cron_threads,
    ) as srv:
        port = srv.http_port
        salt = int(time.time()) % 250
        tag = f"{stamp}.{salt}"
        senders = [(br_mobile(50_000 + i, salt), f"Perfil {i}") for i in range(args.count)]
        # warm-up: every worker has served both routes, the senders of "followup" exist
        warm = [
            webhook_request(
                srv, f"wamid.prof.{tag}.warm.{i}", *senders[i % len(senders)][:1], "Oi", senders[i % len(senders)][1]
            )
            for i in range(args.count if args.workload == "followup" else 16)
        ]
        asyncio.run(closed_loop(port, [http_get(port, "/crm_ai_agent/ping")] * 20 + warm, args.clients))
        if args.max_cron_threads:
            wait_idle(srv, 600, wake_after=5.0)
        if args.workload == "ping":
            raws = [http_get(port, "/crm_ai_agent/ping")] * args.count
        elif args.workload == "status":
            raws = [status_request(srv, f"wamid.prof.{tag}.st.{i}", i) for i in range(args.count)]
        else:
            offset = 0 if args.workload == "followup" else 100_000
            who = (
                [(br_mobile(50_000 + offset + i, salt), f"Perfil {offset + i}") for i in range(args.count)]
                if args.workload == "first"
                else senders
            )
            raws = [
                webhook_request(srv, f"wamid.prof.{tag}.{args.workload}.{i}", wa_id, "Quero saber o preço", name)
                for i, (wa_id, name) in enumerate(who)
            ]
        wamids = [f"wamid.prof.{tag}.{args.workload}.{i}" for i in range(len(raws))]
        procs = srv.processes()
        roles = ["http"] if args.workload in ("ping", "webhook", "status") else ["cron"]
        pids = [pid for role in roles for pid in procs[role]]
        log_offset = srv.log_path.stat().st_size if args.sql else 0
        spies = []
        if args.py_spy:
            for pid in pids:
                out = RESULTS / f"pyspy_{args.workload}_{stamp}_{pid}.txt"
                spies.append(
                    (
                        out,
                        subprocess.Popen(
                            [
                                "py-spy",
                                "record",
                                "-p",
                                str(pid),
                                "-r",
                                str(args.rate),
                                "-f",
                                "raw",
                                "-o",
                                str(out),
                                "--nonblocking",
                            ],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE,
                        ),
                    )
                )
            time.sleep(1.5)
        meter = CpuMeter(srv)
        before = meter.snapshot()
        t0 = time.monotonic()
        if roles == ["cron"]:
            watcher = DbWatcher(srv)
            watcher.start()
            watcher.watch(wamids)
            asyncio.run(closed_loop(port, raws, args.clients))
            watcher.wait(wamids, 900)
            watcher.stop()
        else:
            asyncio.run(closed_loop(port, raws, args.clients))
        elapsed = time.monotonic() - t0
        usage = meter.delta(before, meter.snapshot(), len(raws))
        for __, proc in spies:
            proc.send_signal(2)  # SIGINT: py-spy writes its samples and exits
        for __, proc in spies:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        report = {
            "workload": args.workload,
            "items": len(raws),
            "seconds": round(elapsed, 2),
            "per_s": round(len(raws) / elapsed, 1),
            "cpu": usage,
            "revision": srv.source_rev,
        }
        print(json.dumps(report, indent=2))
        if spies:
            print(f"\n== py-spy, {'+'.join(roles)} worker(s), inclusive share of samples")
            print(fold_report([str(out) for out, __ in spies]))
        if args.sql:
            if args.max_cron_threads:
                wait_idle(srv, 60, wake_after=5.0)
            time.sleep(1)
            stats = read_sql_log(srv.log_path, log_offset, set(pids))
            total_ms = sum(v[1] for v in stats.values())
            total_n = sum(v[0] for v in stats.values())
            print(
                f"\n== SQL of the {'+'.join(roles)} worker(s): {total_n / len(raws):.1f} statements and "
                f"{total_ms / len(raws):.2f} ms (wall, seen from Odoo) per item"
            )
            for shape, (count, ms) in sorted(stats.items(), key=lambda kv: -kv[1][1])[:30]:
                print(f"{count / len(raws):6.2f} x {ms / len(raws):7.3f} ms  {shape}")
            report["sql"] = {
                shape: {"per_item": round(c / len(raws), 3), "ms_per_item": round(ms / len(raws), 3)}
                for shape, (c, ms) in stats.items()
            }
        (RESULTS / f"profile_{args.workload}_{stamp}.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
