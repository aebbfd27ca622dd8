"""The server's budget for message data in flight (``max_pending_data``).

Each session counts the octets of message data it holds (``held``: while it receives, and
while a store's ``add_later`` stores the message) in the server's ``pending_data``; a new
DATA or BDAT is refused with ``452`` while the others' data fills the budget, and data that
would pass it is discarded (``452`` at its end). These are the session's
:class:`~.session_io.SessionIO` methods of the same names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .session_io import SessionIO

__all__ = ["budget_exceeded", "budget_full", "hold_data", "release_data"]


def budget_full(proto: SessionIO) -> bool:
    """Whether a new DATA or BDAT is refused (452): the other sessions' message data in
    flight has reached ``max_pending_data`` (a BDAT transaction's own chunks never stop
    it from going on)."""
    budget = proto.ctx.options.max_pending_data
    return bool(budget) and proto.ctx.pending_data - proto.held >= budget


def budget_exceeded(proto: SessionIO) -> bool:
    """Whether this session's data in flight must be discarded (452 at its end): the
    server is past ``max_pending_data`` and others hold data too (a message that is the
    only one in flight is never refused for the budget, so any size limit stays usable)."""
    budget = proto.ctx.options.max_pending_data
    pending = proto.ctx.pending_data
    return bool(budget) and pending > budget and pending > proto.held


def hold_data(proto: SessionIO, n: int) -> None:
    """``n`` more octets of this session's message data are in memory."""
    proto.held += n
    proto.ctx.pending_data += n


def release_data(proto: SessionIO) -> None:
    """This session's message data no longer counts (stored, refused, discarded, gone)."""
    if proto.held:
        proto.ctx.pending_data -= proto.held
        proto.held = 0
