"""Idle timeouts and the minimum data rate, enforced by one sweep per server.

:func:`arm_sweeper` starts the sweep with the first connection after a quiet spell; every
interval it asks each session :func:`check_idle` and stops itself once no session is left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .replies import REPLY

if TYPE_CHECKING:
    import asyncio

    from .session_io import SessionIO
    from .state import EngineContext

__all__ = ["arm_sweeper", "check_idle"]


def check_idle(proto: SessionIO, now: float) -> None:
    """Idle timeout in command mode; in DATA, a minimum rate once the timeout has passed.

    Called by the server's sweeper (:func:`arm_sweeper`) a few times per ``idle_timeout``.
    """
    if proto.closed:
        return
    opts = proto.ctx.options
    if proto.suspended:  # a delayed reply or a TLS handshake (which has its own timeout)
        proto.last_activity = now
        return
    if proto.in_data or proto.reader is not None:
        # Each octet buys 1/min_data_rate seconds beyond idle_timeout, and no gap between
        # chunks may exceed idle_timeout.
        deadline = proto.last_activity + opts.idle_timeout
        if opts.min_data_rate:
            deadline = min(deadline, proto.data_started + opts.idle_timeout + proto.data_bytes / opts.min_data_rate)
        if now >= deadline:
            proto.ctx.logger.info("%s too slow in DATA; closing", proto.peer_text())
            proto.close_with(REPLY.DATA_TOO_SLOW)
    elif now >= proto.last_activity + opts.idle_timeout:
        proto.ctx.logger.info("%s idle for %ss; closing", proto.peer_text(), opts.idle_timeout)
        proto.close_with(REPLY.IDLE_TIMEOUT)


def arm_sweeper(ctx: EngineContext, loop: asyncio.AbstractEventLoop) -> None:
    """Start the sweep that enforces idle timeouts (on the first connection after a quiet spell).

    One timer per server instead of one per connection: under load, connections come and go
    by the thousand and each timer would cost a schedule and a cancel. A session is cut off at
    most one interval (an eighth of ``idle_timeout``, within 10 ms to 1 s) after it is due.
    """
    interval = min(max(ctx.options.idle_timeout / 8, 0.01), 1.0)
    ctx.sweeper = loop.call_later(interval, _sweep, ctx, loop, interval)


def _sweep(ctx: EngineContext, loop: asyncio.AbstractEventLoop, interval: float) -> None:
    ctx.sweeper = None
    if not ctx.protocols:
        return  # the next connection starts it again
    now = loop.time()
    for protocol in list(ctx.protocols):
        check_idle(protocol, now)
    if ctx.protocols and ctx.sweeper is None:
        ctx.sweeper = loop.call_later(interval, _sweep, ctx, loop, interval)
