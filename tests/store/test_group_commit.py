"""SQLiteStore.add_later: a writer thread commits every message waiting in one transaction
(group commit), and says stored only after the commit."""

from __future__ import annotations

import queue
import smtplib
import sqlite3
import threading
from pathlib import Path

from mocksmtp import Message, MockSMTPServer, SQLiteStore

Answers = queue.Queue[tuple[str, BaseException | None]]


def message(store: SQLiteStore, n: int, id: str | None = None) -> Message:
    return Message(
        id=id or store.new_id(), raw=f"Subject: {n}\r\n\r\nbody\r\n".encode(), mail_from="a@x.org", rcpt_tos=["b@x.org"]
    )


def add_later(store: SQLiteStore, m: Message, answers: Answers) -> None:
    store.add_later(m, lambda error: answers.put((m.id, error)))


def test_messages_waiting_together_share_one_commit(tmp_path: Path) -> None:
    """Ten messages queued while the writer waits for the database: at most two commits
    (the first message may go alone), every message stored, each told once."""
    store = SQLiteStore(tmp_path / "mail.sqlite")
    commits: list[str] = []
    store._db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    answers: Answers = queue.Queue()
    sent = [message(store, n) for n in range(10)]
    with store._lock:  # the writer cannot commit until we let go
        for m in sent:
            add_later(store, m, answers)
    got = dict(answers.get(timeout=10) for _ in sent)
    assert got == {m.id: None for m in sent}
    assert 1 <= len(commits) <= 2
    assert store.messages() == sent
    store.close()


def test_a_message_the_database_refuses_fails_alone(tmp_path: Path) -> None:
    """A group holding a message SQLite refuses (an id already there): only that message
    fails; the others of its group are stored."""
    store = SQLiteStore(tmp_path / "mail.sqlite")
    answers: Answers = queue.Queue()
    first = message(store, 1)
    twin = message(store, 2, id=first.id)
    last = message(store, 3)
    with store._lock:
        for m in (first, twin, last):
            add_later(store, m, answers)
    got = [answers.get(timeout=10) for _ in range(3)]
    assert [error is None for _, error in got] == [True, False, True]
    assert isinstance(got[1][1], sqlite3.IntegrityError)
    assert [m.subject for m in store.messages()] == ["1", "3"]
    store.close()


def test_close_commits_what_is_queued_first(tmp_path: Path) -> None:
    """close() while messages wait for the writer: they are committed (and told so) before
    the file closes, and a later store on the file has them."""
    path = tmp_path / "mail.sqlite"
    store = SQLiteStore(path)
    answers: Answers = queue.Queue()
    sent = [message(store, n) for n in range(3)]
    closing = threading.Thread(target=store.close)
    with store._lock:
        for m in sent:
            add_later(store, m, answers)
        closing.start()
    closing.join(10)
    assert not closing.is_alive()
    assert dict(answers.get(timeout=10) for _ in sent) == {m.id: None for m in sent}
    again = SQLiteStore(path)
    assert again.messages() == sent
    again.close()


def test_an_idle_store_holds_no_writer_thread(tmp_path: Path) -> None:
    """The writer thread ends when nothing has come for a while; the next message starts
    another."""
    store = SQLiteStore(tmp_path / "mail.sqlite")
    store._writer.IDLE = 0.01
    answers: Answers = queue.Queue()
    add_later(store, message(store, 1), answers)
    assert answers.get(timeout=10)[1] is None
    thread = store._writer._thread
    if thread is not None:
        thread.join(10)
        assert not thread.is_alive()
    add_later(store, message(store, 2), answers)
    assert answers.get(timeout=10)[1] is None
    assert store.count() == 2
    store.close()


def test_the_server_hands_messages_to_the_writer(tmp_path: Path) -> None:
    """A server on a database stores through add_later: the commit runs in the store's
    writer thread, not in the loop's, and the 250 follows it."""
    threads: list[str] = []
    with MockSMTPServer("127.0.0.1", 0, database=tmp_path / "mail.sqlite") as server:
        server.store.subscribe(lambda event: threads.append(threading.current_thread().name))
        with smtplib.SMTP(server.host, server.port) as client:
            client.sendmail("a@x.org", ["b@x.org"], b"Subject: hi\r\n\r\nbody\r\n")
        assert [m.subject for m in server.messages] == ["hi"]
        assert threads == ["mocksmtp.store writer"]
    server.store.close()


def test_wal_checkpoints_run_in_a_thread_of_their_own(tmp_path: Path) -> None:
    """Every Checkpointer.EVERY messages, the WAL is copied into the database file by the
    checkpoint thread (the commits never wait for it); the thread then ends when idle."""
    path = tmp_path / "mail.sqlite"
    store = SQLiteStore(path)
    store._checkpoints.EVERY = 5
    store._checkpoints.IDLE = 0.01
    before = path.stat().st_size
    big = b"Subject: big\r\n\r\n" + b"x" * 20_000 + b"\r\n"
    for _ in range(5):
        store.add(Message(id=store.new_id(), raw=big, mail_from="", rcpt_tos=["a@x.org"]))
    thread = store._checkpoints._thread
    assert thread is not None
    assert thread.name == "mocksmtp.store checkpoints"
    thread.join(10)
    assert not thread.is_alive()
    assert path.stat().st_size >= before + 5 * 20_000  # the messages reached the database file
    store.close()
