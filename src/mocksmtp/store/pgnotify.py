"""Changes between the nodes of one PostgreSQL store, through ``LISTEN``/``NOTIFY``.

Each change a node makes sends notifications on :data:`CHANNEL` in its own transaction, so
PostgreSQL delivers them when (and only if) it commits: ``{"node": ..., "kind": ..., "ids":
[...]}``, ids in chunks that fit the 8,000-byte limit of a payload. Every node listens on a
connection of its own, in a thread (:class:`Listener`), and hands the changes of the *other*
nodes to its store, which moves its version and tells its subscribers as if it had made them;
so waits, websocket events and long polls on one node wake for mail another took. No polling:
the thread blocks on the socket.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import StoreError
from .pglink import Link

__all__ = ["CHANNEL", "Listener", "payloads"]

logger = logging.getLogger("mocksmtp.store")

CHANNEL = "mocksmtp"
_PER_PAYLOAD = 200  # ids of 26 characters: well under 8,000 bytes
_BACKOFF = 0.5  # seconds between attempts to listen again once the database is gone

Change = Callable[[str, tuple[str, ...]], None]
"""``change(kind, ids)``: kind is ``added``, ``deleted``, ``pruned``, ``updated`` or ``cleared``."""


def payloads(node: str, kind: str, ids: tuple[str, ...] = ()) -> Iterator[str]:
    """The payloads announcing that ``node`` made change ``kind`` to ``ids``."""
    for start in range(0, max(len(ids), 1), _PER_PAYLOAD):
        yield json.dumps({"node": node, "kind": kind, "ids": ids[start : start + _PER_PAYLOAD]})


class Listener:
    """A thread listening on :data:`CHANNEL` for the changes of other nodes.

    ``change`` is called for each; ``resumed`` after listening again once the connection was
    lost (notifications sent meanwhile are gone, so the store moves its version: waits look
    again). :meth:`start` returns once listening, so nothing committed afterwards is missed.
    """

    def __init__(self, url: str, node: str, change: Change, resumed: Callable[[], None]) -> None:
        self._link = Link(url)
        self._node = node
        self._change = change
        self._resumed = resumed
        self._halt = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mocksmtp.store listener", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        self._listening.wait(timeout)

    def close(self, wake: Callable[[str], object] | None = None) -> None:
        """Stop listening; ``wake(payload)``, if given, sends a notification on the channel so
        the thread stops at once rather than at its next half-second timeout."""
        self._halt.set()
        if wake is not None and self._thread.is_alive():
            with contextlib.suppress(StoreError):
                wake(json.dumps({"node": self._node, "kind": "stop", "ids": []}))
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5)

    def _run(self) -> None:
        lost = False
        while not self._halt.is_set():
            try:
                with self._link.session() as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    if lost:
                        self._resumed()
                        lost = False
                    while not self._halt.is_set():
                        for note in conn.notifies(timeout=0.5):
                            if self._halt.is_set():
                                break
                            self._heard(note.payload)
            except StoreError:
                lost = True
                self._listening.set()  # start() need not wait for a database that is down
                self._halt.wait(_BACKOFF)
            except Exception:  # a bug must not end the thread silently; keep listening
                logger.exception("the PostgreSQL listener failed; listening again")
                lost = True
                self._halt.wait(_BACKOFF)
        self._link.close()

    def _heard(self, payload: str) -> None:
        try:
            note: dict[str, Any] = json.loads(payload)
            if note.get("node") == self._node:
                return
            self._change(str(note["kind"]), tuple(str(id) for id in note.get("ids", ())))
        except Exception:
            logger.exception("could not apply a change notified by another node: %.200s", payload)
