"""Queries, waits and assertions over a server's store, shared by the sync and asyncio facades.

:class:`MessageQueries` gives a facade ``filter``, ``assert_sent`` and ``assert_nothing_sent``.
Both facades' ``wait_for`` run one wait, :func:`wait_steps`: it reads the store, and when
too little matches it yields how long to block until the store's version moves; :func:`wait_sync`
blocks a thread for it, :func:`wait_async` awaits. A ``query=`` goes to the store (which may
search it in SQL); the other filters run here. Failures explain themselves: they list what
arrived and which filter each message missed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Collection, Generator, Sequence
from datetime import timezone
from typing import TYPE_CHECKING, Protocol

from .errors import ConfigError, MessageAssertionError, WaitTimeout
from .message import Message
from .store.base import MessageAdded, MessageStore, StoreEvent

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

    from .filters import FilterArgs, MessageFilter
    from .query import Query

__all__ = [
    "MessageQueries",
    "MessageSource",
    "check_count",
    "check_timeout",
    "report",
    "summary",
    "timed_out",
    "wait_async",
    "wait_steps",
    "wait_sync",
]

REPORT_LIMIT = 20
"""At most this many messages are listed in a failure text (the newest ones)."""


class MessageSource(Protocol):
    """What the queries read of a store: any :class:`~mocksmtp.MessageStore`, or a running
    server's store over HTTP (``mocksmtp.connect``)."""

    def messages(self, query: Query | None = None, *, offset: int = 0) -> list[Message]: ...


class MessageQueries:
    """``filter``, ``assert_sent`` and ``assert_nothing_sent`` over ``self.store``."""

    store: MessageSource

    def filter(self, **filters: Unpack[FilterArgs]) -> list[Message]:
        """The kept messages matching every filter, oldest first.

        Filters: ``to``, ``cc``, ``bcc``, ``from_``, ``recipient``, ``subject``, ``contains``,
        ``has_attachment``, ``header``, ``where`` (see :mod:`mocksmtp.filters`) and ``query``
        (the search language, ``docs/search.md``).

        >>> server.filter(to="user@example.com", subject="Welcome")  # doctest: +SKIP
        [<Message id='01JEB7Q3ZC5T0W8N2XKQ4M6R9A' from='app@example.com' to=['user@example.com'] size=412>]
        """
        from .filters import MessageFilter  # loads on the first query, not on import

        match = MessageFilter(**filters)
        return [m for m in self.store.messages(match.query) if match(m, in_query=True)]

    def assert_sent(self, count: int | None = None, **filters: Unpack[FilterArgs]) -> list[Message]:
        """Assert that messages matching ``filters`` were received and return them.

        ``count=None`` asks for at least one; a number asks for exactly that many. Checks what
        is there now (use :meth:`wait_for` for mail that is still on its way). Raises
        :class:`~mocksmtp.MessageAssertionError` (an ``AssertionError``) listing what arrived.

        >>> (welcome,) = server.assert_sent(1, to="user@example.com")  # doctest: +SKIP
        """
        __tracebackhide__ = True  # pytest shows the caller's line, not ours
        if count is not None:
            check_count(count, minimum=0)
        from .filters import MessageFilter  # loads on the first query, not on import

        match = MessageFilter(**filters)
        messages, in_query = _everything(self.store, match)
        matched = [m for m in messages if _matches(match, m, in_query)]
        if (count is None and matched) or (count is not None and len(matched) == count):
            return matched
        wanted = "at least 1 message" if count is None else _plural(count, "message")
        raise MessageAssertionError(
            f"expected {wanted}{_matching(match)}; {_found(matched)}.\n" + report(messages, match, in_query),
            messages=messages,
            matched=matched,
        )

    def assert_nothing_sent(self, **filters: Unpack[FilterArgs]) -> None:
        """Assert that no kept message matches ``filters`` (with none: that nothing arrived).

        >>> server.assert_nothing_sent(to="admin@example.com")  # doctest: +SKIP
        """
        __tracebackhide__ = True
        from .filters import MessageFilter  # loads on the first query, not on import

        match = MessageFilter(**filters)
        messages, in_query = _everything(self.store, match)
        matched = [m for m in messages if _matches(match, m, in_query)]
        if matched:
            raise MessageAssertionError(
                f"expected no message{_matching(match)}; {_found(matched)}.\n" + report(messages, match, in_query),
                messages=messages,
                matched=matched,
            )


def _everything(store: MessageSource, match: MessageFilter) -> tuple[list[Message], Collection[str] | None]:
    """Every kept message, and the ids of those the store finds for ``match.query`` (if any)."""
    messages = store.messages()
    if match.query is None:
        return messages, None
    return messages, {m.id for m in store.messages(match.query)}


def _matches(match: MessageFilter, m: Message, in_query: Collection[str] | None) -> bool:
    return match(m, in_query=None if in_query is None else m.id in in_query)


def check_count(count: object, *, minimum: int = 1) -> int:
    if not isinstance(count, int) or isinstance(count, bool) or count < minimum:
        raise ConfigError(f"count must be an integer of at least {minimum}, got {count!r}")
    return count


# -- waiting: one implementation, driven by a thread (wait_sync) or a coroutine (wait_async) --


class _Changes:
    """Subscribed to the store while a wait runs: wakes it on every event, and remembers
    whether anything but additions happened (then the wait reads everything again)."""

    __slots__ = ("only_added", "wake")

    def __init__(self, wake: Callable[[], object]) -> None:
        self.wake = wake
        self.only_added = True

    def __call__(self, event: StoreEvent) -> None:
        if not isinstance(event, MessageAdded):
            self.only_added = False
        self.wake()


