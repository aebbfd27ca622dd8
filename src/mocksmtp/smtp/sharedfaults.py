"""Injected faults shared by every node of a store that keeps them (PostgreSQL).

:class:`SharedFaults` is the server's :class:`~mocksmtp.smtp.faults.FaultRegistry` when its
store has a :class:`~mocksmtp.store.base.FaultTable`: adding, removing and clearing write to
the table, and the registry is this node's mirror of it, kept up to date by the changes the
other nodes announce (no polling), so the engine still decides in memory, with no query per
command. Only a fault with ``times`` asks the database, once per firing: its
:attr:`~mocksmtp.Fault.claim` uses up one firing for every node at once, so ``times=2``
fires exactly twice across all of them. ``triggered`` of such a fault counts every node's
firings; that of a fault without ``times`` counts this node's.

A fault injected with ``node_only=True`` (the command line's ``--fault``, which configures one
node) stays in this node's memory, named ``n1``, ``n2``, ... A ``match`` callable cannot be
shared (other processes cannot run it): without ``node_only`` it is refused with a
:class:`~mocksmtp.ConfigError` rather than silently kept on one node, where it would not apply
to the commands the other nodes take.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

from ..errors import ConfigError, StoreError
from ..store.base import FaultRow, FaultTable
from .faults import Fault, FaultRegistry
from .replies import Reply

__all__ = ["SharedFaults"]

_logger = logging.getLogger("mocksmtp.smtp")


class SharedFaults(FaultRegistry):
    """This node's mirror of the faults in ``table`` (read once here, then kept up to date)."""

    __slots__ = ("_changing", "_table")

    def __init__(self, table: FaultTable) -> None:
        super().__init__()
        self._table = table
        self._changing = threading.RLock()
        """Held around each change of the table and the mirror together (never by the loop:
        ``pick`` takes only the mirror's lock), so that a listing read before a change is
        not applied after it."""
        table.watch(self._heard)
        self.faults()

    def __repr__(self) -> str:
        return f"<SharedFaults {self.armed!r}>"

    def _register(self, stage: str, reply: Reply | None, *, node_only: bool, **details: Any) -> Fault:
        if node_only:  # named n1, n2, ...: not in the table, so no other node's id
            return self._keep_here(f"n{next(self._ids)}", stage, reply, **details)
        match = details["match"]
        if match is not None and not isinstance(match, (str, re.Pattern)):
            raise ConfigError(
                "a fault on a PostgreSQL store is shared by every node, which cannot run a Python "
                f"callable ({match!r}): give match as a string or a compiled regular expression, "
                "or inject the fault with node_only=True to keep it on this node"
            )
        spec = {
            "stage": stage,
            "reply": None if reply is None else [reply.code, reply.status, reply.text],
            "match": match if isinstance(match, str) else None,
            "match_regex": [match.pattern, match.flags] if isinstance(match, re.Pattern) else None,
            "probability": details["probability"],
            "delay": details["delay"],
            "disconnect": details["disconnect"],
        }
        with self._changing:
            return self._keep([self._table.add(spec, details["times"])])[0]

    def remove(self, fault: Fault) -> None:
        with self._changing:
            if not _here(fault):
                self._table.remove(fault.id)
            self._drop((fault.id,))

    def clear(self) -> None:
        with self._changing:
            self._table.clear()
            super().clear()

    def find(self, id: str) -> Fault | None:
        """The fault named ``id``, as the database has it now."""
        self.faults()
        return super().find(id)

    def faults(self) -> list[Fault]:
        """Every node's faults, as the database has them now (their counts included)."""
        with self._changing:
            self._sync(self._table.rows())
        return super().faults()

    # -- the mirror ----------------------------------------------------------------------------

    def _heard(self, kind: str, ids: tuple[str, ...]) -> None:
        """What another node changed (from the store's listener thread)."""
        try:
            with self._changing:
                self._apply(kind, ids)
        except StoreError as e:  # gone again: the next reload (or listing) catches up
            _logger.warning("could not read the faults another node changed: %s", e)

    def _apply(self, kind: str, ids: tuple[str, ...]) -> None:
        if kind == "fault-added":
            self._keep(self._table.rows(ids))
        elif kind == "fault-removed":
            self._drop(ids)
        elif kind == "faults-cleared":
            super().clear()
        elif kind == "faults-reload":
            self._sync(self._table.rows())

    def _sync(self, rows: list[FaultRow]) -> None:
        """Make the mirror the faults of ``rows`` (every fault there is)."""
        with self._lock:
            wanted = {row.id for row in rows}
            self.armed[:] = [f for f in self.armed if f.id in wanted or _here(f)]
        self._keep(rows)

    def _keep(self, rows: Iterable[FaultRow]) -> list[Fault]:
        """The faults of ``rows``, added to the mirror (or their counts updated there)."""
        kept: list[Fault] = []
        with self._lock:
            have = {f.id: f for f in self.armed}
            for row in rows:
                fault = have.get(row.id)
                if fault is None:
                    fault = have[row.id] = self._fault(row)
                elif row.times is not None:
                    fault.remaining, fault.triggered = row.remaining, row.triggered
                kept.append(fault)
            self.armed[:] = sorted(have.values(), key=_order)
        return kept

    def _drop(self, ids: Iterable[str]) -> None:
        gone = set(ids)
        with self._lock:
            self.armed[:] = [f for f in self.armed if f.id not in gone]

    def _fault(self, row: FaultRow) -> Fault:
        spec = row.spec
        reply = None if spec["reply"] is None else Reply(*spec["reply"])
        match: str | re.Pattern[str] | None = spec["match"]
        if spec["match_regex"] is not None:
            match = re.compile(*spec["match_regex"])
        fault = Fault(
            self,
            row.id,
            spec["stage"],
            reply,
            match=match,
            times=row.times,
            probability=float(spec["probability"]),
            delay=float(spec["delay"]),
            disconnect=bool(spec["disconnect"]),
            claim=None if row.times is None else functools.partial(self._table.claim, row.id),
        )
        fault.remaining, fault.triggered = row.remaining, row.triggered
        return fault


def _here(fault: Fault) -> bool:
    """Whether ``fault`` is this node's only (``node_only``), not a row of the table."""
    return fault.id.startswith("n")


def _order(fault: Fault) -> tuple[bool, int]:
    """This node's own faults first, then the shared ones in the order they were added."""
    return (not _here(fault), int(fault.id.lstrip("n")))
