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

The file's layout, its migrations and opening it are in :mod:`~mocksmtp.store.sqlschema`;
a message to its row and back in :mod:`~mocksmtp.store.sqlrows`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable
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
from .sqlrows import ENVELOPE, INSERT_MESSAGE, TAG_COUNTS, chunks, envelope_row, message_of, seqs_and_ids
from .sqlschema import SCHEMA_VERSION, open_database, transaction
from .sqlsearch import INDEX_COLUMNS, Indexer, IndexRow, index_rows, where
from .sqlsummary import SUMMARY_COLUMNS, read_summaries

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

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
        self._db, self._fts = open_database(self.path, synchronous)
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
            with transaction(self._live) as db:
                for m, row in zip(batch, rows, strict=True):
                    seq = db.execute(INSERT_MESSAGE, row).lastrowid
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

    def tag_counts(self) -> dict[str, int]:
        """Every tag with how many messages have it, by name, counted in SQL from the tags table."""
        return dict(sorted(self._read(TAG_COUNTS, ())))

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
        return self._delete(lambda db: seqs_and_ids(db, wanted))

    def delete_matching(self, query: Query) -> int:
        condition, params = self._where(query)
        return self._delete(
            lambda db: db.execute(f"SELECT seq, id FROM messages m WHERE {condition}", params).fetchall()
        )

    def clear(self) -> None:
        with self._lock, transaction(self._live) as db:
            for table in ("tags", "addresses", "texts", "subjects", "raw", "messages"):
                db.execute(f"DELETE FROM {table}")
            version = self._feed.bump()
        self._feed.publish(StoreCleared(version))

    def mark_read(self, ids: Iterable[str], read: bool = True) -> int:
        def change(db: sqlite3.Connection, seqs: list[int]) -> None:
            for chunk in chunks(seqs):
                db.execute(
                    f"UPDATE messages SET read = ? WHERE seq IN ({', '.join('?' * len(chunk))})",
                    (int(bool(read)), *chunk),
                )

        return self._update(ids, change)

    def set_tags(self, ids: Iterable[str], tags: Iterable[str]) -> int:
        new = check_tags(tags)

        def change(db: sqlite3.Connection, seqs: list[int]) -> None:
            for chunk in chunks(seqs):
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
        with self._lock, transaction(self._live) as db:
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
        with self._lock, transaction(self._live) as db:
            rows = sorted(select(db))
            if not rows:
                return 0
            for chunk in chunks([seq for seq, _ in rows]):
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
        with self._lock, transaction(self._live) as db:
            rows = seqs_and_ids(db, wanted)
            if not rows:
                return 0
            rows.sort()
            change(db, [seq for seq, _ in rows])
            version = self._feed.bump()
        self._feed.publish(MessagesUpdated(tuple(id for _, id in rows), version))
        return len(rows)
