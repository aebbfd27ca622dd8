"""The one delivery point: the one way a message (DATA or BDAT) goes into the store.

:func:`deliver` checks the message against the limits and strict mode, applies a
``"message"`` fault, stores it and only then replies ``250`` naming it; every transaction ends
in :func:`end_transaction`. These are the session's :class:`~.session_io.SessionIO` methods
of the same names.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..message import _new_message, _protocol_flags
from .replies import REPLY, Reply
from .state import Envelope

if TYPE_CHECKING:
    from .session_io import SessionIO

__all__ = ["deliver", "end_transaction"]


def deliver(proto: SessionIO, raw: bytes, *, refusal: Reply | None = None, binary: bool = False,
             flags: frozenset[str] = frozenset()) -> None:
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
    if proto.ctx.faults.armed and proto.fault("message", proto.envelope_subjects(),
                                             lambda: _store(proto, raw, flags),
                                             lambda: _message_refused(proto)):
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
    """Put the message in the store, then reply 250 naming it (451 if the store fails)."""
    stats = proto.ctx.stats
    session, env = proto.session, proto.envelope
    assert env.mail_from is not None
    store = proto.ctx.store
    try:
        message = _new_message(store.new_id(), raw, env.mail_from, tuple(env.rcpt_tos),
                               tuple(env.mail_options), session.peer, session.helo or "",
                               session.tls, session.auth_user, flags)
        store.add(message)
    except Exception:
        stats.errors += 1
        stats.rejected_messages += 1
        proto.ctx.logger.exception("store failed to add a message from %s", proto.peer_text())
        end_transaction(proto, REPLY.LOCAL_ERROR)
        return
    stats.messages += 1
    stats.bytes += len(raw)
    logger = proto.ctx.logger
    if logger.isEnabledFor(logging.INFO):  # not joining the recipients for nothing
        logger.info(
            "message %s from <%s> to %s, %d bytes", message.id, message.mail_from,
            ", ".join(f"<{r}>" for r in message.rcpt_tos), len(raw),
        )
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
