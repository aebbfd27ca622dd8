"""The one delivery point: the one way a message (DATA or BDAT) goes into the store.

:func:`deliver` checks the message against the limits and strict mode, applies a
``"message"`` fault, stores it and only then replies ``250`` naming it; every transaction ends
in :func:`end_transaction`. A store with ``add_later`` is not waited for in the loop: the
session pauses until the store answers (see :func:`_store`), the other sessions go on. These
are the session's :class:`~.session_io.SessionIO` methods of the same names.
"""

from __future__ import annotations

import logging
from threading import get_ident
from typing import TYPE_CHECKING

from ..errors import StoreError
from ..message import _new_message, _protocol_flags
from .replies import REPLY, Reply
from .state import Envelope

if TYPE_CHECKING:
    from ..message import Message
    from .session_io import SessionIO

__all__ = ["deliver", "end_transaction"]


def deliver(
    proto: SessionIO,
    raw: bytes,
    *,
    refusal: Reply | None = None,
    binary: bool = False,
    flags: frozenset[str] = frozenset(),
) -> None:
    """End the transaction with ``raw`` (the whole content): check it against the limits
    and strict mode, apply a ``"message"`` fault, store it and reply 250 naming it; or reply
    why not (``refusal`` when the reader already knows). See :func:`end_transaction`."""
    opts = proto.ctx.options
    if refusal is None and (opts.strict or (opts.max_message_size and len(raw) > opts.max_message_size)):
        refusal = _refusal(proto, raw, binary)
    if refusal is not None:
        proto.ctx.stats.rejected_messages += 1
        end_transaction(proto, refusal)
        return
    if proto.ctx.faults.armed and proto.fault(
        "message", proto.envelope_subjects(), lambda: _store(proto, raw, flags), lambda: _message_refused(proto)
    ):
        return
    _store(proto, raw, flags)


def _refusal(proto: SessionIO, raw: bytes, binary: bool) -> Reply | None:
    """Why the content ``raw`` may not be stored (size, strict mode), if it may not."""
    opts = proto.ctx.options
    if opts.max_message_size and len(raw) > opts.max_message_size:
        return REPLY.MESSAGE_TOO_BIG
    if opts.strict and not binary:
        found = _protocol_flags(raw)
        if "long_line" in found:
            return REPLY.DATA_LINE_TOO_LONG
        if "bare_lf" in found or "bare_cr" in found:
            return REPLY.BARE_LINE_ENDING
    return None


def _message_refused(proto: SessionIO) -> None:
    """After a ``"message"`` fault's reply: the transaction ends without a message."""
    proto.ctx.stats.rejected_messages += 1
    end_transaction(proto, None)


def _store(proto: SessionIO, raw: bytes, flags: frozenset[str]) -> None:
    """Put the message in the store, then reply 250 naming it (451 if the store fails).

    With a store that has ``add_later`` the session pauses (nothing more is read or answered,
    pipelined commands included) until the store says how it went, and the loop serves the
    other sessions meanwhile; a store that only has ``add`` stores on the loop."""
    session, env = proto.session, proto.envelope
    assert env.mail_from is not None
    ctx = proto.ctx
    store = ctx.store
    try:
        message = _new_message(
            store.new_id(),
            raw,
            env.mail_from,
            tuple(env.rcpt_tos),
            tuple(env.mail_options),
            session.peer,
            session.helo or "",
            session.tls,
            session.auth_user,
            flags,
        )
        add_later = ctx.add_later
        if add_later is None:
            store.add(message)
            error = None
        else:
            storing = _Storing(proto, message)
            add_later(message, storing.done)
            if not storing.answered:  # the store answers later: hold the session till then
                storing.waiting = True
                proto.storing = True
                ctx.storing += 1
                proto.suspend()
                return
            error = storing.error  # answered inside add_later (the memory store)
    except Exception as e:
        _stored(proto, len(raw), None, e)
        return
    _stored(proto, len(raw), message, error)


