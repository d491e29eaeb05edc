"""What a deployer relies on in compose.yaml: the one-node setup, the `cluster` profile, the
one-off `train` service, each read as data and loaded by the Compose specification's own loader.

The loader is compose-go (what Docker Compose v2 runs), built by `make test` from tools/composecheck:
no Docker engine needed. Debian's docker-compose 1.29 would reject this valid file (`name:`,
`configs.content`).
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from .test_deployment_files import ENTRYPOINT, ROOT, image_env

COMPOSE = ROOT / "compose.yaml"
COMPOSECHECK = ROOT / "var" / "tools" / "composecheck"


# --- compose.yaml, one node -----------------------------------------------------------------------------


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
    for name in ("cassandra", "web", "nginx"):
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


def composecheck(*args: str, secret: str | None = "test-only", tmp_path: Path) -> subprocess.CompletedProcess:
    """The Compose specification's loader (tools/composecheck) on compose.yaml, as `docker compose config`.

    An empty env file stands in for any .env a developer keeps beside compose.yaml."""
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SECRET_KEY"}
    if secret is not None:
        env["DJANGO_SECRET_KEY"] = secret
    command = [str(COMPOSECHECK), "-env-file", str(empty_env_file), *args, str(COMPOSE)]
    return subprocess.run(command, check=False, env=env, capture_output=True, text=True, cwd=ROOT, timeout=60)


needs_loader = pytest.mark.skipif(
    not COMPOSECHECK.exists(),
    reason="the compose loader is not built: `make test` builds var/tools/composecheck",
)


@needs_loader
def test_the_compose_loader_accepts_the_file_and_demands_the_secret(tmp_path):
    for profile in ([], ["-profile", "cluster"], ["-profile", "train"]):
        loaded = composecheck(*profile, tmp_path=tmp_path)
        assert loaded.returncode == 0, loaded.stderr
    missing = composecheck(secret=None, tmp_path=tmp_path)
    assert missing.returncode != 0 and "required variable DJANGO_SECRET_KEY is missing" in missing.stderr


@needs_loader
def test_the_compose_loader_rejects_what_the_specification_forbids(tmp_path):
    """Not a loader that accepts anything: a misspelt key is an error (`restart` spelt `restarts`)."""
    broken = tmp_path / "compose.yaml"
    broken.write_text(
        COMPOSE.read_text().replace("    restart: unless-stopped\n", "    restarts: unless-stopped\n", 1)
    )
    env = {**os.environ, "DJANGO_SECRET_KEY": "test-only"}
    result = subprocess.run(
        [str(COMPOSECHECK), str(broken)], check=False, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "restarts" in result.stderr


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


@needs_loader
def test_the_compose_loader_resolves_each_profile(tmp_path):
    def services(*profile: str) -> set[str]:
        result = composecheck(*profile, "-services", tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr
        return set(result.stdout.split())

    assert services() == {"cassandra", "web", "nginx"}
    assert services("-profile", "cluster") == {"cassandra", "web", "nginx", *CLUSTER_ONLY}
    assert services("-profile", "train") == {"cassandra", "web", "nginx", "train"}
    resolved = composecheck("-profile", "cluster", "-json", tmp_path=tmp_path)
    config = json.loads(resolved.stdout)
    assert config["services"]["web-cluster"]["deploy"]["replicas"] == 3
    replication = config["services"]["web-cluster"]["environment"]["CASSANDRA_REPLICATION"]
    assert replication == "NetworkTopologyStrategy:dc1=3"
    # Both builds resolved to their targets of the one Dockerfile.
    trained = json.loads(composecheck("-profile", "train", "-json", tmp_path=tmp_path).stdout)["services"]
    assert {name: trained[name]["build"]["target"] for name in ("web", "train")} == {
        "web": "serve",
        "train": "train",
    }


# --- compose.yaml, `docker compose run train` ---------------------------------------------------


def test_train_is_a_one_off_that_up_never_starts(compose):
    train = compose["services"]["train"]
    assert train["profiles"] == ["train"]  # enabled only when named: `docker compose run train`
    assert train.get("restart", "no") == "no" and "ports" not in train
    assert train["build"] == {**compose["services"]["web"]["build"], "target": "train"}
    assert train["image"] != compose["services"]["web"]["image"]


def test_train_publishes_into_the_model_volume_every_web_service_serves(compose):
    services = compose["services"]
    model_dir = services["train"]["environment"]["MODEL_DIR"]
    assert model_dir == image_env("serve")["MODEL_DIR"] == image_env("train")["MODEL_DIR"]
    volume = named_volume_at(compose, "train", model_dir)
    for name in ("web", "web-init", "web-cluster"):
        assert services[name]["environment"]["MODEL_DIR"] == model_dir
        assert named_volume_at(compose, name, model_dir) == volume
    assert volume != named_volume_at(compose, "web", image_env()["FASHIONSITE_DATA_DIR"])
    # With --include-corrections it reads the one-node site's keyspace.
    assert (
        services["train"]["environment"]["CASSANDRA_KEYSPACE"]
        == services["web"]["environment"]["CASSANDRA_KEYSPACE"]
    )
    assert services["train"]["depends_on"] == {"cassandra": {"condition": "service_healthy"}}
