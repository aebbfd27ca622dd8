"""PostgresStore specifics: several stores (nodes) on one database see each other's changes
through LISTEN/NOTIFY, raw bytes are kept exactly, and every way a database can be wrong is
one line, never a traceback."""

from __future__ import annotations

import io
import queue
import smtplib
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from tests.integration.processes import Process
from tests.pgcluster import Cluster, find_bin

from mocksmtp import ConfigError, Message, MockSMTPServer, StoreError
from mocksmtp.cli_transfer import run
from mocksmtp.store import MessageAdded, MessagesDeleted, MessagesUpdated, StoreCleared, StoreEvent
from mocksmtp.store.pglink import SCHEMA_VERSION, load
from mocksmtp.store.postgres import PostgresStore


@pytest.fixture
def nodes(postgres_url: str) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores on one new database, as two nodes would have."""
    a, b = PostgresStore(postgres_url), PostgresStore(postgres_url)
    yield a, b
    a.close()
    b.close()


def add(store: PostgresStore, raw: bytes = b"Subject: hi\r\n\r\nbody\r\n") -> Message:
    m = Message(id=store.new_id(), raw=raw, mail_from="a@x.org", rcpt_tos=["b@x.org"])
    store.add(m)
    return m


def next_event(events: queue.SimpleQueue[StoreEvent]) -> StoreEvent:
    return events.get(timeout=10)  # blocks until the notification arrives (no sleep, no poll)


def test_each_change_on_one_node_is_an_event_on_the_other(nodes: tuple[PostgresStore, PostgresStore]) -> None:
    """An add, a read flag, tags, a delete and a clear made on one node reach the other's
    subscribers as the same typed events, its version moving before each."""
    a, b = nodes
    events: queue.SimpleQueue[StoreEvent] = queue.SimpleQueue()
    b.subscribe(events.put)
    m = add(a)
    added = next_event(events)
    assert isinstance(added, MessageAdded)
    assert added.message == m
    assert b.version >= added.version >= 1
    a.mark_read([m.id])
    assert next_event(events) == MessagesUpdated((m.id,), b.version)
    a.set_tags([m.id], ["x"])
    assert isinstance(next_event(events), MessagesUpdated)
    assert b.state(m.id) is not None
    assert b.state(m.id) == a.state(m.id)
    other = add(a)
    assert isinstance(next_event(events), MessageAdded)
    a.delete([m.id])
    deleted = next_event(events)
    assert isinstance(deleted, MessagesDeleted)
    assert deleted.ids == (m.id,)
    a.clear()
    assert isinstance(next_event(events), StoreCleared)
    assert b.get(other.id) is None
    assert events.empty()  # nothing twice


def test_a_node_hears_no_echo_of_its_own_changes(nodes: tuple[PostgresStore, PostgresStore]) -> None:
    """A node's own add is one event on it, not two (its notification is ignored)."""
    a, b = nodes
    events: queue.SimpleQueue[StoreEvent] = queue.SimpleQueue()
    a.subscribe(events.put)
    heard: queue.SimpleQueue[StoreEvent] = queue.SimpleQueue()
    b.subscribe(heard.put)
    mine = add(a)
    next_event(heard)  # b heard it, so a's listener has had the notification too
    theirs = add(b)
    got = [next_event(events), next_event(events)]  # a's own add, then b's, which came after any echo
    assert [e.message.id for e in got if isinstance(e, MessageAdded)] == [mine.id, theirs.id]
    assert events.empty()
    assert a.version == 2


def test_raw_bytes_are_kept_exactly(nodes: tuple[PostgresStore, PostgresStore]) -> None:
    """Every byte value, bare LF, 8-bit and NUL included, reads back the same from any node."""
    a, b = nodes
    raw = b"Subject: \xff\xfe caf\xc3\xa9\r\nX-Nul: a\x00b\r\n\r\nline\nbare\r" + bytes(range(256)) + b"\r\n"
    m = add(a, raw)
    assert b.get(m.id) is not None
    got = b.get(m.id)
    assert got is not None
    assert got.raw == raw
    assert b.count(None) == 1
    assert b.summaries()[0].id == m.id


