"""What a deployer relies on in Dockerfile, docker/entrypoint.sh, compose.yaml and .dockerignore.

Plain functions that read the files: no Django database, no Docker daemon. They run under
pytest-django with the rest of the suite and on their own with `-p no:django`.
"""

import fnmatch
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
COMPOSE = ROOT / "compose.yaml"
DOCKERIGNORE = ROOT / ".dockerignore"


# --- Dockerfile -------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comment lines dropped."""
    instructions, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "Dockerfile ends in a line continuation"
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def exec_form(arguments: str) -> list[str]:
    """The JSON array of an exec-form CMD or ENTRYPOINT (shell form would need a shell)."""
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(item, str) for item in value), arguments
    return value


def instruction_text() -> str:
    """Every instruction, comments left out (they may well mention what the instructions avoid)."""
    return "\n".join(f"{keyword} {arguments}" for keyword, arguments in dockerfile_instructions())


def image_env() -> dict[str, str]:
    env = {}
    for keyword, arguments in final_stage():
        if keyword == "ENV":
            env.update(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", arguments))
    return env


def test_every_stage_builds_on_slim_python_311():
    bases = [arguments.split()[0] for keyword, arguments in dockerfile_instructions() if keyword == "FROM"]
    assert bases and all(base == "python:3.11-slim-bookworm" for base in bases), bases


def test_only_runtime_requirements_are_installed_without_pip_cache():
    assert "requirements-dev" not in instruction_text()
    installs = [arguments for keyword, arguments in dockerfile_instructions() if "pip install" in arguments]
    assert installs and all("--no-cache-dir" in run for run in installs), installs
    # Cache-friendly: requirements.txt is copied and installed before the code is.
    instructions = dockerfile_instructions()
    copies = [i for i, (keyword, arguments) in enumerate(instructions) if keyword == "COPY"]
    requirements = next(i for i in copies if "requirements.txt" in instructions[i][1])
    install = next(i for i, (_, arguments) in enumerate(instructions) if "pip install" in arguments)
    code = next(i for i in copies if instructions[i][1].split()[0] == ".")
    assert requirements < install < code


def test_site_runs_as_a_non_root_user():
    users = [arguments.split(":")[0] for keyword, arguments in final_stage() if keyword == "USER"]
    assert users, "the final stage has no USER: the site would run as root"
    assert users[-1] not in {"root", "0"}


def test_python_does_not_buffer_output_or_write_bytecode():
    env = image_env()
    assert env.get("PYTHONUNBUFFERED") == "1"
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1"


def test_healthcheck_requests_the_site_over_http():
    checks = [arguments for keyword, arguments in final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1, checks
    options, _, command = checks[0].partition("CMD ")
    assert "--start-period" in options and "--timeout" in options
    argv = exec_form(command)
    assert argv[:2] == ["python", "-c"]
    assert "urllib" in argv[2] and "127.0.0.1:8000" in argv[2] and "/readyz" in argv[2]
    compile(argv[2], "HEALTHCHECK", "exec")  # at least valid Python


def test_gunicorn_serves_on_port_8000_without_preload():
    stage = final_stage()
    assert ("EXPOSE", "8000") in stage
    commands = [exec_form(arguments) for keyword, arguments in stage if keyword == "CMD"]
    assert len(commands) == 1
    command = commands[0]
    assert command[:2] == ["gunicorn", "fashionsite.wsgi"]
    assert command[command.index("--bind") + 1] == "0.0.0.0:8000"
    # The Cassandra driver's sessions must not cross a fork: nothing may turn preloading on.
    assert "--preload" not in instruction_text()
    assert "--preload" not in ENTRYPOINT.read_text()
    assert "preload" not in image_env().get("GUNICORN_CMD_ARGS", "")
    assert command[command.index("--config") + 1] == "python:fashionsite.gunicorn"


def test_static_files_are_collected_into_the_image_not_the_data_volume():
    env = image_env()
    assert "manage.py collectstatic --noinput" in instruction_text()
    assert env["STATIC_ROOT"] and not env["STATIC_ROOT"].startswith(env["FASHIONSITE_DATA_DIR"])


# --- docker/entrypoint.sh ---------------------------------------------------------------------


def test_entrypoint_is_the_executable_script():
    entrypoints = [exec_form(arguments) for keyword, arguments in final_stage() if keyword == "ENTRYPOINT"]
    assert entrypoints == [["/app/docker/entrypoint.sh"]]
    assert ENTRYPOINT.stat().st_mode & 0o111, "docker/entrypoint.sh is not executable"


def test_entrypoint_prepares_both_databases_then_execs_the_command():
    script = ENTRYPOINT.read_text()
    steps = ["manage.py migrate --noinput", "manage.py sync_schema", "manage.py createadmin", 'exec "$@"']
    positions = [script.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), dict(zip(steps, positions))
    # `migrate --database cassandra` crashes with django-cassandra-engine; sync_schema runs
    # sync_cassandra and adds the indexes it cannot make.
    assert "--database cassandra" not in script


@pytest.mark.skipif(shutil.which("sh") is None, reason="no sh to check the entrypoint's syntax")
def test_entrypoint_is_valid_posix_shell():
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True)


# --- compose.yaml -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    return yaml.safe_load(COMPOSE.read_text())


def seconds(duration: str) -> int:
    """A compose duration such as `90s`, `3m` or `1m30s`."""
    units = {"h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+)([hms])", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(int(number) * units[unit] for number, unit in parts)


def named_volume_at(compose: dict, service: str, target: str) -> str:
    for volume in compose["services"][service].get("volumes", []):
        source, _, mount = volume.partition(":")
        if mount.split(":")[0] == target:
            assert source in (compose.get("volumes") or {}), f"{source} is not a named volume"
            return source
    raise AssertionError(f"{service} mounts nothing at {target}")


def test_web_starts_only_once_cassandra_is_healthy(compose):
    depends = compose["services"]["web"]["depends_on"]
    assert depends["cassandra"]["condition"] == "service_healthy"


def test_cassandra_is_the_official_5_0_image_with_a_cql_healthcheck(compose):
    cassandra = compose["services"]["cassandra"]
    assert cassandra["image"] == "cassandra:5.0"
    check = cassandra["healthcheck"]
    assert "cqlsh" in " ".join(check["test"])
    # A first start takes about a minute: failures before then must not count.
    assert seconds(check["start_period"]) >= 60


def test_cassandra_keeps_its_data_in_a_named_volume(compose):
    named_volume_at(compose, "cassandra", "/var/lib/cassandra")


def test_cassandra_heap_is_sized_with_both_variables(compose):
    env = compose["services"]["cassandra"]["environment"]
    assert "MAX_HEAP_SIZE" in env and "HEAP_NEWSIZE" in env  # the image accepts both or neither


def test_web_talks_to_the_cassandra_service(compose):
    env = compose["services"]["web"]["environment"]
    assert env["CASSANDRA_HOSTS"] == "cassandra"


def test_the_secret_key_is_required_not_defaulted(compose):
    env = compose["services"]["web"]["environment"]
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]+\}", env["DJANGO_SECRET_KEY"])


