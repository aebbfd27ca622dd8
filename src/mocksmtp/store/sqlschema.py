"""The layout of :class:`~mocksmtp.store.sqlite.SQLiteStore`'s file: the schema, its
migrations from older versions, and opening a file (refused in one line when it cannot be
used: not a mocksmtp database, damaged, read-only, or written by a newer mocksmtp).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import StoreError
from .sqlrows import UNREAD_INDEX

__all__ = ["SCHEMA_VERSION", "has_fts", "open_database", "transaction"]

SCHEMA_VERSION = 3
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
    engine_flags TEXT NOT NULL DEFAULT '',  -- flags the engine saw and raw cannot show, space-separated
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
    # 2 -> 3: the flags the engine saw that raw cannot show ("unstuffed_dot"); the messages
    # stored before had them dropped, so they keep none.
    2: "ALTER TABLE messages ADD COLUMN engine_flags TEXT NOT NULL DEFAULT '';",
}
"""For each older schema, the SQL that brings it to the next (run in one transaction;
``{texts}`` is the statement that makes the texts table)."""
_TABLES_OF = {1: {"messages", "raw", "addresses", "tags"}}


def _fail(path: str, what: str, error: BaseException | None = None) -> StoreError:
    detail = f" (SQLite says: {error})" if error is not None else ""
    return StoreError(f"cannot use the database {path}: {what}{detail}", path=path)


def open_database(path: str, synchronous: str) -> tuple[sqlite3.Connection, bool]:
    """Open (or make) the mocksmtp database at ``path``, migrated to :data:`SCHEMA_VERSION`,
    and whether its texts table is an FTS5 trigram index; a one-line
    :class:`~mocksmtp.StoreError` when it cannot be used."""
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise _fail(path, f"its folder {parent} does not exist: create it, or choose another path")
    if Path(path).is_dir():
        raise _fail(path, "it is a folder: give the path of a file, such as mail.sqlite")
    try:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    except sqlite3.Error as e:
        raise _fail(path, "check that the path is a file you may read and write", e) from None
    try:
        fts = _prepare(db, synchronous, path)
    except StoreError:
        db.close()
        raise
    except sqlite3.DatabaseError as e:
        db.close()
        text = str(e)
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            raise _fail(
                path, "the file or its folder is read-only: make them writable, or choose another path", e
            ) from None
        raise _fail(
            path, "the file is not a mocksmtp database or is damaged: move it away, or choose another path", e
        ) from None
    return db, fts


def _prepare(db: sqlite3.Connection, synchronous: str, path: str) -> bool:
    db.execute("PRAGMA foreign_keys = ON")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise _fail(
            path,
            f"it was written by a newer mocksmtp (schema {version}; this version reads "
            f"up to {SCHEMA_VERSION}): upgrade mocksmtp, or choose another path",
        )
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0 and tables:
        raise _fail(path, "it holds tables that are not mocksmtp's: choose another path")
    if version and not tables >= _TABLES_OF.get(version, _TABLES):
        raise _fail(path, "tables are missing, so it is damaged: move it away, or choose another path")
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise _fail(path, f"SQLite could not use its WAL journal there (got {mode!r}): put the file on a local disk")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    texts = _FTS_TEXTS if has_fts() else _PLAIN_TEXTS
    if version == 0:
        db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} {texts} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
    while 0 < version < SCHEMA_VERSION:
        version += 1
        db.executescript(
            f"BEGIN IMMEDIATE; {_MIGRATIONS[version - 1].format(texts=texts)} PRAGMA user_version = {version}; COMMIT;"
        )
    made = db.execute("SELECT sql FROM sqlite_master WHERE name = 'texts'").fetchone()[0]
    fts = "fts5" in made.lower()
    try:
        db.execute("SELECT 1 FROM texts LIMIT 1").fetchall()
    except sqlite3.OperationalError as e:
        if "fts5" not in str(e):
            raise
        raise _fail(
            path,
            "it was made with SQLite's full-text search (FTS5), which this Python's "
            "sqlite3 lacks: open it with a Python whose SQLite has FTS5",
            e,
        ) from None
    db.execute("SELECT count(*) FROM messages").fetchone()  # a damaged file fails here, not later
    with transaction(db):  # and one we may not write, here too: not at the first 250
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute(UNREAD_INDEX)  # files made before it gain it (an index: no schema change)
    return fts


class transaction:
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


def has_fts() -> bool:
    """Whether this Python's SQLite has FTS5 with the trigram tokenizer (3.34 or later)."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.executescript(_FTS_TEXTS)
        return True
    except sqlite3.Error:
        return False
    finally:
        probe.close()
