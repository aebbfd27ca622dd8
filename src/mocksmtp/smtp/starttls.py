"""The STARTTLS command (RFC 3207): upgrade a session's transport in place with ``loop.start_tls``.

After ``220`` the session reads nothing until the handshake is done, and whatever plaintext
the client had already sent (``STARTTLS\\r\\nNOOP\\r\\n`` in one segment) is dropped: commands
pipelined past STARTTLS must never run inside the TLS session (CVE-2011-0411). On success the
session starts afresh (no HELO, no AUTH), as RFC 3207 requires; on failure or timeout the
connection is closed and the server carries on.

Implicit TLS (``tls="implicit"``) goes through the same handshake, started from
``connection_made`` on a connection accepted in plaintext: it is counted against
``max_connections``, ended by ``stop()`` and timed out exactly like a STARTTLS handshake.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import TYPE_CHECKING, Any, cast

from .replies import REPLY
from .state import Session
from .tls import tls_version

if TYPE_CHECKING:
    from .session_io import SessionIO

__all__ = ["cmd_starttls", "start_handshake"]


def cmd_starttls(proto: SessionIO, arg: bytes) -> None:
    """``STARTTLS``: ``220`` and a handshake, or 501/502/503 when it cannot be done."""
    ctx = proto.ctx
    if proto.session.tls is not None:
        proto.reply(REPLY.ALREADY_TLS)
        return
    if ctx.tls is None or ctx.options.tls != "starttls":
        proto.reply(REPLY.NOT_IMPLEMENTED)
        return
    if arg.strip():
        proto.reply(REPLY.STARTTLS_SYNTAX)
        return
    if proto.envelope.mail_from is not None:
        proto.reply(REPLY.MAIL_IN_PROGRESS)
        return
    transport = proto.transport
    if transport is None:  # pragma: no cover - commands only arrive on a connected session
        return
    proto.send(REPLY.READY_FOR_TLS.line)
    proto.flush()
    start_handshake(proto, transport)


def start_handshake(proto: SessionIO, transport: asyncio.Transport, *, implicit: bool = False) -> None:
    """Hold the session's input and upgrade ``transport`` to TLS in a task of its own.

    Plaintext the session has already read is dropped (CVE-2011-0411); what the client sends
    inside TLS, even in the same segment as its last handshake message, is kept and handled
    once the handshake is done. With ``implicit`` (a port that is TLS from the first byte) the
    greeting follows the handshake.
    """
    proto.suspend()
    proto.drop_input()
    # The handshake's first step runs now, not on the loop's next turn: uvloop starts reading
    # right after connection_made whatever the protocol paused, and the ClientHello must reach
    # the TLS layer, not the session (asyncio's loops would wait, uvloop would not).
    proto.tls_task = _start_now(proto.loop, _handshake(proto, transport, implicit))
    # The rest of the plaintext read that held STARTTLS is dropped as it is handled, right
    # after this returns. Nothing can come through TLS before the loop's next turn (the TLS
    # layer starts then), and from then on input is held for the session, never dropped.
    proto.loop.call_soon(_keep_input, proto)


def _keep_input(proto: SessionIO) -> None:
    proto.keep_input()


def _start_now(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run ``coro`` up to its first suspension now and the rest in a task (what Python 3.12's
    eager tasks do); ``None`` when it finished in that first step."""
    try:
        first = coro.send(None)
    except StopIteration:
        return None
    rest = _Rest(coro, first)
    task = loop.create_task(_await(rest))
    # A task cancelled before its first step never resumes the coroutine: close it then, so
    # start_tls() undoes what it began.
    task.add_done_callback(lambda _: coro.close())
    return task


class _Rest:
    """The rest of a coroutine whose first step has run and yielded ``first``."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, None], first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, Any, None]:
        coro, value = self.coro, self.first
        while True:
            try:
                sent = yield value
            except BaseException as e:  # handed to the coroutine, as await would
                try:
                    value = coro.throw(e)
                except StopIteration:
                    return
            else:
                try:
                    value = coro.send(sent)
                except StopIteration:
                    return


async def _await(rest: _Rest) -> None:
    await rest


async def _handshake(proto: SessionIO, transport: asyncio.Transport, implicit: bool) -> None:
    ctx = proto.ctx
    assert ctx.tls is not None
    loop = proto.loop
    # The TLS layer may deliver the client's first command before start_tls() returns (with
    # the client's Finished, in one segment): the session holds it (see keep_input) and
    # handles it below.
    try:
        # (the session is the asyncio protocol that SessionIO describes)
        new = await loop.start_tls(
            transport,
            cast(asyncio.BaseProtocol, proto),
            ctx.tls.context,
            server_side=True,
            ssl_handshake_timeout=ctx.options.tls_handshake_timeout,
        )
    except asyncio.CancelledError:  # stop(): the session is ended by whoever cancelled
        proto.drop(transport)  # (no connection_lost from the loop)
        raise
    except Exception as e:  # handshake failed, timed out, or the client went away
        ctx.stats.tls_handshake_failures += 1
        ctx.logger.info("%s TLS handshake failed: %s", proto.peer_text(), e or type(e).__name__)
        proto.drop(transport)  # (no connection_lost from the loop)
        return
    finally:
        proto.tls_task = None
    if new is None:  # the connection was lost during the handshake (reported as no error)
        ctx.stats.tls_handshake_failures += 1
        ctx.logger.info("%s TLS handshake failed: connection lost", proto.peer_text())
        proto.drop(transport)  # (no connection_lost from the loop)
        return
    if proto.closed:
        new.close()
        return
    ctx.stats.tls_handshakes += 1
    proto.start_over(
        new,
        Session(
            peer=proto.session.peer,
            tls=tls_version(new.get_extra_info("ssl_object")),
            auth_failures=proto.session.auth_failures,
        ),
    )
    if ctx.debug:
        ctx.logger.debug("%s TLS started: %s", proto.peer_text(), proto.session.tls)
    if implicit:
        proto.welcome()
    if not proto.closed and not proto.suspended:
        proto.resume_input()  # the client's first command may have come with its Finished
