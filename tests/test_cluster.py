"""Three Cassandra nodes, RF 3, LOCAL_QUORUM: a node crash loses no acknowledged upload.

The tests marked `cluster` are not part of the default run (three JVMs, 3-3.5 minutes on a busy
2-core machine); the default run only checks how LocalCluster configures its nodes
(test_cluster_config.py). Run them with:

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

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cassandra_node.cluster import LocalCluster

from .cluster_outage import Outage, Site, Upload, distinct_images
from .helpers import free_port, wait_until_answering

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


cluster_start_seconds: list[float] = []


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
