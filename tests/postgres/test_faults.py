"""Injected faults on a PostgreSQL store live in the database: every node sees, lists and can
remove them, and ``times=N`` fires exactly N times across all the nodes together."""

from __future__ import annotations

import re
import smtplib
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg
import pytest
from tests.pgcluster import Cluster
from tests.postgres.nodes import Node, stop_all
from tests.support import RawClient

from mocksmtp import ConfigError, MockSMTPServer
from mocksmtp.store.pglink import SCHEMA_VERSION


@pytest.fixture
def nodes(postgres_url: str) -> Iterator[list[MockSMTPServer]]:
    """Three servers on one database, as three nodes behind a balancer would be."""
    with ExitStack() as stack:
        yield [stack.enter_context(MockSMTPServer(port=0, database=postgres_url, http_port=0)) for _ in range(3)]


def rcpt(server: MockSMTPServer, address: str) -> int:
    """The reply code to ``RCPT TO:<address>`` in a fresh session."""
    with RawClient(server.port) as c:
        c.code("EHLO me")
        c.code("MAIL FROM:<a@example.com>")
        return c.code(f"RCPT TO:<{address}>")


def heard_by(sender: MockSMTPServer, *others: MockSMTPServer) -> None:
    """Block until ``others`` have heard every change committed so far: PostgreSQL delivers
    notifications in commit order, so once they wake for a message sent now, they have applied
    the notifications committed before it."""
    marker = f"marker {uuid.uuid4()}"
    with smtplib.SMTP(*sender.address) as client:
        client.sendmail("m@example.com", ["m@example.com"], f"Subject: {marker}\r\n\r\n.\r\n")
    for other in others:
        other.wait_for(subject=marker, timeout=10)


