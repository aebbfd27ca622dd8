"""What a command module may do with the session it serves: :class:`SessionIO`.

The command modules (:mod:`.auth`, :mod:`.chunking`, :mod:`.data`, :mod:`.starttls`,
:mod:`.commands`) and the session's helpers (:mod:`.delivery`, :mod:`.idle`, :mod:`.faults`)
see a session only through this interface, and import it under ``TYPE_CHECKING`` only: none of
them imports :mod:`.protocol`, which implements it (a test checks both). Everything here is
public, so that the protocol's private state stays its own.

The attributes are the session's own hot-path state, not properties: a property or an extra
call per command costs about 1.5k instructions, 1% of a whole session.

>>> def cmd_noop(io: SessionIO, arg: bytes) -> None:  # doctest: +SKIP
...     io.send(REPLY.OK.line)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .replies import Reply
    from .state import EngineContext, Envelope, Session

__all__ = ["SessionIO"]


class SessionIO(Protocol):
    """One SMTP session, as the command modules see it (implemented by ``SMTPProtocol``)."""

    # -- what the session is --------------------------------------------------------------

    @property
    def ctx(self) -> EngineContext:
        """What every session of the server shares: options, store, stats, faults, TLS."""

    @property
    def session(self) -> Session:
        """The connection's state (peer, HELO name, TLS, AUTH user); its fields may be set."""

    envelope: Envelope
    """The transaction's state (MAIL, RCPT, chunks); a new one starts each transaction."""

    @property
    def transport(self) -> asyncio.Transport | None:
        """The connection (``None`` before it is made)."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop the session runs in."""

    @property
    def clock(self) -> Callable[[], float]:
        """The loop's clock (``loop.time``, without a Python call where it can)."""

    @property
    def closed(self) -> bool:
        """The session is closing or closed: nothing more is read or answered."""

    def peer_text(self) -> str:
        """The client's address as logs show it: ``[host]:port``."""

    # -- input: who reads it, and when it counts as activity ------------------------------

    reader: Callable[[bytes], bytes] | None
    """Takes raw input instead of the command parser (DATA, a BDAT chunk) and returns what
    follows its part (pipelined commands); ``None`` hands input back to the commands."""
    line_hook: Callable[[bytes], None] | None
    """Takes whole input lines instead of the command parser (an AUTH exchange)."""
    in_data: bool
    """The reader is a DATA reader (stop() lets it finish; the buffered protocol then hands it
    a view of the read buffer, not a copy)."""
    last_activity: float
    """When the client last sent something (on :attr:`clock`): the idle timeout counts from it."""
    data_started: float
    """When the current message's data began (for ``min_data_rate``)."""
    data_bytes: int
    """Octets of the current message's data received so far (for ``min_data_rate``)."""
    suspended: bool
    """Input is held (see :meth:`suspend`)."""
    storing: bool
    """A message was handed to the store and the session waits for the outcome (input held)."""
    held: int
    """Octets of message data this session counts against ``max_pending_data``."""
    tls_task: asyncio.Task[None] | None
    """The TLS handshake under way; stop() cancels it."""

    def suspend(self) -> None:
        """Hold input: reading is paused and what still arrives is kept for later."""

    def resume_input(self) -> None:
        """Read again, and first handle what was held."""

    def resume_with(self, action: Callable[[], None]) -> None:
        """End a hold of input: run ``action``, then read again (unless replies are unread)."""

    def drop_input(self) -> None:
        """Drop what was read and not yet handled, and what arrives until :meth:`keep_input`."""

    def keep_input(self) -> None:
        """Keep what arrives while input is held (undoes :meth:`drop_input`)."""

    # -- output -----------------------------------------------------------------------------

    def send(self, line: bytes) -> None:
        """Send a ready-made reply line (batched while one read is handled)."""

    def reply(self, reply: Reply) -> None:
        """Send ``reply``, counting a refusal (and closing past ``max_bad_commands``)."""

    def flush(self) -> None:
        """Write the batched replies now."""

    def close_with(self, reply: Reply) -> None:
        """Send ``reply`` and everything batched, then close."""

    def hang_up(self) -> None:
        """Send what is batched, then close (a refused greeting, a fault's disconnect)."""

    def drop(self, transport: asyncio.Transport) -> None:
        """End now, with no reply, by aborting ``transport`` (a TLS handshake that failed)."""

    def welcome(self) -> None:
        """Send the greeting (or what a ``connect`` fault puts in its place)."""

    def start_over(self, transport: asyncio.Transport, session: Session) -> None:
        """Carry on over ``transport`` (after a TLS handshake) as ``session``, afresh."""

    # -- the transaction --------------------------------------------------------------------

    def fault(
        self, stage: str, subjects: Sequence[str], proceed: Callable[[], None], failed: Callable[[], None] | None = None
    ) -> bool:
        """Apply the injected fault for ``stage``, if one fires; True when it took over (then
        ``proceed`` runs after a pure delay, ``failed`` after a fault reply)."""

    def envelope_subjects(self) -> tuple[str, ...]:
        """The sender and recipients, as faults match them."""

    def deliver(
        self, raw: bytes, *, refusal: Reply | None = None, binary: bool = False, flags: frozenset[str] = frozenset()
    ) -> None:
        """End the transaction with the message ``raw``: stored, then ``250``; or refused."""

    def end_transaction(self, reply: Reply | None, line: bytes = b"") -> None:
        """End the transaction without a message, sending ``reply`` (or ``line``) if given."""

    def reset_transaction(self) -> None:
        """Start a fresh envelope (RSET, a new HELO)."""

    # -- the server's budget for message data in flight -------------------------------------

    def budget_full(self) -> bool:
        """Whether a new DATA or BDAT is refused: the others' data in flight fills the budget."""

    def budget_exceeded(self) -> bool:
        """Whether this session's data in flight must be discarded for the budget."""

    def hold_data(self, n: int) -> None:
        """``n`` more octets of this session's message data are in memory."""

    def release_data(self) -> None:
        """This session's message data no longer counts (stored, refused, discarded)."""
