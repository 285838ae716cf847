"""Find Odoo 18, PostgreSQL settings and the addons path, the same way for every command.

Order: an importable ``odoo`` package (pip, Debian package, official image),
then a source tree named by ``ODOO_SRC``. Otherwise a clear message, exit 3.
"""

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ("crm_ai_agent", "crm_ai_agent_campaigns", "crm_ai_agent_dashboard")
CONF = ROOT / "odoo.conf"

HOW_TO_GET_ODOO = """\
Odoo 18 was not found.

The CRM AI Agent addons run inside Odoo 18 (Community or Enterprise). Give them one of:
  1. an importable Odoo 18 package in this Python ({python}):
       git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git ~/odoo18
       pip install -r ~/odoo18/requirements.txt && pip install -e ~/odoo18
     (or the Debian/Ubuntu package odoo 18 from nightly.odoo.com);
  2. a source tree of Odoo 18 named by ODOO_SRC:
       export ODOO_SRC=~/odoo18
  3. no local Odoo at all: the official image, with Docker:
       docker compose -f docker/compose.yaml up
"""


class OdooNotFound(SystemExit):
    def __init__(self, detail=""):
        text = HOW_TO_GET_ODOO.format(python=sys.executable)
        if detail:
            text += f"\n({detail})\n"
        sys.stderr.write(text)
        super().__init__(3)


def _probe(pythonpath=None):
    """Ask a fresh interpreter where odoo is and which version it is."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    code = "import odoo, odoo.release, os; print(odoo.release.serie); print(os.path.dirname(odoo.__file__))"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    serie, path = proc.stdout.strip().splitlines()[-2:]
    return serie, Path(path)


def locate_odoo():
    """Return ``(odoo_package_dir, extra_pythonpath)`` or raise OdooNotFound."""
    src = os.environ.get("ODOO_SRC")
    found = _probe()
    if found and found[0].startswith("18."):
        return found[1], None
    if src:
        src_path = Path(src).expanduser().resolve()
        if not (src_path / "odoo" / "__init__.py").is_file():
            raise OdooNotFound(f"ODOO_SRC={src} has no odoo/__init__.py")
        found = _probe(src_path)
        if not found:
            raise OdooNotFound(f"ODOO_SRC={src} could not be imported: are Odoo's requirements installed?")
        if not found[0].startswith("18."):
            raise OdooNotFound(f"ODOO_SRC={src} is Odoo {found[0]}, not 18")
        return found[1], src_path
    if found:
        raise OdooNotFound(f"the importable odoo is version {found[0]}, not 18")
    raise OdooNotFound()


def addons_path(odoo_dir):
    paths = [ROOT]
    for candidate in (odoo_dir.parent / "addons", odoo_dir / "addons"):
        if candidate.is_dir() and any((candidate / name).is_dir() for name in ("base", "crm", "web")):
            paths.append(candidate)
    extra = os.environ.get("ODOO_EXTRA_ADDONS")
    if extra:
        paths.extend(Path(p) for p in extra.split(os.pathsep) if p)
    seen, result = set(), []
    for entry in paths:
        path = Path(entry).resolve()
        if path not in seen:
            seen.add(path)
            result.append(str(path))
    return ",".join(result)


def db_settings():
    """PG* variables first, then odoo.conf, then 127.0.0.1:5432 as the current user."""
    conf = {}
    if CONF.is_file():
        parser = configparser.ConfigParser()
        parser.read(CONF)
        if parser.has_section("options"):
            conf = dict(parser.items("options"))

    def pick(env_name, conf_name, default):
        value = os.environ.get(env_name)
        if value:
            return value
        value = conf.get(conf_name)
        if value and value.lower() not in ("false", "none"):
            return value
        return default

    return {
        "host": pick("PGHOST", "db_host", "127.0.0.1"),
        "port": pick("PGPORT", "db_port", "5432"),
        "user": pick("PGUSER", "db_user", None),
        "password": pick("PGPASSWORD", "db_password", None),
    }


def db_args(settings):
    args = ["--db_host", settings["host"], "--db_port", str(settings["port"])]
    if settings["user"]:
        args += ["--db_user", settings["user"]]
    if settings["password"]:
        args += ["--db_password", settings["password"]]
    return args


def odoo_command(pythonpath):
    """Command prefix starting Odoo with this interpreter, and the environment for it."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    return [sys.executable, str(Path(__file__).resolve().parent / "odoo_launcher.py")], env


def psql_env(settings):
    env = dict(os.environ)
    env["PGHOST"] = settings["host"]
    env["PGPORT"] = str(settings["port"])
    if settings["user"]:
        env["PGUSER"] = settings["user"]
    if settings["password"]:
        env["PGPASSWORD"] = settings["password"]
    return env


def drop_database(name, settings):
    """Drop a database through psycopg2 (installed with Odoo); ignore a missing one."""
    import psycopg2

    kwargs = {"host": settings["host"], "port": settings["port"], "dbname": "postgres"}
    if settings["user"]:
        kwargs["user"] = settings["user"]
    if settings["password"]:
        kwargs["password"] = settings["password"]
    conn = psycopg2.connect(**kwargs)
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        cr.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


def database_exists(name, settings):
    import psycopg2

    kwargs = {"host": settings["host"], "port": settings["port"], "dbname": "postgres"}
    if settings["user"]:
        kwargs["user"] = settings["user"]
    if settings["password"]:
        kwargs["password"] = settings["password"]
    conn = psycopg2.connect(**kwargs)
    with conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        exists = bool(cr.fetchone())
    conn.close()
    return exists


def pip_install(*requirement_files, quiet=True):
    files = [f for f in requirement_files if Path(f).is_file()]
    if not files:
        return
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        cmd.append("-q")
    for f in files:
        cmd += ["-r", str(f)]
    subprocess.run(cmd, check=True)


def find_chrome():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None
