"""Cassandra going down: a clear 503, nothing stored, and recovery without restarting the site."""

import hashlib
import itertools
import os
import signal
import threading
import time
import uuid

import pytest
from cassandra.cluster import NoHostAvailable
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from classifier import cql, reads
from classifier.models import Prediction

from .helpers import cassandra_db, listed, png_bytes

pytestmark = cassandra_db


def wait_for_status(client, url: str, status: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while (got := client.get(url).status_code) != status and time.monotonic() < deadline:
        time.sleep(1)
    return got


@pytest.fixture
def stopped_node(cassandra_node, client, test_image_pngs):
    # Connected before the outage, as a running site is, with an upload of this visitor's to list.
    before = SimpleUploadedFile("before-outage.png", test_image_pngs[1][0], "image/png")
    assert client.post("/", {"images": [before]}).status_code == 302
    cassandra_node.stop()
    try:
        yield cassandra_node
    finally:
        cassandra_node.start()


def test_cassandra_down_gives_503_then_the_site_recovers(stopped_node, client, test_image_pngs):
    front_page = client.get("/")
    assert front_page.status_code == 503
    assert "Cassandra" in front_page.text and "not answering" in front_page.text

    upload = client.post(
        "/", {"images": [SimpleUploadedFile("during-outage.png", test_image_pngs[0][0], "image/png")]}
    )
    assert upload.status_code == 503
    assert "not completed" in upload.text

    readiness = client.get("/readyz")
    assert readiness.status_code == 503
    assert "Cassandra is not answering" in readiness.json()["problems"][0]
    assert client.get("/healthz").status_code == 200

    json_client_answer = client.get("/", HTTP_ACCEPT="application/json")
    assert json_client_answer.status_code == 503
    assert json_client_answer.json()["error"]["code"] == "storage_unavailable"

    stopped_node.start()
    assert wait_for_status(client, "/", 200) == 200
    # The upload refused during the outage left nothing behind.
    assert [p.filename for p in reads.latest()] == ["before-outage.png"]
    upload = client.post(
        "/", {"images": [SimpleUploadedFile("after.png", test_image_pngs[0][0], "image/png")]}
    )
    assert upload.status_code == 302
    assert [p.filename for p in reads.latest()] == ["after.png", "before-outage.png"]


def kill(node) -> None:
    """SIGKILL, as a crash or the OOM killer would: no drain, no flush."""
    pid = int(node.pid_file.read_text())
    os.kill(pid, signal.SIGKILL)
    while node.is_running():
        time.sleep(0.1)


def test_node_killed_during_uploads_loses_nothing_acknowledged(cassandra_node, fashion_mnist):
    acknowledged: dict[int, str] = {}
    refused: list[tuple[int, int, dict]] = []
    done = threading.Event()

    def upload_continuously() -> None:
        # Until the test is done (its waits are bounded): a fixed number of uploads ran out while a
        # slow restart kept refusing them quickly, and then nothing was left to get through.
        client = Client()
        for index in itertools.count():
            if done.is_set():
                return
            pixels = fashion_mnist.x_test[index % len(fashion_mnist.x_test)]
            image = SimpleUploadedFile(f"crash-{index}.png", png_bytes(pixels), "image/png")
            response = client.post("/api/predictions", {"image": [image]})
            if response.status_code == 201:
                acknowledged[index] = response.json()["predictions"][0]["id"]
            else:
                refused.append((index, response.status_code, response.json()))
                time.sleep(0.2)  # as a client retrying would

    uploader = threading.Thread(target=upload_continuously)
    uploader.start()
    try:
        wait_until(lambda: len(acknowledged) >= 20)
        kill(cassandra_node)
        wait_until(lambda: len(refused) >= 3)
        cassandra_node.start()
        acknowledged_before_restart = len(acknowledged)
        wait_until(lambda: len(acknowledged) >= acknowledged_before_restart + 20)
    finally:
        done.set()
        uploader.join()

    assert refused and all(status == 503 for _, status, _ in refused)
    assert all(body["error"]["code"] == "storage_unavailable" for _, _, body in refused)
    lost = [
        index for index, prediction_id in acknowledged.items() if reads.find(uuid.UUID(prediction_id)) is None
    ]
    assert lost == []
    # A write in flight when the node died may still land (it reached the commit log, the answer never
    # came back): the client was told it failed, and sending it again is answered as a repeat.
    stored = {p.filename for p in reads.latest(limit=1000) if p.filename.startswith("crash-")}
    acknowledged_names = {f"crash-{index}.png" for index in acknowledged}
    refused_names = {f"crash-{index}.png" for index, _, _ in refused}
    assert acknowledged_names <= stored <= acknowledged_names | refused_names


def wait_until(condition, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_an_upload_cut_short_before_its_prediction_row_shows_nowhere_and_can_be_sent_again(
    client, staff_client, test_image_pngs, monkeypatch
):
    """The node answering the lookup rows and then failing on the prediction row: the user got a 503,
    and no page, search or repeat check may show the half of it that was written."""
    data, _ = test_image_pngs[0]
    real_execute = cql.execute

    def fail_on_the_prediction_row(statement: str, *args, **kwargs):
        if statement.startswith(f"INSERT INTO {cql.table(Prediction)} "):
            raise NoHostAvailable("node went down", {})
        return real_execute(statement, *args, **kwargs)

    monkeypatch.setattr(cql, "execute", fail_on_the_prediction_row)
    cut_short = client.post(
        "/api/predictions", {"image": [SimpleUploadedFile("cut-short.png", data, "image/png")]}
    )
    assert cut_short.status_code == 503
    monkeypatch.undo()

    assert reads.latest() == []
    assert staff_client.get("/api/predictions").json()["predictions"] == []
    sha256 = hashlib.sha256(data).hexdigest()
    by_name, by_sha256 = "?q=cut-short&search_by=filename", f"?q={sha256[:8]}&search_by=sha256"
    for search in (by_name, by_sha256):
        assert listed(staff_client.get(f"/admin/classifier/prediction/{search}").text) == []

    again = client.post(
        "/api/predictions", {"image": [SimpleUploadedFile("cut-short.png", data, "image/png")]}
    )
    assert again.status_code == 201
    assert again.json()["predictions"][0]["repeat"] is False  # classified anew, not "seen before"
    assert [p.filename for p in reads.latest()] == ["cut-short.png"]
    for search in (by_name, by_sha256):
        assert listed(staff_client.get(f"/admin/classifier/prediction/{search}").text) == ["cut-short.png"]
