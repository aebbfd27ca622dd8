"""Summaries from :class:`~mocksmtp.store.sqlite.SQLiteStore`'s columns: a page of
:class:`~mocksmtp.summary.Summary` objects read from ``messages``, ``addresses`` and ``tags``,
never from the raw message (see :mod:`~mocksmtp.store.sqlsearch` for how they are filled)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

from ..headers import Address
from ..message import Message
from ..summary import Summary

__all__ = ["ENVELOPE", "SUMMARY_COLUMNS", "Executes", "envelope_row", "message_of", "read_summaries"]

ENVELOPE = (
    "m.id, r.raw, m.mail_from, m.rcpt_tos, m.mail_options, m.peer_host, m.peer_port, m.helo, "
    "m.received, m.tls, m.auth_user"
)
"""What a message is read back from (``messages m JOIN raw r``): see :func:`message_of`."""

SUMMARY_COLUMNS = (
    "m.seq, m.indexed, m.id, m.message_id, m.subject, m.date_text, m.received, m.size, "
    "m.attachments, m.inline, m.snippet, m.read, m.flags, m.mail_from, m.auth_user"
)
"""What a page of summaries selects from ``messages m`` (``seq`` and ``indexed`` first)."""

_CHUNK = 500
_NO_FLAGS: frozenset[str] = frozenset()


class Executes(Protocol):
    """A connection that runs a query with ``?`` parameters and gives its rows (a
    ``sqlite3.Connection``, or the PostgreSQL store's adapter of one of its connections)."""

    def execute(self, sql: str, parameters: Sequence[Any], /) -> Iterable[Any]: ...


def read_summaries(db: Executes, rows: list[Any]) -> list[Summary]:
    """The summaries of ``rows`` (selected as :data:`SUMMARY_COLUMNS`, every one indexed),
    in their order: two more queries, for the addresses and the tags of the whole page."""
    seqs = [row[0] for row in rows]
    addresses: dict[tuple[int, str], list[Address]] = {}
    tags: dict[int, list[str]] = {}
    for chunk in _chunks(seqs):
        marks = ", ".join("?" * len(chunk))
        for seq, field, name, address in db.execute(
            f"SELECT seq, field, name, address FROM addresses WHERE seq IN ({marks}) ORDER BY seq, field, position",
            chunk,
        ):
            addresses.setdefault((seq, field), []).append(Address(name, address))
        for seq, tag in db.execute(f"SELECT seq, tag FROM tags WHERE seq IN ({marks}) ORDER BY seq, tag", chunk):
            tags.setdefault(seq, []).append(tag)

    def pairs(seq: int, field: str) -> tuple[Address, ...]:
        return tuple(addresses.get((seq, field), ()))

    found = []
    for (
        seq,
        _,
        id,
        message_id,
        subject,
        date_text,
        received,
        size,
        attachments,
        inline,
        snippet,
        read,
        flags,
        mail_from,
        auth_user,
    ) in rows:
        found.append(
            Summary(
                id=id,
                message_id=message_id,
                from_=pairs(seq, "from"),
                to=pairs(seq, "to"),
                cc=pairs(seq, "cc"),
                bcc=pairs(seq, "bcc"),
                reply_to=pairs(seq, "reply-to"),
                subject=subject,
                date=datetime.fromisoformat(date_text) if date_text else None,
                received_at=datetime.fromtimestamp(received, timezone.utc),
                size=size,
                attachments=attachments,
                inline=inline,
                snippet=snippet,
                read=bool(read),
                tags=tuple(tags.get(seq, ())),
                flags=frozenset(flags.split()) if flags else _NO_FLAGS,
                mail_from=mail_from,
                auth_user=auth_user,
            )
        )
    return found


def _chunks(items: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def envelope_row(m: Message) -> tuple[Any, ...]:
    """The values of ``messages`` (id, mail_from, rcpt_tos, mail_options, peer_host,
    peer_port, helo, tls, auth_user, received, size) a message is inserted with."""
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
    )


def message_of(row: Any) -> Message:
    """The message of a row selected as :data:`ENVELOPE`."""
    id, raw, mail_from, rcpt_tos, mail_options, host, port, helo, received, tls, auth_user = row
    return Message(
        id=id,
        raw=bytes(raw),
        mail_from=mail_from,
        rcpt_tos=json.loads(rcpt_tos),
        mail_options=json.loads(mail_options),
        peer=(host, port),
        helo=helo,
        received_at=datetime.fromtimestamp(received, timezone.utc),
        tls=tls,
        auth_user=auth_user,
    )
