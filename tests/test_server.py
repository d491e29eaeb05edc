"""The production server as `make run` and the Docker image start it: gunicorn with
fashionsite/gunicorn.py (several workers and threads, the libev reactor, DEBUG off), against the
test node and keyspace."""

import os
import runpy
import signal
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.db import connections

from classifier import reads

from .helpers import cassandra_db, free_port, png_bytes, wait_until_answering

pytestmark = cassandra_db

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 32


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture
def server(cassandra_node, settings, tmp_path):
    """A freshly started gunicorn whose workers have not talked to Cassandra yet."""
    url = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fashionsite.settings",
        "CASSANDRA_PORT": str(settings.CASSANDRA_PORT),
        "CASSANDRA_KEYSPACE": connections["cassandra"].settings_dict["NAME"],  # the test keyspace
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "WEB_CONCURRENCY": "2",
    }
    env.pop("CASSANDRA_REACTOR", None)  # the server's own choice
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "fashionsite.wsgi", "--config", "python:fashionsite.gunicorn",
             "--bind", url.removeprefix("http://")],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_until_answering(f"{url}/healthz", process, log, timeout=120)  # answers without Cassandra
        yield Server(url, process, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)


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
