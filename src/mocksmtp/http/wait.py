"""``GET /api/mocksmtp/wait``: the HTTP form of ``wait_for``, a long poll.

It answers as soon as ``count`` messages match ``query`` (status 200), or at the timeout with
what did match (status 408, and the same text as :class:`~mocksmtp.WaitTimeout`). It runs
:func:`mocksmtp.queries.wait_async` (so :func:`~mocksmtp.queries.wait_steps`, the one wait)
in the server's loop: no thread per request, no polling; it wakes when the store changes.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..errors import WaitTimeout
from ..filters import MessageFilter
from ..queries import wait_async
from .mailpit import message_summary

if TYPE_CHECKING:
    from ..message import Message
    from ..store import MessageStore

__all__ = ["long_poll"]


def _answer(
    store: MessageStore, matched: list[Message], *, count: int, timed_out: bool, error: str = ""
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "timed_out": timed_out,
        "count": count,
        "messages_count": len(matched),
        "total": store.count(),
        "messages": [message_summary(m, store.state(m.id)) for m in matched],
    }
    if error:
        body["error"] = error
    return body


async def long_poll(
    store: MessageStore, query: str, *, count: int, timeout: float, closing: asyncio.Event
) -> tuple[int, dict[str, Any]]:
    """``(status, body)``: 200 once ``count`` messages match ``query`` (all that match, oldest
    first), 408 at ``timeout`` with those that did, 503 if the server stops meanwhile."""
    match = MessageFilter(query=query) if query.strip() else MessageFilter()
    waiting = asyncio.ensure_future(wait_async(store, count, timeout, match))
    stopping = asyncio.ensure_future(closing.wait())
    try:
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not waiting.done():
        waiting.cancel()
        return 503, {
            "timed_out": False,
            "count": count,
            "messages_count": 0,
            "total": store.count(),
            "messages": [],
            "error": "the server is stopping",
        }
    try:
        matched = waiting.result()
    except WaitTimeout as e:
        return 408, _answer(store, e.matched, count=count, timed_out=True, error=str(e))
    return 200, _answer(store, matched, count=count, timed_out=False)
