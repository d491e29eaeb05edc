"""The site as `make run` serves it (fashionsite/serve.py: nginx in front of gunicorn with
fashionsite/gunicorn.py, DEBUG off), started for a test against the test node and keyspace."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections

from .helpers import free_port, wait_until_answering

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Site:
    url: str
    process: subprocess.Popen
    log: Path
    run_dir: Path
    sqlite: Path

    def output(self) -> str:
        return self.log.read_text()

    def worker_pids(self) -> list[int]:
        """gunicorn's worker processes (the children of its master)."""
        master = (self.run_dir / "gunicorn.pid").read_text().strip()
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return [int(pid) for pid in children]


def site_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fashionsite.settings",
        "CASSANDRA_PORT": str(settings.CASSANDRA_PORT),
        "CASSANDRA_KEYSPACE": connections["cassandra"].settings_dict["NAME"],  # the test keyspace
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "WEB_CONCURRENCY": "2",
        **extra,
    }
    env.pop("CASSANDRA_REACTOR", None)  # the server's own choice
    return env


@contextmanager
def served_site(tmp_path: Path, **extra_env: str) -> Iterator[Site]:
    """`make run`'s server (after `migrate`), answering /healthz; stopped afterwards."""
    env = site_env(tmp_path, **extra_env)
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(exist_ok=True)  # manage.py counts into it too
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    # A short path: a Unix socket's path may not be longer than 107 bytes.
    run_dir = Path(tempfile.mkdtemp(prefix="fs-run-"))
    url = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "site.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "fashionsite.serve", "--bind", url.removeprefix("http://"),
             "--run-dir", str(run_dir)],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_until_answering(f"{url}/healthz", process, log, timeout=120)  # answers without Cassandra
        yield Site(url, process, log, run_dir, tmp_path / "db.sqlite3")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        shutil.rmtree(run_dir, ignore_errors=True)
