"""The injected faults of every node of a PostgreSQL store, in its ``faults`` table.

A node that adds or removes a fault announces it on the store's channel
(:mod:`~mocksmtp.store.pgnotify`) in the same transaction; the other nodes' listeners hand it
to the :class:`FaultTable`'s watcher (the engine's mirror of the table), so no node polls.
A fault with ``times`` is used up by :meth:`FaultTable.claim`, one atomic ``UPDATE`` that
every node's sessions race for: ``times=2`` fires exactly twice, whichever nodes the
commands reach.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import StoreError
from .base import FaultRow, FaultWatcher
from .pglink import Link
from .pgnotify import CHANNEL, payloads

__all__ = ["PgFaultTable"]

_COLUMNS = "id::text, spec, times, remaining, triggered"


class PgFaultTable:
    """The ``faults`` table, over a connection of its own (a claim, run in an executor
    thread, never waits behind a long search of the store's reading connection)."""

    def __init__(self, url: str, node: str, closed: Callable[[], StoreError]) -> None:
        self._link = Link(url)
        self._node = node
        self._closed = closed  # the error once closed
        self._open = True
        self._lock = threading.Lock()
        self._watcher: FaultWatcher | None = None

    def __repr__(self) -> str:
        return f"<PgFaultTable {self._link!r}>"

    def add(self, spec: dict[str, Any], times: int | None) -> FaultRow:
        with self._session(transaction=True) as conn:
            row = conn.execute(
                f"INSERT INTO faults (spec, times, remaining) VALUES (%s::jsonb, %s, %s) RETURNING {_COLUMNS}",
                (json.dumps(spec), times, times),
            ).fetchone()
            self._notify(conn, "fault-added", (row[0],))
        return _row(row)

    def rows(self, ids: Iterable[str] | None = None) -> list[FaultRow]:
        condition, params = ("TRUE", ()) if ids is None else ("id = ANY(%s)", ([int(id) for id in ids],))
        with self._session() as conn:
            found = conn.execute(f"SELECT {_COLUMNS} FROM faults WHERE {condition} ORDER BY id", params).fetchall()
        return [_row(row) for row in found]

    def remove(self, id: str) -> None:
        with self._session(transaction=True) as conn:
            if conn.execute("DELETE FROM faults WHERE id = %s", (int(id),)).rowcount:
                self._notify(conn, "fault-removed", (id,))

    def clear(self) -> None:
        with self._session(transaction=True) as conn:
            conn.execute("DELETE FROM faults")
            self._notify(conn, "faults-cleared")

    def claim(self, id: str) -> int | None:
        with self._session() as conn:
            row = conn.execute(
                "UPDATE faults SET remaining = remaining - 1, triggered = triggered + 1 "
                "WHERE id = %s AND remaining > 0 RETURNING remaining",
                (int(id),),
            ).fetchone()
        return None if row is None else int(row[0])

    def watch(self, watcher: FaultWatcher) -> None:
        self._watcher = watcher

    def heard(self, kind: str, ids: tuple[str, ...]) -> None:
        """A change of another node's (from the store's listener thread), or ``faults-reload``."""
        watcher = self._watcher
        if watcher is not None:
            watcher(kind, ids)

    def close(self) -> None:
        with self._lock:
            self._open = False
            self._link.close()

    @contextmanager
    def _session(self, *, transaction: bool = False) -> Iterator[Any]:
        with self._lock:
            if not self._open:
                raise self._closed()
            with self._link.session(transaction=transaction) as conn:
                yield conn

    def _notify(self, conn: Any, kind: str, ids: tuple[str, ...] = ()) -> None:
        for payload in payloads(self._node, kind, ids):
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


def _row(row: Any) -> FaultRow:
    id, spec, times, remaining, triggered = row
    return FaultRow(str(id), dict(spec), times, remaining, int(triggered))
