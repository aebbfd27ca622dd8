"""Group commit: one writer thread stores whatever messages are waiting in one transaction.

A store's :meth:`~mocksmtp.store.SupportsAddLater.add_later` puts the message and its ``done``
in a :class:`GroupCommit`. Its thread takes every message queued so far, hands them to the
store's ``write`` (which inserts them in one transaction, commits, moves the version and tells
the subscribers), then calls each ``done``: ``done(None)`` after the commit, never before. So
the sessions of a busy server share one commit instead of taking turns, and no commit runs in
the engine's loop.

If the transaction of a group fails, each of its messages is tried again alone, so that one
message the store refuses fails only its own session; unless the store is unavailable (a
database server that is down), which fails the whole group at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import StoreError

if TYPE_CHECKING:
    from ..message import Message
    from .base import AddDone

__all__ = ["GroupCommit"]

logger = logging.getLogger("mocksmtp.store")


class GroupCommit:
    """A queue of messages to store and the thread that writes them, a group at a time.

    ``write(messages)`` stores ``messages`` in one transaction or raises (storing none of
    them). The thread starts with the first message and ends after :attr:`IDLE` seconds with
    nothing to write, so an idle store holds no thread.
    """

    IDLE = 1.0
    """Seconds the writer waits for more messages before its thread ends."""

    def __init__(self, write: Callable[[list[Message]], None], *, name: str) -> None:
        self._write = write
        self._name = name
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[tuple[Message, AddDone]] = []
        self._thread: threading.Thread | None = None
        self._waiting = False  # the thread waits on _cond for a message (so put() must wake it)
        self._closed = False

    def __repr__(self) -> str:
        return f"<GroupCommit {self._name} queued={len(self._queue)}{' closed' if self._closed else ''}>"

    def put(self, message: Message, done: AddDone) -> bool:
        """Queue ``message``; ``done`` is called once it is stored or has failed. False (and
        nothing queued) once :meth:`close` was called."""
        with self._cond:
            if self._closed:
                return False
            self._queue.append((message, done))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            elif self._waiting:
                self._cond.notify()
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Take no more messages, and wait up to ``timeout`` seconds for those queued to be
        written (and their ``done`` called). Idempotent."""
        with self._cond:
            self._closed = True
            thread = self._thread
            self._cond.notify()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        cond = self._cond
        while True:
            with cond:
                while not self._queue:
                    if self._closed:
                        self._thread = None
                        return
                    self._waiting = True
                    try:
                        cond.wait(self.IDLE)
                    finally:
                        self._waiting = False
                    if not self._queue and not self._closed:  # idle: end (put() starts another)
                        self._thread = None
                        return
                group, self._queue = self._queue, []
            self._commit(group)

    def _commit(self, group: list[tuple[Message, AddDone]]) -> None:
        try:
            self._write([message for message, _ in group])
        except Exception as error:
            if len(group) == 1 or (isinstance(error, StoreError) and error.unavailable):
                for _, done in group:  # one message, or a database that is down for all of them
                    _tell(done, error)
                return
            for one in group:  # one message may spoil a group: only it fails
                self._commit([one])
            return
        for _, done in group:
            _tell(done, None)


def _tell(done: AddDone, error: BaseException | None) -> None:
    try:
        done(error)
    except Exception:  # one caller's bug must not keep the others from hearing
        logger.exception("a store's done callback %r failed", done)
