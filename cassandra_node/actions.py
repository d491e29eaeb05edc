"""The start/stop/status actions shared by `python -m cassandra_node` and `manage.py cassandra`."""

from __future__ import annotations

from .cluster import LocalCluster
from .node import LocalNode

ACTIONS = ("start", "stop", "status")


def perform(node: LocalNode, action: str) -> str:
    """Run `action` on `node` and say what happened; raises NodeError when it fails."""
    if action == "start":
        started = node.start()
        return f"{'Started' if started else 'Already running'}: {node.status()}"
    if action == "stop":
        stopped = node.stop()
        return f"{'Stopped' if stopped else 'Was not running'}: {node.status()}"
    if action == "status":
        return node.status()
    raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")


def perform_on_cluster(cluster: LocalCluster, action: str) -> str:
    """Run `action` on every node of `cluster` and show the ring; raises NodeError when it fails."""
    if action == "start":
        started = cluster.start()
        verb = "Started" if all(started) else "Already running" if not any(started) else "Started the rest"
        return f"{verb}:\n{cluster.status()}"
    if action == "stop":
        stopped = cluster.stop()
        return f"{'Stopped' if any(stopped) else 'Was not running'}:\n{cluster.status()}"
    if action == "status":
        return cluster.status()
    raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
