"""The probes a load balancer or container runtime polls."""

from .helpers import cassandra_db

pytestmark = cassandra_db


def test_healthz_answers_while_the_process_runs(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_names_the_active_model_when_ready(client, settings):
    response = client.get("/readyz")
    active = (settings.MODEL_DIR / "ACTIVE").read_text().strip()
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "model_version": active, "problems": []}


def test_readyz_says_why_without_a_model(client, settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "no-models-here"
    response = client.get("/readyz")
    assert response.status_code == 503
    [problem] = response.json()["problems"]
    assert "No model can be loaded from MODEL_DIR" in problem
    assert str(tmp_path) not in problem  # no server path on a public page
