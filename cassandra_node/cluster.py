"""Several Cassandra 5.0 nodes forming one cluster on this machine, one per loopback address.

`LocalCluster(Path("var/cassandra-cluster"), size=3).start()` runs node1 on 127.0.0.1, node2 on
127.0.0.2 and node3 on 127.0.0.3, all with the same ports (every 127.x.y.z address reaches `lo` on
Linux), each with its own data dir (`data_dir/node1`, ...). One data centre, `datacenter1` (SimpleSnitch),
so a keyspace for it is `NetworkTopologyStrategy` with `'datacenter1': 3`.
"""

from __future__ import annotations

import ipaddress
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import NodeError
from .node import POLL_SECONDS, LocalNode

DATACENTER = "datacenter1"  # SimpleSnitch's one data centre
TOKEN_RANGE = 2**64  # Murmur3Partitioner's tokens: -2**63 ... 2**63 - 1


def seeds_for(addresses: list[str], number: int) -> list[str]:
    """The seed list of node `number` (from 1).

    A node that lists itself is a seed and never bootstraps (streams the data of the ranges it takes
    over); a node that is not a seed cannot restart unless one of its seeds answers. So node 1 alone
    is its own seed (it starts the cluster, without waiting for seeds that are not up yet), the others
    all bootstrap, and each of them has a second seed besides node 1 for when node 1 is down.
    """
    own = addresses[number - 1]
    if number == 1:
        return [own]
    second = [address for address in addresses[1:] if address != own][:1]
    return [addresses[0], *second]


