"""Queries and assertions over a server's messages, shared by the sync and asyncio facades.

:class:`MessageQueries` gives a facade ``filter``, ``assert_sent`` and ``assert_nothing_sent``;
each facade adds its own ``wait_for`` (blocking in :class:`~mocksmtp.MockSMTPServer`, awaitable
in :class:`~mocksmtp.AsyncMockSMTPServer`) on top of :func:`wait_sync` / the helpers here.
Failures explain themselves: they list what arrived and which filter each message missed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from datetime import timezone
from typing import TYPE_CHECKING

from .errors import ConfigError, MessageAssertionError, WaitTimeout
from .message import Message
from .store import MemoryStore

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

    from .filters import FilterArgs, MessageFilter

__all__ = ["IncrementalMatch", "MessageQueries", "check_count", "check_timeout", "report", "summary",
           "timeout_error", "wait_sync"]

REPORT_LIMIT = 20
"""At most this many messages are listed in a failure text (the newest ones)."""


class MessageQueries:
    """``filter``, ``assert_sent`` and ``assert_nothing_sent`` over ``self.store``."""

    store: MemoryStore

    def filter(self, **filters: Unpack[FilterArgs]) -> list[Message]:
        """The kept messages matching every filter, oldest first.

        Filters: ``to``, ``cc``, ``bcc``, ``from_``, ``recipient``, ``subject``, ``contains``,
        ``has_attachment``, ``header``, ``where`` (see :mod:`mocksmtp.filters`).

        >>> server.filter(to="user@example.com", subject="Welcome")  # doctest: +SKIP
        [<Message id='3F9A1C-000001' from='app@example.com' to=['user@example.com'] size=412>]
        """
        from .filters import MessageFilter  # loads on the first query, not on import

        match = MessageFilter(**filters)
        return [m for m in self.store.messages() if match(m)]

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
        messages = self.store.messages()
        matched = [m for m in messages if match(m)]
        if (count is None and matched) or (count is not None and len(matched) == count):
            return matched
        wanted = "at least 1 message" if count is None else _plural(count, "message")
        raise MessageAssertionError(
            f"expected {wanted}{_matching(match)}; {_found(matched)}.\n"
            + report(messages, match), messages=messages, matched=matched)

    def assert_nothing_sent(self, **filters: Unpack[FilterArgs]) -> None:
        """Assert that no kept message matches ``filters`` (with none: that nothing arrived).

        >>> server.assert_nothing_sent(to="admin@example.com")  # doctest: +SKIP
        """
        __tracebackhide__ = True
        from .filters import MessageFilter  # loads on the first query, not on import

        match = MessageFilter(**filters)
        messages = self.store.messages()
        matched = [m for m in messages if match(m)]
        if matched:
            raise MessageAssertionError(
                f"expected no message{_matching(match)}; {_found(matched)}.\n"
                + report(messages, match), messages=messages, matched=matched)


def check_count(count: object, *, minimum: int = 1) -> int:
    if not isinstance(count, int) or isinstance(count, bool) or count < minimum:
        raise ConfigError(f"count must be an integer of at least {minimum}, got {count!r}")
    return count


def wait_sync(store: MemoryStore, count: int, timeout: float, match: MessageFilter) -> list[Message]:
    """Block until ``count`` messages in ``store`` match; raise :class:`WaitTimeout` after
    ``timeout`` seconds. Waits on the store's condition; matching (which parses) happens
    outside its lock, so the engine is never held up by a waiter."""
    __tracebackhide__ = True
    check_count(count)
    check_timeout(timeout)
    deadline = time.monotonic() + timeout
    matcher = IncrementalMatch(match)
    while True:
        messages = store.messages()
        matched = matcher.update(messages)
        if len(matched) >= count:
            return matched
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise timeout_error(messages, matched, count, timeout, match)
        store.wait_for(_changed_since(messages), remaining)


def _changed_since(snapshot: list[Message]) -> Callable[[list[Message]], bool]:
    """A store predicate: true once the store holds anything other than ``snapshot``."""
    seen, last = len(snapshot), snapshot[-1] if snapshot else None
    return lambda now: len(now) != seen or (seen > 0 and now[seen - 1] is not last)


class IncrementalMatch:
    """Matches only the messages not seen before (starting over after a clear)."""

    __slots__ = ("_match", "_matched", "_seen")

    def __init__(self, match: MessageFilter) -> None:
        self._match = match
        self._seen: list[Message] = []
        self._matched: list[Message] = []

    def update(self, messages: list[Message]) -> list[Message]:
        n = len(self._seen)
        if len(messages) < n or (n and messages[n - 1] is not self._seen[-1]):
            self._seen, self._matched, n = [], [], 0  # cleared since the last look
        fresh = messages[n:]
        self._matched = self._matched + [m for m in fresh if self._match(m)]
        self._seen = messages
        return self._matched


def check_timeout(timeout: object) -> None:
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout < 0:
        raise ConfigError(f"timeout must be a non-negative number of seconds, got {timeout!r}")


def timeout_error(messages: list[Message], matched: list[Message], count: int, timeout: float,
                  match: MessageFilter) -> WaitTimeout:
    return WaitTimeout(
        f"waited {timeout} s for {_plural(count, 'message')}{_matching(match)}; "
        f"{_found(matched)}.\n" + report(messages, match), messages=messages, matched=matched)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _matching(match: MessageFilter) -> str:
    return f" matching {match.describe()}" if match else ""


def _found(matched: Sequence[Message]) -> str:
    return "none matched" if not matched else f"{len(matched)} matched"


def report(messages: Sequence[Message], match: MessageFilter, limit: int = REPORT_LIMIT) -> str:
    """What arrived, one message per line (time UTC, from, to, subject), each followed by the
    filters it missed; the newest ``limit`` messages."""
    if not messages:
        return "No message arrived."
    lines = [f"{_plural(len(messages), 'message')} arrived:"]
    skipped = max(len(messages) - limit, 0)
    if skipped:
        lines.append(f"  ... {skipped} older not shown")
    for number, m in enumerate(messages[skipped:], start=skipped + 1):
        lines.append(f"  {number}. {summary(m)}")
        misses = match.misses(m) if match else []
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