def test_times_2_fires_exactly_twice_across_three_nodes(nodes: list[MockSMTPServer]) -> None:
    """A fault injected on node 1 with times=2: of six RCPTs sent at once, two per node, exactly
    two get its 451, whichever nodes they reach; node 3 then lists it as used up."""
    fault = nodes[0].inject_fault("rcpt", code=451, match="x@example.com", times=2)
    heard_by(nodes[0], nodes[1], nodes[2])
    start = threading.Barrier(6)
    codes: list[int] = []

    def client(server: MockSMTPServer) -> None:
        with RawClient(server.port) as c:
            c.code("EHLO me")
            c.code("MAIL FROM:<a@example.com>")
            start.wait(10)
            codes.append(c.code("RCPT TO:<x@example.com>"))

    threads = [threading.Thread(target=client, args=(nodes[i % 3],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes) == [250, 250, 250, 250, 451, 451]
    assert rcpt(nodes[1], "x@example.com") == 250
    (listed,) = nodes[2].faults
    assert (listed.id, listed.remaining, listed.triggered) == (fault.id, 0, 2)


def test_a_fault_without_times_fires_on_every_node(nodes: list[MockSMTPServer]) -> None:
    """No claim is needed for a fault without times: each node applies it, every time."""
    nodes[1].inject_fault("mail", code=550, message="5.7.1 Relay denied", match=re.compile(r"@spam\."))
    heard_by(nodes[1], nodes[0], nodes[2])
    for server in nodes:
        with RawClient(server.port) as c:
            c.code("EHLO me")
            assert c.command("MAIL FROM:<x@spam.example>") == (550, ["5.7.1 Relay denied"])
            assert c.code("MAIL FROM:<x@ham.example>") == 250


def test_removal_on_node_2_stops_it_on_node_1(nodes: list[MockSMTPServer]) -> None:
    """Node 2 finds the fault node 1 made, with the same id, and removes it; node 1 learns of
    the removal by notification and takes the recipient again."""
    node1, node2, _ = nodes
    fault = node1.inject_fault("rcpt", code=452, match="x@example.com")
    heard_by(node1, node2)
    assert rcpt(node1, "x@example.com") == 452
    (seen,) = node2.faults
    assert seen.id == fault.id
    seen.remove()
    heard_by(node2, node1)
    assert rcpt(node1, "x@example.com") == 250  # node 1's own copy of the faults changed
    fault.remove()  # already gone: still fine


def test_clear_faults_on_one_node_clears_every_node(nodes: list[MockSMTPServer]) -> None:
    """clear_faults() anywhere ends every node's faults."""
    nodes[0].inject_fault("rcpt", code=451, match="y@example.com")
    heard_by(nodes[0], nodes[1], nodes[2])
    assert [rcpt(n, "y@example.com") for n in nodes] == [451, 451, 451]
    nodes[2].clear_faults()
    heard_by(nodes[2], nodes[0], nodes[1])
    assert [rcpt(n, "y@example.com") for n in nodes] == [250, 250, 250]


def test_a_callable_match_is_refused(nodes: list[MockSMTPServer]) -> None:
    """Other processes cannot run a Python callable: ConfigError says what to give instead."""
    with pytest.raises(ConfigError, match="string or a compiled regular expression"):
        nodes[0].inject_fault("rcpt", match=lambda address: address.endswith("@example.com"))
    assert nodes[0].faults == []


def test_a_node_only_fault_stays_on_its_node(nodes: list[MockSMTPServer]) -> None:
    """node_only=True (what --fault does) keeps a fault, callable match included, in this
    node's memory: applied and listed here only, and kept when the shared faults are read."""
    node1, node2, _ = nodes
    local = node1.inject_fault("rcpt", code=451, match=lambda address: address.startswith("z"), node_only=True)
    shared = node1.inject_fault("mail", code=451, match="z@example.com")
    heard_by(node1, node2)
    assert [f.id for f in node1.faults] == [local.id, shared.id]
    assert [f.id for f in node2.faults] == [shared.id]
    assert (rcpt(node1, "z@example.com"), rcpt(node2, "z@example.com")) == (451, 250)
    local.remove()
    assert [f.id for f in node1.faults] == [shared.id]


def test_the_http_api_shares_faults_between_nodes(nodes: list[MockSMTPServer]) -> None:
    """A fault POSTed to node 1 is listed by node 2 and removed there; the chaos triggers set
    on node 3 are faults every node lists."""
    urls = [n.http_url for n in nodes]
    made = httpx.post(f"{urls[0]}/api/mocksmtp/faults", json={"stage": "rcpt", "times": 3}, timeout=10)
    assert made.status_code == 201, made.text
    listed = httpx.get(f"{urls[1]}/api/mocksmtp/faults", timeout=10).json()
    assert [(f["id"], f["remaining"]) for f in listed] == [(made.json()["id"], 3)]
    assert httpx.delete(f"{urls[1]}/api/mocksmtp/faults/{made.json()['id']}", timeout=10).status_code == 200
    assert httpx.get(f"{urls[0]}/api/mocksmtp/faults", timeout=10).json() == []
    chaos = {"Recipient": {"ErrorCode": 451, "Probability": 100}}
    assert httpx.put(f"{urls[2]}/api/v1/chaos", json=chaos, timeout=10).status_code == 200
    (listed_chaos,) = httpx.get(f"{urls[0]}/api/mocksmtp/faults", timeout=10).json()
    assert (listed_chaos["stage"], listed_chaos["code"]) == ("rcpt", 451)


def test_a_database_outage_while_claiming_gives_421(own_cluster: Cluster) -> None:
    """The claim of a fault with times cannot reach the database: that session gets 421 and
    is closed, nothing crashes, and once the database is back the fault fires again."""
    with MockSMTPServer(port=0, database=own_cluster.database()) as server:
        server.inject_fault("rcpt", code=451, times=1)
        own_cluster.stop()
        with RawClient(server.port) as c:
            c.code("EHLO me")
            c.code("MAIL FROM:<a@example.com>")
            code, lines = c.command("RCPT TO:<x@example.com>")
            assert code == 421, lines
            assert "try again later" in lines[0]
            with pytest.raises(ConnectionError, match="closed the connection"):
                c.read_line()
        own_cluster.start_again()
        assert rcpt(server, "x@example.com") == 451
        assert rcpt(server, "x@example.com") == 250


def test_a_database_of_schema_1_gains_the_faults_table(postgres_url: str) -> None:
    """A database the mocksmtp before shared faults made (schema 1: no faults table, no engine
    flags) is migrated on start, its mail kept."""
    with MockSMTPServer(port=0, database=postgres_url) as server, smtplib.SMTP(*server.address) as client:
        client.sendmail("a@example.com", ["b@example.com"], "Subject: old\r\n\r\n.\r\n")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP TABLE faults")
        conn.execute("ALTER TABLE messages DROP COLUMN engine_flags")
        conn.execute("UPDATE mocksmtp_schema SET version = 1")
    with MockSMTPServer(port=0, database=postgres_url) as server:
        assert [m.subject for m in server.messages] == ["old"]
        server.inject_fault("rcpt", times=1)
        assert rcpt(server, "x@example.com") == 451
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM mocksmtp_schema").fetchall() == [(SCHEMA_VERSION,)]


def test_two_processes_share_a_fault_posted_to_one(postgres_url: str, tmp_path: Path) -> None:
    """Two mocksmtp processes: a fault POSTed to the first with times=1 fires once, on the
    second, and the first then lists it as used up."""
    nodes = [Node(postgres_url, tmp_path / f"node{i}.log") for i in (1, 2)]
    try:
        first, second = nodes
        made = httpx.post(f"{first.http_url}/api/mocksmtp/faults", json={"stage": "rcpt", "times": 1}, timeout=10)
        assert made.status_code == 201, made.text
        assert [f["id"] for f in httpx.get(f"{second.http_url}/api/mocksmtp/faults", timeout=10).json()] == [
            made.json()["id"]
        ]
        with smtplib.SMTP("127.0.0.1", second.port) as client:
            client.ehlo("me")
            client.mail("a@example.com")
            assert client.rcpt("x@example.com")[0] == 451
        with smtplib.SMTP("127.0.0.1", first.port) as client:
            client.ehlo("me")
            client.mail("a@example.com")
            assert client.rcpt("x@example.com")[0] == 250
        (listed,) = httpx.get(f"{first.http_url}/api/mocksmtp/faults", timeout=10).json()
        assert (listed["remaining"], listed["triggered"]) == (0, 1)
    finally:
        stop_all(nodes)


def test_pipelined_commands_wait_for_the_claim_and_keep_their_order(postgres_url: str) -> None:
    """While a session waits for the database to grant a firing, what it pipelined waits too,
    and the replies come in order: two 451s for times=2, then the rest pass."""
    with MockSMTPServer(port=0, database=postgres_url) as server, RawClient(server.port) as c:
        server.inject_fault("rcpt", code=451, match="x@example.com", times=2)
        c.code("EHLO me")
        c.send(
            b"MAIL FROM:<a@example.com>\r\n"
            + b"RCPT TO:<x@example.com>\r\n" * 3
            + b"RCPT TO:<y@example.com>\r\nNOOP\r\n"
        )
        assert c.read_replies(6) == [250, 451, 451, 250, 250, 250]
