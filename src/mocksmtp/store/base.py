"""The store protocol every store implements, the events it announces, and what stores share.

A store keeps accepted messages with a little state beside each (read or not, tags), answers
queries in the search language (:mod:`mocksmtp.query`), and announces every change twice: its
:attr:`~MessageStore.version` grows, and each subscriber receives a typed event. Waits block
on those (see :mod:`mocksmtp.waiting`); nothing polls. Everything above the store (the
facades, the command line, the plugin) uses these members and nothing else, so any class that
has them works behind :class:`~mocksmtp.MockSMTPServer`, no subclassing needed.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, Union, runtime_checkable

if TYPE_CHECKING:
    from ..errors import ConfigError
    from ..message import Message
    from ..query import Query
    from ..summary import Summary

__all__ = [
    "AddDone",
    "ChangeFeed",
    "FaultRow",
    "FaultTable",
    "MessageAdded",
    "MessageState",
    "MessageStore",
    "MessagesDeleted",
    "MessagesUpdated",
    "SharesFaults",
    "StoreCleared",
    "StoreEvent",
    "Subscriber",
    "SupportsAddLater",
    "SupportsTagCounts",
    "check_page",
    "check_tags",
    "unknown_cursor",
]

logger = logging.getLogger("mocksmtp.store")


# -- events ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class MessageAdded:
    """``message`` was stored; ``version`` is the store's version after it."""

    message: Message
    version: int


@dataclasses.dataclass(frozen=True, slots=True)
class MessagesDeleted:
    """The messages with these ids were deleted (``pruned``: by retention, not by a caller)."""

    ids: tuple[str, ...]
    version: int
    pruned: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class StoreCleared:
    """Every message was deleted."""

    version: int


@dataclasses.dataclass(frozen=True, slots=True)
class MessagesUpdated:
    """The read flag or the tags of these messages changed."""

    ids: tuple[str, ...]
    version: int


StoreEvent = Union[MessageAdded, MessagesDeleted, StoreCleared, MessagesUpdated]  # noqa: UP007 (3.10 runtime)
Subscriber = Callable[[StoreEvent], object]
AddDone = Callable[[Union[BaseException, None]], object]  # noqa: UP007 (3.10 runtime)
"""Told how an :meth:`~SupportsAddLater.add_later` ended: ``None`` once the message is stored,
or the exception that kept it out."""


@dataclasses.dataclass(frozen=True, slots=True)
class MessageState:
    """What a store keeps beside a message: whether it was read, and its tags (sorted)."""

    read: bool = False
    tags: tuple[str, ...] = ()


# -- the protocol ----------------------------------------------------------------------------


