"""The local Cassandra node launcher, against a real Cassandra 5.0 on ports of its own (9242/7200)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cassandra.cluster import Cluster, Session
from cassandra.io.asyncioreactor import AsyncioConnection

from cassandra_node import LocalNode, NodeError, toolchain

NATIVE_PORT = 9242
STORAGE_PORT = 7200


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    """A node of this module's own, started once; stopped at the end whatever the tests did."""
    node = LocalNode(
        tmp_path_factory.mktemp("cassandra"),
        native_port=NATIVE_PORT,
        storage_port=STORAGE_PORT,
        cluster_name="launcher_test",
        heap="512m",
    )
    try:
        assert node.start() is True
        yield node
    finally:
        node.stop()


@contextmanager
def cql(node: LocalNode) -> Iterator[Session]:
    cluster = Cluster(["127.0.0.1"], port=node.native_port, connection_class=AsyncioConnection)
    try:
        yield cluster.connect()
    finally:
        cluster.shutdown()


def test_started_node_answers_cql(node: LocalNode) -> None:
    assert node.is_running()
    assert node.is_answering()
    with cql(node) as session:
        row = session.execute("SELECT release_version, cluster_name FROM system.local").one()
    assert row.release_version.startswith("5.0.")
    assert row.cluster_name == "launcher_test"
    assert "answering CQL" in node.status()


def test_start_when_running_is_a_no_op(node: LocalNode) -> None:
    pid = node.pid_file.read_text()
    assert node.start() is False
    assert LocalNode(node.data_dir, NATIVE_PORT, STORAGE_PORT, "launcher_test").start() is False
    assert node.pid_file.read_text() == pid


def test_data_survives_stop_and_start(node: LocalNode) -> None:
    node.start()
    with cql(node) as session:
        session.execute(
            "CREATE KEYSPACE IF NOT EXISTS launcher "
            "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        session.execute("CREATE TABLE IF NOT EXISTS launcher.items (id int PRIMARY KEY, name text)")
        session.execute("INSERT INTO launcher.items (id, name) VALUES (1, 'linen shirt')")

    assert node.stop() is True
    assert not node.is_running()
    assert node.start() is True

    with cql(node) as session:
        row = session.execute("SELECT name FROM launcher.items WHERE id = 1").one()
    assert row.name == "linen shirt"


def test_a_second_node_runs_side_by_side(node: LocalNode, tmp_path: Path) -> None:
    node.start()
    other = LocalNode(
        tmp_path / "other",
        native_port=9342,
        storage_port=7300,
        cluster_name="launcher_other",
        heap="512m",
        test_mode=True,
    )
    try:
        assert other.start() is True
        with cql(other) as session:
            assert (
                session.execute("SELECT cluster_name FROM system.local").one().cluster_name
                == "launcher_other"
            )
        assert node.is_answering()
    finally:
        other.stop()
    assert node.is_answering()


def test_refuses_ports_taken_by_another_node(node: LocalNode, tmp_path: Path) -> None:
    node.start()
    intruder = LocalNode(tmp_path / "intruder", native_port=NATIVE_PORT, storage_port=7400)
    with pytest.raises(NodeError, match=f"127.0.0.1:{NATIVE_PORT} is already in use"):
        intruder.start()
    assert not intruder.pid_file.exists()


def test_stop_signals_only_its_own_pid(node: LocalNode) -> None:
    node.start()
    bystander = subprocess.Popen(["sleep", "120"])
    try:
        assert node.stop() is True
        assert not node.is_running()
        assert "not running" in node.status()
        assert node.stop() is False

        node.pid_file.write_text(f"{bystander.pid}\n")  # a stale pid file, its pid reused by another process
        assert not node.is_running()
        assert node.stop() is False
        assert not node.pid_file.exists()
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_refuses_a_java_other_than_17(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_java = tmp_path / "jdk11" / "bin" / "java"
    fake_java.parent.mkdir(parents=True)
    fake_java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    fake_java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk11"))
    idle = LocalNode(tmp_path / "data", native_port=9442, storage_port=7500)

    with pytest.raises(NodeError) as error:
        idle.start()

    assert "Java 11" in str(error.value)
    assert "JDK 17" in str(error.value)
    assert "apt-get install openjdk-17-jdk-headless" in str(error.value)
    assert not idle.pid_file.exists()


def test_requires_maven_to_resolve_the_classpath(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    java_home = toolchain.require_java_17().resolve().parent.parent
    monkeypatch.setenv("JAVA_HOME", str(java_home))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert shutil.which("mvn") is None
    idle = LocalNode(tmp_path / "data", native_port=9442, storage_port=7500)

    with pytest.raises(NodeError, match="apt-get install maven"):
        idle.start()

    assert not idle.pid_file.exists()
