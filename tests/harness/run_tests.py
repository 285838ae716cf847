"""Run every test of the suite and end with one ``N passed, N failed`` line.

1. pytest on the ORM-free modules and deployment files (``tests/unit``);
2. Odoo's own runner on a fresh database: the three addons installed together
   with ``--test-enable`` (at-install and post-install tests, browser tours
   included), then uninstalled; ``crm_ai_agent`` installed alone on a second
   fresh database. Databases are dropped afterwards.

A run fails on any failed or erroring test, on a skipped test (a skip means
something is missing here, e.g. Chromium or websocket-client), and on any
ERROR/CRITICAL log line, or a WARNING logged by one of our modules.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.harness import odoo_env

ROOT = odoo_env.ROOT
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>[\w.]+): (?P<msg>.*)$"
)
OUR_LOGGERS = tuple(f"odoo.addons.{name}" for name in odoo_env.ADDONS)
# Odoo core noise that says nothing about our code.
TOLERATED = (
    re.compile(r"Two fields \(.*\) of .* have the same label"),
    re.compile(r"unaccent"),
)


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.problems = []

    def fail(self, what):
        self.failed += 1
        self.problems.append(what)

    def ok(self, n=1):
        self.passed += n


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def preflight(tally):
    """Things whose absence would silently skip tests: make them failures."""
    try:
        import websocket  # noqa: F401
    except ImportError:
        tally.fail("websocket-client is not installed: Odoo would skip every browser test")
    if not odoo_env.find_chrome():
        tally.fail("Chromium is not installed (apt-get install chromium): Odoo would skip every browser test")


def run_pytest(tally, args):
    junit = Path(tempfile.mkstemp(prefix="crm_ai_pytest_", suffix=".xml")[1])
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", "tests/unit"]
    if args.pytest_k:
        cmd += ["-k", args.pytest_k]
    print("$", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, check=False)
    try:
        suite = ET.parse(junit).getroot()
        suites = [suite] if suite.tag == "testsuite" else list(suite)
        total = sum(int(s.get("tests", 0)) for s in suites)
        failures = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
        skipped = sum(int(s.get("skipped", 0)) for s in suites)
    except (ET.ParseError, FileNotFoundError):
        tally.fail(f"pytest produced no report (exit {proc.returncode})")
        return
    finally:
        junit.unlink(missing_ok=True)
    tally.ok(total - failures - skipped)
    for __ in range(failures):
        tally.fail("pytest failure (see above)")
    for __ in range(skipped):
        tally.fail("pytest skipped a test")
    if total == 0:
        tally.fail("pytest collected no test")


def analyse_odoo_log(path, tally, label):
    started, failed, skipped = set(), set(), set()
    problems = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            m = LOG_LINE.match(line.rstrip())
            if not m:
                continue
            level, logger, msg = m["level"], m["logger"], m["msg"]
            if msg.startswith("Starting ") and msg.endswith(" ...") and logger.startswith(OUR_LOGGERS):
                started.add(msg[len("Starting ") : -4])
                continue
            if level == "INFO" and msg.startswith("skipped ") and logger.startswith(OUR_LOGGERS):
                skipped.add(msg)
                continue
            if level in ("ERROR", "CRITICAL"):
                fm = re.match(r"(FAIL|ERROR): (\S+)", msg)
                if fm and logger.startswith(OUR_LOGGERS):
                    failed.add(fm.group(2))
                elif not any(t.search(msg) for t in TOLERATED):
                    problems.append(f"{label}: {level} {logger}: {msg[:300]}")
            elif level == "WARNING" and logger.startswith(OUR_LOGGERS):
                problems.append(f"{label}: WARNING {logger}: {msg[:300]}")
            elif level == "WARNING":
                print(f"  (odoo warning, not ours) {logger}: {msg[:200]}")
    fails = set(failed)
    tally.ok(len(started - fails))
    for name in sorted(fails):
        tally.fail(f"{label}: {name}")
    for msg in sorted(skipped):
        tally.fail(f"{label}: {msg}")
    for problem in problems:
        tally.fail(problem)
    return len(started)


def run_odoo(cmd, env, log_path, timeout):
    print("$", " ".join(cmd), flush=True)
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return -9


def tail(path, lines=60):
    with open(path, encoding="utf-8", errors="replace") as handle:
        return "".join(handle.readlines()[-lines:])


def run_odoo_suite(tally, args):
    odoo_dir, pythonpath = odoo_env.locate_odoo()
    base_cmd, env = odoo_env.odoo_command(pythonpath)
    settings = odoo_env.db_settings()
    addons_path = odoo_env.addons_path(odoo_dir)
    stamp = f"{os.getpid()}_{int(time.time())}"
    db_all = f"crm_ai_test_{stamp}"
    db_core = f"crm_ai_test_core_{stamp}"
    logdir = Path(args.log_dir or tempfile.mkdtemp(prefix="crm_ai_logs_"))
    logdir.mkdir(parents=True, exist_ok=True)
    common = [
        *base_cmd,
        "-c",
        str(odoo_env.CONF),
        f"--addons-path={addons_path}",
        *odoo_env.db_args(settings),
        "--workers=0",
        "--max-cron-threads=0",
        "--stop-after-init",
        "--log-level=info",
    ]
    modules = ",".join(args.modules or odoo_env.ADDONS)
    tags = args.test_tags or ",".join(f"/{m}" for m in (args.modules or odoo_env.ADDONS))
    try:
        # 1. the three addons together, with their tests
        log1 = logdir / "odoo_tests.log"
        rc = run_odoo(
            [
                *common,
                "-d",
                db_all,
                "-i",
                modules,
                "--test-enable",
                f"--test-tags={tags}",
                f"--http-port={free_port()}",
                "--gevent-port",
                str(free_port()),
            ],
            env,
            log1,
            args.timeout,
        )
        count = analyse_odoo_log(log1, tally, "odoo tests")
        print(f"Odoo tests: {count} run (log: {log1})", flush=True)
        if count == 0:
            tally.fail("odoo tests: no Odoo test ran")
        if rc != 0:
            tally.fail(f"odoo tests: Odoo exited with {rc}")
            print(tail(log1), flush=True)
        if args.quick:
            return
        # 2. uninstall them cleanly
        log2 = logdir / "odoo_uninstall.log"
        script = (
            "mods = env['ir.module.module'].search([('name', 'in', %r)])\n"
            "mods.button_immediate_uninstall()\n"
            "left = env['ir.module.module'].search_count([('name', 'in', %r), ('state', '!=', 'uninstalled')])\n"
            "assert not left, 'addons still installed'\n"
            "assert not env['ir.model'].search_count([('model', 'like', 'crm.ai.%%')]), 'models left behind'\n"
            "print('UNINSTALL-OK')\n"
        ) % (list(odoo_env.ADDONS), list(odoo_env.ADDONS))
        cmd = [c for c in common if c != "--stop-after-init"]
        n = len(base_cmd)
        print("$", " ".join([*cmd[:n], "shell", "..."]), flush=True)
        with open(log2, "w", encoding="utf-8") as log:
            proc = subprocess.run(
                [*cmd[:n], "shell", *cmd[n:], "-d", db_all, "--no-http"],
                input=script,
                text=True,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                timeout=args.timeout,
                check=False,
            )
        out = log2.read_text(encoding="utf-8", errors="replace")
        before = tally.failed
        analyse_odoo_log(log2, tally, "uninstall")
        if "UNINSTALL-OK" in out and proc.returncode == 0 and tally.failed == before:
            tally.ok()
            print("Uninstall of the three addons: ok", flush=True)
        else:
            tally.fail("uninstall: the three addons did not uninstall cleanly")
            print(tail(log2), flush=True)
        # 3. the core addon alone
        log3 = logdir / "odoo_core_alone.log"
        rc = run_odoo([*common, "-d", db_core, "-i", "crm_ai_agent", "--no-http"], env, log3, args.timeout)
        before = tally.failed
        analyse_odoo_log(log3, tally, "core alone")
        if rc == 0 and tally.failed == before:
            tally.ok()
            print("crm_ai_agent alone installs: ok", flush=True)
        else:
            tally.fail(f"core alone: install failed (exit {rc})")
            print(tail(log3), flush=True)
    finally:
        if not args.keep_db:
            for db in (db_all, db_core):
                try:
                    odoo_env.drop_database(db, settings)
                except Exception as exc:  # noqa: BLE001
                    print(f"could not drop {db}: {exc}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-install", action="store_true", help="do not pip install the requirements first")
    parser.add_argument("--only", choices=("pytest", "odoo"), help="run one part only")
    parser.add_argument("--modules", nargs="*", help="addons to install and test (default: all three)")
    parser.add_argument("--test-tags", help="Odoo --test-tags (default: the addons)")
    parser.add_argument("--quick", action="store_true", help="skip the uninstall and core-alone checks")
    parser.add_argument("--keep-db", action="store_true", help="keep the test databases")
    parser.add_argument("--log-dir", help="where Odoo logs go (default: a temporary folder)")
    parser.add_argument("--pytest-k", help="pytest -k expression")
    parser.add_argument("--timeout", type=int, default=2400, help="seconds per Odoo run")
    args = parser.parse_args(argv)

    tally = Tally()
    if not args.no_install:
        odoo_env.pip_install(ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
    if args.only != "pytest":
        odoo_env.locate_odoo()  # fail early, with the message, when Odoo is missing
        preflight(tally)
    if args.only in (None, "pytest"):
        run_pytest(tally, args)
    if args.only in (None, "odoo"):
        run_odoo_suite(tally, args)

    if tally.problems:
        print("\nProblems:")
        for problem in tally.problems:
            print(f"  - {problem}")
    print(f"\n{tally.passed} passed, {tally.failed} failed", flush=True)
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
