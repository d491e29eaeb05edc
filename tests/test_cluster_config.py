"""How LocalCluster configures its nodes: tokens, addresses, seeds, cassandra.yaml, JVM options
and `cluster status`. No JVM: part of the default run (the three-node outage scenario, marked
`cluster`, is test_cluster.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cassandra_node import launch
from cassandra_node.__main__ import main as cassandra_node_main
from cassandra_node.cluster import LocalCluster, evenly_spread_tokens


def test_tokens_split_the_ring_evenly():
    tokens = evenly_spread_tokens(3)
    assert tokens == sorted(tokens) and len(set(tokens)) == 3
    assert all(-(2**63) < token < 2**63 for token in tokens)
    gaps = [later - earlier for earlier, later in zip(tokens, tokens[1:])] + [tokens[0] + 2**64 - tokens[-1]]
    assert max(gaps) - min(gaps) <= 3  # equal shares of the ring, give or take the integer division


def test_nodes_share_ports_on_their_own_loopback_addresses_and_data_dirs(tmp_path):
    cluster = LocalCluster(tmp_path, size=3, native_port=9642, storage_port=7600)
    assert cluster.contact_points == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert [cluster.node(n).data_dir for n in (1, 2, 3)] == [tmp_path / f"node{n}" for n in (1, 2, 3)]
    assert {(node.native_port, node.storage_port) for node in cluster.nodes} == {(9642, 7600)}
    assert [node.initial_token for node in cluster.nodes] == evenly_spread_tokens(3)
    # Only node 1 is its own seed: the others bootstrap, and each can restart while node 1 is down.
    assert [node.seeds for node in cluster.nodes] == [
        ["127.0.0.1"], ["127.0.0.1", "127.0.0.3"], ["127.0.0.1", "127.0.0.2"],
    ]  # fmt: skip
    assert [node.listen_address in node.seeds for node in cluster.nodes] == [True, False, False]
    assert not any(node.solo for node in cluster.nodes)
    with pytest.raises(IndexError):
        cluster.node(4)


def test_a_one_node_cluster_is_a_solo_node(tmp_path):
    (node,) = LocalCluster(tmp_path, size=1).nodes
    assert node.seeds == ["127.0.0.1"] and node.solo


@pytest.mark.parametrize(
    "arguments", [{"size": 0}, {"first_address": "10.0.0.1"}, {"first_address": "127.255.255.254"}]
)
def test_refuses_clusters_that_do_not_fit_on_loopback(tmp_path, arguments):
    with pytest.raises(ValueError):
        LocalCluster(tmp_path, **arguments)


def test_cassandra_yaml_of_a_member_names_its_address_and_the_seeds(tmp_path):
    node = LocalCluster(tmp_path, size=3, native_port=9642, storage_port=7600, cluster_name="it's").node(2)
    path = tmp_path / "cassandra.yaml"
    node.write_config(path, tmp_path / "logback.xml")
    config = yaml.safe_load(path.read_text())
    assert config["cluster_name"] == "it's"
    assert config["listen_address"] == config["rpc_address"] == "127.0.0.2"
    assert (config["native_transport_port"], config["storage_port"]) == (9642, 7600)
    assert config["seed_provider"][0]["parameters"][0]["seeds"] == "127.0.0.1:7600,127.0.0.3:7600"
    assert (config["num_tokens"], config["initial_token"]) == (1, evenly_spread_tokens(3)[1])
    assert config["endpoint_snitch"] == "SimpleSnitch"  # one data centre: LocalCluster.datacenter
    assert LocalCluster.datacenter == "datacenter1"


def test_members_keep_their_ring_state_and_announce_shutdown(tmp_path):
    def command(solo: bool) -> list[str]:
        return launch.jvm_command(
            java=Path("java"), classpath=[Path("jamm-0.4.0.jar")], full_jdk=False, heap="512m",
            storage_dir=tmp_path, log_dir=tmp_path, tmp_dir=tmp_path, cassandra_yaml=tmp_path / "c.yaml",
            logback_xml=tmp_path / "l.xml", test_mode=False, solo=solo,
        )  # fmt: skip

    solo, member = command(True), command(False)
    assert "-Dcassandra.load_ring_state=false" in solo and "-Dcassandra.shutdown_announce_in_ms=0" in solo
    assert not any("load_ring_state" in option or "shutdown_announce" in option for option in member)
    assert not any("skip_wait_for_gossip_to_settle" in option for option in member)
    assert any(option.startswith("-Dcassandra.ring_delay_ms=") for option in member)
    assert "-Xmx512m" in member


def test_cluster_status_from_the_command_line(tmp_path, capsys):
    assert cassandra_node_main(["cluster", "status", "--data-dir", str(tmp_path), "--port", "9642"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "3 nodes" in lines[0] and "datacenter1" in lines[0]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["node1", "127.0.0.1", "D?"], ["node2", "127.0.0.2", "D?"], ["node3", "127.0.0.3", "D?"],
    ]  # fmt: skip
