"""The production server as `make run` starts it: nginx in front of gunicorn with
fashionsite/gunicorn.py (several workers and threads, the libev reactor, DEBUG off), against the
test node and keyspace (tests/servers.py)."""

import runpy
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from classifier import reads

from .helpers import cassandra_db, png_bytes
from .servers import served_site

pytestmark = cassandra_db

CONCURRENCY = 32


@pytest.fixture
def server(cassandra_node, tmp_path):
    """A freshly started site whose workers have not talked to Cassandra yet."""
    with served_site(tmp_path) as site:
        yield site


def test_a_burst_of_uploads_as_the_first_requests_is_all_classified_and_stored(server, fashion_mnist):
    """Every worker's first uploads arrive together, while its Cassandra connection is being made."""

    def upload(index: int) -> requests.Response:
        image = (f"burst-{index}.png", png_bytes(fashion_mnist.x_test[index]), "image/png")
        return requests.post(f"{server.url}/api/predictions", files={"image": image}, timeout=60)

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        responses = list(pool.map(upload, range(CONCURRENCY)))

    assert [response.status_code for response in responses] == [201] * CONCURRENCY, server.output()
    answered = [response.json()["predictions"][0] for response in responses]
    assert [item["filename"] for item in answered] == [f"burst-{index}.png" for index in range(CONCURRENCY)]
    stored = reads.find_many([uuid.UUID(item["id"]) for item in answered])
    assert [(p.filename, p.label) for p in stored] == [(item["filename"], item["label"]) for item in answered]
    assert "Traceback" not in server.output()


def test_gunicorn_settings_never_preload_the_app(monkeypatch):
    """The Cassandra driver's sessions must not cross a fork: the settings that `make run` and the
    Docker image share, as gunicorn itself reads them, keep every worker importing the site."""
    from gunicorn.config import Config

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/tmp/fashionsite-prometheus-settings-test")
    namespace = runpy.run_path(str(Path(__file__).resolve().parent.parent / "fashionsite" / "gunicorn.py"))
    config = Config()
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)
    assert config.preload_app is False
    assert config.workers >= 1 and config.post_worker_init is namespace["post_worker_init"]