def test_web_keeps_its_data_dir_in_a_named_volume(compose):
    named_volume_at(compose, "web", image_env()["FASHIONSITE_DATA_DIR"])


NGINX_SITE = ROOT / "deploy" / "nginx" / "fashionsite.conf"


def test_web_is_reached_only_through_nginx_on_loopback(compose):
    assert "ports" not in compose["services"]["web"]
    nginx = compose["services"]["nginx"]
    assert nginx["image"].startswith("nginx:") and "profiles" not in nginx
    assert nginx["depends_on"] == {"web": {"condition": "service_healthy"}}
    ports = nginx["ports"]
    assert ports and all(port.startswith("127.0.0.1:") and port.endswith(":80") for port in ports)
    (mounted,) = nginx["configs"]
    assert mounted["target"] == "/etc/nginx/conf.d/default.conf"
    server = compose["configs"][mounted["source"]]["content"]
    assert "server web:8000;" in server and "include /etc/nginx/fashionsite.conf;" in server


def test_both_proxies_use_make_runs_nginx_settings(compose):
    for name in ("nginx", "proxy"):
        assert (
            "./deploy/nginx/fashionsite.conf:/etc/nginx/fashionsite.conf:ro"
            in compose["services"][name]["volumes"]
        )
    site = NGINX_SITE.read_text()
    assert "proxy_pass http://fashionsite;" in site
    assert "proxy_request_buffering on;" in site and "proxy_buffering on;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site  # replaces a client's own


