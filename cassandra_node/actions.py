"""The start/stop/status actions shared by `python -m cassandra_node` and `manage.py cassandra`."""

from __future__ import annotations

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
