"""Invariants of the container setup: docker-compose.yml, Dockerfile and .env.example.

Plain file checks: no database and no Django settings are needed.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS_FILES = (ROOT / "petition" / "settings.py", ROOT / "petition" / "env.py")

PROCFILE = ROOT / "Procfile"
# The one way to start the web processes, everywhere.
WEB_COMMAND = "gunicorn -c petition/gunicorn.conf.py petition.wsgi"

APP_SERVICES = ("web", "worker", "beat")
ALL_SERVICES = ("web", "worker", "beat", "db", "redis", "nginx")
APP_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "HTTPS",
    "TRUSTED_PROXY_COUNT",
)
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}, ${NAME:+alt}
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(?::?[-?+])[^}]*)?\}")


def procfile() -> dict[str, str]:
    from honcho.environ import parse_procfile

    return dict(parse_procfile(PROCFILE.read_text()).processes)


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict:
    return compose()["services"]


def command_text(service: dict) -> str:
    """The service's command as one shell string; the script itself for `sh -c <script>`."""
    command = service.get("command")
    assert command, "service has no command"
    if isinstance(command, str):
        return command
    if len(command) >= 3 and command[0] in {"sh", "/bin/sh", "bash"} and command[1] == "-c":
        return command[2]
    return shlex.join(command)


def command_tokens(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def depends_on(service: dict) -> dict[str, dict]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        # The short form means condition: service_started.
        return {name: {"condition": "service_started"} for name in deps}
    return deps


def healthcheck_test(service: dict) -> str:
    check = service.get("healthcheck") or {}
    assert not check.get("disable"), "health check is disabled"
    test = check.get("test")
    assert test, "no health check test"
    if isinstance(test, str):
        return test
    assert test[0] in {"CMD", "CMD-SHELL"}, test
    return " ".join(test[1:])


def mount_sources(service: dict, target: str) -> list[str]:
    """Sources of the service's volumes mounted at target (short `source:target` syntax)."""
    mounts = (volume.split(":") for volume in service.get("volumes", []))
    return [parts[0] for parts in mounts if len(parts) > 1 and parts[1] == target]


def strings(node) -> list[str]:
    """Every string in the parsed YAML, keys included: what Compose interpolates."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in strings(key) + strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return []


def documented_variables() -> set[str]:
    """Names documented in .env.example, as `NAME=` or commented out as `# NAME=`."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return set(pattern.findall(ENV_EXAMPLE.read_text()))


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, rest = full.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "Dockerfile ends with a line continuation"
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "Dockerfile has no FROM"
    return instructions[starts[-1] :]


# --- docker-compose.yml ---------------------------------------------------------------------


def test_all_services_exist():
    assert set(ALL_SERVICES) <= set(services())


def test_db_and_redis_have_health_checks():
    svc = services()
    db_check = healthcheck_test(svc["db"])
    db_env = environment(svc["db"])
    # The check asks for the database the app uses, as the user the app connects as.
    assert "pg_isready" in db_check
    assert f"-U {db_env['POSTGRES_USER']}" in db_check
    assert f"-d {db_env['POSTGRES_DB']}" in db_check
    redis_check = healthcheck_test(svc["redis"])
    assert "redis-cli" in redis_check
    assert "ping" in redis_check
    for name in ("db", "redis"):
        check = svc[name]["healthcheck"]
        for key in ("interval", "timeout", "retries"):
            assert key in check, f"{name} health check lacks {key}"


def test_db_credentials_match_the_app_database_url():
    db = services()["db"]
    env = environment(db)
    url = urlsplit(environment(services()["web"])["DATABASE_URL"])
    assert url.username == env["POSTGRES_USER"]
    assert url.path.lstrip("/") == env["POSTGRES_DB"]
    assert f"{env['POSTGRES_PASSWORD']}@" in url.netloc


def test_redis_persists_queued_tasks_and_never_evicts():
    redis = services()["redis"]
    command = " ".join(command_tokens(redis))
    assert command.startswith("redis-server")
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command
    assert any(volume.endswith(":/data") for volume in redis.get("volumes", []))


def test_state_lives_in_named_volumes():
    doc = compose()
    svc = doc["services"]
    declared = set(doc.get("volumes") or {})
    for name, target in (("db", "/var/lib/postgresql/data"), ("redis", "/data")):
        sources = mount_sources(svc[name], target)
        assert sources, f"{name} keeps {target} in no volume"
        assert sources[0] in declared, f"{name}'s {target} is not a named volume"


def test_app_services_share_image_build_and_environment():
    svc = services()
    web = svc["web"]
    assert web.get("build"), "web is not built from the Dockerfile"
    for name in ("worker", "beat"):
        assert svc[name].get("build") == web["build"], f"{name} builds something else"
        assert svc[name].get("image") == web.get("image"), f"{name} runs another image"
        assert environment(svc[name]) == environment(web), f"{name} has another environment"
    env = environment(web)
    assert set(APP_VARIABLES) <= set(env), set(APP_VARIABLES) - set(env)
    database = urlsplit(env["DATABASE_URL"])
    assert database.scheme in {"postgres", "postgresql"}
    assert database.hostname == "db"
    assert database.port == 5432
    redis = urlsplit(env["REDIS_URL"])
    assert redis.scheme == "redis"
    assert redis.hostname == "redis"
    assert env["DEBUG"] == "false"
    # Compose refuses to start without a real secret instead of falling back to a default.
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]*\}", env["SECRET_KEY"]), env["SECRET_KEY"]