def test_both_services_restart_by_themselves(compose):
    for name in ("cassandra", "web"):
        assert compose["services"][name]["restart"] in {"always", "unless-stopped"}


def test_web_environment_names_variables_the_site_reads(compose):
    """A misspelt name (CASSANDRA_HOST) would be silently ignored: each must be read somewhere."""
    readers = (ROOT / "fashionsite" / "settings.py").read_text() + (
        ROOT / "classifier" / "management" / "commands" / "createadmin.py"
    ).read_text()
    read_elsewhere = {"WEB_CONCURRENCY"}  # gunicorn's own
    unread = [
        name
        for name in compose["services"]["web"]["environment"]
        if name not in read_elsewhere and f'"{name}"' not in readers
    ]
    assert not unread, f"nothing reads {unread}"


def compose_command() -> list[str] | None:
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        version = subprocess.run([*command, "version"], capture_output=True)
        if version.returncode == 0:
            return command
    return None


@pytest.mark.skipif(
    compose_command() is None, reason="neither `docker compose` nor docker-compose is installed"
)
def test_docker_compose_accepts_the_file_and_demands_the_secret(tmp_path):
    # An empty env file stands in for any .env a developer keeps beside compose.yaml.
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    command = [*compose_command(), "--env-file", str(empty_env_file), "-f", str(COMPOSE), "config", "--quiet"]
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SECRET_KEY"}
    subprocess.run(command, env={**env, "DJANGO_SECRET_KEY": "test-only"}, check=True, cwd=ROOT)
    missing = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    assert missing.returncode != 0 and "DJANGO_SECRET_KEY" in missing.stderr


# --- compose.yaml, profile `cluster` ------------------------------------------------------------

CASSANDRA_NODES = ("cassandra", "cassandra-2", "cassandra-3")
CLUSTER_ONLY = ("cassandra-2", "cassandra-3", "web-init", "web-cluster", "proxy")


def default_of(value: str) -> str:
    """The default of a `${NAME:-default}` interpolation (the value itself if it is plain)."""
    match = re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", str(value))
    return match.group(1) if match else str(value)


def test_the_cluster_profile_leaves_the_default_setup_alone(compose):
    for name in CLUSTER_ONLY:
        assert compose["services"][name].get("profiles") == ["cluster"], name
    assert "profiles" not in compose["services"]["cassandra"]  # node 1 of the cluster too
    assert "profiles" not in compose["services"]["web"]


def test_cluster_nodes_are_alike_and_keep_their_own_data(compose):
    services = compose["services"]
    for name in CASSANDRA_NODES:
        node = services[name]
        assert node["image"] == "cassandra:5.0"
        assert "cqlsh" in " ".join(node["healthcheck"]["test"])
        assert node["restart"] in {"always", "unless-stopped"}
        assert "ports" not in node
    environments = [
        {key: value for key, value in services[name]["environment"].items() if key != "CASSANDRA_SEEDS"}
        for name in CASSANDRA_NODES
    ]
    assert environments[0] == environments[1] == environments[2]  # cluster name, snitch, DC, heap
    assert environments[0]["CASSANDRA_ENDPOINT_SNITCH"] == "GossipingPropertyFileSnitch"
    volumes = [named_volume_at(compose, name, "/var/lib/cassandra") for name in CASSANDRA_NODES]
    assert len(set(volumes)) == 3


