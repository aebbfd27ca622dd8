"""Per-connection and per-transaction state, and what the engine shares between connections."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from ..config import SMTPOptions
from ..store import MemoryStore, MessageStore, SupportsAddLater
from ..store.base import SharesFaults
from .auth import mechanisms
from .faults import FaultRegistry

if TYPE_CHECKING:
    import asyncio

    from ..message import Message
    from ..store import AddDone
    from .protocol import SMTPProtocol
    from .tls import ServerTLS

__all__ = ["READ_SIZE", "EngineContext", "Envelope", "PendingAdds", "Session", "Stats"]

READ_SIZE = 256 * 1024
"""Most octets taken from a socket in one read (asyncio's own default)."""


@dataclass(slots=True)
class Session:
    """What one connection has established; survives RSET and end of data."""

    peer: tuple[str, int] = ("", 0)
    helo: str | None = None
    esmtp: bool = False
    tls: str | None = None
    auth_user: str | None = None
    auth_failures: int = 0
    """AUTH attempts refused with ``535`` on this connection (kept across STARTTLS)."""


@dataclass(slots=True)
class Envelope:
    """One mail transaction; RSET, HELO/EHLO and end of data start a new one."""

    mail_from: str | None = None
    mail_options: list[str] = field(default_factory=list)
    rcpt_tos: list[str] = field(default_factory=list)
    smtputf8: bool = False
    binarymime: bool = False
    """MAIL had ``BODY=BINARYMIME``: the content must come in BDAT chunks."""
    chunks: bytearray | None = None
    """Content received so far by BDAT; ``None`` until the first chunk."""
    chunk_count: int = 0
    chunks_failed: bool = False
    """A chunk was refused: the rest are read and refused until LAST or RSET."""


@dataclass(slots=True)
class Stats:
    """Counters kept by the engine; read from any thread (plain ints, no lock needed)."""

    connections: int = 0
    """Connections accepted since start (or reset)."""
    active_connections: int = 0
    messages: int = 0
    """Messages stored."""
    bytes: int = 0
    """Octets of stored messages."""
    rejected_commands: int = 0
    """Commands answered with a 4xx or 5xx reply."""
    rejected_messages: int = 0
    """Message contents refused at the end of data (size, strict mode, store failure)."""
    errors: int = 0
    """Internal errors: a store that raised, an unexpected exception in a session."""
    tls_handshakes: int = 0
    """TLS handshakes completed (STARTTLS and implicit TLS)."""
    tls_handshake_failures: int = 0
    """TLS handshakes that failed, timed out or lost their client (not those ended by stop)."""
    auth_failures: int = 0
    """AUTH attempts refused with ``535`` (wrong credentials)."""

    def as_dict(self) -> dict[str, int]:
        return {
            "connections": self.connections,
            "active_connections": self.active_connections,
            "messages": self.messages,
            "bytes": self.bytes,
            "rejected_commands": self.rejected_commands,
            "rejected_messages": self.rejected_messages,
            "errors": self.errors,
            "tls_handshakes": self.tls_handshakes,
            "tls_handshake_failures": self.tls_handshake_failures,
            "auth_failures": self.auth_failures,
        }

    def reset(self) -> None:
        """Zero every counter but ``active_connections`` (a gauge, not a count)."""
        for name in _STATS_COUNTERS:
            setattr(self, name, 0)


# The counters reset() zeroes, computed once: dataclasses.fields() on every reset() was most
# of what MockSMTPServer.reset() cost.
_STATS_COUNTERS = tuple(f.name for f in fields(Stats) if f.name != "active_connections")


_ADD_AT_ONCE = MemoryStore.add_later
"""``add()``, then ``done(None)`` in the same call: the engine calls ``add()`` itself for a
store whose ``add_later`` is this one, without the hand-over's objects and calls (about 7k
instructions per message)."""


class PendingAdds:
    """The adds handed to the store's ``add_later`` whose ``done`` has not come yet.

    The engine keeps them in :attr:`pending` itself (a dict insert when it hands a message
    over, a pop when the store answers, from whatever thread that is: no call on the hot
    path), and calls :meth:`wake` after the pop while :attr:`waiters` is not 0. ``reset()``
    waits here, so that a message the store is still storing cannot land after the store was
    cleared (its 250 still follows its commit).
    """

    __slots__ = ("_cond", "pending", "waiters")

    def __init__(self) -> None:
        self.pending: dict[object, None] = {}
        self._cond = threading.Condition(threading.Lock())
        self.waiters = 0

    def wake(self) -> None:
        """An add ended (called after its pop, when :attr:`waiters` was read as not 0: a
        waiter that came first is woken, a later one finds the add gone)."""
        with self._cond:
            self._cond.notify_all()

    def wait(self, timeout: float) -> int:
        """Block until every add begun before this call has ended, for up to ``timeout``
        seconds; how many are still pending then (0: all ended)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self.waiters += 1
            try:
                before = self.pending.copy()
                while True:
                    left = sum(1 for add in before if add in self.pending)
                    remaining = deadline - time.monotonic()
                    if not left or remaining <= 0:
                        return left
                    self._cond.wait(remaining)
            finally:
                self.waiters -= 1


class EngineContext:
    """What every connection of one server shares: options, store, stats, live sessions."""

    __slots__ = (
        "_ehlo",
        "_ehlo_tls",
        "add_later",
        "adds",
        "clock",
        "debug",
        "faults",
        "greeting",
        "helo_reply",
        "logger",
        "loop",
        "loop_thread",
        "on_idle",
        "options",
        "pending_data",
        "protocols",
        "read_buffer",
        "stats",
        "stopping",
        "store",
        "storing",
        "sweeper",
        "tls",
    )

    def __init__(
        self, options: SMTPOptions, store: MessageStore, *, debug: bool = False, tls_names: Sequence[str] = ()
    ) -> None:
        self.options = options
        self.tls: ServerTLS | None = None
        if options.tls:  # ssl is imported only by servers that use TLS: `import mocksmtp` stays cheap
            from .tls import ServerTLS

            self.tls = ServerTLS.create(options, tls_names)
        """The server's TLS context and the CA clients trust (when ``tls`` is set)."""
        self.faults: FaultRegistry
        """Injected faults, registered from any thread and evaluated by the sessions (those
        of every node, for a store shared by several: see :mod:`.sharedfaults`)."""
        if isinstance(store, SharesFaults):
            from .sharedfaults import SharedFaults

            self.faults = SharedFaults(store.fault_table)
        else:
            self.faults = FaultRegistry()
        self.store = store
        self.add_later: Callable[[Message, AddDone], None] | None = None
        """The store's ``add_later`` (see :class:`~mocksmtp.store.SupportsAddLater`), or ``None``
        for a store that only has ``add``: the engine then stores on the loop, as ``add`` does."""
        if isinstance(store, SupportsAddLater) and getattr(type(store), "add_later", None) is not _ADD_AT_ONCE:
            self.add_later = store.add_later  # (MemoryStore's own is add() then done(): add() is called)
        self.adds = PendingAdds()
        """Every message handed to ``add_later`` until the store answers (reset() waits)."""
        self.storing = 0
        """Messages handed to ``add_later`` whose sessions wait for the outcome (stop() waits
        for them too)."""
        self.stats = Stats()
        self.protocols: set[SMTPProtocol] = set()
        self.pending_data = 0
        """Octets of message data the sessions hold while receiving, or while the store stores
        it (``max_pending_data``)."""
        self.stopping = False
        self.on_idle: Callable[[], object] | None = None
        """Called when the last session closes, and when an add finishes with no session left
        (the listener waits on it while stopping)."""
        self.sweeper: asyncio.TimerHandle | None = None
        """The timer of the idle-timeout sweep while sessions exist (see protocol.py)."""
        self.loop: asyncio.AbstractEventLoop | None = None
        """The loop the sessions run in (set by the listener; a restart may bring another)."""
        self.loop_thread = 0
        """The thread that runs :attr:`loop` (``threading.get_ident()``)."""
        self.clock: Callable[[], float] = time.monotonic
        """``loop.time`` without the Python call where it is ``time.monotonic`` (asyncio's)."""
        self.logger = logging.getLogger("mocksmtp.smtp")
        self.read_buffer = memoryview(bytearray(READ_SIZE))
        """Where every session of this engine receives. One is enough: the loop makes one read
        at a time and the session consumes it before the next."""
        self.debug = debug
        host = options.hostname
        self.greeting = f"220 {host} ESMTP mocksmtp\r\n".encode()
        self.helo_reply = f"250 {host}\r\n".encode()
        self._ehlo = _multiline(250, [host, *self.extensions(Session())])
        self._ehlo_tls = _multiline(250, [host, *self.extensions(Session(tls="TLS"))])

    def use_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve in ``loop`` from now on (the listener calls this when it opens)."""
        self.loop = loop
        self.loop_thread = threading.get_ident()
        import asyncio

        self.clock = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time

    def extensions(self, session: Session | None = None) -> list[str]:
        """The ESMTP extensions advertised in the EHLO reply to ``session``.

        STARTTLS only before TLS and only with a certificate; AUTH only when configured, and
        with ``require_tls`` only inside TLS.
        """
        opts = self.options
        in_tls = session is not None and session.tls is not None
        size = opts.max_message_size
        extensions = [
            f"SIZE {size}" if size else "SIZE",
            "8BITMIME",
            "SMTPUTF8",
            "PIPELINING",
            "CHUNKING",
            "BINARYMIME",
            "ENHANCEDSTATUSCODES",
        ]
        if opts.tls == "starttls" and self.tls is not None and not in_tls:
            extensions.append("STARTTLS")
        offered = mechanisms(opts.auth)
        if offered and (in_tls or not opts.require_tls):
            extensions.append("AUTH " + " ".join(offered))
        extensions.append("HELP")
        return extensions

    def ehlo_reply(self, session: Session) -> bytes:
        """The multi-line EHLO reply for ``session`` (computed once per TLS state)."""
        return self._ehlo if session.tls is None else self._ehlo_tls


def _multiline(code: int, lines: list[str]) -> bytes:
    last = len(lines) - 1
    return "".join(f"{code}{' ' if i == last else '-'}{text}\r\n" for i, text in enumerate(lines)).encode()
