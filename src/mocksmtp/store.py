"""Where accepted messages are kept.

:class:`MemoryStore` is thread-safe: the SMTP engine adds from its event-loop thread while tests
read, wait and clear from theirs. Waiters block on :attr:`MemoryStore.condition`; nobody polls.
The store knows nothing about transports; it announces new messages to its subscribers.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

from .message import Message

__all__ = ["MemoryStore", "MessageStore"]

logger = logging.getLogger("mocksmtp.store")
T = TypeVar("T")
Subscriber = Callable[[Message], None]


@runtime_checkable
class MessageStore(Protocol):
    """What the SMTP engine needs from a store."""

    def new_id(self) -> str:
        """Return an id no message of this store has had."""

    def add(self, message: Message) -> None:
        """Keep ``message``; once this returns, every reader sees it (ack means stored)."""


class _Condition(threading.Condition):
    """A condition that counts its waiters, so that adding a message with nobody waiting (the
    usual case under load) skips ``notify_all``. The count changes only with the lock held."""

    waiting = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting += 1
        try:
            return super().wait(timeout)
        finally:
            self.waiting -= 1


class MemoryStore:
    """Keeps every accepted message in memory until :meth:`clear`.

    >>> store = MemoryStore()
    >>> store.add(Message(id=store.new_id(), raw=b"x", mail_from="", rcpt_tos=["a@b"]))
    >>> store.count, len(store.drain()), len(store.drain()), len(store.messages())
    (1, 1, 0, 1)
    """

    __slots__ = ("_counter", "_drained", "_lock", "_messages", "_prefix", "_subscribers",
                 "condition")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.condition: threading.Condition = _Condition(self._lock)
        """Notified (``notify_all``) after each add and clear; hold it to read consistently."""
        self._messages: list[Message] = []
        self._drained = 0
        self._subscribers: list[Subscriber] = []
        self._prefix = os.urandom(3).hex().upper()
        self._counter = itertools.count(1)

    def __repr__(self) -> str:
        return f"<MemoryStore messages={len(self._messages)}>"

    def __len__(self) -> int:
        return len(self._messages)

    def new_id(self) -> str:
        """Ids look like ``3F9A1C-000001``: a random per-store prefix and a sequence number."""
        return f"{self._prefix}-{next(self._counter):06d}"

    def add(self, message: Message) -> None:
        with self._lock:  # the condition's own lock, without the Python-level wrapper
            self._messages.append(message)
            subscribers = self._subscribers
            if self.condition.waiting:  # type: ignore[attr-defined]
                self.condition.notify_all()
        for callback in subscribers:
            try:
                callback(message)
            except Exception:  # a subscriber must never undo "stored"
                logger.exception("store subscriber %r failed on message %s", callback, message.id)

    @property
    def count(self) -> int:
        """How many messages are kept (accepted since creation or the last clear)."""
        return len(self._messages)

    def messages(self) -> list[Message]:
        """A snapshot of every kept message, oldest first."""
        with self.condition:
            return list(self._messages)

    def drain(self) -> list[Message]:
        """The messages added since the previous drain (they stay kept)."""
        with self.condition:
            fresh = self._messages[self._drained :]
            self._drained = len(self._messages)
            return fresh

    def clear(self) -> None:
        """Forget every message."""
        with self.condition:
            self._messages = []
            self._drained = 0
            self.condition.notify_all()

    def wait_for(self, predicate: Callable[[list[Message]], T], timeout: float) -> T:
        """Block until ``predicate(messages)`` is truthy or ``timeout`` seconds pass.

        Returns the predicate's last value (falsy on timeout). Wakes on every add and clear;
        never sleeps or polls.
        """
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                result = predicate(self._messages)
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return result
                self.condition.wait(remaining)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(message)`` after each add, from the adding thread.

        Returns a function that unsubscribes. A callback must be quick: the engine calls it
        before it acknowledges the message. An exception in it is logged and ignored.
        """
        with self.condition:
            self._subscribers = [*self._subscribers, callback]

        def unsubscribe() -> None:
            with self.condition:
                self._subscribers = [s for s in self._subscribers if s is not callback]

        return unsubscribe
