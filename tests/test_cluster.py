"""Three Cassandra nodes, RF 3, LOCAL_QUORUM: a node crash loses no acknowledged upload.

The tests marked `cluster` are not part of the default run (three JVMs, 3-3.5 minutes on a busy
2-core machine); the default run only checks how LocalCluster configures its nodes. Run them with:

    .venv/bin/python -m pytest -m cluster tests/test_cluster.py -rA

The scenario runs once (the `outage` fixture) and each test checks one claim about it:
a LocalCluster of three nodes on 127.0.0.1-3 (ports 9642/7600, nobody else's), and the real site
started by docker/entrypoint.sh (which creates the keyspace, NetworkTopologyStrategy datacenter1=3)
and gunicorn with two workers, pointed at all three nodes with CASSANDRA_CONSISTENCY=LOCAL_QUORUM.
It uploads distinct Fashion-MNIST test images through POST /api/predictions, SIGKILLs node 1 (the
first contact point), keeps uploading, restarts node 1, waits until all three are UN, and reads
every acknowledged upload back through the site (its prediction and its stored model input).

What a crash costs: nothing. An upload writes its rows at LOCAL_QUORUM, which two of three replicas
satisfy, and the driver sends a statement whose connection broke to the next node. (A logged batch,
as the recorder once used, failed every upload for 10-20 s: its batch log needed both other nodes
live until the failure detector convicted the dead one.)
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from cassandra_node import launch
from cassandra_node.__main__ import main as cassandra_node_main
from cassandra_node.cluster import LocalCluster, evenly_spread_tokens

from .helpers import free_port, png_bytes, wait_until_answering

requests = pytest.importorskip("requests")

ROOT = Path(__file__).resolve().parent.parent
NATIVE_PORT = 9642  # not 9042 (development), 9142 (test suite) or the launcher tests' 92xx-94xx
STORAGE_PORT = 7600
KEYSPACE = "cluster_test"
UPLOADS_BEFORE = 40
# After node 1 dies, uploads go on until this many in a row have succeeded (and at least as many
# as before), so that the steady state "one node down" is exercised, not only the first seconds.
CLEAN_STREAK = 80
OUTAGE_TIME_LIMIT = 180.0
REQUEST_TIMEOUT = 30


def only_when_selected(config: pytest.Config) -> bool:
    expression = config.getoption("markexpr") or ""
    return "cluster" in expression and "not cluster" not in expression


@dataclass
class Upload:
    index: int  # in the Fashion-MNIST test set
    started: float  # seconds since the kill (negative before it)
    status: int
    body: dict
    seconds: float

    @property
    def acknowledged(self) -> bool:
        return self.status == 201


@dataclass
class Outage:
    replication: dict[str, str] = field(default_factory=dict)
    before: list[Upload] = field(default_factory=list)
    during: list[Upload] = field(default_factory=list)
    states_after_kill: dict[str, str] = field(default_factory=dict)
    states_after_restart: dict[str, str] = field(default_factory=dict)
    read_back: dict[str, tuple[int, dict]] = field(default_factory=dict)  # id -> (status, JSON)
    inputs_read_back: dict[str, tuple[int, str]] = field(default_factory=dict)  # id -> (status, type)
    stored_though_refused: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def acknowledged(self) -> list[Upload]:
        return [upload for upload in self.before + self.during if upload.acknowledged]

    @property
    def refused(self) -> list[Upload]:
        return [upload for upload in self.during if not upload.acknowledged]

    def summary(self) -> str:
        timings = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.timings.items())
        refused = self.refused
        window = f"{refused[0].started:.1f}-{refused[-1].started:.1f}s after the kill" if refused else "none"
        return (
            f"uploads: {len(self.before)} before the kill, {len(self.during)} while node 1 was down "
            f"({len(refused)} refused: {window}; {len(self.stored_though_refused)} of them stored anyway); "
            f"{len(self.acknowledged)} acknowledged, "
            f"{sum(status == 200 for status, _ in self.read_back.values())} read back.\n"
            f"states after the kill {self.states_after_kill}, after the restart {self.states_after_restart}\n"
            f"timings: {timings}"
        )


def distinct_images(fashion_mnist, count: int) -> list[tuple[int, bytes]]:
    """`count` Fashion-MNIST test images as PNGs, no two alike (the site would answer a repeat)."""
    seen, images = set(), []
    for index, pixels in enumerate(fashion_mnist.x_test):
        png = png_bytes(pixels)
        digest = hashlib.sha256(png).hexdigest()
        if digest not in seen:
            seen.add(digest)
            images.append((index, png))
            if len(images) == count:
                return images
    raise AssertionError(f"only {len(images)} distinct test images")


cluster_start_seconds: list[float] = []


@dataclass
class Site:
    url: str
    setup_seconds: float
    token: str

    @property
    def auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def cluster(request, tmp_path_factory):
    if not only_when_selected(request.config):
        pytest.skip("starts three Cassandra nodes: run with -m cluster")
    cluster = LocalCluster(
        tmp_path_factory.mktemp("cluster"),
        size=3,
        native_port=NATIVE_PORT,
        storage_port=STORAGE_PORT,
        cluster_name="fashionsite-cluster-test",
        heap="512m",
    )
    started = time.monotonic()
    try:
        cluster.start()
        cluster_start_seconds.append(time.monotonic() - started)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def site(cluster, tmp_path_factory) -> Site:
    """The real site on the cluster, started as the container starts it: docker/entrypoint.sh
    (migrate, create the keyspace and tables, createadmin), then gunicorn with two workers."""
    data_dir = tmp_path_factory.mktemp("site")
    port = free_port()
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "CASSANDRA_", "TEST_CASSANDRA_"))
        and name not in {"FASHIONSITE_DATA_DIR", "SQLITE_PATH", "STATIC_ROOT"}
    }
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "fashionsite.settings",
        "DJANGO_SECRET_KEY": "cluster-test-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "FASHIONSITE_DATA_DIR": str(data_dir),
        "CASSANDRA_HOSTS": ",".join(cluster.contact_points),
        "CASSANDRA_PORT": str(NATIVE_PORT),
        "CASSANDRA_KEYSPACE": KEYSPACE,
        "CASSANDRA_REPLICATION": f"NetworkTopologyStrategy:{cluster.datacenter}=3",
        "CASSANDRA_CONSISTENCY": "LOCAL_QUORUM",
        "LOG_LEVEL": "WARNING",
        # The entrypoint runs `python manage.py ...` and then `gunicorn`: this virtualenv's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    started = time.monotonic()
    log = open(data_dir / "site.log", "wb")
    server = subprocess.Popen(
        [str(ROOT / "docker" / "entrypoint.sh"), "gunicorn", "fashionsite.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{base_url}/readyz", server, data_dir / "site.log", timeout=300)
        setup_seconds = time.monotonic() - started
        made = subprocess.run(  # an API token, which listing predictions needs
            [sys.executable, "manage.py", "shell", "-c",
             "from classifier.api_auth import make_token; print(make_token('cluster test', 'tests')[1])"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        yield Site(base_url, setup_seconds, made.stdout.split()[-1])
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # its own process group: the entrypoint, then gunicorn
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def outage(cluster, site: Site, fashion_mnist) -> Outage:
    """Upload, SIGKILL node 1, keep uploading, restart it, read everything back: what happened."""
    outage = Outage()
    outage.timings["cluster start"] = cluster_start_seconds[-1]
    outage.timings["entrypoint (migrate, schema, createadmin) and gunicorn ready"] = site.setup_seconds
    url = site.url
    (keyspace,) = cluster.node(2).query(
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s", [KEYSPACE]
    )
    outage.replication = dict(keyspace.replication)
    images = iter(distinct_images(fashion_mnist, 2000))
    clock = {"kill": time.monotonic()}

    def upload() -> Upload:
        index, png = next(images)
        started = time.monotonic()
        response = requests.post(
            f"{url}/api/predictions",
            files={"image": (f"fashion-mnist-test-{index}.png", png, "image/png")},
            timeout=REQUEST_TIMEOUT,
        )
        try:
            body = response.json()
        except ValueError:
            body = {"text": response.text[:500]}
        return Upload(index, started - clock["kill"], response.status_code, body, time.monotonic() - started)

    phase = time.monotonic()
    outage.before = [upload() for _ in range(UPLOADS_BEFORE)]
    outage.timings["uploads before the kill"] = time.monotonic() - phase

    assert cluster.node(1).kill()
    clock["kill"] = time.monotonic()
    outage.states_after_kill = cluster.states()
    streak = 0
    while streak < CLEAN_STREAK or len(outage.during) < UPLOADS_BEFORE:
        assert time.monotonic() - clock["kill"] < OUTAGE_TIME_LIMIT, "uploads did not recover"
        outage.during.append(upload())
        streak = streak + 1 if outage.during[-1].acknowledged else 0
    outage.timings["uploads while node 1 was down"] = time.monotonic() - clock["kill"]

    phase = time.monotonic()
    cluster.start_node(1)
    outage.states_after_restart = cluster.states()
    outage.timings["restart node 1 until all UN"] = time.monotonic() - phase

    phase = time.monotonic()
    for item in outage.acknowledged:
        prediction_id = item.body["predictions"][0]["id"]
        response = requests.get(f"{url}/api/predictions/{prediction_id}", timeout=REQUEST_TIMEOUT)
        outage.read_back[prediction_id] = (response.status_code, response.json())
        response = requests.get(f"{url}/predictions/{prediction_id}/input.png", timeout=REQUEST_TIMEOUT)
        content_type = response.headers.get("Content-Type", "")
        outage.inputs_read_back[prediction_id] = (response.status_code, content_type)
    outage.timings["read back"] = time.monotonic() - phase
    # A refused upload whose last write reached the replicas but whose answer did not come back is stored.
    filenames = set()
    for day in {item.body["predictions"][0]["created_at"][:10] for item in outage.acknowledged}:
        cursor = None
        while True:
            query = {"day": day, "limit": 200, **({"cursor": cursor} if cursor else {})}
            page = requests.get(
                f"{url}/api/predictions", params=query, headers=site.auth_header, timeout=REQUEST_TIMEOUT
            ).json()
            filenames.update(prediction["filename"] for prediction in page["predictions"])
            if not (cursor := page["next_cursor"]):
                break
    outage.stored_though_refused = [
        item.index for item in outage.refused if f"fashion-mnist-test-{item.index}.png" in filenames
    ]
    print(outage.summary())
    return outage


@pytest.mark.cluster
def test_every_upload_succeeds_while_all_nodes_are_up(outage: Outage):
    assert [(item.index, item.status) for item in outage.before if not item.acknowledged] == []
    assert not any(item.body["predictions"][0]["repeat"] for item in outage.before)


@pytest.mark.cluster
def test_the_site_made_the_keyspace_three_replicas_in_the_data_centre(outage: Outage):
    assert outage.replication == {
        "class": "org.apache.cassandra.locator.NetworkTopologyStrategy",
        LocalCluster.datacenter: "3",
    }


@pytest.mark.cluster
def test_killed_node_is_seen_down_then_up_again(outage: Outage):
    assert outage.states_after_kill["127.0.0.1"].startswith("D")
    assert outage.states_after_kill["127.0.0.2"] == outage.states_after_kill["127.0.0.3"] == "UN"
    assert set(outage.states_after_restart.values()) == {"UN"}


@pytest.mark.cluster
def test_every_upload_succeeds_at_local_quorum_while_a_node_is_down(outage: Outage):
    """Two replicas of three answer LOCAL_QUORUM, and no write waits on the dead node's batch log:
    no upload is refused, not even before the cluster has convicted the dead node."""
    refused = [(item.index, round(item.started, 1), item.status, item.body) for item in outage.refused]
    assert refused == []
    assert len(outage.during) >= CLEAN_STREAK
    assert all(item.acknowledged for item in outage.during)


@pytest.mark.cluster
def test_every_acknowledged_upload_is_readable_after_the_restart(outage: Outage):
    """The claim that matters: RF 3 and LOCAL_QUORUM lose nothing acknowledged when a node crashes."""
    acknowledged = {item.body["predictions"][0]["id"]: item for item in outage.acknowledged}
    assert len(acknowledged) == len(outage.acknowledged)  # no two uploads got the same id
    missing = [prediction_id for prediction_id, (status, _) in outage.read_back.items() if status != 200]
    assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged predictions are gone"
    for prediction_id, (_, stored) in outage.read_back.items():
        answered = acknowledged[prediction_id].body["predictions"][0]
        assert (stored["filename"], stored["label"], stored["sha256"]) == (
            answered["filename"], answered["label"], answered["sha256"],
        )  # fmt: skip
    assert {status_and_type for status_and_type in outage.inputs_read_back.values()} == {(200, "image/png")}


# --- How LocalCluster configures its nodes: no JVM, part of the default run. ---------------------


def test_tokens_split_the_ring_evenly():
    tokens = evenly_spread_tokens(3)
    assert tokens == sorted(tokens) and len(set(tokens)) == 3
    assert all(-(2**63) < token < 2**63 for token in tokens)
    gaps = [later - earlier for earlier, later in zip(tokens, tokens[1:])] + [tokens[0] + 2**64 - tokens[-1]]
    assert max(gaps) - min(gaps) <= 3  # equal shares of the ring, give or take the integer division


def test_nodes_share_ports_on_their_own_loopback_addresses_and_data_dirs(tmp_path):
    cluster = LocalCluster(tmp_path, size=3, native_port=9642, storage_port=7600)
    assert cluster.contact_points == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert [cluster.node(n).data_dir for n in (1, 2, 3)] == [tmp_path / f"node{n}" for n in (1, 2, 3)]
    assert {(node.native_port, node.storage_port) for node in cluster.nodes} == {(9642, 7600)}
    assert [node.initial_token for node in cluster.nodes] == evenly_spread_tokens(3)
    # Only node 1 is its own seed: the others bootstrap, and each can restart while node 1 is down.
    assert [node.seeds for node in cluster.nodes] == [
        ["127.0.0.1"], ["127.0.0.1", "127.0.0.3"], ["127.0.0.1", "127.0.0.2"],
    ]  # fmt: skip
    assert [node.listen_address in node.seeds for node in cluster.nodes] == [True, False, False]
    assert not any(node.solo for node in cluster.nodes)
    with pytest.raises(IndexError):
        cluster.node(4)


def test_a_one_node_cluster_is_a_solo_node(tmp_path):
    (node,) = LocalCluster(tmp_path, size=1).nodes
    assert node.seeds == ["127.0.0.1"] and node.solo


@pytest.mark.parametrize(
    "arguments", [{"size": 0}, {"first_address": "10.0.0.1"}, {"first_address": "127.255.255.254"}]
)
def test_refuses_clusters_that_do_not_fit_on_loopback(tmp_path, arguments):
    with pytest.raises(ValueError):
        LocalCluster(tmp_path, **arguments)


def test_cassandra_yaml_of_a_member_names_its_address_and_the_seeds(tmp_path):
    node = LocalCluster(tmp_path, size=3, native_port=9642, storage_port=7600, cluster_name="it's").node(2)
    path = tmp_path / "cassandra.yaml"
    node.write_config(path, tmp_path / "logback.xml")
    config = yaml.safe_load(path.read_text())
    assert config["cluster_name"] == "it's"
    assert config["listen_address"] == config["rpc_address"] == "127.0.0.2"
    assert (config["native_transport_port"], config["storage_port"]) == (9642, 7600)
    assert config["seed_provider"][0]["parameters"][0]["seeds"] == "127.0.0.1:7600,127.0.0.3:7600"
    assert (config["num_tokens"], config["initial_token"]) == (1, evenly_spread_tokens(3)[1])
    assert config["endpoint_snitch"] == "SimpleSnitch"  # one data centre: LocalCluster.datacenter
    assert LocalCluster.datacenter == "datacenter1"


def test_members_keep_their_ring_state_and_announce_shutdown(tmp_path):
    def command(solo: bool) -> list[str]:
        return launch.jvm_command(
            java=Path("java"), classpath=[Path("jamm-0.4.0.jar")], full_jdk=False, heap="512m",
            storage_dir=tmp_path, log_dir=tmp_path, tmp_dir=tmp_path, cassandra_yaml=tmp_path / "c.yaml",
            logback_xml=tmp_path / "l.xml", test_mode=False, solo=solo,
        )  # fmt: skip

    solo, member = command(True), command(False)
    assert "-Dcassandra.load_ring_state=false" in solo and "-Dcassandra.shutdown_announce_in_ms=0" in solo
    assert not any("load_ring_state" in option or "shutdown_announce" in option for option in member)
    assert not any("skip_wait_for_gossip_to_settle" in option for option in member)
    assert any(option.startswith("-Dcassandra.ring_delay_ms=") for option in member)
    assert "-Xmx512m" in member


def test_cluster_status_from_the_command_line(tmp_path, capsys):
    assert cassandra_node_main(["cluster", "status", "--data-dir", str(tmp_path), "--port", "9642"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "3 nodes" in lines[0] and "datacenter1" in lines[0]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["node1", "127.0.0.1", "D?"], ["node2", "127.0.0.2", "D?"], ["node3", "127.0.0.3", "D?"],
    ]  # fmt: skip
