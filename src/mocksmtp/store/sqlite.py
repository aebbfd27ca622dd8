"""A store in a SQLite file: messages survive restarts (``MockSMTPServer(database=PATH)``,
``mocksmtp --database PATH``). Standard library only.

- **Ack means stored.** :meth:`SQLiteStore.add` commits before it returns, so the engine's
  ``250`` follows the commit. The journal is WAL with ``synchronous=NORMAL``: a commit is in
  the WAL file when ``add`` returns, so killing the process (even ``kill -9``) loses nothing
  acknowledged; only a power cut or an OS crash may lose the last commits
  (``synchronous="FULL"`` adds an fsync per commit for that).
- **Raw bytes exactly**, as a BLOB in a table of their own; what lists and searches need
  (envelope, subject, addresses, sizes, flags, the folded text bare words search) is in
  columns and side tables, computed once when the message is added, so counting, listing and
  searching never parse a message.
- **One connection behind a lock**: the engine adds from its loop's thread while tests read
  from theirs. Writes are serialised by SQLite anyway; one connection keeps every reader's
  view exactly the writer's (read-your-writes with no second snapshot) and leaves nothing
  open per thread.
- Searches compile the same :class:`~mocksmtp.query.Query` the memory store matches in
  Python: substrings are ``instr()`` over text folded in Python by the same
  :func:`~mocksmtp.query.fold` (no ``LIKE`` patterns, so nothing to escape, and the same
  answers as the memory store, Unicode case folding included).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConfigError, StoreError
from ..message import Message
from ..query import AddressTerm, DateTerm, FlagTerm, Query, SizeTerm, TagTerm, Term, TextTerm, fold
from .base import (
    ChangeFeed,
    MessageAdded,
    MessagesDeleted,
    MessageState,
    MessagesUpdated,
    StoreCleared,
    Subscriber,
    check_page,
    check_tags,
)
from .ids import new_id

if TYPE_CHECKING:
    from ..query_match import Searchable

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

SCHEMA_VERSION = 1
"""The layout this version writes, in ``PRAGMA user_version``; a newer one is refused."""

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
    subject TEXT NOT NULL,
    date REAL,                          -- the Date header, seconds since the epoch
    message_id TEXT NOT NULL,           -- without angle brackets
    attachments INTEGER NOT NULL,
    inline INTEGER NOT NULL,
    snippet TEXT NOT NULL,
    read INTEGER NOT NULL DEFAULT 0,
    subject_fold TEXT NOT NULL,
    message_id_fold TEXT NOT NULL,
    text_fold TEXT NOT NULL             -- what bare words search, folded, one field a line
);
CREATE INDEX messages_received ON messages (received);
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
_TABLES = {"messages", "raw", "addresses", "tags"}
_ENVELOPE = ("m.id, r.raw, m.mail_from, m.rcpt_tos, m.mail_options, m.peer_host, m.peer_port, m.helo, "
             "m.received, m.tls, m.auth_user")
_FIELDS: dict[str, tuple[str, ...]] = {"from": ("from",), "to": ("to",), "cc": ("cc",), "bcc": ("bcc",),
                                       "reply-to": ("reply-to",),
                                       "addressed": ("from", "to", "cc", "bcc", "reply-to")}
_CHUNK = 500  # ids per IN (...) list


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

    def __init__(self, path: str | os.PathLike[str], *,
                 synchronous: Literal["NORMAL", "FULL"] = "NORMAL") -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ConfigError(f"synchronous must be 'NORMAL' or 'FULL', got {synchronous!r}")
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._feed = ChangeFeed()
        self._closed = False
        self._db = self._open(synchronous)

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
                raise self._fail("the file or its folder is read-only: make them writable, or choose "
                                 "another path", e) from None
            raise self._fail("the file is not a mocksmtp database or is damaged: move it away, or "
                             "choose another path", e) from None
        return db

    def _prepare(self, db: sqlite3.Connection, synchronous: str) -> None:
        db.execute("PRAGMA foreign_keys = ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise self._fail(f"it was written by a newer mocksmtp (schema {version}; this version reads "
                             f"up to {SCHEMA_VERSION}): upgrade mocksmtp, or choose another path")
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version == 0 and tables:
            raise self._fail("it holds tables that are not mocksmtp's: choose another path")
        if version and not tables >= _TABLES:
            raise self._fail("tables are missing, so it is damaged: move it away, or choose another path")
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise self._fail(f"SQLite could not use its WAL journal there (got {mode!r}): put the "
                             "file on a local disk")
        db.execute(f"PRAGMA synchronous = {synchronous}")
        if version == 0:
            db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        db.execute("SELECT count(*) FROM messages").fetchone()  # a damaged file fails here, not later
        with _transaction(db):  # and one we may not write, here too: not at the first 250
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the file (idempotent). The store cannot be used afterwards."""
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
        """Insert ``message`` and commit before returning."""
        row, addresses = _columns(message)
        with self._lock, _transaction(self._live) as db:
            seq = db.execute(
                "INSERT INTO messages (id, mail_from, rcpt_tos, mail_options, peer_host, peer_port, helo, "
                "tls, auth_user, received, size, subject, date, message_id, attachments, inline, snippet, "
                "subject_fold, message_id_fold, text_fold) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row).lastrowid
            db.execute("INSERT INTO raw (seq, raw) VALUES (?, ?)", (seq, message.raw))
            db.executemany("INSERT INTO addresses VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [(seq, *a) for a in addresses])
            version = self._feed.bump()
        if self._feed.active:
            self._feed.publish(MessageAdded(message, version))

    def get(self, id: str) -> Message | None:
        rows = self._read(f"SELECT {_ENVELOPE} FROM messages m JOIN raw r USING (seq) WHERE m.id = ?", (id,))
        return _message(rows[0]) if rows else None

    def state(self, id: str) -> MessageState | None:
        with self._lock:
            row = self._live.execute("SELECT seq, read FROM messages WHERE id = ?", (id,)).fetchone()
            if row is None:
                return None
            tags = [t for (t,) in self._db.execute("SELECT tag FROM tags WHERE seq = ? ORDER BY tag", (row[0],))]
        return MessageState(bool(row[1]), tuple(tags))

    def count(self, query: Query | None = None) -> int:
        where, params = _where(query)
        return int(self._read(f"SELECT count(*) FROM messages m WHERE {where}", params)[0][0])

    def messages(self, query: Query | None = None, *, newest_first: bool = False,
                 offset: int = 0, limit: int | None = None) -> list[Message]:
        check_page(offset, limit)
        where, params = _where(query)
        order = "DESC" if newest_first else "ASC"
        rows = self._read(f"SELECT {_ENVELOPE} FROM messages m JOIN raw r USING (seq) WHERE {where} "
                          f"ORDER BY m.seq {order} LIMIT ? OFFSET ?", (*params, -1 if limit is None else limit, offset))
        return [_message(row) for row in rows]

    def delete(self, ids: Iterable[str]) -> int:
        wanted = list(dict.fromkeys(ids))
        return self._delete(lambda db: [row for chunk in _chunks(wanted) for row in db.execute(
            f"SELECT seq, id FROM messages WHERE id IN ({', '.join('?' * len(chunk))})", chunk)])

    def delete_matching(self, query: Query) -> int:
        where, params = _where(query)
        return self._delete(lambda db: db.execute(f"SELECT seq, id FROM messages m WHERE {where}", params).fetchall())

    def clear(self) -> None:
        with self._lock, _transaction(self._live) as db:
            for table in ("tags", "addresses", "raw", "messages"):
                db.execute(f"DELETE FROM {table}")
            version = self._feed.bump()
        self._feed.publish(StoreCleared(version))

    def mark_read(self, ids: Iterable[str], read: bool = True) -> int:
        def change(db: sqlite3.Connection, seqs: list[int]) -> None:
            for chunk in _chunks(seqs):
                db.execute(f"UPDATE messages SET read = ? WHERE seq IN ({', '.join('?' * len(chunk))})",
                           (int(bool(read)), *chunk))

        return self._update(ids, change)

    def set_tags(self, ids: Iterable[str], tags: Iterable[str]) -> int:
        new = check_tags(tags)

        def change(db: sqlite3.Connection, seqs: list[int]) -> None:
            for chunk in _chunks(seqs):
                db.execute(f"DELETE FROM tags WHERE seq IN ({', '.join('?' * len(chunk))})", chunk)
            db.executemany("INSERT INTO tags (seq, tag, tag_fold) VALUES (?, ?, ?)",
                           [(seq, tag, tag.casefold()) for seq in seqs for tag in new])

        return self._update(ids, change)

    def prune(self, *, max_messages: int | None = None, max_age: float | None = None) -> int:
        def doomed(db: sqlite3.Connection) -> list[tuple[int, str]]:
            rows: dict[int, str] = {}
            if max_messages is not None:
                rows.update(db.execute("SELECT seq, id FROM messages ORDER BY seq DESC LIMIT -1 OFFSET ?",
                                       (max_messages,)).fetchall())
            if max_age is not None:
                rows.update(db.execute("SELECT seq, id FROM messages WHERE received < ?",
                                       (time.time() - max_age,)).fetchall())
            return sorted(rows.items())

        return self._delete(doomed, pruned=True)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        return self._feed.subscribe(callback)

    # -- helpers -------------------------------------------------------------------------------

    @property
    def _live(self) -> sqlite3.Connection:
        """The connection (call with the lock held); a closed store says so in one line."""
        if self._closed:
            raise StoreError(f"the database {self.path} was closed; open it again with "
                             "SQLiteStore(path) (or start a new server on it)", path=self.path)
        return self._db

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
                for table in ("tags", "addresses", "raw", "messages"):
                    db.execute(f"DELETE FROM {table} WHERE seq IN ({marks})", chunk)
            version = self._feed.bump()
        self._feed.publish(MessagesDeleted(tuple(id for _, id in rows), version, pruned))
        return len(rows)

    def _update(self, ids: Iterable[str], change: Callable[[sqlite3.Connection, list[int]], None]) -> int:
        wanted = list(dict.fromkeys(ids))
        with self._lock, _transaction(self._live) as db:
            rows = [row for chunk in _chunks(wanted) for row in db.execute(
                f"SELECT seq, id FROM messages WHERE id IN ({', '.join('?' * len(chunk))})", chunk)]
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


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _message(row: Any) -> Message:
    id, raw, mail_from, rcpt_tos, mail_options, host, port, helo, received, tls, auth_user = row
    return Message(id=id, raw=raw, mail_from=mail_from, rcpt_tos=json.loads(rcpt_tos),
                   mail_options=json.loads(mail_options), peer=(host, port), helo=helo,
                   received_at=datetime.fromtimestamp(received, timezone.utc), tls=tls, auth_user=auth_user)


def _columns(m: Message) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """The ``messages`` row and the ``addresses`` rows (without ``seq``) of ``m``.

    Read through the same searchable view the memory store matches, so both stores answer a
    query alike. A message whose headers cannot be parsed is still stored, with empty fields.
    """
    from ..query_match import searchable

    record = searchable(m)
    try:
        fields = _summary(m, record)
    except Exception:  # parsing is best-effort; the raw message is what matters
        fields = ("", None, "", 0, 0, "", "", "", "", [])
    subject, date, message_id, attachments, inline, snippet, subject_fold, message_id_fold, text_fold, pairs = fields
    row = (m.id, m.mail_from, json.dumps(list(m.rcpt_tos)), json.dumps(list(m.mail_options)),
           m.peer[0], m.peer[1], m.helo, m.tls, m.auth_user, m.received_at.timestamp(), m.size,
           subject, date, message_id, attachments, inline, snippet, subject_fold, message_id_fold, text_fold)
    return row, pairs


def _summary(m: Message, r: Searchable) -> tuple[Any, ...]:
    pairs: list[tuple[Any, ...]] = []
    for field, found in (("from", r.from_), ("to", r.to), ("cc", r.cc), ("bcc", r.bcc), ("reply-to", r.reply_to)):
        pairs += [(field, i, name, address, address.casefold(), fold(name), fold(address))
                  for i, (name, address) in enumerate(found)]
    words = [fold(r.subject), fold(r.text), *(p for (*_, name, address) in pairs for p in (name, address))]
    date = m.date.timestamp() if m.date is not None else None
    snippet = " ".join((m.text or "").split())[:200]
    return (r.subject, date, r.message_id, r.attachments, r.inline, snippet, fold(r.subject),
            fold(r.message_id), "\n".join(words), pairs)


# -- queries to SQL --------------------------------------------------------------------------

def _where(query: Query | None) -> tuple[str, list[Any]]:
    """A ``WHERE`` condition over ``messages m`` and its parameters."""
    if query is None or not query.terms:
        return "1", []
    parts, params = [], []
    for term in query.terms:
        sql, more = _term(term)
        parts.append(f"NOT ({sql})" if term.negated else f"({sql})")
        params += more
    return " AND ".join(parts), params


def _term(term: Term) -> tuple[str, list[Any]]:
    if isinstance(term, AddressTerm):
        fields = _FIELDS[term.field]
        marks = ", ".join("?" * len(fields))
        inside = f"SELECT 1 FROM addresses a WHERE a.seq = m.seq AND a.field IN ({marks})"
        if term.exact:
            return f"EXISTS ({inside} AND a.address_exact = ?)", [*fields, term.value.casefold()]
        needle = fold(term.value)
        return (f"EXISTS ({inside} AND (instr(a.name_fold, ?) > 0 OR instr(a.address_fold, ?) > 0))",
                [*fields, needle, needle])
    if isinstance(term, TextTerm):
        column = {"text": "m.text_fold", "subject": "m.subject_fold", "message-id": "m.message_id_fold"}[term.field]
        return f"instr({column}, ?) > 0", [fold(term.value)]
    if isinstance(term, TagTerm):
        return "EXISTS (SELECT 1 FROM tags t WHERE t.seq = m.seq AND t.tag_fold = ?)", [term.value.casefold()]
    if isinstance(term, FlagTerm):
        return {"read": ("m.read = 1", []), "unread": ("m.read = 0", []),
                "tagged": ("EXISTS (SELECT 1 FROM tags t WHERE t.seq = m.seq)", []),
                "attachment": ("m.attachments > 0", []), "inline": ("m.inline > 0", [])}[term.value]
    if isinstance(term, SizeTerm):
        return ("m.size > ?" if term.field == "larger" else "m.size < ?"), [term.value]
    assert isinstance(term, DateTerm)
    return ("m.received >= ?" if term.field == "after" else "m.received < ?"), [term.value.timestamp()]
