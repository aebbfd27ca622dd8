"""SQLiteStore specifics: mail survives a restart (and kill -9), and every way a file can be
wrong is one line, never a traceback."""

from __future__ import annotations

import contextlib
import re
import smtplib
import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from tests.integration.processes import ROOT, Process

from mocksmtp import Message, MockSMTPServer, SQLiteStore, StoreError
from mocksmtp.query import Query, TextTerm, parse_query
from mocksmtp.store import MessageState
from mocksmtp.store.sqlite import SCHEMA_VERSION


def add(store: SQLiteStore, subject: str) -> Message:
    m = Message(
        id=store.new_id(), raw=f"Subject: {subject}\r\n\r\nbody\r\n".encode(), mail_from="a@x.org", rcpt_tos=["b@x.org"]
    )
    store.add(m)
    return m


def test_messages_and_their_state_survive_reopening(tmp_path: Path) -> None:
    """Closed and opened again, the file has every message, byte for byte, with its state."""
    path = tmp_path / "mail.sqlite"
    store = SQLiteStore(path)
    a, b = add(store, "one"), add(store, "two")
    store.mark_read([a.id])
    store.set_tags([b.id], ["kept"])
    store.close()
    store.close()  # idempotent
    again = SQLiteStore(path)
    assert again.messages() == [a, b]
    assert [m.raw for m in again.messages()] == [a.raw, b.raw]
    assert again.state(a.id) == MessageState(read=True)
    assert again.state(b.id) == MessageState(tags=("kept",))
    assert repr(again) == f"<SQLiteStore {str(path)!r} messages=2>"
    again.close()


def test_a_server_started_on_the_same_file_shows_the_mail_again(tmp_path: Path) -> None:
    """MockSMTPServer(database=PATH): a second server on the file sees the first one's mail."""
    path = tmp_path / "mail.sqlite"
    with MockSMTPServer("127.0.0.1", 0, database=path) as first, smtplib.SMTP(first.host, first.port) as client:
        client.sendmail("a@x.org", ["b@x.org"], "Subject: kept\r\n\r\nbody\r\n")
    first.store.close()
    second = MockSMTPServer("127.0.0.1", 0, database=path)
    assert [m.subject for m in second.messages] == ["kept"]
    assert second.get_message_count() == 1
    second.store.close()


def test_store_and_database_together_are_refused(tmp_path: Path) -> None:
    """store= and database= name two stores: a ConfigError says to pick one."""
    from mocksmtp import ConfigError, MemoryStore

    with pytest.raises(ConfigError, match="give store= or database=, not both"):
        MockSMTPServer(store=MemoryStore(), database=tmp_path / "x.sqlite")


def newer(path: Path) -> None:
    SQLiteStore(path).close()
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")


