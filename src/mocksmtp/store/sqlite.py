"""A store in a SQLite file: messages survive restarts (``MockSMTPServer(database=PATH)``,
``mocksmtp --database PATH``). Standard library only.

- **Ack means stored.** :meth:`SQLiteStore.add` commits before it returns;
  :meth:`SQLiteStore.add_later` (what the engine uses) says so after the commit, and the
  engine's ``250`` follows. A writer thread commits every message waiting at that moment in
  one transaction (group commit, :mod:`~mocksmtp.store.groupcommit`). The journal is WAL
  with ``synchronous=NORMAL``: a commit is in the WAL file once it is reported, so killing
  the process (even ``kill -9``) loses nothing acknowledged; only a power cut or an OS crash
  may lose the last commits (``synchronous="FULL"`` adds an fsync per commit for that).
- **Raw bytes exactly**, as a BLOB in a table of their own, with the envelope, committed by
  :meth:`SQLiteStore.add`. What lists and searches need (subject, addresses, sizes, flags,
  the folded text bare words search) is derived from the message afterwards, in columns and
  side tables (:mod:`~mocksmtp.store.sqlsearch`): in a background thread once the store is
  quiet for 50 ms, or by a search that finds messages not yet indexed. So the engine's ``250``
  waits for the commit only, never for a parse, and counting, listing and searching never
  parse a stored message.
- **One connection behind a lock**: the engine adds from its loop's thread while tests read
  from theirs. Writes are serialised by SQLite anyway; one connection keeps every reader's
  view exactly the writer's (read-your-writes with no second snapshot) and leaves nothing
  open per thread.
- Searches compile the same :class:`~mocksmtp.query.Query` the memory store matches in
  Python, with the same answers (see :mod:`~mocksmtp.store.sqlsearch`).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError, StoreError
from ..message import Message
from ..query import Query
from ..summary import Summary
from .base import (
    AddDone,
    ChangeFeed,
    MessageAdded,
    MessagesDeleted,
    MessageState,
    MessagesUpdated,
    StoreCleared,
    Subscriber,
    check_page,
    check_tags,
    unknown_cursor,
)
from .checkpoint import SAFETY_NET, Checkpointer
from .groupcommit import GroupCommit
from .ids import new_id
from .sqlsearch import INDEX_COLUMNS, Indexer, IndexRow, index_rows, where
from .sqlsummary import ENVELOPE, SUMMARY_COLUMNS, envelope_row, message_of, read_summaries

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

SCHEMA_VERSION = 2
"""The layout this version writes, in ``PRAGMA user_version``; a newer one is refused, an
older one migrated when the file is opened (:data:`_MIGRATIONS`)."""

_SCHEMA = """
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,            -- arrival order
    id TEXT NOT NULL UNIQUE,
    mail_from TEXT NOT NULL,
    rcpt_tos TEXT NOT NULL,             -- JSON list
    mail_options TEXT NOT NULL,         -- JSON list
    peer_host TEXT NOT NULL,
    peer_port INTEGER NOT NULL,
    helo TEXT NOT NULL,
    tls TEXT,
    auth_user TEXT,
    received REAL NOT NULL,             -- seconds since the epoch
    size INTEGER NOT NULL,
    read INTEGER NOT NULL DEFAULT 0,
    indexed INTEGER NOT NULL DEFAULT 0, -- whether the columns below are filled (sqlsearch.py)
    subject TEXT NOT NULL DEFAULT '',
    date REAL,                          -- the Date header, seconds since the epoch
    message_id TEXT NOT NULL DEFAULT '',  -- without angle brackets
    attachments INTEGER NOT NULL DEFAULT 0,
    inline INTEGER NOT NULL DEFAULT 0,
    snippet TEXT NOT NULL DEFAULT '',
    subject_fold TEXT NOT NULL DEFAULT '',
    message_id_fold TEXT NOT NULL DEFAULT '',
    flags TEXT NOT NULL DEFAULT '',     -- the protocol flags found in raw, space-separated
    date_text TEXT                      -- the Date header in ISO 8601, its offset kept
);
CREATE INDEX messages_received ON messages (received);
CREATE INDEX messages_unindexed ON messages (seq) WHERE indexed = 0;
CREATE TABLE raw (
    seq INTEGER PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
    raw BLOB NOT NULL
);
CREATE TABLE addresses (
    seq INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
    field TEXT NOT NULL,                -- from, to, cc, bcc, reply-to
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    address_exact TEXT NOT NULL,        -- casefolded: whole-address terms compare to it
    name_fold TEXT NOT NULL,
    address_fold TEXT NOT NULL
);
CREATE INDEX addresses_exact ON addresses (address_exact);
CREATE INDEX addresses_seq ON addresses (seq);
CREATE TABLE tags (
    seq INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    tag_fold TEXT NOT NULL,
    PRIMARY KEY (seq, tag)
);
CREATE INDEX tags_fold ON tags (tag_fold);
"""
# What bare words search (the folded text of each message, one field a line, ``rowid`` = the
# message's seq) lives apart from messages, so that scans of messages never read it; folded
# subjects are copied beside it. With SQLite's full-text search (FTS5, 3.34 or later: Python's
# builds have it) both tables are trigram indexes, which find the few messages that may hold a
# word without reading them all (sqlsearch.py); without FTS5 they are plain tables, and a
# search for a rare word reads every message's text (or subject, in messages).
_FTS_TEXTS = (
    "CREATE VIRTUAL TABLE texts USING fts5(text_fold, tokenize = 'trigram', detail = none);"
    "CREATE VIRTUAL TABLE subjects USING fts5(subject_fold, tokenize = 'trigram', detail = none);"
)
_PLAIN_TEXTS = (
    "CREATE TABLE texts (seq INTEGER PRIMARY KEY, text_fold TEXT NOT NULL);"
    "CREATE TABLE subjects (seq INTEGER PRIMARY KEY, subject_fold TEXT NOT NULL);"
)
_TABLES = {"messages", "raw", "addresses", "tags", "texts", "subjects"}
_MIGRATIONS = {
    # 1 -> 2: summaries (flags, the Date's offset, snippets of 250 characters from the text or
    # the HTML body) and the searched text moved out of messages; everything is indexed again.
    1: (
        "ALTER TABLE messages ADD COLUMN flags TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE messages ADD COLUMN date_text TEXT;"
        "{texts}"
        "DELETE FROM addresses;"
        "UPDATE messages SET indexed = 0, text_fold = '';"
    ),
}
"""For each older schema, the SQL that brings it to the next (run in one transaction;
``{texts}`` is the statement that makes the texts table)."""
_TABLES_OF = {1: {"messages", "raw", "addresses", "tags"}}
_CHUNK = 500  # ids per IN (...) list
_SUBJECT = INDEX_COLUMNS.index("subject_fold")
_COMMON = 2000  # candidates from the trigram index beyond which a page is found by a scan


class SQLiteStore:
    """Keeps messages in the SQLite file at ``path`` (made if missing), across restarts.

    Raises :class:`~mocksmtp.StoreError` with a one-line message when the file is not a
    mocksmtp database, is corrupt, was written by a newer mocksmtp, or cannot be written.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "mail.sqlite")
    >>> store = SQLiteStore(path)
    >>> store.add(Message(id=store.new_id(), raw=b"Subject: kept\\r\\n\\r\\n", mail_from="", rcpt_tos=["a@b"]))
    >>> store.close(); SQLiteStore(path).messages()[0].subject
    'kept'
    """

    def __init__(self, path: str | os.PathLike[str], *, synchronous: Literal["NORMAL", "FULL"] = "NORMAL") -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ConfigError(f"synchronous must be 'NORMAL' or 'FULL', got {synchronous!r}")
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._feed = ChangeFeed()
        self._closed = False
        self._fts = False  # whether texts is an FTS5 trigram index (set when the file is opened)
        self._db = self._open(synchronous)
        # A store nobody closed closes its file when it is collected (Python 3.13 warns about an
        # open sqlite3 connection then); the callback holds the connection, not the store.
        weakref.finalize(self, self._db.close)
        self._indexer = Indexer(self._unindexed, self._write_index)
        self._writer = GroupCommit(self._insert, name="mocksmtp.store writer")
        self._checkpoints = Checkpointer(self.path)  # WAL checkpoints off the commits' path
        self._db.execute(f"PRAGMA wal_autocheckpoint = {SAFETY_NET}")
        if self._read("SELECT 1 FROM messages WHERE indexed = 0 LIMIT 1", ()):
            self._indexer.added()  # left by a run that ended before indexing them

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"messages={self.count()}"
        return f"<SQLiteStore {self.path!r} {state}>"

    # -- opening -------------------------------------------------------------------------------

    def _fail(self, what: str, error: BaseException | None = None) -> StoreError:
        detail = f" (SQLite says: {error})" if error is not None else ""
        return StoreError(f"cannot use the database {self.path}: {what}{detail}", path=self.path)

    def _open(self, synchronous: str) -> sqlite3.Connection:
        parent = Path(self.path).resolve().parent
        if not parent.is_dir():
            raise self._fail(f"its folder {parent} does not exist: create it, or choose another path")
        if Path(self.path).is_dir():
            raise self._fail("it is a folder: give the path of a file, such as mail.sqlite")
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as e:
            raise self._fail("check that the path is a file you may read and write", e) from None
        try:
            self._prepare(db, synchronous)
        except StoreError:
            db.close()
            raise
        except sqlite3.DatabaseError as e:
            db.close()
            text = str(e)
            if "readonly" in text or "read-only" in text or "unable to open" in text:
                raise self._fail(
                    "the file or its folder is read-only: make them writable, or choose another path", e
                ) from None
            raise self._fail(
                "the file is not a mocksmtp database or is damaged: move it away, or choose another path", e
            ) from None
        return db

    def _prepare(self, db: sqlite3.Connection, synchronous: str) -> None:
        db.execute("PRAGMA foreign_keys = ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise self._fail(
                f"it was written by a newer mocksmtp (schema {version}; this version reads "
                f"up to {SCHEMA_VERSION}): upgrade mocksmtp, or choose another path"
            )
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version == 0 and tables:
            raise self._fail("it holds tables that are not mocksmtp's: choose another path")
        if version and not tables >= _TABLES_OF.get(version, _TABLES):
            raise self._fail("tables are missing, so it is damaged: move it away, or choose another path")
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise self._fail(f"SQLite could not use its WAL journal there (got {mode!r}): put the file on a local disk")
        db.execute(f"PRAGMA synchronous = {synchronous}")
        texts = _FTS_TEXTS if _has_fts() else _PLAIN_TEXTS
        if version == 0:
            db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} {texts} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        while 0 < version < SCHEMA_VERSION:
            version += 1
            db.executescript(
                f"BEGIN IMMEDIATE; {_MIGRATIONS[version - 1].format(texts=texts)} "
                f"PRAGMA user_version = {version}; COMMIT;"
            )
        made = db.execute("SELECT sql FROM sqlite_master WHERE name = 'texts'").fetchone()[0]
        self._fts = "fts5" in made.lower()
        try:
            db.execute("SELECT 1 FROM texts LIMIT 1").fetchall()
        except sqlite3.OperationalError as e:
            if "fts5" not in str(e):
                raise
            raise self._fail(
                "it was made with SQLite's full-text search (FTS5), which this Python's "
                "sqlite3 lacks: open it with a Python whose SQLite has FTS5",
                e,
            ) from None
        db.execute("SELECT count(*) FROM messages").fetchone()  # a damaged file fails here, not later
        with _transaction(db):  # and one we may not write, here too: not at the first 250
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the file (idempotent). The store cannot be used afterwards; messages given
        to :meth:`add_later` before are committed first (for up to 5 seconds)."""
        if hasattr(self, "_writer"):
            self._writer.close()
        if hasattr(self, "_indexer"):
            self._indexer.stop()
        if hasattr(self, "_checkpoints"):
            self._checkpoints.close()
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    # -- the protocol --------------------------------------------------------------------------

    @property
    def version(self) -> int:
        return self._feed.version

    def new_id(self) -> str:
        """A ULID (see :mod:`mocksmtp.store.ids`): unique across processes, sorted by arrival."""
        return new_id()

    def add(self, message: Message) -> None:
        """Insert ``message`` and commit before returning, in the caller's thread. What
        searches need is derived later, off the caller's thread (see
        :mod:`~mocksmtp.store.sqlsearch`)."""
        self._insert([message])

    def add_later(self, message: Message, done: AddDone) -> None:
        """Queue ``message`` for the writer thread, which commits every message queued by
        then in one transaction and calls each ``done(None)`` after the commit (group
        commit: the engine's sessions share commits, and none runs in its loop)."""
        if not self._writer.put(message, done):
            done(self._closed_error())

    def _insert(self, batch: list[Message]) -> None:
        """Insert ``batch`` in one transaction and commit; then move the version once per
        message and announce each (after the commit: a reader woken by the version sees it)."""
        rows = [envelope_row(m) for m in batch]
        with self._lock:
            with _transaction(self._live) as db:
                for m, row in zip(batch, rows, strict=True):
                    seq = db.execute(
                        "INSERT INTO messages (id, mail_from, rcpt_tos, mail_options, peer_host, peer_port, helo, "
                        "tls, auth_user, received, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        row,
                    ).lastrowid
                    db.execute("INSERT INTO raw (seq, raw) VALUES (?, ?)", (seq, m.raw))
            versions = [self._feed.bump() for _ in batch]
        self._checkpoints.wrote(len(batch))
        self._indexer.added()
        if self._feed.active:
            for m, version in zip(batch, versions, strict=True):
                self._feed.publish(MessageAdded(m, version))

    def get(self, id: str) -> Message | None:
        rows = self._read(f"SELECT {ENVELOPE} FROM messages m JOIN raw r USING (seq) WHERE m.id = ?", (id,))
        return message_of(rows[0]) if rows else None

    def state(self, id: str) -> MessageState | None:
        with self._lock:
            row = self._live.execute("SELECT seq, read FROM messages WHERE id = ?", (id,)).fetchone()
            if row is None:
                return None
            tags = [t for (t,) in self._db.execute("SELECT tag FROM tags WHERE seq = ? ORDER BY tag", (row[0],))]
        return MessageState(bool(row[1]), tuple(tags))

    def count(self, query: Query | None = None) -> int:
        condition, params = self._where(query)
        return int(self._read(f"SELECT count(*) FROM messages m WHERE {condition}", params)[0][0])

    def messages(
        self,
        query: Query | None = None,
        *,
        newest_first: bool = False,
        offset: int = 0,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[Message]:
        page, params = self._page(query, newest_first, offset, limit, after)
        return [
            message_of(row)
            for row in self._read(f"SELECT {ENVELOPE} FROM messages m JOIN raw r USING (seq) {page}", params)
        ]

    def summaries(
        self,
        query: Query | None = None,
        *,
        newest_first: bool = True,
        offset: int = 0,
        limit: int | None = 50,
        after: str | None = None,
    ) -> list[Summary]:
        """Read from columns only; messages of the page not indexed yet are indexed first."""
        page, params = self._page(query, newest_first, offset, limit, after)
        rows = self._read(f"SELECT {SUMMARY_COLUMNS} FROM messages m {page}", params)
        pending = [row[0] for row in rows if not row[1]]
        if pending:  # the indexer has not reached them yet: index them here, then read them again
            self._write_index([(seq, *index_rows(m)) for seq, m in self._unindexed(len(pending), pending)])
        with self._lock:
            if pending:
                again = {
                    row[0]: row
                    for row in self._live.execute(
                        f"SELECT {SUMMARY_COLUMNS} FROM messages m WHERE m.seq IN ({', '.join('?' * len(pending))})",
                        pending,
                    )
                }
                rows = [again.get(row[0], row) for row in rows]
            return read_summaries(self._live, rows)

    def _page(
        self, query: Query | None, newest_first: bool, offset: int, limit: int | None, after: str | None
    ) -> tuple[str, list[Any]]:
        """``WHERE ... ORDER BY ... LIMIT ... OFFSET ...`` for a page, and its parameters."""
        check_page(offset, limit)
        condition, params = self._where(query, paging=limit is not None)
        if after is not None:
            found = self._read("SELECT seq FROM messages WHERE id = ?", (after,))
            if not found:
                raise unknown_cursor(after)
            condition = f"({condition}) AND m.seq {'<' if newest_first else '>'} ?"
            params = [*params, found[0][0]]
        order = "DESC" if newest_first else "ASC"
        return (
            f"WHERE {condition} ORDER BY m.seq {order} LIMIT ? OFFSET ?",
            [*params, -1 if limit is None else limit, offset],
        )

    def delete(self, ids: Iterable[str]) -> int:
        wanted = list(dict.fromkeys(ids))
        return self._delete(
            lambda db: [
                row
                for chunk in _chunks(wanted)
                for row in db.execute(
                    f"SELECT seq, id FROM messages WHERE id IN ({', '.join('?' * len(chunk))})", chunk
                )
            ]
        )

    def delete_matching(self, query: Query) -> int:
        condition, params = self._where(query)
        return self._delete(
            lambda db: db.execute(f"SELECT seq, id FROM messages m WHERE {condition}", params).fetchall()
        )

    def clear(self) -> None:
        with self._lock, _transaction(self._live) as db:
            for table in ("tags", "addresses", "texts", "subjects", "raw", "messages"):
                db.execute(f"DELETE FROM {table}")
            version = self._feed.bump()
        self._feed.publish(StoreCleared(version))

    def mark_read(self, ids: Iterable[str], read: bool = True) -> int:
        def change(db: sqlite3.Connection, seqs: list[int]) -> None:
            for chunk in _chunks(seqs):
                db.execute(
                    f"UPDATE messages SET read = ? WHERE seq IN ({', '.join('?' * len(chunk))})",
                    (int(bool(read)), *chunk),
                )

        return self._update(ids, change)

    def set_tags(self, ids: Iterable[str], tags: Iterable[str]) -> int:
        new = check_tags(tags)

        def change(db: sqlite3.Connection, seqs: list[int]) -> None:
            for chunk in _chunks(seqs):
                db.execute(f"DELETE FROM tags WHERE seq IN ({', '.join('?' * len(chunk))})", chunk)
            db.executemany(
                "INSERT INTO tags (seq, tag, tag_fold) VALUES (?, ?, ?)",
                [(seq, tag, tag.casefold()) for seq in seqs for tag in new],
            )

        return self._update(ids, change)

    def prune(self, *, max_messages: int | None = None, max_age: float | None = None) -> int:
        def doomed(db: sqlite3.Connection) -> list[tuple[int, str]]:
            rows: dict[int, str] = {}
            if max_messages is not None:
                rows.update(
                    db.execute(
                        "SELECT seq, id FROM messages ORDER BY seq DESC LIMIT -1 OFFSET ?", (max_messages,)
                    ).fetchall()
                )
            if max_age is not None:
                rows.update(
                    db.execute("SELECT seq, id FROM messages WHERE received < ?", (time.time() - max_age,)).fetchall()
                )
            return sorted(rows.items())

        return self._delete(doomed, pruned=True)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        return self._feed.subscribe(callback)

    # -- helpers -------------------------------------------------------------------------------

    def _where(self, query: Query | None, *, paging: bool = False) -> tuple[str, list[Any]]:
        """The SQL condition for ``query``, once every message it may read is indexed
        (``paging``: for a page with a limit, where a common word is best found by a scan)."""
        condition, params = where(query, fts=self._fts, common=self._common if paging and self._fts else None)
        if params or condition != "1":
            self._indexer.catch_up()
        return condition, params

    def _common(self, table: str, match: str) -> bool:
        """Whether at least :data:`_COMMON` messages hold every trigram of ``match`` (a
        fraction of a millisecond: the index stops counting there)."""
        self._indexer.catch_up()
        sql = f"SELECT count(*) FROM (SELECT rowid FROM {table} WHERE {table} MATCH ? LIMIT ?)"
        return bool(self._read(sql, (match, _COMMON))[0][0] >= _COMMON)

    def _unindexed(self, limit: int, seqs: list[int] | None = None) -> list[tuple[int, Message]]:
        """Up to ``limit`` messages not indexed yet, oldest first (only those in ``seqs``)."""
        among = "" if seqs is None else f"AND m.seq IN ({', '.join(str(int(seq)) for seq in seqs)}) "
        rows = self._read(
            f"SELECT m.seq, {ENVELOPE} FROM messages m JOIN raw r USING (seq) "
            f"WHERE m.indexed = 0 {among}ORDER BY m.seq LIMIT ?",
            (limit,),
        )
        return [(row[0], message_of(row[1:])) for row in rows]

    def _write_index(self, rows: list[IndexRow]) -> None:
        assignments = ", ".join(f"{column} = ?" for column in INDEX_COLUMNS)
        with self._lock, _transaction(self._live) as db:
            for seq, values, addresses, text in rows:
                updated = db.execute(
                    f"UPDATE messages SET {assignments}, indexed = 1 WHERE seq = ? AND indexed = 0", (*values, seq)
                ).rowcount
                if updated:  # not deleted meanwhile, nor indexed by another thread
                    db.executemany(
                        "INSERT INTO addresses VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(seq, *a) for a in addresses]
                    )
                    db.execute("INSERT INTO texts (rowid, text_fold) VALUES (?, ?)", (seq, text))
                    db.execute("INSERT INTO subjects (rowid, subject_fold) VALUES (?, ?)", (seq, values[_SUBJECT]))

    @property
    def _live(self) -> sqlite3.Connection:
        """The connection (call with the lock held); a closed store says so in one line."""
        if self._closed:
            raise self._closed_error()
        return self._db

    def _closed_error(self) -> StoreError:
        return StoreError(
            f"the database {self.path} was closed; open it again with SQLiteStore(path) (or start a new server on it)",
            path=self.path,
        )

    def _read(self, sql: str, params: Iterable[Any]) -> list[Any]:
        with self._lock:
            return self._live.execute(sql, tuple(params)).fetchall()

    def _delete(self, select: Callable[[sqlite3.Connection], list[Any]], *, pruned: bool = False) -> int:
        with self._lock, _transaction(self._live) as db:
            rows = sorted(select(db))
            if not rows:
                return 0
            for chunk in _chunks([seq for seq, _ in rows]):
                marks = ", ".join("?" * len(chunk))
                for table, key in (
                    ("tags", "seq"),
                    ("addresses", "seq"),
                    ("texts", "rowid"),
                    ("subjects", "rowid"),
                    ("raw", "seq"),
                    ("messages", "seq"),
                ):
                    db.execute(f"DELETE FROM {table} WHERE {key} IN ({marks})", chunk)
            version = self._feed.bump()
        self._feed.publish(MessagesDeleted(tuple(id for _, id in rows), version, pruned))
        return len(rows)

    def _update(self, ids: Iterable[str], change: Callable[[sqlite3.Connection, list[int]], None]) -> int:
        wanted = list(dict.fromkeys(ids))
        with self._lock, _transaction(self._live) as db:
            rows = [
                row
                for chunk in _chunks(wanted)
                for row in db.execute(
                    f"SELECT seq, id FROM messages WHERE id IN ({', '.join('?' * len(chunk))})", chunk
                )
            ]
            if not rows:
                return 0
            rows.sort()
            change(db, [seq for seq, _ in rows])
            version = self._feed.bump()
        self._feed.publish(MessagesUpdated(tuple(id for _, id in rows), version))
        return len(rows)


class _transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an exception) on an autocommit
    connection: the commit has happened when the ``with`` block is left."""

    __slots__ = ("db",)

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if not self.db.in_transaction:
            return
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _has_fts() -> bool:
    """Whether this Python's SQLite has FTS5 with the trigram tokenizer (3.34 or later)."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.executescript(_FTS_TEXTS)
        return True
    except sqlite3.Error:
        return False
    finally:
        probe.close()


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
