"""compose.yaml read as data, for the tests of its content and of its loading: where it is, the
services only the `cluster` profile starts, the named volume a service mounts at a path.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.yaml"
NGINX_SITE = ROOT / "deploy" / "nginx" / "fashionsite.conf"
CLUSTER_ONLY = ("cassandra-2", "cassandra-3", "web-init", "web-cluster", "proxy")


def read_compose() -> dict:
    """compose.yaml as data (conftest's `compose` fixture); skips without PyYAML."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    return yaml.safe_load(COMPOSE.read_text())


def named_volume_at(compose: dict, service: str, target: str) -> str:
    for volume in compose["services"][service].get("volumes", []):
        source, _, mount = volume.partition(":")
        if mount.split(":")[0] == target:
            assert source in (compose.get("volumes") or {}), f"{source} is not a named volume"
            return source
    raise AssertionError(f"{service} mounts nothing at {target}")
