"""What a node is launched with: its cassandra.yaml, its logback.xml and the JVM command line."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from string import Template

from .errors import NodeError

MAIN_CLASS = "org.apache.cassandra.service.CassandraDaemon"
TEMPLATES = Path(__file__).parent

# From Cassandra 5.0's conf/jvm-server.options and conf/jvm17-server.options.
GC_OPTIONS = [
    "-XX:+UseG1GC",
    "-XX:+ParallelRefProcEnabled",
    "-XX:MaxTenuringThreshold=1",
    "-XX:MaxGCPauseMillis=300",
]
# One option and its value per line, as in Cassandra's options files.
# fmt: off
MODULE_ACCESS_OPTIONS = [
    "-Djdk.attach.allowAttachSelf=true",
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
    "--add-exports", "java.management/com.sun.jmx.remote.security=ALL-UNNAMED",
    "--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
    "--add-exports", "java.sql/java.sql=ALL-UNNAMED",
    "--add-exports", "java.base/java.lang.ref=ALL-UNNAMED",
    "--add-exports", "jdk.unsupported/sun.misc=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
    "--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
    "--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
    "--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
    "--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
    "--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
    "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
    "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens", "java.base/java.io=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang=ALL-UNNAMED",
    "--add-opens", "java.base/java.util=ALL-UNNAMED",
    "--add-opens", "java.base/java.nio=ALL-UNNAMED",
]
# Only a JDK has these modules; on a bare JRE the JVM would warn about unknown modules.
FULL_JDK_MODULE_ACCESS_OPTIONS = [
    "--add-exports", "jdk.attach/sun.tools.attach=ALL-UNNAMED",
    "--add-exports", "jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-opens", "jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
]
# fmt: on
NETTY_OPTIONS = [
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true",
    "-Dio.netty.allocator.maxOrder=11",
]
SERVER_OPTIONS = [
    "-ea",
    "-da:net.openhft...",
    "-Xss256k",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:+PerfDisableSharedMem",
    "-Djava.net.preferIPv4Stack=true",
    "-Dchronicle.analytics.disable=true",
    # Keeps stdout/stderr open, so startup failures reach stdout.log.
    "-Dcassandra-foreground=yes",
]
# A single seed node on loopback has no gossip to wait for, no ring to remember and no peer to tell
# it is shutting down (which otherwise costs 2 s of every stop).
SOLO_NODE_OPTIONS = [
    "-Dcassandra.skip_wait_for_gossip_to_settle=0",
    "-Dcassandra.load_ring_state=false",
    "-Dcassandra.shutdown_announce_in_ms=0",
]
# A member of a cluster keeps its ring state across restarts and announces its shutdown, so peers stop
# sending it requests at once. Gossip on loopback converges in a round or two (1 s each), so the waits
# sized for real networks are shortened, not skipped: a (re)starting node still waits until gossip has
# settled before it serves clients (Cassandra skips that wait on 127.0.0.1 itself; LocalCluster waits
# until every node sees every other), and a joining node still waits for pending ranges before streaming.
CLUSTER_MEMBER_OPTIONS = [
    "-Dcassandra.ring_delay_ms=5000",  # default 30000: bootstrap's wait for ring information
    "-Dcassandra.gossip_settle_min_wait_ms=2000",  # default 5000
    "-Dcassandra.gossip_settle_interval_ms=500",  # default 1000
]
# Give up fsyncs for speed: only for nodes whose data is thrown away. A killed node still loses
# nothing acknowledged (its writes are in the page cache); a machine crash would. Not unsafesystem:
# it keeps schema and truncation records out of the commit log, so a killed node forgets them.
TEST_MODE_OPTIONS = [
    "-Dcassandra.skip_sync=true",
    "-Dcassandra.test.flush_local_schema_changes=false",
]


def write_cassandra_yaml(
    path: Path,
    *,
    cluster_name: str,
    native_port: int,
    storage_port: int,
    listen_address: str = "127.0.0.1",
    seeds: Sequence[str] = ("127.0.0.1",),
    initial_token: int = 0,
) -> None:
    """Write the node's cassandra.yaml from cassandra.yaml.template.

    The node listens for clients and peers on `listen_address`; `seeds` are the addresses (all on
    `storage_port`) it gossips with to join the cluster. `initial_token` is its one token on the ring.
    """
    template = Template((TEMPLATES / "cassandra.yaml.template").read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        template.substitute(
            cluster_name=_yaml_quoted(cluster_name),
            native_port=native_port,
            storage_port=storage_port,
            listen_address=listen_address,
            seeds=_yaml_quoted(",".join(f"{seed}:{storage_port}" for seed in seeds)),
            initial_token=initial_token,
        )
    )


def write_logback_xml(path: Path) -> None:
    """Put the launcher's logback.xml at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATES / "logback.xml", path)


def jvm_command(
    *,
    java: Path,
    classpath: list[Path],
    full_jdk: bool,
    heap: str,
    storage_dir: Path,
    log_dir: Path,
    tmp_dir: Path,
    cassandra_yaml: Path,
    logback_xml: Path,
    test_mode: bool,
    solo: bool = True,
) -> list[str]:
    """The full command line that runs CassandraDaemon (JMX stays off: no jmx port is set).

    `solo`: the node is a one-node cluster (no peers), so it may skip what only matters in a cluster.
    """
    return [
        str(java),
        f"-Xms{heap}",
        f"-Xmx{heap}",
        *GC_OPTIONS,
        *MODULE_ACCESS_OPTIONS,
        *(FULL_JDK_MODULE_ACCESS_OPTIONS if full_jdk else []),
        *NETTY_OPTIONS,
        *SERVER_OPTIONS,
        *(SOLO_NODE_OPTIONS if solo else CLUSTER_MEMBER_OPTIONS),
        f"-javaagent:{_jamm_jar(classpath)}",
        # JNA and the compression libraries unpack native code here, so it must allow exec.
        f"-Djava.io.tmpdir={tmp_dir}",
        f"-Djna.tmpdir={tmp_dir}",
        f"-Dcassandra.config={cassandra_yaml.as_uri()}",
        f"-Dcassandra.storagedir={storage_dir}",
        f"-Dcassandra.logdir={log_dir}",
        f"-Dlogback.configurationFile={logback_xml}",
        *(TEST_MODE_OPTIONS if test_mode else []),
        "-cp",
        ":".join(str(jar) for jar in classpath),
        MAIN_CLASS,
    ]


def _jamm_jar(classpath: list[Path]) -> Path:
    for jar in classpath:
        if jar.name.startswith("jamm-") and jar.suffix == ".jar":
            return jar
    raise NodeError("no jamm-*.jar on the resolved classpath; Cassandra needs it as its -javaagent")


def _yaml_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
