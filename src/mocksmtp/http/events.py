"""Live events for streaming clients: the store's changes as Mailpit's ``/api/events`` frames,
or as MailHog's (each new message, whole, for its EventSource and websocket).

The hub subscribes to the store only while a client listens (a store with no subscriber makes
no event objects at all). Store callbacks come from whichever thread changed the store (the
engine's, before its ``250``); each is handed to the loop at once, and the frames are built
there, once per event, for every client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..store import MessageAdded, MessagesDeleted, MessagesUpdated, StoreCleared, StoreEvent
from . import mailhog
from .mailpit import message_summary

if TYPE_CHECKING:
    from ..store import MessageStore

__all__ = ["CLOSED", "FORMATS", "EventHub", "frames", "mailhog_frames"]

CLOSED = ""
"""Put in a client's queue when the hub closes: the client should end its connection."""

QUEUE_LIMIT = 10_000
"""Frames a client may fall behind by before it is disconnected (a stalled client must not
make the server hold every message forever)."""


def _frame(kind: str, data: Any) -> str:
    return json.dumps({"Type": kind, "Data": data}, ensure_ascii=False, separators=(",", ":"))


def frames(store: MessageStore, event: StoreEvent) -> list[str]:
    """The Mailpit frames for one store event (``new``, ``delete``, ``truncate``, ``update``)."""
    if isinstance(event, MessageAdded):
        return [_frame("new", message_summary(event.message, store.state(event.message.id)))]
    if isinstance(event, MessagesDeleted):
        return [_frame("delete", {"ID": id}) for id in event.ids]
    if isinstance(event, StoreCleared):
        return [_frame("truncate", None)]
    if isinstance(event, MessagesUpdated):
        found = []
        for id in event.ids:
            state = store.state(id)
            if state is not None:
                found.append(_frame("update", {"ID": id, "Read": state.read, "Tags": list(state.tags)}))
        return found
    return []  # pragma: no cover - every StoreEvent is handled above


def mailhog_frames(store: MessageStore, event: StoreEvent) -> list[str]:
    """MailHog's frames: each new message in MailHog's shape; nothing for other changes."""
    if isinstance(event, MessageAdded):
        return [json.dumps(mailhog.message(event.message), ensure_ascii=False, separators=(",", ":"))]
    return []


FORMATS: dict[str, Callable[[MessageStore, StoreEvent], list[str]]] = {"mailpit": frames, "mailhog": mailhog_frames}
"""How each kind of client is told of an event."""


class EventHub:
    """Fans the store's events out to the queues of connected websocket clients."""

    def __init__(self, store: MessageStore, loop: asyncio.AbstractEventLoop) -> None:
        self._store = store
        self._loop = loop
        self._queues: dict[asyncio.Queue[str], str] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self.closed = False

    def join(self, kind: str = "mailpit") -> asyncio.Queue[str]:
        """A queue that receives every frame of ``kind`` (:data:`FORMATS`) from now on (from
        the loop's thread)."""
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_LIMIT)
        if self.closed:
            queue.put_nowait(CLOSED)
            return queue
        self._queues[queue] = kind
        if self._unsubscribe is None:
            self._unsubscribe = self._store.subscribe(self._on_event)
        return queue

    def leave(self, queue: asyncio.Queue[str]) -> None:
        self._queues.pop(queue, None)
        if not self._queues and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: StoreEvent) -> None:  # any thread
        try:
            self._loop.call_soon_threadsafe(self._dispatch, event)
        except RuntimeError:  # the loop closed: nobody is listening any more
            pass

    def _dispatch(self, event: StoreEvent) -> None:
        if not self._queues:
            return
        built: dict[str, list[str]] = {}
        for queue, kind in list(self._queues.items()):
            if kind not in built:
                built[kind] = FORMATS[kind](self._store, event)
            for frame in built[kind]:
                try:
                    queue.put_nowait(frame)
                except asyncio.QueueFull:  # too far behind: end that client's connection
                    self._queues.pop(queue, None)
                    queue.get_nowait()
                    queue.put_nowait(CLOSED)
                    break

    def close(self) -> None:
        """Tell every client to end, and stop listening to the store."""
        self.closed = True
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(CLOSED)
            self.leave(queue)