class _Storing:
    """A message handed to the store's ``add_later``, and the session waiting for it."""

    __slots__ = ("answered", "error", "finished", "message", "proto", "waiting")

    def __init__(self, proto: SessionIO, message: Message) -> None:
        self.proto = proto
        self.message = message
        self.answered = False  # the store answered inside add_later, with ``error``
        self.error: BaseException | None = None
        self.waiting = False  # the session was paused for it (the store did not answer at once)
        self.finished = False

    def done(self, error: BaseException | None) -> None:
        """The store's answer, from any thread: handled in the loop's thread."""
        ctx = self.proto.ctx
        if get_ident() == ctx.loop_thread:
            if self.waiting:
                self.finish(error)
            elif not self.answered:  # inside add_later: _store replies when it returns
                self.answered = True
                self.error = error
            return
        try:
            self.proto.loop.call_soon_threadsafe(self.finish, error)
        except RuntimeError:  # the loop is closed: stop() gave up waiting for the store
            outcome = "was not stored" if error is not None else "was stored"
            ctx.logger.warning(
                "message %s from %s %s after the server stopped; its client was not told",
                self.message.id,
                self.proto.peer_text(),
                outcome,
            )

    def finish(self, error: BaseException | None) -> None:
        """The store's later answer, in the loop's thread: reply, and read again."""
        if self.finished or not self.waiting:  # a store that answers twice: the first answer stands
            return
        self.finished = True
        proto = self.proto
        ctx = proto.ctx
        proto.storing = False
        ctx.storing -= 1
        if proto.closed:  # the client is gone (or stop() dropped it): count it, tell no one
            _stored(proto, len(self.message.raw), self.message, error)
            if not ctx.protocols and ctx.on_idle is not None:
                ctx.on_idle()
        else:
            proto.resume_with(lambda: _stored(proto, len(self.message.raw), self.message, error))


def _stored(proto: SessionIO, size: int, message: Message | None, error: BaseException | None) -> None:
    """The store's outcome: count and log it, and reply 250 naming the message, or 451 (421,
    closing the connection, when the store is a database that cannot be reached)."""
    stats = proto.ctx.stats
    logger = proto.ctx.logger
    if error is not None or message is None:
        stats.errors += 1
        stats.rejected_messages += 1
        if isinstance(error, StoreError) and error.unavailable:  # a database server that is down
            logger.warning("message from %s not stored: %s", proto.peer_text(), error)
            end_transaction(proto, None)
            if not proto.closed:
                proto.close_with(REPLY.STORE_UNAVAILABLE)
            return
        logger.error("store failed to add a message from %s", proto.peer_text(), exc_info=error)
        if not proto.closed:
            end_transaction(proto, REPLY.LOCAL_ERROR)
        return
    stats.messages += 1
    stats.bytes += size
    if logger.isEnabledFor(logging.INFO):  # not joining the recipients for nothing
        logger.info(
            "message %s from <%s> to %s, %d bytes",
            message.id,
            message.mail_from,
            ", ".join(f"<{r}>" for r in message.rcpt_tos),
            size,
        )
    if not proto.closed:
        end_transaction(proto, None, f"250 2.0.0 Ok: queued as {message.id}\r\n".encode())


def end_transaction(proto: SessionIO, reply: Reply | None, line: bytes = b"") -> None:
    """The transaction is over: its data no longer counts, the envelope starts afresh, and
    ``reply`` (or the ready-made ``line``; neither when a fault replied) is sent. While the
    server stops, ``421`` follows whatever the outcome and the session closes: nothing new
    is accepted."""
    if reply is not None:
        proto.reply(reply)  # before the reset: what the reply ends is still there to see
    elif line:
        proto.send(line)
    if proto.held:
        proto.release_data()
    proto.envelope = Envelope()
    if proto.ctx.stopping and not proto.closed:
        proto.close_with(REPLY.SHUTTING_DOWN)
