"""Cassandra going down: a clear 503, nothing stored, and recovery without restarting the site."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classifier import timeline

from .helpers import cassandra_db

pytestmark = cassandra_db


def wait_for_status(client, url: str, status: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while (got := client.get(url).status_code) != status and time.monotonic() < deadline:
        time.sleep(1)
    return got


@pytest.fixture
def stopped_node(cassandra_node, client):
    assert client.get("/").status_code == 200  # connected before the outage, as a running site is
    cassandra_node.stop()
    try:
        yield cassandra_node
    finally:
        cassandra_node.start()


def test_cassandra_down_gives_503_then_the_site_recovers(stopped_node, client, test_image_pngs):
    front_page = client.get("/")
    assert front_page.status_code == 503
    assert "Cassandra" in front_page.text and "not answering" in front_page.text

    upload = client.post("/", {"images": [SimpleUploadedFile("during-outage.png", test_image_pngs[0][0], "image/png")]})
    assert upload.status_code == 503
    assert "nothing was saved" in upload.text

    readiness = client.get("/readyz")
    assert readiness.status_code == 503
    assert "Cassandra is not answering" in readiness.json()["problems"][0]
    assert client.get("/healthz").status_code == 200

    json_client_answer = client.get("/", HTTP_ACCEPT="application/json")
    assert json_client_answer.status_code == 503
    assert json_client_answer.json()["error"]["code"] == "storage_unavailable"

    stopped_node.start()
    assert wait_for_status(client, "/", 200) == 200
    assert timeline.latest() == []  # the upload refused during the outage left nothing behind
    upload = client.post("/", {"images": [SimpleUploadedFile("after.png", test_image_pngs[0][0], "image/png")]})
    assert upload.status_code == 302
    assert [p.filename for p in timeline.latest()] == ["after.png"]