def foreign(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE accounts (id INTEGER)")


def corrupt(path: Path) -> None:
    path.write_bytes(b"this is not a database\n" * 100)


def damaged(path: Path) -> None:
    SQLiteStore(path).close()
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("DROP TABLE tags")


@pytest.mark.parametrize(
    ("spoil", "error"),
    [
        (
            newer,
            rf"written by a newer mocksmtp \(schema {SCHEMA_VERSION + 1}; this version reads up to "
            rf"{SCHEMA_VERSION}\): upgrade mocksmtp, or choose another path",
        ),
        (foreign, "it holds tables that are not mocksmtp's: choose another path"),
        (
            corrupt,
            r"the file is not a mocksmtp database or is damaged: move it away, or choose another path "
            r"\(SQLite says: file is not a database\)",
        ),
        (damaged, "tables are missing, so it is damaged"),
    ],
    ids=["newer", "foreign", "corrupt", "damaged"],
)
def test_a_file_that_cannot_be_used_is_one_line(tmp_path: Path, spoil: object, error: str) -> None:
    """A newer schema, someone else's tables, a corrupt or damaged file: a one-line StoreError
    naming the file and what to do."""
    path = tmp_path / "mail.sqlite"
    spoil(path)  # type: ignore[operator]
    with pytest.raises(StoreError, match=error) as caught:
        SQLiteStore(path)
    assert "\n" not in str(caught.value)
    assert caught.value.path == str(path)


def test_a_missing_folder_or_a_folder_is_one_line(tmp_path: Path) -> None:
    """A path in a folder that does not exist, or a folder, is refused saying so."""
    with pytest.raises(StoreError, match=r"its folder .*nowhere does not exist: create it"):
        SQLiteStore(tmp_path / "nowhere" / "mail.sqlite")
    with pytest.raises(StoreError, match="it is a folder: give the path of a file"):
        SQLiteStore(tmp_path)


def test_a_read_only_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file SQLite may not write (opened read-only here: the tests run as root, whom file
    modes do not stop) gives a one-line StoreError saying so."""
    path = tmp_path / "mail.sqlite"
    with contextlib.closing(SQLiteStore(path)) as store:
        add(store, "kept")
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda p, **kw: connect(f"file:{p}?mode=ro", uri=True, **kw))
    with pytest.raises(StoreError, match=r"the file or its folder is read-only: make them writable"):
        SQLiteStore(path)


def test_the_command_line_prints_a_store_error_in_one_line(tmp_path: Path) -> None:
    """mocksmtp --database on a corrupt file: one line on stderr, exit status 2."""
    path = tmp_path / "bad.sqlite"
    corrupt(path)
    done = subprocess.run(
        [sys.executable, "-m", "mocksmtp", "--port", "0", "--database", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"mocksmtp: error: cannot use the database {path}: the file is not")


def test_sqlite_loads_only_with_a_database() -> None:
    """import mocksmtp and a memory server do not import sqlite3."""
    code = "import sys, mocksmtp; s = mocksmtp.MockSMTPServer(port=0); s.messages; print('sqlite3' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
    )
    assert done.stdout.strip() == "False", done.stderr


def test_kill_9_while_20_clients_send_loses_no_acknowledged_message(tmp_path: Path) -> None:
    """kill -9 of `mocksmtp --database` under 20 sending clients: after a restart, every
    message whose 250 a client read is in the file byte for byte, under the id its 250 named;
    anything else there is a message a client sent whole (at most one per client, the one
    whose 250 the kill cut off)."""
    path = tmp_path / "mail.sqlite"
    proc = Process(
        [
            sys.executable,
            "-m",
            "mocksmtp",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-http",
            "--quiet",
            "--stats-interval",
            "0",
            "--database",
            str(path),
        ]
    )
    try:
        port = int(re.search(r":(\d+) ", proc.wait_for_line("listening on"))[1])  # type: ignore[index]
        acked: dict[str, bytes] = {}  # id from the 250 -> what was sent
        sent: dict[bytes, int] = {}  # each body a client sent whole -> its client
        enough = threading.Event()
        lock = threading.Lock()

        def client(n: int) -> None:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                    smtp.ehlo()
                    while True:
                        body = f"Subject: {n} {uuid.uuid4()}\r\n\r\n{'x' * 500}\r\n".encode()
                        assert smtp.mail("a@x.org")[0] == 250
                        assert smtp.rcpt("b@x.org")[0] == 250
                        with lock:
                            sent[body] = n
                        code, reply = smtp.data(body)
                        assert code == 250, reply
                        with lock:
                            acked[reply.decode().rsplit(" ", 1)[1]] = body
                            if len(acked) >= 317:
                                enough.set()
            except (OSError, smtplib.SMTPException):
                return  # the server was killed

        threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        assert enough.wait(60), f"only {len(acked)} messages acknowledged"
        proc.proc.kill()  # SIGKILL, mid-flight
        proc.proc.wait(30)
        for t in threads:
            t.join(60)
    finally:
        proc.kill()
        proc.finish()
    store = SQLiteStore(path)
    stored = {m.id: m.raw for m in store.messages()}
    store.close()
    missing = [id for id in acked if stored.get(id) != acked[id]]
    assert not missing, f"{len(missing)} acknowledged messages lost or changed"
    extra = [raw for id, raw in stored.items() if id not in acked]
    assert all(raw in sent for raw in extra)
    assert len({sent[raw] for raw in extra}) == len(extra) <= 20


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    """Using a store after close() is a one-line StoreError, not sqlite3's error."""
    store = SQLiteStore(tmp_path / "mail.sqlite")
    store.close()
    with pytest.raises(StoreError, match=r"was closed; open it again with SQLiteStore\(path\)"):
        store.count()
    with pytest.raises(StoreError, match="was closed"):
        add(store, "late")
    assert repr(store).endswith("closed>")


def test_add_commits_without_parsing_the_message(tmp_path: Path) -> None:
    """add() stores raw bytes and envelope only: the engine's 250 never waits for a parse
    (the message's parsed views stay unread); a search right after still finds it."""
    store = SQLiteStore(tmp_path / "mail.sqlite")
    m = Message(
        id=store.new_id(), raw=b"To: a@x.org\r\nSubject: fresh\r\n\r\nbody\r\n", mail_from="", rcpt_tos=["a@x.org"]
    )
    store.add(m)
    assert m._cache == {}
    assert store.messages(parse_query("to:a@x.org subject:fresh")) == [m]
    store.close()


def test_messages_left_unindexed_are_indexed_after_a_restart(tmp_path: Path) -> None:
    """A run that ended before indexing (kill -9 right after the 250s) leaves messages the next
    run indexes: searches find them."""
    path = tmp_path / "mail.sqlite"
    store = SQLiteStore(path)
    m = add(store, "left behind")
    store.close()
    with contextlib.closing(sqlite3.connect(path)) as db, db:  # as if the indexer had never run
        db.execute("UPDATE messages SET indexed = 0, subject = '', subject_fold = ''")
        db.execute("DELETE FROM texts")
        db.execute("DELETE FROM addresses")
    again = SQLiteStore(path)
    assert again.messages(parse_query('subject:"left behind" bcc:b@x.org')) == [m]
    again.close()


def test_an_idle_store_holds_no_indexing_thread(tmp_path: Path) -> None:
    """The indexing thread ends once nothing is pending (a store never closed leaks none),
    and close() ends it at once."""
    store = SQLiteStore(tmp_path / "mail.sqlite")
    add(store, "one")
    thread = store._indexer._thread
    assert thread is not None
    thread.join(10)  # it indexes after the lull, then ends
    assert not thread.is_alive()
    assert store._indexer._thread is None
    assert store._read("SELECT indexed FROM messages", ()) == [(1,)]
    add(store, "two")
    store.close()
    assert store._indexer._thread is None or not store._indexer._thread.is_alive()


def test_a_store_nobody_closed_closes_its_file_quietly(tmp_path: Path) -> None:
    """A server on database= whose store is never closed leaves no open connection to warn
    about (Python 3.13 reports one as a ResourceWarning) when it is collected."""
    code = (
        "import gc, sys, mocksmtp\n"
        "with mocksmtp.MockSMTPServer(port=0, database=sys.argv[1]) as s:\n"
        "    assert s.get_message_count() == 0\n"
        "del s\n"
        "gc.collect()\n"
    )
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", code, str(tmp_path / "mail.sqlite")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_a_summary_of_a_message_not_indexed_yet_is_complete(tmp_path: Path) -> None:
    """summaries() right after add(), before the indexing thread ran, indexes the page's
    messages there and then: nothing is missing, and they stay indexed."""
    from mocksmtp.summary import summarize

    store = SQLiteStore(tmp_path / "mail.sqlite")
    store._indexer.stop()  # as if it had not reached them yet
    older, m = (
        add(store, "older"),
        Message(
            id=store.new_id(),
            raw=b"From: Ann <ann@x.org>\r\nTo: b@x.org\r\nSubject: fresh\r\n\r\nhello\r\n",
            mail_from="a@x.org",
            rcpt_tos=["b@x.org", "c@x.org"],
        ),
    )
    store.add(m)
    assert store._read("SELECT count(*) FROM messages WHERE indexed = 0", ()) == [(2,)]
    assert store.summaries(limit=1) == [summarize(m)]
    assert store._read("SELECT id FROM messages WHERE indexed = 0", ()) == [(older.id,)]
    assert store.summaries() == [summarize(m), summarize(older)]
    store.close()


def test_summaries_read_columns_never_the_raw_message(tmp_path: Path) -> None:
    """Once indexed, a page of summaries (with a query) reads no raw bytes: no statement it
    runs touches the raw table (but the look for messages still to index, which finds none)."""
    store = SQLiteStore(tmp_path / "mail.sqlite")
    for i in range(3):
        add(store, f"s{i}")
    store.count(parse_query("subject:s"))  # indexes everything
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    assert [s.subject for s in store.summaries(parse_query("subject:s -subject:s1"))] == ["s2", "s0"]
    store._db.set_trace_callback(None)
    assert statements
    assert not [sql for sql in statements if "raw" in sql and "WHERE m.indexed = 0 " not in sql]
    store.close()


@pytest.mark.parametrize("fts", [True, False], ids=["fts5", "without-fts5"])
def test_bare_words_find_the_same_with_or_without_full_text_search(
    tmp_path: Path, fts: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where SQLite has FTS5 the searched text and subjects are trigram indexes, else plain
    tables: the same words find the same messages, and a deleted message's text goes with it."""
    from mocksmtp.store import sqlschema

    monkeypatch.setattr(sqlschema, "has_fts", lambda: fts)
    store = SQLiteStore(tmp_path / "mail.sqlite")
    assert store._fts is fts
    words = ["Quetzal feathers", "quetzalcoatl", "Straße", 'a"quote', "zz"]
    made = [add(store, subject) for subject in words]
    for text, expected in [
        ("quetzal", words[:2]),
        ("QUETZAL FEATHERS", words[:1]),
        ("strasse", ["Straße"]),
        ("SS", ["Straße"]),
        ("tzalc", ["quetzalcoatl"]),
        ("zz", ["zz"]),
        ("q", [*words[:2], 'a"quote']),
        ("-quetzal", words[2:]),
        ("feathers quetzal", words[:1]),
        ("xyzzy", []),
    ]:
        assert [m.subject for m in store.messages(parse_query(text))] == expected, text
    for text, expected in [
        ("subject:quetzal", words[:2]),
        ('subject:"l fea"', words[:1]),
        ("subject:SS", ["Straße"]),
        ("-subject:tzal", words[2:]),
        ("subject:zz", ["zz"]),
    ]:
        assert [m.subject for m in store.messages(parse_query(text))] == expected, text
    assert store.count(Query(terms=(TextTerm("text", 'a"quo'),))) == 1  # a quote inside a trigram
    assert store.count(Query(terms=(TextTerm("subject", 'a"quo'),))) == 1
    store.delete([made[0].id])
    assert [m.subject for m in store.messages(parse_query("quetzal"))] == ["quetzalcoatl"]
    assert store._read("SELECT count(*) FROM texts", ()) == store._read("SELECT count(*) FROM subjects", ()) == [(4,)]
    store.clear()
    assert store._read("SELECT count(*) FROM texts", ()) == store._read("SELECT count(*) FROM subjects", ()) == [(0,)]
    store.close()


def test_a_common_word_is_found_alike_by_the_scan_a_page_uses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page (with a limit) looks for a word many messages hold by a scan in page order, not
    through the trigram index: the same messages either way, in text and subject."""
    from mocksmtp.store import sqlite as module

    store = SQLiteStore(tmp_path / "mail.sqlite")
    words = ["quetzal one", "other", "quetzal two", "QUETZAL three", "none"]
    for subject in words:
        add(store, subject)
    for text in ("quetzal", "subject:quetzal", "-quetzal", "-subject:etza", "uetzal t"):
        query = parse_query(text)
        through_index = [m.subject for m in store.messages(query, limit=10)]
        monkeypatch.setattr(module, "_COMMON", 2)  # every word that three messages hold is common
        scanned = [m.subject for m in store.messages(query, limit=10)]
        monkeypatch.setattr(module, "_COMMON", 2000)
        assert scanned == through_index == [m.subject for m in store.messages(query)], text
    monkeypatch.setattr(module, "_COMMON", 2)
    assert store._common("texts", '"que"')
    assert not store._common("texts", '"two"')
    store.close()