def wait_steps(
    store: MessageStore,
    count: int,
    timeout: float,
    match: MessageFilter,
    changes: _Changes,
    rearm: Callable[[], object],
    clock: Callable[[], float],
) -> Generator[float, None, list[Message]]:
    """The wait itself: returns once ``count`` messages match; otherwise yields the seconds
    left, for the driver to block until ``changes`` wakes it or the time is up; raises
    :class:`WaitTimeout` at the deadline.

    Reads the store only when its version moved. When only additions happened since the last
    read, it reads just the messages after those already seen (the store keeps arrival
    order); anything else (a delete, a clear) starts over. ``rearm`` is called before each
    read, so a change during the read wakes the next block at once. Matching (which parses)
    happens outside the store's lock: the engine is never held up by a waiter.
    """
    __tracebackhide__ = True
    check_count(count)
    check_timeout(timeout)
    deadline = clock() + timeout
    seen = 0
    matched: list[Message] = []
    version: int | None = None
    while True:
        rearm()
        incremental = changes.only_added and version is not None
        changes.only_added = True
        now_version = store.version
        if now_version != version:
            if not incremental:
                seen, matched = 0, []
            fresh = store.messages(match.query, offset=seen)
            if incremental and not changes.only_added:  # a delete or clear during the read
                version = None  # read everything again
                continue
            version = now_version
            seen += len(fresh)
            matched = matched + [m for m in fresh if match(m, in_query=True)]
            if len(matched) >= count:
                return matched
        remaining = deadline - clock()
        if remaining <= 0:
            raise timed_out(store, match, count, timeout, matched)
        yield remaining


def timed_out(
    store: MessageSource, match: MessageFilter, count: int, timeout: float, matched: list[Message]
) -> WaitTimeout:
    """The :class:`WaitTimeout` of a wait for ``count`` messages that found only ``matched``:
    it lists what arrived and what each message missed."""
    messages, in_query = _everything(store, match)
    return WaitTimeout(
        f"waited {timeout} s for {_plural(count, 'message')}{_matching(match)}; "
        f"{_found(matched)}.\n" + report(messages, match, in_query),
        messages=messages,
        matched=matched,
    )


def wait_sync(store: MessageStore, count: int, timeout: float, match: MessageFilter) -> list[Message]:
    """Block this thread in :func:`wait_steps` on a ``threading.Event`` the store's events set."""
    __tracebackhide__ = True
    import threading

    changed = threading.Event()
    changes = _Changes(changed.set)
    unsubscribe = store.subscribe(changes)
    try:
        steps = wait_steps(store, count, timeout, match, changes, changed.clear, time.monotonic)
        remaining = next(steps)
        while True:
            changed.wait(remaining)
            remaining = steps.send(None)
    except StopIteration as done:
        result: list[Message] = done.value
        return result
    finally:
        unsubscribe()


async def wait_async(store: MessageStore, count: int, timeout: float, match: MessageFilter) -> list[Message]:
    """Await :func:`wait_steps` on an ``asyncio.Event`` the store's events set (from whichever
    thread changed the store), so the loop keeps serving while it waits."""
    __tracebackhide__ = True
    import asyncio

    loop = asyncio.get_running_loop()
    changed = asyncio.Event()

    def wake() -> None:
        try:
            loop.call_soon_threadsafe(changed.set)
        except RuntimeError:  # the loop closed while the wait was being torn down
            pass

    changes = _Changes(wake)
    unsubscribe = store.subscribe(changes)
    try:
        steps = wait_steps(store, count, timeout, match, changes, changed.clear, loop.time)
        remaining = next(steps)
        while True:
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass
            remaining = steps.send(None)
    except StopIteration as done:
        result: list[Message] = done.value
        return result
    finally:
        unsubscribe()


def check_timeout(timeout: object) -> None:
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout < 0:
        raise ConfigError(f"timeout must be a non-negative number of seconds, got {timeout!r}")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _matching(match: MessageFilter) -> str:
    return f" matching {match.describe()}" if match else ""


def _found(matched: Sequence[Message]) -> str:
    return "none matched" if not matched else f"{len(matched)} matched"


def report(
    messages: Sequence[Message],
    match: MessageFilter,
    in_query: Collection[str] | None = None,
    limit: int = REPORT_LIMIT,
) -> str:
    """What arrived, one message per line (time UTC, from, to, subject), each followed by the
    filters it missed; the newest ``limit`` messages. ``in_query``: the ids the store found
    for the filter's ``query``."""
    if not messages:
        return "No message arrived."
    lines = [f"{_plural(len(messages), 'message')} arrived:"]
    skipped = max(len(messages) - limit, 0)
    if skipped:
        lines.append(f"  ... {skipped} older not shown")
    for number, m in enumerate(messages[skipped:], start=skipped + 1):
        lines.append(f"  {number}. {summary(m)}")
        misses = match.misses(m, in_query=None if in_query is None else m.id in in_query) if match else []
        lines.extend(f"     missed {miss}" for miss in misses)
        if match and not misses:
            lines.append("     matched")
    return "\n".join(lines)


def summary(m: Message) -> str:
    """``12:00:01.312 UTC from a@x.org to ['b@x.org'] 'Subject'`` (header values, else envelope)."""
    sender = m.from_ or f"<{m.mail_from}> (envelope)"
    to = f"to {m.to!r}" if m.to else f"to {list(m.rcpt_tos)!r} (envelope)"
    bcc = f" bcc {m.bcc!r}" if m.to and m.bcc else ""
    at = m.received_at.astimezone(timezone.utc).strftime("%H:%M:%S.%f")[:-3] + " UTC"
    return f"{at} from {sender} {to}{bcc} {m.subject!r}"
