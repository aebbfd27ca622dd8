"""The PostgreSQL store's connections: psycopg loaded with a one-line message when it is
missing, the schema made or migrated on start, and a :class:`Link` that turns an unreachable
server into :class:`~mocksmtp.StoreError` (``unavailable``) and connects again by itself.

This is the only module of mocksmtp that imports psycopg (the ``[postgres]`` extra).
"""

from __future__ import annotations

import contextlib
import select
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, StoreError
from .sqlrows import UNREAD_INDEX
from .urls import redact

if TYPE_CHECKING:
    import psycopg

__all__ = ["SCHEMA_VERSION", "Adapter", "Link", "load", "marks", "prepare"]

SCHEMA_VERSION = 3
"""The layout this version writes (in ``mocksmtp_schema``); a newer one is refused."""

# The injected faults every node shares (store/pgfaults.py); schema 2.
_FAULTS = """
CREATE TABLE faults (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    spec jsonb NOT NULL,
    times integer,
    remaining integer,
    triggered bigint NOT NULL DEFAULT 0
);
"""
# Text columns as in SQLite's schema (store/sqlite.py), so that the search compiled by
# sqlsearch.py runs on both; ``texts`` is a plain table (no trigram index here).
_SCHEMA = """
CREATE TABLE mocksmtp_schema (version integer NOT NULL);
CREATE TABLE messages (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- arrival order (of the inserts)
    id text NOT NULL UNIQUE,
    mail_from text NOT NULL,
    rcpt_tos text NOT NULL,
    mail_options text NOT NULL,
    peer_host text NOT NULL,
    peer_port integer NOT NULL,
    helo text NOT NULL,
    tls text,
    auth_user text,
    received double precision NOT NULL,
    size integer NOT NULL,
    read integer NOT NULL DEFAULT 0,
    indexed integer NOT NULL DEFAULT 0,
    subject text NOT NULL DEFAULT '',
    date double precision,
    message_id text NOT NULL DEFAULT '',
    attachments integer NOT NULL DEFAULT 0,
    inline integer NOT NULL DEFAULT 0,
    snippet text NOT NULL DEFAULT '',
    subject_fold text NOT NULL DEFAULT '',
    message_id_fold text NOT NULL DEFAULT '',
    flags text NOT NULL DEFAULT '',
    date_text text,
    engine_flags text NOT NULL DEFAULT ''  -- what the engine saw (unstuffed_dot), space-separated
);
CREATE INDEX messages_received ON messages (received);
CREATE INDEX messages_unindexed ON messages (seq) WHERE indexed = 0;
CREATE TABLE raw (
    seq bigint PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
    raw bytea NOT NULL
);
CREATE TABLE addresses (
    seq bigint NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
    field text NOT NULL,
    position integer NOT NULL,
    name text NOT NULL,
    address text NOT NULL,
    address_exact text NOT NULL,
    name_fold text NOT NULL,
    address_fold text NOT NULL
);
CREATE INDEX addresses_exact ON addresses (address_exact);
CREATE INDEX addresses_seq ON addresses (seq);
CREATE TABLE tags (
    seq bigint NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
    tag text NOT NULL,
    tag_fold text NOT NULL,
    PRIMARY KEY (seq, tag)
);
CREATE INDEX tags_fold ON tags (tag_fold);
CREATE TABLE texts (
    seq bigint PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
    text_fold text NOT NULL
);
"""
_SCHEMA += _FAULTS
_MIGRATIONS: dict[int, str] = {
    1: _FAULTS,  # 1 -> 2: faults every node shares
    2: "ALTER TABLE messages ADD COLUMN engine_flags text NOT NULL DEFAULT '';",  # 2 -> 3: as SQLite's 3
}
"""For each older schema, the SQL that brings it to the next (one transaction each)."""
_LOCK_KEY = 0x6D6F636B  # "mock": nodes starting together make the schema one at a time


def load() -> Any:
    """The psycopg module, or a :class:`~mocksmtp.ConfigError` saying what to install."""
    try:
        import psycopg
    except ImportError as e:
        hint = (
            "psycopg found no libpq: install Debian's libpq5 (or pip install 'psycopg[binary]')"
            if "libpq" in str(e) or "pq wrapper" in str(e)
            else "pip install 'mocksmtp[postgres]'"
        )
        raise ConfigError(f"a postgresql:// database needs psycopg 3 ({e}): {hint}") from None
    return psycopg


