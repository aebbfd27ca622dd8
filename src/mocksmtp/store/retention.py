"""Retention: deleting old messages, only when asked (``max_messages``, ``max_age``).

Nothing is ever dropped unless a limit was configured. A :class:`Pruner` applies the limits
to a store whenever a message is added (and when asked), oldest first, logs what it deleted
and counts it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading

from ..errors import ConfigError
from .base import MessageAdded, MessageStore, StoreEvent

__all__ = ["Pruner", "Retention"]

logger = logging.getLogger("mocksmtp.store")


@dataclasses.dataclass(frozen=True, slots=True)
class Retention:
    """Keep at most ``max_messages`` messages, none older than ``max_age`` seconds
    (``None``: no limit of that kind)."""

    max_messages: int | None = None
    max_age: float | None = None

    def __post_init__(self) -> None:
        n, age = self.max_messages, self.max_age
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise ConfigError(f"max_messages must be None or an integer of at least 1, got {n!r}")
        if age is not None and (not isinstance(age, (int, float)) or isinstance(age, bool) or not age > 0):
            raise ConfigError(f"max_age must be None or a number of seconds above 0, got {age!r}")

    def __bool__(self) -> bool:
        return self.max_messages is not None or self.max_age is not None

    def __str__(self) -> str:
        limits = [f"max_messages={self.max_messages}"] if self.max_messages is not None else []
        return ", ".join([*limits, *([f"max_age={self.max_age:g} s"] if self.max_age is not None else [])])


class Pruner:
    """Applies a :class:`Retention` to a store after each add; counts what it deleted in
    :attr:`pruned`. Subscribe it to the store (``store.subscribe(pruner)``)."""

    __slots__ = ("_lock", "pruned", "retention", "store")

    def __init__(self, store: MessageStore, retention: Retention) -> None:
        self.store = store
        self.retention = retention
        self.pruned = 0
        """Messages deleted by retention since creation (or :meth:`reset`)."""
        self._lock = threading.Lock()

    def __call__(self, event: StoreEvent) -> None:
        if isinstance(event, MessageAdded):
            self.prune()

    def prune(self) -> int:
        """Apply the limits now; return how many messages were deleted."""
        r = self.retention
        with self._lock:
            n = self.store.prune(max_messages=r.max_messages, max_age=r.max_age)
            self.pruned += n
        if n:
            logger.info(
                "retention (%s) deleted %d old message%s",
                r,
                n,
                "" if n == 1 else "s",
                extra={"mocksmtp_event": "pruned"},
            )
        return n

    def reset(self) -> None:
        self.pruned = 0