@runtime_checkable
class MessageStore(Protocol):
    """Everything the engine, the facades, the command line and the plugin ask of a store.

    Every method is thread-safe: the engine adds from its event loop's thread while tests
    read, wait and clear from theirs. Messages are ordered by arrival (the order of
    :meth:`add`). Methods that change the store bump :attr:`version` and then call the
    subscribers, from the changing thread, after the change is visible to every reader.

    Two more members are optional: ``add_later`` (see :class:`SupportsAddLater`), an add that
    does not make the engine's loop wait, and ``tag_counts`` (see :class:`SupportsTagCounts`),
    each tag's count without reading the tagged messages.
    """

    @property
    def version(self) -> int:
        """A number that grows with every change (add, delete, clear, update); waits block
        until it moves."""

    def new_id(self) -> str:
        """An id no message of this store has had (the engine writes it in its ``250``)."""

    def add(self, message: Message) -> None:
        """Keep ``message`` (whose id came from :meth:`new_id`). Once this returns, every
        reader sees it, and a persistent store has committed it: ack means stored."""

    def get(self, id: str) -> Message | None:
        """The message with this id, or ``None``."""

    def count(self, query: Query | None = None) -> int:
        """How many messages match ``query`` (all of them without one)."""

    def messages(
        self,
        query: Query | None = None,
        *,
        newest_first: bool = False,
        offset: int = 0,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[Message]:
        """A page of the messages matching ``query``, oldest first (or newest first): skip
        ``offset``, then at most ``limit`` (all without one).

        ``after`` (a cursor) is the id of a message, usually the last of the previous page:
        the page then holds only messages that come after it in this order (older ones when
        newest first). Pages are keyed on arrival order, so they neither skip nor repeat a
        message while mail arrives or is deleted. An id the store does not have raises
        :class:`~mocksmtp.ConfigError`."""

    def summaries(
        self,
        query: Query | None = None,
        *,
        newest_first: bool = True,
        offset: int = 0,
        limit: int | None = 50,
        after: str | None = None,
    ) -> list[Summary]:
        """The same page as :meth:`messages`, as :class:`~mocksmtp.summary.Summary` objects
        (what a list view shows), **newest first** and 50 by default. Each message's summary is
        computed once; a store that keeps columns answers from them without reading the raw
        message."""

    def state(self, id: str) -> MessageState | None:
        """Whether the message was read and its tags, or ``None`` if there is no such message."""

    def delete(self, ids: Iterable[str]) -> int:
        """Delete the messages with these ids (unknown ids are skipped); return how many."""

    def delete_matching(self, query: Query) -> int:
        """Delete the messages matching ``query`` (the empty query: all); return how many."""

    def clear(self) -> None:
        """Delete every message."""

    def mark_read(self, ids: Iterable[str], read: bool = True) -> int:
        """Mark these messages read (or unread); return how many exist."""

    def set_tags(self, ids: Iterable[str], tags: Iterable[str]) -> int:
        """Give these messages exactly ``tags`` (replacing theirs); return how many exist."""

    def prune(self, *, max_messages: int | None = None, max_age: float | None = None) -> int:
        """Delete the oldest messages beyond ``max_messages`` and those received more than
        ``max_age`` seconds ago; return how many (announced as pruned)."""

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` after each change; return a function that unsubscribes.

        A callback runs in the changing thread (for an add, the thread that stored it: the
        engine's, or a store's own writer thread; always before the ``250``) and must be quick;
        an exception in it is logged and ignored."""

    def close(self) -> None:
        """Release what the store holds (files, connections). Idempotent."""


@runtime_checkable
class SupportsAddLater(Protocol):
    """A store that can take a message without making its caller wait for it to be stored.

    An optional member of :class:`MessageStore`: the engine uses :meth:`add_later` when a
    store has it, so that a slow store (a file, a database server) holds the ``250`` of that
    session only, never the event loop and the other sessions; a store without it is called
    through :meth:`MessageStore.add`, on the loop, as before. Both stores that ship have it.
    A store that stores at once implements it in three lines::

        def add_later(self, message, done):
            try:
                self.add(message)
            except Exception as e:
                done(e)
            else:
                done(None)
    """

    def add_later(self, message: Message, done: AddDone) -> None:
        """Start storing ``message`` (whose id came from :meth:`~MessageStore.new_id`) and
        call ``done`` exactly once: ``done(None)`` once it is stored as :meth:`~MessageStore.add`
        stores it (every reader sees it, a persistent store has committed it, the version has
        moved and subscribers were told), or ``done(error)`` if it is not stored at all.

        ``done`` may be called before this returns (in the caller's thread) or later from any
        thread, and must be quick; this method itself does not raise for a message it cannot
        store. Messages given to it are stored in the order given.
        """


@runtime_checkable
class SupportsTagCounts(Protocol):
    """A store that counts its tags itself (an optional member of :class:`MessageStore`).

    The HTTP API shows every tag with its count on each list page; for a store without this
    method it reads the summaries of every ``is:tagged`` message to count them, which costs
    time in proportion to the tagged messages. All the stores that ship have it.
    """

    def tag_counts(self) -> dict[str, int]:
        """Every tag that at least one message has, with how many have it, sorted by tag."""


class FaultRow(NamedTuple):
    """An injected fault as a shared store keeps it: ``spec`` is what the engine made of it
    (plain JSON values, opaque to the store); ``remaining`` and ``triggered`` are counted by
    :meth:`FaultTable.claim` for a fault with ``times``."""

    id: str
    spec: dict[str, Any]
    times: int | None
    remaining: int | None
    triggered: int


FaultWatcher = Callable[[str, tuple[str, ...]], None]
"""``watcher(kind, ids)``: another node added (``fault-added``) or removed (``fault-removed``)
faults, removed them all (``faults-cleared``), or what changed is unknown (``faults-reload``:
notifications were lost while the database was away)."""


class FaultTable(Protocol):
    """The injected faults of every node of a shared store (the engine's
    :class:`~mocksmtp.smtp.sharedfaults.SharedFaults` mirrors it). Every method may raise
    :class:`~mocksmtp.StoreError`; each change is announced to the other nodes' watchers."""

    def add(self, spec: dict[str, Any], times: int | None) -> FaultRow: ...
    def rows(self, ids: Iterable[str] | None = None) -> list[FaultRow]:
        """The faults (those of ``ids`` only, if given), oldest first."""

    def remove(self, id: str) -> None: ...
    def clear(self) -> None: ...
    def claim(self, id: str) -> int | None:
        """Use up one firing of fault ``id`` for every node at once: how many are left after
        it, or ``None`` when none was (used up elsewhere, or removed)."""

    def watch(self, watcher: FaultWatcher) -> None:
        """Call ``watcher`` (from another thread) for the changes other nodes make."""


@runtime_checkable
class SharesFaults(Protocol):
    """A store shared by several nodes, which keeps their injected faults too (PostgreSQL)."""

    @property
    def fault_table(self) -> FaultTable: ...


# -- what stores share -----------------------------------------------------------------------


class ChangeFeed:
    """A store's version counter and subscribers.

    A store calls :meth:`bump` while it holds its own lock (so versions follow the order of
    changes) and :meth:`publish` after releasing it (so a subscriber may read the store).
    """

    __slots__ = ("_lock", "_subscribers", "version")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[Subscriber, ...] = ()
        self.version = 0

    def bump(self) -> int:
        self.version += 1
        return self.version

    @property
    def active(self) -> bool:
        """Whether anyone listens (an add with nobody subscribed makes no event at all)."""
        return bool(self._subscribers)

    def publish(self, event: StoreEvent) -> None:
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception:  # a subscriber must never undo a change, least of all "stored"
                logger.exception("store subscriber %r failed on %r", callback, type(event).__name__)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers = (*self._subscribers, callback)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not callback)

        return unsubscribe


def check_page(offset: object, limit: object) -> None:
    """Refuse a page that is not one (a negative offset or limit, a float, a bool)."""
    from ..errors import ConfigError

    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ConfigError(f"offset must be an integer of at least 0, got {offset!r}")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise ConfigError(f"limit must be None or an integer of at least 0, got {limit!r}")


def unknown_cursor(id: str) -> ConfigError:
    """The error for a page asked to continue ``after`` a message the store does not have."""
    from ..errors import ConfigError

    return ConfigError(
        f"after={id!r} names no stored message (deleted, or never stored here): "
        "ask for the first page again, or page with offset="
    )


def check_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """``tags`` sorted, without duplicates; each a non-empty string without spaces or quotes."""
    from ..errors import ConfigError

    if isinstance(tags, str):
        raise ConfigError(f"tags must be a list of tag names, got the string {tags!r}; write [{tags!r}]")
    found = set()
    for tag in tags:
        if not isinstance(tag, str) or not tag or any(c.isspace() or c == '"' for c in tag):
            raise ConfigError(f"a tag is a non-empty name without spaces or quotes, got {tag!r}")
        found.add(tag)
    return tuple(sorted(found))
