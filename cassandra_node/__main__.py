"""`python -m cassandra_node start|stop|status`: run the local Cassandra node without Django."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .actions import ACTIONS, perform
from .errors import NodeError
from .node import LocalNode

REPO_ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the action, and return the exit status (1 on NodeError)."""
    parser = argparse.ArgumentParser(prog="python -m cassandra_node", description=__doc__)
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
    try:
        print(perform(node, args.action))
    except NodeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