class Link:
    """One connection to the database, made when first needed and again after it broke.

    While the server cannot be reached every call raises :class:`~mocksmtp.StoreError` with
    ``unavailable`` set, and the next call tries to connect again.
    Not thread-safe: each thread that talks to the database has a link of its own (or holds
    a lock around it).
    """

    def __init__(self, url: str, *, timeout: float = 3.0) -> None:
        self.url = url
        self._timeout = timeout
        self._psycopg = load()
        self._conn: psycopg.Connection[Any] | None = None

    def __repr__(self) -> str:
        return f"<Link {redact(self.url)} {'open' if self._conn is not None else 'closed'}>"

    def unavailable(self, error: BaseException) -> StoreError:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return StoreError(
            f"the PostgreSQL database {redact(self.url)} cannot be reached ({reason}); "
            "mocksmtp tries again with the next request",
            path=redact(self.url),
            unavailable=True,
        )

    def connection(self) -> psycopg.Connection[Any]:
        """The open connection, connecting if there is none."""
        if self._conn is not None:
            if not self._conn.closed and not _said_something(self._conn):
                return self._conn
            self._drop()
        try:
            conn: psycopg.Connection[Any] = self._psycopg.connect(
                self.url, autocommit=True, connect_timeout=max(1, round(self._timeout))
            )
        except self._psycopg.OperationalError as e:
            raise self.unavailable(e) from None
        self._conn = conn
        return conn

    @contextlib.contextmanager
    def session(self, *, transaction: bool = False) -> Iterator[psycopg.Connection[Any]]:
        """The connection, in a transaction if asked (committed when the block ends); a lost
        connection is dropped (the next call connects again) and raised as unavailable."""
        conn = self.connection()
        try:
            if transaction:
                with conn.transaction():
                    yield conn
            else:
                yield conn
        except (self._psycopg.OperationalError, self._psycopg.InterfaceError) as e:
            if conn.closed or conn.broken:
                self._drop()
                raise self.unavailable(e) from None
            raise StoreError(f"PostgreSQL refused a query of mocksmtp's: {e}", path=redact(self.url)) from None

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _drop(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _said_something(conn: psycopg.Connection[Any]) -> bool:
    """Whether an idle connection has something to read: the server ended it (a restart, an
    administrator), so it is replaced before use rather than failing the next query."""
    try:
        return bool(select.select([conn.fileno()], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class Adapter:
    """A connection seen as :class:`~mocksmtp.store.sqlsummary.Executes`: ``?`` parameters."""

    __slots__ = ("conn",)

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Sequence[Any], /) -> Iterable[Any]:
        return self.conn.execute(marks(sql), parameters).fetchall()


def marks(sql: str) -> str:
    """``sql`` written with SQLite's ``?`` parameters, in psycopg's ``%s``."""
    return sql.replace("?", "%s")


def prepare(link: Link) -> None:
    """Make the schema in an empty database, migrate an older one, refuse a newer one or a
    database holding tables that are not mocksmtp's (under a lock: nodes may start together)."""
    with link.session(transaction=True) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        }
        if "mocksmtp_schema" not in tables:
            if {"messages", "raw", "addresses", "tags", "texts", "faults"} & tables:
                raise StoreError(
                    f"cannot use the database {redact(link.url)}: it holds tables that are not mocksmtp's "
                    "(messages, raw, ...): give mocksmtp a database (or a schema: ?options=-csearch_path=NAME) "
                    "of its own",
                    path=redact(link.url),
                )
            conn.execute(_SCHEMA)
            conn.execute(UNREAD_INDEX)
            conn.execute("INSERT INTO mocksmtp_schema (version) VALUES (%s)", (SCHEMA_VERSION,))
            return
        row = conn.execute("SELECT max(version) FROM mocksmtp_schema").fetchone()
        version = int(row[0]) if row and row[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"cannot use the database {redact(link.url)}: it was written by a newer mocksmtp (schema "
                f"{version}; this version reads up to {SCHEMA_VERSION}): upgrade mocksmtp on every node",
                path=redact(link.url),
            )
        while version < SCHEMA_VERSION:
            conn.execute(_MIGRATIONS[version])
            version += 1
            conn.execute("UPDATE mocksmtp_schema SET version = %s", (version,))
        if conn.execute("SELECT to_regclass('messages_unread')").fetchone()[0] is None:  # type: ignore[index]
            conn.execute(UNREAD_INDEX)  # made before it: gains it (an index, no schema change)