def test_app_services_wait_for_healthy_db_and_redis():
    svc = services()
    for name in APP_SERVICES:
        deps = depends_on(svc[name])
        for dependency in ("db", "redis"):
            assert dependency in deps, f"{name} does not depend on {dependency}"
            condition = deps[dependency].get("condition")
            assert condition == "service_healthy", f"{name} -> {dependency}: {condition}"


def test_worker_and_beat_start_after_web_ran_migrations():
    svc = services()
    for name in ("worker", "beat"):
        deps = depends_on(svc[name])
        assert "web" in deps, f"{name} may start before migrations ran"
        assert deps["web"].get("condition") in {"service_healthy", "service_started"}


def test_web_migrates_and_loads_statement_before_gunicorn():
    web = services()["web"]
    script = " ".join(command_text(web).split())
    migrate = script.find("python manage.py migrate --noinput")
    load = script.find("python manage.py load_statement")
    gunicorn = script.find(f"exec {WEB_COMMAND}")
    assert migrate != -1, script
    assert load != -1, script
    assert gunicorn != -1, script
    assert migrate < load < gunicorn, script
    # Each step runs only if the previous one succeeded.
    between = [script[migrate:load], script[load:gunicorn]]
    assert all("&&" in part and ";" not in part for part in between), script
    assert script.endswith(f"exec {WEB_COMMAND}"), script
    # Reached through nginx only.
    assert not web.get("ports") and "8000" in [str(port) for port in web.get("expose", [])]


