"""Three ``mocksmtp`` processes on one PostgreSQL database, under load from 30 clients: every
acknowledged message is read back byte for byte from every node, events cross nodes, and
neither ``kill -9`` of a node nor a stopped database loses an acknowledged message."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.pgcluster import Cluster
from tests.postgres.nodes import Load, Node, stop_all

websockets_client = pytest.importorskip("websockets.sync.client")


@pytest.fixture
def three(own_cluster: Cluster, tmp_path: Path) -> Iterator[list[Node]]:
    """Three nodes on one new database of the test's own cluster."""
    url = own_cluster.database()
    nodes: list[Node] = []
    try:
        for i in range(3):
            nodes.append(Node(url, tmp_path / f"node{i + 1}.log"))
        yield nodes
    finally:
        stop_all(nodes)


def assert_every_node_has(nodes: list[Node], acked: dict[str, bytes]) -> None:
    for i, node in enumerate(nodes, 1):
        found = node.raw_messages()
        missing = acked.keys() - found.keys()
        assert not missing, f"node {i} lacks {len(missing)} acknowledged messages, such as {sorted(missing)[:3]}"
        changed = [id for id in acked if found[id] != acked[id]]
        assert not changed, f"node {i} returns other bytes for {len(changed)} messages, such as {changed[:3]}"


def test_three_nodes_take_3000_messages_and_each_serves_all(three: list[Node]) -> None:
    """30 clients send 3,000 messages through three nodes; each node's API then lists exactly
    those messages, byte for byte, and a websocket on node 1 saw the new events of node 3's."""
    node1 = three[0]
    seen: set[str] = set()
    listening = threading.Event()

    def watch() -> None:
        with websockets_client.connect(node1.http_url.replace("http", "ws", 1) + "/api/events", open_timeout=10) as ws:
            listening.set()
            while True:
                frame = json.loads(ws.recv(timeout=60))
                if frame["Type"] == "new":
                    seen.add(frame["Data"]["ID"])
                    if len(seen) == 3000:
                        return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert listening.wait(10)
    load = Load(30, 100, lambda c: three[c % 3].port).start()
    load.join()
    assert len(load.acked) == 3000, (load.refused, load.dropped)
    assert_every_node_has(three, load.acked)
    watcher.join(60)
    by_node3 = {id for id, raw in load.acked.items() if int(raw.split(b"Subject: load ")[1].split(b"/")[0]) % 3 == 2}
    assert len(by_node3) == 1000
    assert by_node3 <= seen, f"node 1's websocket missed {len(by_node3 - seen)} messages taken by node 3"
    assert seen == load.acked.keys()


def test_kill_9_of_a_node_loses_no_acknowledged_message(three: list[Node]) -> None:
    """Node 2 is killed with SIGKILL mid-load; its clients move to the other nodes. Every
    message any client saw a 250 for is in the database."""
    alive = list(three)
    load = Load(12, 50, lambda c: alive[c % len(alive)].port).start()
    load.wait_acked(200)
    victim = three[1]
    alive.remove(victim)
    victim.kill()
    load.join()
    assert len(load.acked) == 600
    assert_every_node_has([three[0], three[2]], load.acked)


def test_a_stopped_database_gives_421s_and_loses_nothing(three: list[Node], own_cluster: Cluster) -> None:
    """PostgreSQL stops mid-load: clients get 421s (and retry), no acknowledged message is
    lost, and the nodes take and serve mail again once it is back."""
    load = Load(12, 50, lambda c: three[c % 3].port).start()
    load.wait_acked(150)
    own_cluster.stop()
    load.wait_refused(12)  # every client has met the outage at least once, on average
    own_cluster.start_again()
    load.join()
    assert 421 in load.refused
    assert set(load.refused) == {421}
    assert len(load.acked) == 600
    assert_every_node_has(three, load.acked)