def test_cluster_nodes_join_one_at_a_time(compose):
    services = compose["services"]
    assert services["cassandra-2"]["depends_on"] == {"cassandra": {"condition": "service_healthy"}}
    assert services["cassandra-3"]["depends_on"] == {"cassandra-2": {"condition": "service_healthy"}}


def test_joining_nodes_bootstrap_and_can_restart_without_the_first(compose):
    services = compose["services"]
    assert "CASSANDRA_SEEDS" not in services["cassandra"]["environment"]  # its own seed: starts the ring
    for name in ("cassandra-2", "cassandra-3"):
        seeds = services[name]["environment"]["CASSANDRA_SEEDS"].split(",")
        assert "cassandra" in seeds
        assert name not in seeds  # a seed never bootstraps: it would not stream the data it takes over
        assert len(seeds) >= 2 and set(seeds) <= set(CASSANDRA_NODES)


def test_cluster_site_uses_every_node_rf3_and_local_quorum(compose):
    services = compose["services"]
    dc = services["cassandra"]["environment"]["CASSANDRA_DC"]
    for name in ("web-init", "web-cluster"):
        env = services[name]["environment"]
        assert env["CASSANDRA_HOSTS"].split(",") == list(CASSANDRA_NODES)
        assert env["CASSANDRA_REPLICATION"] == f"NetworkTopologyStrategy:{dc}=3"
        assert env["CASSANDRA_LOCAL_DC"] == dc
        assert env["CASSANDRA_CONSISTENCY"] == "LOCAL_QUORUM"
        # A keyspace the one-node site created earlier keeps its SimpleStrategy:1: not this one.
        one_node_keyspace = services["web"]["environment"]["CASSANDRA_KEYSPACE"]
        assert default_of(env["CASSANDRA_KEYSPACE"]) != default_of(one_node_keyspace)
    assert services["web-init"]["environment"] == services["web-cluster"]["environment"]


def test_schema_is_created_once_before_the_replicas_start(compose):
    services = compose["services"]
    init = services["web-init"]
    assert init["depends_on"] == {"cassandra-3": {"condition": "service_healthy"}}
    # The entrypoint prepares the storage before a gunicorn command (checked above); this one then exits.
    assert init["command"] == ["gunicorn", "--version"]
    assert "entrypoint" not in init
    assert re.search(r'if \[ "\$\{1:-\}" = "gunicorn" \]; then\s+prepare\s', ENTRYPOINT.read_text())
    assert init.get("restart", "no") == "no"  # a failed preparation stops here, and the replicas with it
    assert services["web-cluster"]["depends_on"] == {
        "web-init": {"condition": "service_completed_successfully"}
    }


def test_several_web_replicas_without_host_ports(compose):
    web_cluster = compose["services"]["web-cluster"]
    assert int(default_of(web_cluster["deploy"]["replicas"])) >= 2
    assert "ports" not in web_cluster and "container_name" not in web_cluster
    assert web_cluster["restart"] in {"always", "unless-stopped"}
    # The image the one-node site builds, and its data volume (users, sessions) shared by all.
    for name in ("web-init", "web-cluster"):
        service = compose["services"][name]
        assert service["image"] == compose["services"]["web"]["image"]
        assert service["build"] == compose["services"]["web"]["build"]  # built here, never pulled
        assert named_volume_at(compose, name, image_env()["FASHIONSITE_DATA_DIR"]) == named_volume_at(
            compose, "web", image_env()["FASHIONSITE_DATA_DIR"]
        )


