"""A Cassandra 5.0 node on a loopback address, run from Maven Central's jars, owned through a pid file."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.io.asyncioreactor import AsyncioConnection
from cassandra.policies import WhiteListRoundRobinPolicy

from . import launch, toolchain
from .errors import NodeError

HOST = "127.0.0.1"
POLL_SECONDS = 0.5
LOG_TAIL_LINES = 40


class LocalNode:
    """One Cassandra node on a loopback address, keeping its config, data, logs and pid under `data_dir`.

    Nodes with different data dirs, ports and cluster names run side by side, and so do nodes with the
    same ports on different loopback addresses (127.0.0.2, ... all reach `lo` on Linux): that is how
    `LocalCluster` runs several members of one cluster. Linux only (reads /proc).
    """

    def __init__(
        self,
        data_dir: Path,
        native_port: int = 9042,
        storage_port: int = 7000,
        cluster_name: str = "fashionsite",
        heap: str = "1g",
        test_mode: bool = False,
        *,
        listen_address: str = HOST,
        seeds: Sequence[str] | None = None,
        initial_token: int = 0,
        solo: bool | None = None,
    ) -> None:
        """`test_mode` trades durability for speed: only for nodes whose data may be lost.

        The node serves CQL and talks to peers on `listen_address`. `seeds` are the addresses of the
        cluster's seed nodes (default: this node alone, a one-node cluster); `initial_token` is the
        node's one token on the ring, used on its first start only. `solo`: the node is a cluster of its
        own, with no peers to wait for (default: when it is its only seed).
        """
        self.data_dir = Path(data_dir).resolve()
        self.listen_address = listen_address
        self.seeds = list(seeds) if seeds else [listen_address]
        self.initial_token = initial_token
        self.solo = set(self.seeds) <= {listen_address} if solo is None else solo
        self.native_port = native_port
        self.storage_port = storage_port
        self.cluster_name = cluster_name
        self.heap = heap
        self.test_mode = test_mode
        self.pid_file = self.data_dir / "cassandra.pid"
        self.log_dir = self.data_dir / "logs"
        self.stdout_log = self.log_dir / "stdout.log"
        self._conf_dir = self.data_dir / "conf"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180) -> bool:
        """Start the node and wait until it answers CQL; False if it was already running.

        Raises NodeError, with the tail of the node's log, if it cannot be started or does not answer in time
        (a node it launched is then stopped again).
        """
        with self._exclusive():
            if self.is_running():
                self._wait_until_answering(timeout)
                return False
            self.pid_file.unlink(missing_ok=True)
            self._require_free_ports()
            java = toolchain.require_java_17()
            classpath = toolchain.resolve_classpath(self.data_dir / "classpath.txt")
            pid = self._launch(java, classpath)
            try:
                self._wait_until_answering(timeout)
            except BaseException:
                self._stop_failed_launch(pid)
                raise
            return True

    def stop(self, timeout: float = 60) -> bool:
        """Stop the node (SIGTERM to its pid file's pid, SIGKILL after `timeout`); False if not running."""
        with self._exclusive():
            pid = self._running_pid()
            if pid is not None:
                self._terminate(pid, timeout)
            self.pid_file.unlink(missing_ok=True)
            return pid is not None

    def kill(self, timeout: float = 10) -> bool:
        """SIGKILL the node, as a crash or the OOM killer would (no drain, no flush); False if not running."""
        with self._exclusive():
            pid = self._running_pid()
            if pid is not None:
                _signal(pid, signal.SIGKILL)
                if not self._wait_for_exit(pid, timeout):
                    raise NodeError(f"Cassandra (pid {pid}) survived SIGKILL; check it with `ps -p {pid}`")
            self.pid_file.unlink(missing_ok=True)
            return pid is not None

    def is_running(self) -> bool:
        """Whether the pid file names a live Cassandra process using this data dir."""
        return self._running_pid() is not None

    def is_answering(self) -> bool:
        """Whether `SELECT release_version FROM system.local` answers on listen_address:native_port."""
        try:
            return bool(self.query("SELECT release_version FROM system.local"))
        # The driver raises many unrelated types (NoHostAvailable, OperationTimedOut, ...): all mean "no".
        except Exception:
            return False

    def query(self, cql: str, parameters: Sequence[object] = ()) -> list:
        """Run one CQL statement with this node alone as coordinator, and return its rows.

        Raises NodeError if nothing listens on the native port, and the driver's errors otherwise.
        """
        if not _accepts_connections(self.listen_address, self.native_port):
            raise NodeError(f"nothing listens on {self.listen_address}:{self.native_port}")
        profile = ExecutionProfile(
            load_balancing_policy=WhiteListRoundRobinPolicy([self.listen_address]), request_timeout=5
        )
        cluster = Cluster(
            [self.listen_address],
            port=self.native_port,
            # Once used, scylla-driver's default libev reactor delays process exit by 5 s; asyncio doesn't.
            connection_class=AsyncioConnection,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            connect_timeout=5,
            control_connection_timeout=5,
            schema_metadata_enabled=False,
            token_metadata_enabled=False,
        )
        try:
            return list(cluster.connect().execute(cql, parameters or None))
        finally:
            cluster.shutdown()

    def status(self) -> str:
        """A one-line description of the node's state."""
        where = f"{self.listen_address}:{self.native_port}, data in {self.data_dir}"
        pid = self._running_pid()
        if pid is None:
            return f"Cassandra node not running ({where})"
        answering = "answering CQL" if self.is_answering() else "not answering CQL (yet)"
        return f"Cassandra node running, pid {pid}, {answering} ({where})"

    def _running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if self._is_our_process(pid) else None

    def _is_our_process(self, pid: int) -> bool:
        if self._process is not None and self._process.pid == pid:
            # Our own child: polling also reaps it. Its /proc cmdline reads empty for a few ms after Popen
            # returns, because the kernel closes Popen's exec-status pipe before it sets up the arguments.
            return self._process.poll() is None
        try:
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return (
            launch.MAIN_CLASS.encode() in arguments
            and f"-Dcassandra.storagedir={self.data_dir}".encode() in arguments
        )

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Serialise start/stop on this data dir across processes (e.g. two test runs starting one node)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "node.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _require_free_ports(self) -> None:
        for port in (self.native_port, self.storage_port):
            if _accepts_connections(self.listen_address, port):
                raise NodeError(
                    f"{self.listen_address}:{port} is already in use by another process (another "
                    f"Cassandra node?); stop it or choose other ports for the node in {self.data_dir}"
                )

    def write_config(self, cassandra_yaml: Path, logback_xml: Path) -> None:
        """Write this node's cassandra.yaml and logback.xml (rewritten on every start)."""
        launch.write_cassandra_yaml(
            cassandra_yaml,
            cluster_name=self.cluster_name,
            native_port=self.native_port,
            storage_port=self.storage_port,
            listen_address=self.listen_address,
            seeds=self.seeds,
            initial_token=self.initial_token,
        )
        launch.write_logback_xml(logback_xml)

    def _launch(self, java: Path, classpath: list[Path]) -> int:
        cassandra_yaml = self._conf_dir / "cassandra.yaml"
        logback_xml = self._conf_dir / "logback.xml"
        tmp_dir = self.data_dir / "tmp"
        self.write_config(cassandra_yaml, logback_xml)
        for directory in (self.log_dir, tmp_dir):
            directory.mkdir(parents=True, exist_ok=True)
        command = launch.jvm_command(
            java=java,
            classpath=classpath,
            full_jdk=toolchain.has_full_jdk(java),
            heap=self.heap,
            storage_dir=self.data_dir,
            log_dir=self.log_dir,
            tmp_dir=tmp_dir,
            cassandra_yaml=cassandra_yaml,
            logback_xml=logback_xml,
            test_mode=self.test_mode,
            solo=self.solo,
        )
        with open(self.stdout_log, "wb") as output:
            # A session of its own, so the node outlives this process and ignores its terminal's Ctrl-C.
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{self._process.pid}\n")
        return self._process.pid

    def _wait_until_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.is_answering():
            if not self.is_running():
                raise NodeError(
                    f"the Cassandra node in {self.data_dir} exited during startup.\n{self._log_tail()}"
                )
            if time.monotonic() > deadline:
                raise NodeError(
                    f"the Cassandra node in {self.data_dir} did not answer CQL on "
                    f"{self.listen_address}:{self.native_port} within {timeout:.0f}s.\n{self._log_tail()}"
                )
            time.sleep(POLL_SECONDS)

    def _stop_failed_launch(self, pid: int) -> None:
        if self._is_our_process(pid):
            self._terminate(pid, timeout=30)
        self.pid_file.unlink(missing_ok=True)

    def _terminate(self, pid: int, timeout: float) -> None:
        _signal(pid, signal.SIGTERM)
        if self._wait_for_exit(pid, timeout):
            return
        _signal(pid, signal.SIGKILL)
        if not self._wait_for_exit(pid, 10):
            raise NodeError(f"Cassandra (pid {pid}) survived SIGKILL; check it with `ps -p {pid}`")

    def _wait_for_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._is_our_process(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_SECONDS / 5)
        return True

    def _log_tail(self) -> str:
        try:
            lines = self.stdout_log.read_text(errors="replace").splitlines()
        except OSError:
            return f"(no output in {self.stdout_log})"
        tail = "\n".join(lines[-LOG_TAIL_LINES:])
        return f"Last lines of {self.stdout_log} (full log: {self.log_dir / 'system.log'}):\n{tail}"


def _accepts_connections(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex((address, port)) == 0


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may exit between our check and the signal
        os.kill(pid, signum)