def test_nginx_fronts_the_web_server_with_the_repository_configuration():
    svc = services()
    nginx = svc["nginx"]
    assert nginx["image"].startswith("nginx:"), "the official image"
    assert "${HTTP_PORT:-8000}:80" in [str(port) for port in nginx.get("ports", [])]
    template = ROOT / "deploy" / "nginx" / "petition.conf.template"
    assert f"./{template.relative_to(ROOT)}" in mount_sources(
        nginx, "/etc/nginx/templates/default.conf.template"
    )
    env = environment(nginx)
    assert set(re.findall(r"\$\{(PETITION_[A-Z_]+)\}", template.read_text())) <= set(env)
    assert env["PETITION_UPSTREAM"] == "web:8000"
    assert depends_on(nginx)["web"]["condition"] == "service_healthy"
    healthcheck_test(nginx)
    # nginx serves what the web server collected and what the worker writes.
    web_env = environment(svc["web"])
    assert mount_sources(svc["web"], web_env["STATIC_ROOT"]) == ["static"]
    static = [v for v in nginx["volumes"] if v.startswith("static:")]
    assert static == [f"static:{env['PETITION_STATIC_ROOT']}:ro"]
    lists = [v for v in nginx["volumes"] if v.startswith("public:")]
    assert lists == [f"public:{env['PETITION_LISTS_ROOT']}:ro"]
    assert mount_sources(svc["worker"], web_env["PUBLIC_LISTS_ROOT"]) == ["public"]
    assert "collectstatic" in command_text(svc["web"])
    # The application counts nginx in X-Forwarded-For.
    for name in APP_SERVICES:
        assert environment(svc[name])["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"


def test_web_is_ready_when_its_health_check_says_so():
    # Readiness (the database answers) gates the worker and beat, which wait for migrations.
    check = healthcheck_test(services()["web"])
    assert check == "python -m ops.probe /healthz/ready", check


def test_worker_and_beat_start_as_the_procfile_says():
    """The worker consumes every declared queue (no -Q list to fall out of date)."""
    for name in ("worker", "beat"):
        assert shlex.join(command_tokens(services()[name])) == procfile()[name]


def test_beat_keeps_its_schedule_where_the_image_can_write():
    env = dict(
        args.split("=", 1)
        for keyword, line in final_stage()
        if keyword == "ENV"
        for args in shlex.split(line)
    )
    assert env["CELERY_BEAT_SCHEDULE_FILE"].startswith("/tmp/"), env


def test_monitoring_services_are_optional_and_local():
    svc = services()
    for name in ("flower", "prometheus", "grafana"):
        assert svc[name].get("profiles") == ["monitoring"], name
        for port in svc[name].get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} is published beyond loopback"
    # Credentials are required, never defaulted.
    assert "FLOWER_BASIC_AUTH" in command_text(svc["flower"])
    assert "GF_SECURITY_ADMIN_PASSWORD" in " ".join(command_tokens(svc["grafana"]))
    # Prometheus reads the configuration and the dashboard files the repository holds.
    for name, target in (
        ("prometheus", "/etc/prometheus/prometheus.yml"),
        ("grafana", "/etc/grafana/provisioning"),
        ("grafana", "/var/lib/grafana/dashboards"),
    ):
        (source,) = mount_sources(svc[name], target)
        assert (ROOT / source).exists(), source
    scrape = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    (job,) = scrape["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    (host,) = [t.split(":")[0] for c in job["static_configs"] for t in c["targets"]]
    assert host in environment(svc["web"])["ALLOWED_HOSTS"].split(",")


def test_private_storage_is_shared_by_web_and_worker():
    doc = compose()
    svc = doc["services"]
    root = environment(svc["web"])["PRIVATE_STORAGE_ROOT"]
    mounts = {}
    for name in ("web", "worker"):
        sources = mount_sources(svc[name], root)
        assert sources, f"{name} does not mount {root}"
        mounts[name] = sources[0]
    assert mounts["web"] == mounts["worker"]
    assert mounts["web"] in (doc.get("volumes") or {})


def test_compose_variables_are_documented_in_env_example():
    referenced = {name for text in strings(compose()) for name in INTERPOLATION.findall(text)}
    for name in APP_SERVICES:
        referenced |= set(environment(services()[name]))
    assert set(APP_VARIABLES) <= referenced
    missing = referenced - documented_variables()
    assert not missing, f"not documented in .env.example: {sorted(missing)}"


def test_settings_variables_are_documented_in_env_example():
    pattern = re.compile(r"""env_(?:str|bool|int|list)\(\s*["']([A-Z][A-Z0-9_]*)["']""")
    used = set()
    for path in SETTINGS_FILES:
        used |= set(pattern.findall(path.read_text()))
    assert {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"} <= used, used
    missing = used - documented_variables()
    assert not missing, f"not documented in .env.example: {sorted(missing)}"


def test_compose_file_is_valid():
    """Structural checks always; `docker compose config` as well when Compose is installed."""
    doc = compose()
    svc = doc["services"]
    declared_volumes = set(doc.get("volumes") or {})
    for name, service in svc.items():
        assert service.get("image") or service.get("build"), f"{name} has neither image nor build"
        for dependency, spec in depends_on(service).items():
            assert dependency in svc, f"{name} depends on unknown service {dependency}"
            assert dependency != name
            if spec.get("condition") == "service_healthy":
                healthcheck_test(svc[dependency])
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/", "~")):
                assert source in declared_volumes, f"{name} uses undeclared volume {source}"
    # Every "$" in a value is an interpolation Compose understands or an escaped "$$".
    for text in strings(doc):
        unescaped = text.replace("$$", "")
        assert unescaped.count("$") == len(INTERPOLATION.findall(unescaped)), text

    docker = shutil.which("docker")
    if docker and _compose_available(docker):
        base = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
        config = [docker, "compose", "-f", str(COMPOSE_FILE), "config", "-q"]
        ok = subprocess.run(
            config,
            cwd=ROOT,
            env={**base, "SECRET_KEY": "test-only-secret"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ok.returncode == 0, ok.stderr
        without_secret = subprocess.run(
            config, cwd=ROOT, env=base, capture_output=True, text=True, timeout=60
        )
        assert without_secret.returncode != 0, "compose accepted a missing SECRET_KEY"


def _compose_available(docker: str) -> bool:
    try:
        result = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_installs_locked_dependencies_with_uv():
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    syncs = [args for args in runs if re.search(r"\buv sync\b", args)]
    assert syncs, "no `uv sync` step"
    for args in syncs:
        assert "--frozen" in args or "--locked" in args, args
        assert "--no-dev" in args, args
    assert any("--no-install-project" in args for args in syncs)


def test_dockerfile_compiles_messages_and_collects_static_files():
    runs = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "RUN")
    assert "gettext" in runs
    assert "manage.py compilemessages" in runs
    assert "manage.py collectstatic --noinput" in runs
    assert "DEBUG=false" in runs


def test_dockerfile_keeps_no_build_secret_in_the_image():
    for keyword, args in dockerfile_instructions():
        if keyword in {"ENV", "ARG"}:
            assert "SECRET_KEY" not in args, f"{keyword} {args}"


def test_dockerfile_runs_as_an_unprivileged_user():
    users = [args for keyword, args in final_stage() if keyword == "USER"]
    assert users, "the final stage has no USER line and runs as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, user


def test_dockerfile_serves_gunicorn_on_port_8000_with_a_health_check():
    stage = final_stage()
    assert any(keyword == "EXPOSE" and "8000" in args.split() for keyword, args in stage)
    commands = [args for keyword, args in stage if keyword == "CMD"]
    assert commands, "no default CMD"
    assert shlex.join(json.loads(commands[-1])) == WEB_COMMAND
    assert "WEB_BIND=0.0.0.0:8000" in " ".join(a for k, a in stage if k == "ENV")
    checks = [args for keyword, args in stage if keyword == "HEALTHCHECK"]
    assert checks, "no HEALTHCHECK"
    # Liveness: a database outage must not get the container restarted.
    assert checks[-1].endswith('CMD ["python", "-m", "ops.probe", "/healthz/live"]')


def test_gunicorn_settings_exist_in_the_locked_gunicorn():
    """gunicorn ignores names it does not know: a misspelt setting or hook would silently do
    nothing. Every public name the configuration defines must be one of gunicorn's."""
    import importlib.util

    from gunicorn.config import KNOWN_SETTINGS

    known = {setting.name for setting in KNOWN_SETTINGS}
    spec = importlib.util.spec_from_file_location(
        "gunicorn_conf", ROOT / "petition/gunicorn.conf.py"
    )
    config = importlib.util.module_from_spec(spec)
    previous = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    try:
        spec.loader.exec_module(config)
    finally:
        created = os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if previous is not None:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = previous
        elif created:
            shutil.rmtree(created, ignore_errors=True)
    defined = {
        name
        for name, value in vars(config).items()
        if not name.startswith("_") and not isinstance(value, (type(os), type))
    }
    assert {"bind", "workers", "post_worker_init", "child_exit"} <= defined
    unknown = defined - known
    assert not unknown, f"gunicorn does not know {sorted(unknown)}"


def test_every_place_starts_the_web_processes_the_same_way():
    assert procfile()["web"] == WEB_COMMAND
    assert WEB_COMMAND in (ROOT / "README.md").read_text()
    bench = (ROOT / "tests/bench/stack.py").read_text()
    assert "petition/gunicorn.conf.py" in bench