def test_cluster_web_environment_names_variables_the_site_reads(compose):
    settings = (ROOT / "fashionsite" / "settings.py").read_text()
    services = compose["services"]
    names = set(services["web-cluster"]["environment"]) - set(services["web"]["environment"])
    assert [name for name in names if f'"{name}"' not in settings] == []


def test_proxy_balances_over_the_replicas_on_loopback_only(compose):
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["depends_on"] == {"web-cluster": {"condition": "service_healthy"}}
    ports = proxy["ports"]
    assert ports and all(port.startswith("127.0.0.1:") and port.endswith(":80") for port in ports)
    web_port = compose["services"]["nginx"]["ports"][0].split(":")[1]
    assert default_of(ports[0].split(":")[1]) != default_of(web_port)  # both setups can run at once
    (mounted,) = proxy["configs"]
    assert mounted["target"] == "/etc/nginx/conf.d/default.conf"
    nginx = compose["configs"][mounted["source"]]["content"]
    assert re.search(r"server web-cluster:8000 resolve;", nginx)  # every replica, re-resolved
    assert "resolver 127.0.0.11" in nginx  # Docker's embedded DNS
    assert "include /etc/nginx/fashionsite.conf;" in nginx
    site = NGINX_SITE.read_text()
    assert "proxy_set_header Host $http_host;" in site
    # Big enough for the largest upload the site accepts (UPLOAD_MAX_FILES x UPLOAD_MAX_BYTES).
    body_limit = int(re.search(r"client_max_body_size (\d+)m;", site).group(1)) * 1024 * 1024
    env = compose["services"]["web-cluster"]["environment"]
    largest_upload = int(default_of(env["UPLOAD_MAX_BYTES"])) * int(default_of(env["UPLOAD_MAX_FILES"]))
    assert body_limit >= largest_upload
    assert "non_idempotent" not in site  # an upload is never sent twice


@pytest.mark.skipif(
    compose_command() is None, reason="neither `docker compose` nor docker-compose is installed"
)
def test_docker_compose_resolves_the_cluster_profile(tmp_path):
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    base = [*compose_command(), "--env-file", str(empty_env_file), "-f", str(COMPOSE)]
    env = {**os.environ, "DJANGO_SECRET_KEY": "test-only"}

    def services(*profile: str) -> set[str]:
        command = [*base, *profile, "config", "--services"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=ROOT)
        return set(result.stdout.split())

    assert services() == {"cassandra", "web"}
    assert services("--profile", "cluster") == {"cassandra", "web", *CLUSTER_ONLY}
    resolved = subprocess.run(
        [*base, "--profile", "cluster", "config", "--format", "json"],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    config = json.loads(resolved.stdout)
    assert config["services"]["web-cluster"]["deploy"]["replicas"] == 3
    replication = config["services"]["web-cluster"]["environment"]["CASSANDRA_REPLICATION"]
    assert replication == "NetworkTopologyStrategy:dc1=3"


# --- .dockerignore ----------------------------------------------------------------------------


def dockerignore_patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def ignored(path: str) -> bool:
    """Close enough to Docker's matching for these plain patterns (no `!` exceptions are used)."""
    patterns = dockerignore_patterns()
    assert not any(pattern.startswith("!") for pattern in patterns)
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatch(prefix.rsplit("/", 1)[-1], pattern[3:]):
                return True
    return False


@pytest.mark.parametrize(
    "path",
    [".venv/bin/python", "var/db.sqlite3", ".git/HEAD", ".env", ".pytest_cache/v", "bench/results/x.json"],
)
def test_dockerignore_keeps_local_state_and_secrets_out(path):
    assert ignored(path)


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "requirements.txt",
        "docker/entrypoint.sh",
        "fashionsite/settings.py",
        "mlmodel/artifacts/ACTIVE",
    ],
)
def test_dockerignore_keeps_what_the_image_needs(path):
    assert not ignored(path)
