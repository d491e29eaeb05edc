"""compose.yaml loaded by the Compose specification's own loader, as `docker compose config` loads
it: each profile accepted and resolved, the secret demanded, a misspelt key refused.

The loader is compose-go (what Docker Compose v2 runs), built by `make test` from tools/composecheck:
no Docker engine needed. Debian's docker-compose 1.29 would reject this valid file (`name:`,
`configs.content`).
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from .compose_file import CLUSTER_ONLY, COMPOSE, ROOT

COMPOSECHECK = ROOT / "var" / "tools" / "composecheck"


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