def test_ids_and_order_are_shared(nodes: tuple[PostgresStore, PostgresStore]) -> None:
    """Messages added on either node are listed in arrival order, the same from both."""
    a, b = nodes
    made = [add(a if i % 2 else b, f"Subject: {i}\r\n\r\n".encode()) for i in range(6)]
    assert [m.id for m in a.messages()] == [m.id for m in made] == [m.id for m in b.messages()]


def test_a_newer_schema_is_refused_in_one_line(postgres_url: str) -> None:
    """A database written by a newer mocksmtp says so, and what to do."""
    PostgresStore(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE mocksmtp_schema SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match=r"newer mocksmtp \(schema \d+; this version reads up to \d+\): upgrade"):
        PostgresStore(postgres_url)


def test_tables_of_another_application_are_refused(postgres_url: str) -> None:
    """A database with a messages table that is not mocksmtp's is left alone."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE messages (x integer)")
    with pytest.raises(StoreError, match="tables that are not mocksmtp's"):
        PostgresStore(postgres_url)


def test_an_unreachable_server_is_one_line(postgres_cluster: Cluster) -> None:
    """No server at the URL: StoreError marked unavailable, naming the URL without password."""
    url = postgres_cluster.url().replace(str(postgres_cluster.port), "1").replace("postgres@", "postgres:secret@")
    with pytest.raises(StoreError, match=r"cannot be reached") as caught:
        PostgresStore(url)
    assert caught.value.unavailable
    assert "secret" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_without_psycopg_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """No psycopg: a ConfigError naming the extra, not an ImportError."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ConfigError, match=r"pip install 'mocksmtp\[postgres\]'"):
        load()


def test_servers_on_one_database_wait_for_each_others_mail(postgres_url: str) -> None:
    """MockSMTPServer(database=URL) twice: wait_for on one returns mail sent to the other."""
    with MockSMTPServer(port=0, database=postgres_url) as one, MockSMTPServer(port=0, database=postgres_url) as two:
        with smtplib.SMTP(*two.address) as client:
            client.sendmail("a@example.com", ["b@example.com"], "Subject: via two\r\n\r\nhello\r\n")
        (found,) = one.wait_for(1, subject="via two", timeout=10)
        assert found.raw == two.messages[0].raw
        assert repr(one.store).startswith("<PostgresStore postgresql://")


def test_the_cluster_helper_finds_binaries() -> None:
    """find_bin() names a folder with initdb, pg_ctl and postgres (or None: then PG tests skip)."""
    found = find_bin()
    assert found is None or (found / "pg_ctl").is_file()


def test_the_command_line_names_the_database_without_its_password(postgres_url: str) -> None:
    """`mocksmtp --database postgresql://user:password@...` says where mail is kept, password hidden."""
    url = postgres_url.replace("postgres@", "postgres:hunter2@")
    proc = Process([sys.executable, "-m", "mocksmtp", "--port", "0", "--no-http", "--database", url])
    try:
        line = proc.wait_for_line("keeping mail in", timeout=30)
    finally:
        proc.kill()
        proc.finish()
    assert line == f"mocksmtp: keeping mail in {url.replace(':hunter2@', ':***@')} (0 messages there already)"


def test_export_and_import_take_a_postgresql_url(postgres_url: str, tmp_path: Path) -> None:
    """`mocksmtp import/export --database postgresql://...` move mail byte for byte."""
    raw = b"Subject: moved\r\n\r\n\xe9 body\r\n"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "one.eml").write_bytes(raw)
    out = io.StringIO()
    assert run(["import", "--database", postgres_url, str(tmp_path / "in" / "one.eml")], out=out, err=out) == 0
    assert run(["export", "--database", postgres_url, "--format", "eml", str(tmp_path / "out")], out=out, err=out) == 0
    (exported,) = (tmp_path / "out").glob("*.eml")
    assert exported.read_bytes() == raw
