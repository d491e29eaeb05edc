"""`python -m cassandra_node start|stop|status`: run the local Cassandra node without Django.

`python -m cassandra_node cluster start|stop|status [--size 3]` runs a cluster of nodes on
127.0.0.1, 127.0.0.2, ... instead (see cassandra_node/cluster.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .actions import ACTIONS, perform, perform_on_cluster
from .cluster import LocalCluster
from .errors import NodeError
from .node import LocalNode

REPO_ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the action, and return the exit status (1 on NodeError)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["cluster"]:
        return cluster_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m cassandra_node",
        description="Start, stop or show the local Cassandra node.",
        epilog="`python -m cassandra_node cluster start|stop|status --help`: a cluster of several nodes.",
    )
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REPO_ROOT / "var" / "cassandra",
        help="where the node keeps its config, data, logs and pid file (default: var/cassandra in the repo)",
    )
    parser.add_argument("--port", type=int, default=9042, help="CQL native transport port (default: 9042)")
    parser.add_argument(
        "--storage-port", type=int, default=7000, help="internode storage port (default: 7000)"
    )
    args = parser.parse_args(argv)
    node = LocalNode(args.data_dir, native_port=args.port, storage_port=args.storage_port)
    return _report(lambda: perform(node, args.action))


def cluster_main(argv: list[str]) -> int:
    """`python -m cassandra_node cluster ...`."""
    parser = argparse.ArgumentParser(
        prog="python -m cassandra_node cluster",
        description=(
            "Start, stop or show a cluster of Cassandra nodes on 127.0.0.1, 127.0.0.2, ... "
            "(one data centre, datacenter1). Point the site at it with "
            "CASSANDRA_HOSTS=127.0.0.1,127.0.0.2,127.0.0.3 CASSANDRA_PORT=<port> "
            "CASSANDRA_REPLICATION=NetworkTopologyStrategy:datacenter1=3."
        ),
    )
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("--size", type=int, default=3, help="number of nodes (default: 3)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REPO_ROOT / "var" / "cassandra-cluster",
        help="node1/, node2/, ... go here (default: var/cassandra-cluster in the repo)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=9043,
        help="CQL port of every node (default: 9043, so the single node can keep 9042)",
    )
    parser.add_argument("--storage-port", type=int, default=7003, help="internode port (default: 7003)")
    parser.add_argument("--heap", default="512m", help="JVM heap of each node (default: 512m)")
    args = parser.parse_args(argv)
    try:
        cluster = LocalCluster(
            args.data_dir,
            size=args.size,
            native_port=args.port,
            storage_port=args.storage_port,
            heap=args.heap,
        )
    except ValueError as error:
        parser.error(str(error))
    return _report(lambda: perform_on_cluster(cluster, args.action))


def _report(action) -> int:
    try:
        print(action())
    except NodeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
