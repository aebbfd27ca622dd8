"""A store on a PostgreSQL server, shared by several mocksmtp nodes
(``MockSMTPServer(database="postgresql://...")``, ``mocksmtp --database postgresql://...``);
the ``[postgres]`` extra (psycopg 3).

- **Ack means committed.** :meth:`PostgresStore.add_later` (what the engine uses) queues the
  message for a writer thread that commits every message waiting at that moment in one
  transaction (:mod:`~mocksmtp.store.groupcommit`); the ``250`` follows the commit. Raw bytes
  are kept exactly, as ``bytea``.
- **Down is not broken.** While the server cannot be reached, every call raises
  :class:`~mocksmtp.StoreError` with ``unavailable`` set: SMTP clients get ``421``, HTTP
  clients ``503``. Each later call connects again, so a node serves again as soon as the
  database is back, without a restart.
- **Nodes are stateless.** Ids are ULIDs, unique across processes; every read goes to the
  database; each change is announced to the other nodes by ``NOTIFY`` in its own transaction
  (:mod:`~mocksmtp.store.pgnotify`), so waits and events wake on every node.
- Searches are the SQLite store's SQL (:mod:`~mocksmtp.store.sqlsearch`) in PostgreSQL's
  dialect, over the same columns, indexed off the ``250``'s path in the same way.

Why threads rather than psycopg's asyncio API in the engine's loop: the store protocol is
synchronous (tests read it from their own threads, and the HTTP handlers call it in the loop),
so a loop-bound connection would deadlock the very loop it needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

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
from .groupcommit import GroupCommit
from .ids import new_id
from .pgfaults import PgFaultTable
from .pglink import Adapter, Link, marks, prepare
from .pgnotify import CHANNEL, Listener, payloads
from .sqlrows import ENVELOPE, TAG_COUNTS, envelope_row, message_of
from .sqlsearch import INDEX_COLUMNS, POSTGRES, Indexer, IndexRow, index_rows, where
from .sqlsummary import SUMMARY_COLUMNS, read_summaries
from .urls import is_url, redact

__all__ = ["PostgresStore"]

_INSERT = (
    "WITH m AS (INSERT INTO messages (id, mail_from, rcpt_tos, mail_options, peer_host, peer_port, helo, tls, "
    "auth_user, received, size, engine_flags) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING seq) "
    "INSERT INTO raw (seq, raw) SELECT seq, %s FROM m"
)
_INDEX = ", ".join(f"{column} = %s" for column in INDEX_COLUMNS)


class PostgresStore:
    """Keeps messages in the PostgreSQL database at ``url`` (``postgresql://user@host/db``),
    which any number of nodes share; the schema is made (or migrated) on first use.

    Raises :class:`~mocksmtp.StoreError` in one line when the database cannot be reached,
    holds tables that are not mocksmtp's, or was written by a newer mocksmtp.

    >>> store = PostgresStore("postgresql://mocksmtp@db.internal/mail")   # doctest: +SKIP
    >>> with MockSMTPServer(port=0, store=store) as server: ...             # doctest: +SKIP
    """

    def __init__(self, url: str) -> None:
        if not isinstance(url, str) or not is_url(url):
            raise ConfigError(f"a PostgreSQL store needs a postgresql:// URL, got {url!r}")
        self.url = url
        self._closed = False
        self._lock = threading.Lock()  # the reading connection
        self._write_lock = threading.Lock()  # the writing connection
        self._feed_lock = threading.Lock()
        self._feed = ChangeFeed()
        self._node = new_id()  # this process's name in notifications
        self._link = Link(url)
        try:
            prepare(self._link)
        except BaseException:
            self._link.close()
            raise
        self._writing = Link(url)
        self.fault_table = PgFaultTable(url, self._node, self._closed_error)
        """The injected faults of every node (see :mod:`~mocksmtp.store.pgfaults`)."""
        self._indexer = Indexer(self._unindexed, self._write_index)
        self._writer = GroupCommit(self._insert, name="mocksmtp.store writer")
        self._listener = Listener(url, self._node, self._changed, self._resumed)
        self._listener.start()
        if self._read("SELECT 1 FROM messages WHERE indexed = 0 LIMIT 1", ()):
            self._indexer.added()

    def __repr__(self) -> str:
        return f"<PostgresStore {redact(self.url)}{' closed' if self._closed else ''}>"

    def close(self) -> None:
        """Close the connections (idempotent); messages given to :meth:`add_later` before are
        committed first (for up to 5 seconds)."""
        self._writer.close()
        self._indexer.stop()
        self._listener.close(self._wake if not self._closed else None)
        with self._lock, self._write_lock:
            self._closed = True
            self._link.close()
            self._writing.close()
        self.fault_table.close()

    # -- the protocol --------------------------------------------------------------------------

    @property
    def version(self) -> int:
        return self._feed.version

    def new_id(self) -> str:
        """A ULID (see :mod:`mocksmtp.store.ids`): unique across nodes, sorted by arrival."""
        return new_id()

    def add(self, message: Message) -> None:
        """Insert ``message`` and commit before returning, in the caller's thread."""
        self._insert([message])

    def add_later(self, message: Message, done: AddDone) -> None:
        """Queue ``message`` for the writer thread; ``done(None)`` follows its commit."""
        if not self._writer.put(message, done):
            done(self._closed_error())

    def _insert(self, batch: list[Message]) -> None:
        rows = [(*_clean(envelope_row(m)), m.raw) for m in batch]
        with self._write_lock, self._session(self._writing, transaction=True) as conn, conn.cursor() as cursor:
            cursor.executemany(_INSERT, rows)
            _notify(cursor, self._node, "added", tuple(m.id for m in batch))
        versions = self._bump(len(batch))
        self._indexer.added()
        if self._feed.active:
            for m, version in zip(batch, versions, strict=True):
                self._feed.publish(MessageAdded(m, version))

    def get(self, id: str) -> Message | None:
        rows = self._read(f"SELECT {ENVELOPE} FROM messages m JOIN raw r USING (seq) WHERE m.id = ?", (id,))
        return message_of(rows[0]) if rows else None

    def state(self, id: str) -> MessageState | None:
        rows = self._read(
            "SELECT m.read, array_remove(array_agg(t.tag ORDER BY t.tag), NULL) FROM messages m "
            "LEFT JOIN tags t USING (seq) WHERE m.id = ? GROUP BY m.seq",
            (id,),
        )
        return MessageState(bool(rows[0][0]), tuple(rows[0][1])) if rows else None

    def count(self, query: Query | None = None) -> int:
        condition, params = self._where(query)
        return int(self._read(f"SELECT count(*) FROM messages m WHERE {condition}", params)[0][0])

    def tag_counts(self) -> dict[str, int]:
        """Every tag with how many messages have it, by name, counted in SQL from the tags table."""
        return dict(sorted((tag, int(n)) for tag, n in self._read(TAG_COUNTS, ())))

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
        rows = self._read(f"SELECT {ENVELOPE} FROM messages m JOIN raw r USING (seq) {page}", params)
        return [message_of(row) for row in rows]

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
        if pending:  # no indexer reached them yet: index them here, then read them again
            self._write_index([(seq, *index_rows(m)) for seq, m in self._unindexed(len(pending), pending)])
            again = {
                row[0]: row
                for row in self._read(f"SELECT {SUMMARY_COLUMNS} FROM messages m WHERE m.seq = ANY(?)", (pending,))
            }
            rows = [again.get(row[0], row) for row in rows]
        with self._lock, self._session(self._link) as conn:
            return read_summaries(Adapter(conn), rows)

    def _page(
        self, query: Query | None, newest_first: bool, offset: int, limit: int | None, after: str | None
    ) -> tuple[str, list[Any]]:
        check_page(offset, limit)
        condition, params = self._where(query)
        if after is not None:
            found = self._read("SELECT seq FROM messages WHERE id = ?", (after,))
            if not found:
                raise unknown_cursor(after)
            condition = f"({condition}) AND m.seq {'<' if newest_first else '>'} ?"
            params = [*params, found[0][0]]
        order = "DESC" if newest_first else "ASC"
        return f"WHERE {condition} ORDER BY m.seq {order} LIMIT ? OFFSET ?", [*params, limit, offset]

    def delete(self, ids: Iterable[str]) -> int:
        return self._delete("m.id = ANY(?)", [list(dict.fromkeys(ids))])

    def delete_matching(self, query: Query) -> int:
        return self._delete(*self._where(query))

    def clear(self) -> None:
        with self._lock, self._session(self._link, transaction=True) as conn, conn.cursor() as cursor:
            cursor.execute("DELETE FROM messages")
            _notify(cursor, self._node, "cleared")
        self._feed.publish(StoreCleared(self._bump()[0]))

    def mark_read(self, ids: Iterable[str], read: bool = True) -> int:
        def change(cursor: Any, seqs: list[int]) -> None:
            cursor.execute("UPDATE messages SET read = %s WHERE seq = ANY(%s)", (int(bool(read)), seqs))

        return self._update(ids, change)

    def set_tags(self, ids: Iterable[str], tags: Iterable[str]) -> int:
        new = check_tags(tags)

        def change(cursor: Any, seqs: list[int]) -> None:
            cursor.execute("DELETE FROM tags WHERE seq = ANY(%s)", (seqs,))
            cursor.executemany(
                "INSERT INTO tags (seq, tag, tag_fold) VALUES (%s, %s, %s)",
                [(seq, tag, tag.casefold()) for seq in seqs for tag in _clean(new)],
            )

        return self._update(ids, change)

    def prune(self, *, max_messages: int | None = None, max_age: float | None = None) -> int:
        conditions, params = ["FALSE"], list[Any]()
        if max_messages is not None:
            conditions.append("m.seq IN (SELECT seq FROM messages ORDER BY seq DESC OFFSET ?)")
            params.append(max_messages)
        if max_age is not None:
            conditions.append("m.received < ?")
            params.append(time.time() - max_age)
        return self._delete(" OR ".join(conditions), params, pruned=True)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        return self._feed.subscribe(callback)

    # -- what other nodes did ------------------------------------------------------------------

    def _changed(self, kind: str, ids: tuple[str, ...]) -> None:
        """Another node committed a change (from the listener's thread): move the version and
        tell the subscribers, as for a change of this node's."""
        if kind == "added":
            found: dict[str, Message] = {}
            if self._feed.active:
                try:
                    found = {m.id: m for m in self._fetch(ids)}
                except StoreError:  # gone again: the version still moves, waits look again
                    pass
            for id, version in zip(ids, self._bump(len(ids)), strict=True):
                if id in found:
                    self._feed.publish(MessageAdded(found[id], version))
        elif kind in ("deleted", "pruned"):
            self._feed.publish(MessagesDeleted(ids, self._bump()[0], kind == "pruned"))
        elif kind == "updated":
            self._feed.publish(MessagesUpdated(ids, self._bump()[0]))
        elif kind == "cleared":
            self._feed.publish(StoreCleared(self._bump()[0]))
        elif kind.startswith("fault"):
            self.fault_table.heard(kind, ids)

    def _resumed(self) -> None:
        """Listening again after the database was gone: what changed meanwhile went unheard,
        so the version moves and every wait looks again (and the faults are read again)."""
        self._bump()
        self.fault_table.heard("faults-reload", ())

    def _wake(self, payload: str) -> None:
        self._read("SELECT pg_notify(?, ?)", (CHANNEL, payload))

    def _fetch(self, ids: tuple[str, ...]) -> list[Message]:
        rows = self._read(f"SELECT {ENVELOPE} FROM messages m JOIN raw r USING (seq) WHERE m.id = ANY(?)", (list(ids),))
        return [message_of(row) for row in rows]

    # -- helpers -------------------------------------------------------------------------------

    def _bump(self, n: int = 1) -> list[int]:
        with self._feed_lock:
            return [self._feed.bump() for _ in range(n)]

    def _session(self, link: Link, *, transaction: bool = False) -> AbstractContextManager[Any]:
        if self._closed:
            raise self._closed_error()
        return link.session(transaction=transaction)

    def _closed_error(self) -> StoreError:
        return StoreError(
            f"the PostgreSQL store {redact(self.url)} was closed; make a new PostgresStore (or start a new server)",
            path=redact(self.url),
        )

    def _read(self, sql: str, params: Iterable[Any]) -> list[Any]:
        with self._lock, self._session(self._link) as conn:
            return list(conn.execute(marks(sql), tuple(params)).fetchall())

    def _where(self, query: Query | None) -> tuple[str, list[Any]]:
        """The SQL condition for ``query``, once every message it may read is indexed."""
        condition, params = where(query, dialect=POSTGRES)
        if params or condition != POSTGRES.true:
            self._indexer.catch_up()
        return condition, params

    def _delete(self, condition: str, params: list[Any], *, pruned: bool = False) -> int:
        with self._lock, self._session(self._link, transaction=True) as conn, conn.cursor() as cursor:
            rows = sorted(cursor.execute(marks(f"DELETE FROM messages m WHERE {condition} RETURNING seq, id"), params))
            ids = tuple(id for _, id in rows)
            if ids:
                _notify(cursor, self._node, "pruned" if pruned else "deleted", ids)
        if not ids:
            return 0
        self._feed.publish(MessagesDeleted(ids, self._bump()[0], pruned))
        return len(ids)

    def _update(self, ids: Iterable[str], change: Callable[[Any, list[int]], None]) -> int:
        wanted = list(dict.fromkeys(ids))
        with self._lock, self._session(self._link, transaction=True) as conn, conn.cursor() as cursor:
            rows = cursor.execute(
                "SELECT seq, id FROM messages WHERE id = ANY(%s) ORDER BY seq FOR UPDATE", (wanted,)
            ).fetchall()
            if not rows:
                return 0
            change(cursor, [seq for seq, _ in rows])
            updated = tuple(id for _, id in rows)
            _notify(cursor, self._node, "updated", updated)
        self._feed.publish(MessagesUpdated(updated, self._bump()[0]))
        return len(updated)

    def _unindexed(self, limit: int, seqs: list[int] | None = None) -> list[tuple[int, Message]]:
        among = "" if seqs is None else "AND m.seq = ANY(?) "
        rows = self._read(
            f"SELECT m.seq, {ENVELOPE} FROM messages m JOIN raw r USING (seq) "
            f"WHERE m.indexed = 0 {among}ORDER BY m.seq LIMIT ?",
            (limit,) if seqs is None else (seqs, limit),
        )
        return [(row[0], message_of(row[1:])) for row in rows]

    def _write_index(self, rows: list[IndexRow]) -> None:
        """Store index rows; a message another node indexed (or deleted) meanwhile is skipped."""
        with self._lock, self._session(self._link, transaction=True) as conn, conn.cursor() as cursor:
            for seq, values, addresses, text in rows:
                cursor.execute(
                    f"UPDATE messages SET {_INDEX}, indexed = 1 WHERE seq = %s AND indexed = 0", (*_clean(values), seq)
                )
                if cursor.rowcount:
                    cursor.executemany(
                        "INSERT INTO addresses VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                        [(seq, *_clean(a)) for a in addresses],
                    )
                    cursor.execute("INSERT INTO texts (seq, text_fold) VALUES (%s, %s)", (seq, text.replace("\0", "")))


def _notify(cursor: Any, node: str, kind: str, ids: tuple[str, ...] = ()) -> None:
    """Tell the other nodes, on commit of the cursor's transaction."""
    for payload in payloads(node, kind, ids):
        cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


def _clean(values: Iterable[Any]) -> tuple[Any, ...]:
    """``values`` with NUL characters taken out of strings (PostgreSQL's text cannot hold them;
    the raw message, as bytes, keeps every byte)."""
    return tuple(v.replace("\0", "") if isinstance(v, str) else v for v in values)
