"""What a deployer relies on in docker/entrypoint.sh and .dockerignore (the Dockerfile:
test_dockerfile.py; compose.yaml: test_compose.py; the images built and started: test_image.py,
`make test-image`).

Plain functions that read the files and check the script's syntax: no Django database, no Docker
daemon.
"""

import fnmatch
import shutil
import subprocess

import pytest

from .dockerfile import ENTRYPOINT, ROOT, exec_form, final_stage

DOCKERIGNORE = ROOT / ".dockerignore"


# --- docker/entrypoint.sh ---------------------------------------------------------------------


def test_entrypoint_is_the_executable_script():
    entrypoints = [exec_form(arguments) for keyword, arguments in final_stage() if keyword == "ENTRYPOINT"]
    assert entrypoints == [["/app/docker/entrypoint.sh"]]
    assert ENTRYPOINT.stat().st_mode & 0o111, "docker/entrypoint.sh is not executable"


def test_entrypoint_prepares_both_databases_then_execs_the_command():
    script = ENTRYPOINT.read_text()
    steps = ["manage.py migrate --noinput", "manage.py sync_schema", "manage.py createadmin", 'exec "$@"']
    positions = [script.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), dict(zip(steps, positions))
    # `migrate --database cassandra` crashes with django-cassandra-engine; sync_schema runs
    # sync_cassandra and adds the indexes it cannot make.
    assert "--database cassandra" not in script


@pytest.mark.skipif(shutil.which("sh") is None, reason="no sh to check the entrypoint's syntax")
def test_entrypoint_is_valid_posix_shell():
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True)


# --- .dockerignore ----------------------------------------------------------------------------


def dockerignore_patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def ignored(path: str) -> bool:
    """Close enough to Docker's matching for these plain patterns (no `!` exceptions are used)."""
    patterns = dockerignore_patterns()
    assert not any(pattern.startswith("!") for pattern in patterns)
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatch(prefix.rsplit("/", 1)[-1], pattern[3:]):
                return True
    return False


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        "var/db.sqlite3",
        ".git/HEAD",
        ".env",
        ".pytest_cache/v",
        "bench/results/x.json",
        "tools/composecheck/main.go",  # checks the deployment files; never runs in an image
        "docker/local-base.sh",
    ],
)
def test_dockerignore_keeps_local_state_and_secrets_out(path):
    assert ignored(path)


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "requirements.txt",
        "requirements-serve.txt",
        "docker/entrypoint.sh",
        "fashionsite/settings.py",
        "mlmodel/artifacts/ACTIVE",
    ],
)
def test_dockerignore_keeps_what_the_image_needs(path):
    assert not ignored(path)