def evenly_spread_tokens(size: int) -> list[int]:
    """One token per node, splitting the Murmur3 ring into `size` equal ranges.

    With one token each, ownership is balanced only if the tokens are evenly spaced, so they are set
    (not left to chance); each sits mid-way in its slice, away from the ring's minimum token.
    """
    slice_width = TOKEN_RANGE // size
    return [-(2**63) + slice_width * index + slice_width // 2 for index in range(size)]


class LocalCluster:
    """`size` LocalNodes that form one cluster, started one at a time, each waiting until all are up.

    Node 1 starts the cluster; the others join it by bootstrapping (see `seeds_for`). Ports are the
    same on every address: `native_port` for CQL, `storage_port` between nodes.
    """

    datacenter = DATACENTER

    def __init__(
        self,
        data_dir: Path,
        size: int = 3,
        native_port: int = 9043,
        storage_port: int = 7003,
        cluster_name: str = "fashionsite-cluster",
        heap: str = "512m",
        test_mode: bool = False,
        first_address: str = "127.0.0.1",
    ) -> None:
        """`heap` is per node: three JVMs share the machine. `test_mode` as for LocalNode (fewer fsyncs)."""
        if size < 1:
            raise ValueError(f"a cluster needs at least one node, not {size}")
        first = ipaddress.IPv4Address(first_address)
        if not first.is_loopback or not (first + size - 1).is_loopback:
            raise ValueError(f"{size} nodes from {first_address} do not all fit in 127.0.0.0/8")
        self.data_dir = Path(data_dir).resolve()
        self.size = size
        self.native_port = native_port
        self.storage_port = storage_port
        self.cluster_name = cluster_name
        self.addresses = [str(first + index) for index in range(size)]
        tokens = evenly_spread_tokens(size)
        self.nodes = [
            LocalNode(
                self.data_dir / f"node{number}",
                native_port=native_port,
                storage_port=storage_port,
                cluster_name=cluster_name,
                heap=heap,
                test_mode=test_mode,
                listen_address=address,
                seeds=seeds_for(self.addresses, number),
                initial_token=token,
                solo=size == 1,
            )
            for number, (address, token) in enumerate(zip(self.addresses, tokens), start=1)
        ]

    def node(self, number: int) -> LocalNode:
        """The node numbered from 1 (node 1 is on the first address), as in its data dir's name."""
        if not 1 <= number <= self.size:
            raise IndexError(f"node {number}: the cluster has nodes 1 to {self.size}")
        return self.nodes[number - 1]

    @property
    def contact_points(self) -> list[str]:
        """Every node's address, for CASSANDRA_HOSTS."""
        return list(self.addresses)

    def start(self, timeout: float = 240) -> list[bool]:
        """Start the nodes that are not running, one at a time, each only once every running node is UN.

        Returns, per node, whether it was started here. Cassandra refuses two nodes joining at once, and
        a joining node must see the one before it as up. Raises NodeError if a node does not come up
        within `timeout` seconds (nodes started before it keep running: `stop()` stops them).
        """
        started = []
        for node in self.nodes:
            started.append(node.start(timeout))
            self.wait_until_up(timeout)
        return started

    def start_node(self, number: int, timeout: float = 240) -> bool:
        """Start one node (e.g. after `node(number).kill()`) and wait until every running node is UN."""
        started = self.node(number).start(timeout)
        self.wait_until_up(timeout)
        return started

    def stop(self, timeout: float = 60) -> list[bool]:
        """Stop every node (all at once: each drains by itself); per node, whether it was running."""
        with ThreadPoolExecutor(max_workers=self.size) as pool:
            return list(pool.map(lambda node: node.stop(timeout), self.nodes))

    def is_running(self) -> bool:
        """Whether any node of the cluster is running."""
        return any(node.is_running() for node in self.nodes)

    def states(self) -> dict[str, str]:
        """Each node's address and its state as `nodetool status` would put it: UN, UJ, DN, ...

        U (up) means the node answers CQL itself *and* every other answering node's gossip
        (system_views.gossip_info) carries its current generation, i.e. has heard from it since it last
        started; N/J/L/M is the ring status peers gossip for it (NORMAL, JOINING, LEAVING, MOVING).
        There is no JMX here, so this stands in for the failure detector's own verdict.
        """
        views: dict[str, dict[str, dict]] = {}
        for node in self.nodes:
            if node.is_running():
                view = self._gossip_view(node)
                if view is not None:
                    views[node.listen_address] = view
        states = {}
        for address in self.addresses:
            own = views.get(address, {}).get(address)
            seen_by_others = [view.get(address) for observer, view in views.items() if observer != address]
            up = own is not None and all(
                seen is not None and seen["generation"] == own["generation"] for seen in seen_by_others
            )
            gossip = own or next((seen for seen in seen_by_others if seen), None)
            states[address] = ("U" if up else "D") + _ring_state(gossip)
        return states

    def wait_until_up(self, timeout: float = 120) -> None:
        """Wait until every running node is UN in every running node's view (two polls in a row)."""
        deadline = time.monotonic() + timeout
        agreed = 0
        while agreed < 2:
            running = {node.listen_address for node in self.nodes if node.is_running()}
            states = self.states()
            if all(states[address] == "UN" for address in running):
                agreed += 1
            else:
                agreed = 0
                if time.monotonic() > deadline:
                    raise NodeError(
                        f"the cluster in {self.data_dir} did not settle within {timeout:.0f}s: "
                        + ", ".join(f"{address} {state}" for address, state in states.items())
                    )
            time.sleep(POLL_SECONDS * 2)

    def status(self) -> str:
        """One line per node: its ring state (U/D up/down, N/J/L/M normal/joining/leaving/moving, ?
        unknown, as in `nodetool status`) and pid."""
        states = self.states()
        lines = [
            f"Cassandra cluster {self.cluster_name!r}: {self.size} nodes, data centre {self.datacenter}, "
            f"CQL port {self.native_port}, data in {self.data_dir} (state: U/D up/down, "
            "N/J/L/M normal/joining/leaving/moving, ? unknown)"
        ]
        for number, node in enumerate(self.nodes, start=1):
            pid = node.pid_file.read_text().strip() if node.is_running() else None
            process = f"pid {pid}" if pid else "not running"
            lines.append(f"  node{number} {node.listen_address} {states[node.listen_address]}  {process}")
        return "\n".join(lines)

    @staticmethod
    def _gossip_view(node: LocalNode) -> dict[str, dict] | None:
        """What `node` knows of every endpoint from gossip, by address; None if it does not answer."""
        try:
            rows = node.query(
                "SELECT address, generation, status, status_with_port FROM system_views.gossip_info"
            )
        # Not answering (yet) and any driver error all mean "no view".
        except Exception:
            return None
        # Nodes gossip STATUS_WITH_PORT; the legacy STATUS only sometimes.
        return {
            str(row.address): {"generation": row.generation, "status": row.status_with_port or row.status}
            for row in rows
        }


def _ring_state(gossip: dict | None) -> str:
    status = ((gossip or {}).get("status") or "").split(",")[0].upper()
    return {"NORMAL": "N", "BOOT": "J", "BOOT_REPLACE": "J", "LEAVING": "L", "LEFT": "L", "MOVING": "M"}.get(
        status, "?"
    )
