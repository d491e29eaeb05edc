"""Run a local Apache Cassandra 5.0 node for development and tests (no Django needed).

Usage: `LocalNode(Path("var/cassandra")).start()`, or `python -m cassandra_node start|stop|status`.
"""

from .errors import NodeError
from .node import LocalNode

__all__ = ["LocalNode", "NodeError"]
