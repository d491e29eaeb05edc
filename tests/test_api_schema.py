"""The API answers as its OpenAPI document says: schemathesis generates requests from
/api/openapi.json (valid and invalid ones, a bounded number per operation) and sends them to the
site as `make run` serves it (nginx and gunicorn, tests/servers.py), against the test node."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import cassandra_db
from .servers import ROOT, served_site, site_env

pytestmark = cassandra_db

# Every answer documented, of the documented type and shape, never a 5xx, invalid input refused.
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
]
EXAMPLES_PER_OPERATION = 30


def schemathesis() -> str:
    return shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")


@pytest.fixture
def site(cassandra_node, tmp_path):
    with served_site(tmp_path) as served:
        yield served


def test_the_api_matches_its_openapi_document(site, tmp_path):
    made = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from classifier.api_auth import make_token; print(make_token('schemathesis', 'tests')[1])"],
        cwd=ROOT, env=site_env(tmp_path), capture_output=True, text=True, check=True,
    )  # fmt: skip
    token = made.stdout.strip().splitlines()[-1]
    run = subprocess.run(
        [schemathesis(), "run", f"{site.url}/api/openapi.json",
         "--checks", ",".join(CHECKS), "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", "11",
         "--header", f"Authorization: Bearer {token}", "--workers", "1", "--request-timeout", "30",
         "--generation-database", "none", "--no-color", "--max-failures", "20"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-3000:]
    assert "Traceback" not in site.output()  # every odd request answered as planned, none by accident
