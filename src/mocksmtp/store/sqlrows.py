"""Rows of :class:`~mocksmtp.store.sqlite.SQLiteStore`'s messages table and the messages
they hold: a :class:`~mocksmtp.Message` to its envelope row and back, ids to rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from ..message import Message, _unpickle

__all__ = [
    "ENVELOPE",
    "INSERT_MESSAGE",
    "TAG_COUNTS",
    "UNREAD_INDEX",
    "chunks",
    "envelope_row",
    "message_of",
    "seqs_and_ids",
]

ENVELOPE = (
    "m.id, r.raw, m.mail_from, m.rcpt_tos, m.mail_options, m.peer_host, m.peer_port, m.helo, "
    "m.received, m.tls, m.auth_user, m.engine_flags"
)
"""The columns :func:`message_of` reads (``m``: messages, ``r``: raw)."""

INSERT_MESSAGE = (
    "INSERT INTO messages (id, mail_from, rcpt_tos, mail_options, peer_host, peer_port, helo, "
    "tls, auth_user, received, size, engine_flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
"""Insert the row :func:`envelope_row` makes (the raw bytes go to the raw table)."""

TAG_COUNTS = "SELECT tag, count(*) FROM tags GROUP BY tag"
"""Each tag with how many messages have it (sorted by the caller: collations differ)."""

UNREAD_INDEX = "CREATE INDEX IF NOT EXISTS messages_unread ON messages (seq) WHERE read = 0"
"""The unread messages, so that ``is:unread`` (counted on every list page) reads only those.
Made when a database is opened if it lacks it, so older files gain it with no new schema."""

_CHUNK = 500  # ids per IN (...) list


def envelope_row(m: Message) -> tuple[Any, ...]:
    """The values :data:`INSERT_MESSAGE` takes for ``m``."""
    return (
        m.id,
        m.mail_from,
        json.dumps(m.rcpt_tos),
        json.dumps(m.mail_options),
        m.peer[0],
        m.peer[1],
        m.helo,
        m.tls,
        m.auth_user,
        m.received_at.timestamp(),
        len(m.raw),
        " ".join(sorted(m._engine_flags)),
    )


def message_of(row: Any) -> Message:
    """The message in a row of :data:`ENVELOPE`."""
    id, raw, mail_from, rcpt_tos, mail_options, host, port, helo, received, tls, auth_user, flags = row
    return _unpickle(
        id,
        raw,
        mail_from,
        tuple(json.loads(rcpt_tos)),
        tuple(json.loads(mail_options)),
        (host, port),
        helo,
        datetime.fromtimestamp(received, timezone.utc),
        tls,
        auth_user,
        frozenset(flags.split()),
    )


def chunks(items: list[Any]) -> Iterator[list[Any]]:
    """``items`` in lists short enough for one ``IN (...)``."""
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def seqs_and_ids(db: sqlite3.Connection, ids: list[str]) -> list[tuple[int, str]]:
    """``(seq, id)`` of each stored message among ``ids``."""
    return [
        row
        for chunk in chunks(ids)
        for row in db.execute(f"SELECT seq, id FROM messages WHERE id IN ({', '.join('?' * len(chunk))})", chunk)
    ]
