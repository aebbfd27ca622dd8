"""The SMTP state machine: one :class:`SMTPProtocol` per connection, on ``asyncio.Protocol``.

Bytes arrive in :meth:`SMTPProtocol.data_received`, are appended to a buffer and scanned in
bulk: commands by ``bytes.find`` for LF, message data by ``bytes.find`` for CRLF.CRLF, with no
coroutine and no allocation per line. Replies produced while handling one chunk are written
together, in order. A message is in the store before the ``250`` that names it is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import ClassVar, cast

from . import budget, commands, delivery
from .auth import AUTH_LINE_LIMIT, AUTH_RESPONSE_LIMIT, cmd_auth
from .chunking import cmd_bdat
from .data import cmd_data
from .faultapply import apply_fault
from .idle import arm_sweeper, check_idle
from .replies import REPLY, Reply
from .starttls import cmd_starttls, start_handshake
from .state import EngineContext, Envelope, Session

__all__ = ["BufferedSMTPProtocol", "SMTPProtocol", "protocol_class"]

# First words that mean a web client reached the SMTP port (cross-protocol attacks):
# the connection is dropped at once and nothing of it is ever stored.
_FORBIDDEN = frozenset(
    {b"GET", b"POST", b"PUT", b"HEAD", b"DELETE", b"OPTIONS", b"PATCH", b"CONNECT", b"HOST:", b"USER-AGENT:"}
)
_FIRST_WORD = 12  # octets that hold any word of _FORBIDDEN and the space after it


def _is_forbidden(start: bytes | bytearray) -> bool:
    """Whether a line that begins with ``start`` (its first :data:`_FIRST_WORD` octets, or all
    of it) is an HTTP request line or header: the first word decides, whatever follows."""
    return bytes(start[:_FIRST_WORD]).split(b" ", 1)[0].upper() in _FORBIDDEN


_TLS_RECORD = 0x16  # the first octet of a TLS handshake record (a ClientHello)
_FLUSH_EVERY = 64  # replies batched from one read before they are written
_MAIL_ALLOWANCE = 128  # room for ESMTP parameters on MAIL/RCPT beyond the command limit
_COUNTS_AS_ERROR = range(500, 504)  # replies that count toward max_bad_commands
# Refused commands and injected faults, with the reply, peer and envelope in the record's
# extras (smtp_reply, smtp_fault, ...): the command line prints a line for each.
_refusals = logging.getLogger("mocksmtp.smtp.refusals")
_BEFORE_TLS = frozenset({b"EHLO", b"NOOP", b"STARTTLS", b"QUIT"})  # allowed by require_tls (RFC 3207)


class SMTPProtocol(asyncio.Protocol):
    """One SMTP session. Created by the server's protocol factory with the shared context.

    Input arrives in :meth:`data_received`; on asyncio's own loops the server uses
    :class:`BufferedSMTPProtocol` instead (see :func:`protocol_class`).
    """

    _handlers: ClassVar[dict[bytes, Callable[[SMTPProtocol, bytes], None]]]

    # Per-session state that starts the same for every session: class attributes, so that a
    # new connection (thousands a second under load) assigns only what differs.
    transport: asyncio.Transport | None = None
    in_data = False  # the current reader is a DataReader (see data.py)
    data_started = 0.0
    data_bytes = 0
    held = 0  # octets of message data this session counts in ctx.pending_data
    _draining = False
    closed = False
    _bad_commands = 0
    last_activity = 0.0
    _timer: asyncio.TimerHandle | None = None
    # Hooks for the extensions (STARTTLS, AUTH, BDAT) and injected faults:
    reader: Callable[[bytes], bytes] | None = None  # takes raw input (DATA, a BDAT chunk)
    line_hook: Callable[[bytes], None] | None = None  # takes lines (AUTH responses)
    suspended = False  # input is held (a delayed reply) or dropped (TLS handshake)
    storing = False  # a message was handed to the store and its reply waits for the outcome
    _discard_input = False
    tls_task: asyncio.Task[None] | None = None
    _lost = False
    _write_paused = False  # the client is not reading its replies (pause_writing)
    _batching = False  # replies are collected in _out (while one read is handled) to write once

    # The concepts that live in modules of their own, bound as methods (no extra call):
    deliver = delivery.deliver
    end_transaction = delivery.end_transaction
    fault = apply_fault
    budget_full = budget.budget_full
    budget_exceeded = budget.budget_exceeded
    hold_data = budget.hold_data
    release_data = budget.release_data
    check_idle = check_idle

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.session = Session()
        self.envelope = Envelope()
        if ctx.loop is None:  # a session made outside a listener (the engine's tests)
            ctx.use_loop(asyncio.get_running_loop())
        # (get_running_loop() costs a getpid() system call, once per connection otherwise.)
        self.loop: asyncio.AbstractEventLoop = ctx.loop  # type: ignore[assignment]
        self.clock: Callable[[], float] = ctx.clock
        self._buf = bytearray()
        self._out: list[bytes] = []
        options = ctx.options
        self._must_tls = options.require_tls
        self._line_limit = options.max_command_length
        self._buffer_limit = options.max_command_length + _MAIL_ALLOWANCE

    def __repr__(self) -> str:
        state = "data" if self.in_data else ("closed" if self.closed else "command")
        return f"<SMTPProtocol peer={self.session.peer!r} state={state}>"

    # -- connection lifecycle -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        ctx = self.ctx
        ctx.stats.connections += 1
        ctx.protocols.add(self)
        ctx.stats.active_connections = len(ctx.protocols)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):  # (host, port), or (host, port, flow, scope) for IPv6
            self.session.peer = peer[:2]
        implicit = ctx.tls is not None and ctx.options.tls == "implicit"
        if ctx.logger.isEnabledFor(logging.INFO):
            ctx.logger.info("%s connected%s", self.peer_text(), " (implicit TLS)" if implicit else "")
        if ctx.stopping or len(ctx.protocols) > ctx.options.max_connections:
            if not ctx.stopping:
                ctx.logger.info("refusing %s: %d connections already", self.peer_text(), ctx.options.max_connections)
            if implicit:  # the client expects a TLS handshake: a plaintext reply is noise
                self._close()
            else:
                self.close_with(REPLY.SHUTTING_DOWN if ctx.stopping else REPLY.TOO_MANY_CONNECTIONS)
            return
        self.last_activity = self.clock()
        if ctx.sweeper is None:
            arm_sweeper(ctx, self.loop)
        if implicit:
            # Accepted in plaintext and counted from here: the handshake is the one STARTTLS
            # uses (its timeout, its stop), and the greeting follows it.
            start_handshake(self, self.transport, implicit=True)
            return
        self.welcome()

    def welcome(self) -> None:
        """The greeting, or what an injected ``connect`` fault puts in its place."""
        if self.ctx.faults.armed and self.fault("connect", (self.session.peer[0],), self._greet, self.hang_up):
            self.flush()
            return
        self._greet()

    def _greet(self) -> None:
        self.send(self.ctx.greeting)
        self.flush()

    def hang_up(self) -> None:
        """Send what is pending, then close (a refused greeting)."""
        self.flush()
        self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self.closed = True
        transport = self.transport
        if transport is not None and not transport.is_closing():
            # Python 3.10's SSL transport is not marked closed when its connection goes, and
            # would warn of an unclosed transport when collected; closing it is harmless then.
            transport.close()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        ctx = self.ctx
        ctx.protocols.discard(self)
        ctx.stats.active_connections = len(ctx.protocols)
        if not ctx.protocols and ctx.on_idle is not None:
            ctx.on_idle()
        self.reader = None  # a transaction cut off in DATA leaves nothing behind
        if self.held:
            self.release_data()
        self._buf = bytearray()
        if ctx.logger.isEnabledFor(logging.INFO):
            ctx.logger.info("%s disconnected", self.peer_text())

    def pause_writing(self) -> None:
        """The transport holds more than its high-water mark of our replies (the client sends
        faster than it reads them): stop reading, and stop handling commands already read."""
        self._write_paused = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        """The replies have drained below the low-water mark: handle what was held, then read
        again (from the loop, not from inside the transport's write path)."""
        self._write_paused = False
        if not self.closed:
            self.loop.call_soon(self._drained)

    def _drained(self) -> None:
        if not self.closed and not self._input_held():
            self.resume_input()

    def _input_held(self) -> bool:
        """Whether input is held rather than handled: a delayed reply or a TLS handshake
        (``_suspended``), or a client that does not read its replies (``_write_paused``)."""
        return self.suspended or self._write_paused

    def data_received(self, data: bytes) -> None:
        # The usual read: exactly one whole command line, with no reader, no partial line, no
        # overlong line being drained, and nothing held. It goes straight to _command; every
        # other read takes the general way through _receive, which checks the same things.
        # (_input_held() is spelled out: a call here costs 1% of a whole session.)
        n = len(data)
        if (
            n > 1
            and data[-1] == 0x0A
            and self.reader is None
            and data.find(b"\n") == n - 1
            and data[0] != _TLS_RECORD
            and not self._buf
            and not self._draining
            and not self.closed
            and not (self.suspended or self._write_paused)
        ):
            try:  # replies are written as they are made: nothing is batched here
                self._command(data[:-2] if data[-2] == 0x0D else data[:-1])
            except Exception:
                self._internal_error()
            return
        self._receive(data)

    def _receive(self, data: bytes) -> None:
        if self.closed:
            return
        if self.suspended or self._write_paused:  # _input_held(), without the call
            if not self._discard_input:
                self._buf += data
            return
        # Pipelined commands in one read get their replies in one write.
        batching, self._batching = self._batching, True
        try:
            while True:
                reader = self.reader
                data = self._feed_commands(data) if reader is None else reader(data)
                if not data or self.closed:
                    break
                if self.suspended or self._write_paused:  # _input_held(): hold what follows
                    if not self._discard_input:
                        self._buf += data
                    break
        except Exception:
            self._internal_error()
            return
        finally:
            self._batching = batching
        if self._out and not batching:
            self.flush()

    def _internal_error(self) -> None:
        """Isolation: a bug in one session is logged and ends that session, never the loop."""
        self.ctx.stats.errors += 1
        self.ctx.logger.exception("internal error in session with %s", self.peer_text())
        self.close_with(REPLY.LOCAL_ERROR)

    def eof_received(self) -> bool:
        # A half-closed client has nothing more to say; anything not yet acknowledged is lost.
        return False

    # -- shutdown, from the server ----------------------------------------------------------

    def shutdown(self) -> None:
        """Say 421 and close, unless a message is being received or stored: that one may
        finish (its reply is followed by the 421).

        A session in a TLS handshake cannot be answered in plaintext: it is ended at once. A
        session inside TLS is not left waiting for the client's side of the TLS close.
        """
        if self.tls_task is not None:
            self._end_handshake()
        elif not self.closed and not self.in_data and self.reader is None and not self.storing:
            self.close_with(REPLY.SHUTTING_DOWN)
            transport = self.transport
            if self.session.tls is not None and transport is not None and not _unsent(transport):
                # Closing TLS waits for the client's close_notify, which a client blocked on
                # stop() (a test's own thread) never sends: stop() would wait out its grace.
                # The 421 and our close_notify are sent; end the connection now.
                transport.abort()

    def abort(self) -> None:
        """Drop the connection now; a message in progress is discarded. A session whose
        message the store has not finished with is dropped without a reply (a 421 would say
        "not stored" of a message that may yet be)."""
        if self.tls_task is not None:
            self._end_handshake()
            return
        if self.storing:
            self.closed = True
        elif not self.closed:
            self.close_with(REPLY.SHUTTING_DOWN)
        if self.transport is not None:
            self.transport.abort()

    def _end_handshake(self) -> None:
        """Cancel the TLS handshake in progress and drop the connection; the session is gone
        (``connection_lost``) before this returns, so no one waits on it."""
        task, self.tls_task = self.tls_task, None
        if task is not None:
            task.cancel()
        if self.transport is not None:
            self.drop(self.transport)
        else:  # pragma: no cover - a handshake runs on a connected session
            self.closed = True
            self.connection_lost(None)

    def drop(self, transport: asyncio.Transport) -> None:
        """End the session now, with no reply, by aborting ``transport``; the session is gone
        (``connection_lost``) before this returns. For a TLS handshake that did not complete:
        the loop reports no ``connection_lost`` for a connection lost in one."""
        self.closed = True
        transport.abort()
        self.connection_lost(None)

    # -- input held and dropped around a TLS handshake (see starttls.py) --------------------

    def drop_input(self) -> None:
        """Drop what was read and not yet handled, and whatever arrives until
        :meth:`keep_input` (plaintext pipelined past STARTTLS, CVE-2011-0411)."""
        self._discard_input = True
        self._buf.clear()

    def keep_input(self) -> None:
        """Keep input that arrives while it is held again (see :meth:`drop_input`)."""
        self._discard_input = False

    def start_over(self, transport: asyncio.Transport, session: Session) -> None:
        """Carry on over ``transport`` (now TLS) as ``session``: a fresh envelope, no
        ``require_tls`` refusals, input no longer held (what was held is handled by
        :meth:`resume_input`), and the idle clock restarted."""
        self.transport = transport
        self.session = session
        self.envelope = Envelope()
        self._must_tls = False
        self.suspended = False
        self.last_activity = self.clock()

    # -- output -----------------------------------------------------------------------------

    def send(self, line: bytes) -> None:
        if self._batching:
            self._out.append(line)
        else:  # one reply to one command (the usual read): no list, no join
            transport = self.transport
            if transport is not None and not transport.is_closing():
                transport.write(line)
        if self.ctx.debug:  # a multi-line reply (EHLO) is logged one line per record
            for part in line.rstrip(b"\r\n").split(b"\r\n"):
                self.ctx.logger.debug("%s > %s", self.peer_text(), part.decode("utf-8", "replace"))

    def _refused(self, reply: Reply) -> None:
        """Log a refusal (for the command line), with the envelope it refused."""
        if _refusals.isEnabledFor(logging.INFO) and reply is not REPLY.SHUTTING_DOWN:
            env = self.envelope
            _refusals.info(
                "%s refused: %s",
                self.peer_text(),
                reply,
                extra={
                    "smtp_reply": reply,
                    "smtp_peer": self.peer_text(),
                    "smtp_mail_from": env.mail_from,
                    "smtp_rcpt_tos": tuple(env.rcpt_tos),
                },
            )

    def reply(self, reply: Reply) -> None:
        code = reply.code
        if code >= 400:
            self._refused(reply)
            self.ctx.stats.rejected_commands += 1
            if code in _COUNTS_AS_ERROR:
                self._bad_commands += 1
                if self._bad_commands >= self.ctx.options.max_bad_commands:
                    self.send(reply.line)
                    self.close_with(REPLY.TOO_MANY_ERRORS)
                    return
        self.send(reply.line)

    def flush(self) -> None:
        out = self._out
        if out:
            transport = self.transport
            if transport is not None and not transport.is_closing():
                transport.write(out[0] if len(out) == 1 else b"".join(out))
            out.clear()

    def close_with(self, reply: Reply) -> None:
        if reply.code >= 400:
            self._refused(reply)
        self.send(reply.line)
        if self._out:  # batched replies go first (a lone QUIT's 221 is written already)
            self.flush()
        self._close()

    def _close(self) -> None:
        self.closed = True
        self.in_data = False
        transport = self.transport
        if transport is not None and transport.is_closing():
            # Closed already (by us or by the client): a second close() is not harmless for
            # every transport (asyncio's SSL one then drops its protocol), and a pending abort
            # timer must stay.
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if transport is not None:
            transport.close()
            if _unsent(transport):
                # close() waits for our replies to be read; a client that never reads would
                # hold its slot forever. It gets idle_timeout to read them, then is dropped.
                self._timer = self.loop.call_later(self.ctx.options.idle_timeout, transport.abort)

    def peer_text(self) -> str:
        host, port = self.session.peer
        return f"[{host}]:{port}"

    # -- timers -----------------------------------------------------------------------------

    # -- command phase ----------------------------------------------------------------------

    def _feed_commands(self, data: bytes) -> bytes:
        """Handle every complete command line; return bytes that follow a DATA command."""
        if self._draining:  # discarding the rest of an overlong line
            nl = data.find(b"\n")
            if nl < 0:
                return b""
            self._draining = False
            self.reply(REPLY.LINE_TOO_LONG)
            data = data[nl + 1 :]
            if self.closed or not data:
                return b""
        buf = self._buf
        if data and data[0] == _TLS_RECORD and not buf and self.session.tls is None:
            # A TLS ClientHello on a plain connection: it would wait for a reply forever.
            self.close_with(REPLY.TLS_ON_PLAIN_PORT)
            return b""
        src: bytes | bytearray
        if buf:  # a partial line is pending: append to it
            buf += data
            src = buf
        else:  # the usual case: scan the read itself, and keep only a partial last line
            src = data
        pos = 0
        out = self._out
        while not self.closed and not (self.suspended or self._write_paused):  # _input_held()
            nl = src.find(b"\n", pos)
            if nl < 0:
                if len(src) - pos > self._buffer_limit and len(src) - pos > self._partial_limit(src, pos):
                    if _is_forbidden(src[pos : pos + _FIRST_WORD]):
                        self._not_smtp(bytes(src[pos : pos + _FIRST_WORD]))
                        return b""
                    self._draining = True
                    self.line_hook = None  # an AUTH response that long ends the exchange
                    buf.clear()
                    return b""
                break
            end = nl - 1 if nl > pos and src[nl - 1] == 0x0D else nl
            line = bytes(src[pos:end])
            pos = nl + 1
            self._command(line)
            if self.reader is not None:
                rest = bytes(src[pos:])
                buf.clear()
                return rest
            if len(out) >= _FLUSH_EVERY:
                # Pipelined replies go out every so often, so that a client that does not read
                # them fills the transport's buffer (pause_writing) long before our memory.
                self.flush()
        if src is buf:
            del buf[:pos]
        elif pos < len(src) and not self._discard_input:  # STARTTLS drops pipelined plaintext
            buf += src[pos:]
        return b""

    def _command(self, line: bytes) -> None:
        ctx = self.ctx
        self.last_activity = self.clock()
        if self.line_hook is not None:  # a response inside an AUTH exchange: never logged
            if ctx.debug:
                ctx.logger.debug("%s < ****", self.peer_text())
            self.line_hook(line)
            return
        if ctx.debug:
            ctx.logger.debug("%s < %s", self.peer_text(), _loggable(line))
        verb, _, arg = line.partition(b" ")
        handler = self._handlers.get(verb)  # the verb as nearly every client writes it
        if handler is None:
            verb = verb.upper()
            handler = self._handlers.get(verb)
        if handler is None:
            if verb in _FORBIDDEN:
                self._not_smtp(verb)
            elif not line:
                self.reply(REPLY.SYNTAX_ERROR)
            elif b"\x00" in line:
                self.reply(REPLY.NUL_IN_COMMAND)
            else:
                self.reply(REPLY.UNRECOGNIZED)
            return
        if len(line) + 2 > self._line_limit and len(line) + 2 > self._long_limit(verb):
            self.reply(REPLY.LINE_TOO_LONG)
        elif b"\x00" in arg:
            self.reply(REPLY.NUL_IN_COMMAND)
        elif self._must_tls and verb not in _BEFORE_TLS:
            self.reply(REPLY.TLS_REQUIRED)
        else:
            handler(self, arg)

    def _long_limit(self, verb: bytes) -> int:
        """The longest line, CRLF included, for ``verb`` (asked only past the command limit):
        room for parameters on MAIL and RCPT, for an initial response on AUTH (RFC 4954)."""
        if verb in (b"MAIL", b"RCPT"):
            return self._buffer_limit
        return AUTH_LINE_LIMIT if verb == b"AUTH" else self._line_limit

    def _partial_limit(self, src: bytes | bytearray, pos: int) -> int:
        """How long the unfinished line at ``src[pos:]`` may grow before it is drained: the
        same limits as a whole line, so that segmentation never changes a reply."""
        if self.line_hook is not None:  # a response inside an AUTH exchange
            return AUTH_RESPONSE_LIMIT + 2
        if src[pos : pos + 5].upper() == b"AUTH ":
            return AUTH_LINE_LIMIT
        return self._buffer_limit

    def _not_smtp(self, line: bytes) -> None:
        """A web client reached the SMTP port: close at once, with no reply."""
        self.ctx.logger.info(
            "%s sent %r: not SMTP (a web client?); closing", self.peer_text(), line.split(b" ", 1)[0].decode("latin-1")
        )
        self.ctx.stats.rejected_commands += 1
        self.flush()
        self._close()

    def reset_transaction(self) -> None:
        """Start a fresh envelope (RSET, a new HELO); its data no longer counts."""
        if self.envelope.mail_from is not None or self.envelope.rcpt_tos:
            if self.held:
                self.release_data()
            self.envelope = Envelope()

    # -- injected faults (see faults.py) ----------------------------------------------------

    def envelope_subjects(self) -> tuple[str, ...]:
        env = self.envelope
        return (env.mail_from or "", *env.rcpt_tos)

    def suspend(self) -> None:
        """Hold input (reading paused, what arrives is buffered) until :meth:`_resume_input`."""
        self.suspended = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_input(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()
        pending = bytes(self._buf)
        self._buf.clear()
        self._receive(pending)

    def resume_with(self, action: Callable[[], None]) -> None:
        """End a hold of input (see :meth:`suspend`): run ``action``, then read again and
        handle what was held, unless the session closed or its replies are unread."""
        self.suspended = False
        self.last_activity = self.clock()
        try:
            action()
        except Exception:
            self._internal_error()
            return
        if not self.closed and not self._input_held():  # unread replies: resume_writing will
            self.resume_input()


class BufferedSMTPProtocol(SMTPProtocol, asyncio.BufferedProtocol):
    """The engine as a buffered protocol, for asyncio's own loops.

    The transport receives straight into the server's read buffer (:meth:`get_buffer`): with
    a plain ``Protocol`` asyncio's loop makes a fresh 256 KiB ``bytes`` per read, which costs an
    mmap, an mremap and a munmap each time. uvloop copies each read into a ``bytes`` of its
    exact size in C, which is cheaper than these two calls into Python.
    """

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.ctx.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        # Message data is copied from the read buffer into the message once (by DataReader);
        # commands get bytes of their own. Nothing keeps a view of the read buffer.
        view = self.ctx.read_buffer[:nbytes]
        self.data_received(view if self.in_data else bytes(view))  # type: ignore[arg-type]


def protocol_class(loop: asyncio.AbstractEventLoop) -> type[SMTPProtocol]:
    """The engine's protocol for ``loop``: buffered on asyncio's loops, plain on others."""
    return BufferedSMTPProtocol if isinstance(loop, asyncio.BaseEventLoop) else SMTPProtocol


def _unsent(transport: asyncio.WriteTransport) -> int:
    """Octets written but not yet sent; 0 once there is no connection under the transport.

    Python 3.10's SSL transport raises AttributeError from get_write_buffer_size() once its
    connection is gone, which can be the case right after close() (3.11 rewrote sslproto).
    """
    try:
        return transport.get_write_buffer_size()
    except AttributeError:
        return 0


def _loggable(line: bytes) -> str:
    """A command line as it may appear in a log: AUTH credentials are never shown."""
    if line[:4].upper() == b"AUTH":
        verb, _, rest = line.partition(b" ")
        mechanism = rest.split(b" ", 1)[0]
        return f"{verb.decode('latin-1')} {mechanism.decode('latin-1')} ****"
    return line.decode("utf-8", "backslashreplace")


SMTPProtocol._handlers = {
    b"EHLO": commands.cmd_ehlo,
    b"HELO": commands.cmd_helo,
    b"MAIL": commands.cmd_mail,
    b"RCPT": commands.cmd_rcpt,
    b"DATA": cmd_data,
    b"RSET": commands.cmd_rset,
    b"NOOP": commands.cmd_noop,
    b"QUIT": commands.cmd_quit,
    b"VRFY": commands.cmd_vrfy,
    b"HELP": commands.cmd_help,
    b"EXPN": commands.cmd_not_implemented,
    b"TURN": commands.cmd_not_implemented,
    b"ETRN": commands.cmd_not_implemented,
    b"STARTTLS": cmd_starttls,
    b"AUTH": cmd_auth,
    b"BDAT": cmd_bdat,
}
