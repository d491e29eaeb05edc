"""Run a local Apache Cassandra 5.0 node for development and tests (no Django needed).

Usage: `LocalNode(Path("var/cassandra")).start()`, or `python -m cassandra_node start|stop|status`;
several nodes on 127.0.0.1-3: `LocalCluster(Path("var/cassandra-cluster"), size=3).start()`, or
`python -m cassandra_node cluster start|stop|status`.
"""

from .cluster import LocalCluster
from .errors import NodeError
from .node import LocalNode

__all__ = ["LocalCluster", "LocalNode", "NodeError"]
