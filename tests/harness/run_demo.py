"""Run the product: a demo database with the three addons, served on http://localhost:8069.

Installs the Python requirements, finds Odoo 18 (see odoo_env), creates the
database ``crm_ai_agent_demo`` with demo data (a channel of each type, leads
in each temperature) unless it exists, then starts Odoo in the foreground.
"""

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.harness import odoo_env

ROOT = odoo_env.ROOT


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="crm_ai_agent_demo", help="database name (default: crm_ai_agent_demo)")
    parser.add_argument("--port", type=int, default=8069, help="HTTP port (default: 8069)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the demo database")
    parser.add_argument("--no-install", action="store_true", help="do not pip install the requirements")
    parser.add_argument("--workers", type=int, default=2, help="Odoo worker processes (default: 2)")
    args = parser.parse_args(argv)

    if not args.no_install:
        odoo_env.pip_install(ROOT / "requirements.txt")
    odoo_dir, pythonpath = odoo_env.locate_odoo()
    base_cmd, env = odoo_env.odoo_command(pythonpath)
    settings = odoo_env.db_settings()
    common = [
        *base_cmd,
        "-c",
        str(odoo_env.CONF),
        f"--addons-path={odoo_env.addons_path(odoo_dir)}",
        *odoo_env.db_args(settings),
        "-d",
        args.db,
    ]
    if args.reset:
        odoo_env.drop_database(args.db, settings)
    if odoo_env.database_exists(args.db, settings):
        print(f"Updating the addons in {args.db}...", flush=True)
        step = ["-u", ",".join(odoo_env.ADDONS)]
    else:
        print(f"Creating the demo database {args.db} (about a minute)...", flush=True)
        step = ["-i", ",".join(odoo_env.ADDONS)]
    subprocess.run(
        [*common, *step, "--stop-after-init", "--workers=0", "--max-cron-threads=0", "--log-level=warn"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    print(
        "\n"
        f"CRM AI Agent is starting on http://localhost:{args.port}\n"
        "  Log in with: admin / admin\n"
        "  CRM > Pipeline shows the demo leads (Hot/Warm/Cold/In Service);\n"
        "  CRM > Configuration > AI Channels has one channel of each type, with its webhook URL.\n"
        "  Stop with Ctrl+C.\n",
        flush=True,
    )
    cmd = [*common, f"--http-port={args.port}", f"--workers={args.workers}", "--max-cron-threads=1"]
    try:
        return subprocess.run(cmd, env=env, cwd=ROOT, check=False).returncode
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
