"""What a deployer relies on in compose.yaml's `cluster` profile, read as data: three Cassandra
nodes joining one at a time, the schema created once, several web replicas behind a proxy on
loopback (the one-node setup and `train`: test_compose.py).
"""

import re

from .compose_file import CLUSTER_ONLY, NGINX_SITE, ROOT, named_volume_at
from .dockerfile import ENTRYPOINT, image_env

CASSANDRA_NODES = ("cassandra", "cassandra-2", "cassandra-3")


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
    # The entrypoint prepares the storage before a gunicorn command (test_deployment_files.py checks
    # it); this one then exits.
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
