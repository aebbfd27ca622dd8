"""The SQLite file's schema across versions: older files are migrated when opened, and what
the engine saw that raw bytes cannot show (the flags) is kept."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from tests.support import RawClient

from mocksmtp import Message, MockSMTPServer, SQLiteStore
from mocksmtp.message import _unpickle
from mocksmtp.query import parse_query
from mocksmtp.store.sqlite import SCHEMA_VERSION


def test_a_version_1_file_is_migrated_when_opened(tmp_path: Path) -> None:
    """A file of schema 1 (before summaries) opens as schema 3 (through 2): messages, raw
    bytes and state are kept, and it is indexed again, so summaries and searches are complete;
    the old messages have no engine flags, and new ones keep theirs."""
    from mocksmtp.summary import summarize

    path = tmp_path / "v1.sqlite"
    raw = b"From: Ann <ann@x.org>\r\nSubject: old\r\nContent-Type: text/html\r\n\r\n<p>Kept <b>well</b></p>\r\n"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executescript((Path(__file__).parents[1] / "data" / "sqlite-schema-v1.sql").read_text())
        db.execute(
            "INSERT INTO messages (seq, id, mail_from, rcpt_tos, mail_options, peer_host, peer_port, helo, "
            "received, size, read, indexed, subject, snippet, subject_fold, text_fold) VALUES "
            "(1, 'A1', 'a@x.org', '[\"b@x.org\"]', '[]', '', 0, '', 1714550400.0, ?, 1, 1, 'old', '', "
            "'old', 'old\nkept well')",
            (len(raw),),
        )
        db.execute("INSERT INTO raw (seq, raw) VALUES (1, ?)", (raw,))
        db.execute("INSERT INTO tags (seq, tag, tag_fold) VALUES (1, 'kept', 'kept')")
        db.execute("PRAGMA user_version = 1")
    store = SQLiteStore(path)
    assert store._read("PRAGMA user_version", ()) == [(SCHEMA_VERSION,)] == [(3,)]
    (m,) = store.messages()
    assert m.raw == raw
    assert m.flags == frozenset()
    assert store.summaries() == [summarize(m, read=True, tags=["kept"])]
    assert store.summaries()[0].snippet == "Kept well"
    assert store.messages(parse_query("well from:ann@x.org is:read tag:kept")) == [m]
    store.add(flagged := _flagged(store.new_id()))
    store.close()
    again = SQLiteStore(path)
    assert [m.flags for m in again.messages()] == [frozenset(), flagged.flags]
    again.close()


def _flagged(id: str) -> Message:
    """A message the engine flagged "unstuffed_dot" (which its raw bytes cannot show)."""
    raw = b"Subject: dot\r\n\r\noops\r\n"
    at = datetime.now(timezone.utc)
    return _unpickle(
        id, raw, "a@x.org", ("b@x.org",), (), ("::1", 25), "h", at, None, None, frozenset({"unstuffed_dot"})
    )


def test_the_unstuffed_dot_flag_survives_a_restart(tmp_path: Path) -> None:
    """The flag the engine sets when a client forgot to dot-stuff is stored with the message:
    read back after a restart, in the message and in its summary."""
    path = tmp_path / "mail.sqlite"
    with MockSMTPServer(port=0, database=path) as server, RawClient(server.port) as c:
        assert c.send_message("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\n.oops\r\n")[0] == 250
        assert c.send_message("a@example.com", ["b@example.com"], b"Subject: y\r\n\r\n..fine\r\n", ehlo=False)[0] == 250
    store = SQLiteStore(path)
    forgot, stuffed = store.messages()
    assert forgot.raw == b"Subject: x\r\n\r\noops\r\n"
    assert "unstuffed_dot" in forgot.flags
    assert "unstuffed_dot" not in stuffed.flags
    assert [s.flags for s in store.summaries(newest_first=False)] == [forgot.flags, stuffed.flags]
    store.close()
