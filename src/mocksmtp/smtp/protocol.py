"""The SMTP state machine: one :class:`SMTPProtocol` per connection, on ``asyncio.Protocol``.

Bytes arrive in :meth:`SMTPProtocol.data_received`, are appended to a buffer and scanned in
bulk: commands by ``bytes.find`` for LF, message data by ``bytes.find`` for CRLF.CRLF, with no
coroutine and no allocation per line. Replies produced while handling one chunk are written
together, in order. A message is in the store before the ``250`` that names it is written.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from typing import ClassVar, cast

from ..message import _new_message, _protocol_flags
from .address import SIMPLE_FROM, SIMPLE_TO, PathError, parse_path_argument, validate_path
from .auth import AUTH_LINE_LIMIT, AUTH_RESPONSE_LIMIT, cmd_auth
from .chunking import cmd_bdat
from .data import cmd_data
from .faults import Fault
from .numbers import fits_in
from .replies import REPLY, Reply
from .starttls import cmd_starttls, start_handshake
from .state import EngineContext, Envelope, Session

__all__ = ["BufferedSMTPProtocol", "SMTPProtocol", "protocol_class"]

# First words that mean a web client reached the SMTP port (cross-protocol attacks):
# the connection is dropped at once and nothing of it is ever stored.
_FORBIDDEN = frozenset({b"GET", b"POST", b"PUT", b"HEAD", b"DELETE", b"OPTIONS", b"PATCH",
                        b"CONNECT", b"HOST:", b"USER-AGENT:"})
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
    _in_data = False  # the current reader is a DataReader (see data.py)
    _data_started = 0.0
    _data_bytes = 0
    _held = 0  # octets of message data this session counts in ctx.pending_data
    _draining = False
    _closed = False
    _bad_commands = 0
    _last_activity = 0.0
    _timer: asyncio.TimerHandle | None = None
    # Hooks for the extensions (STARTTLS, AUTH, BDAT) and injected faults:
    _reader: Callable[[bytes], bytes] | None = None  # takes raw input (DATA, a BDAT chunk)
    _line_hook: Callable[[bytes], None] | None = None  # takes lines (AUTH responses)
    _suspended = False  # input is held (a delayed reply) or dropped (TLS handshake)
    _discard_input = False
    _tls_task: asyncio.Task[None] | None = None
    _lost = False
    _write_paused = False  # the client is not reading its replies (pause_writing)
    _batching = False  # replies are collected in _out (while one read is handled) to write once

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.session = Session()
        self.envelope = Envelope()
        if ctx.loop is None:  # a session made outside a listener (the engine's tests)
            ctx.use_loop(asyncio.get_running_loop())
        # (get_running_loop() costs a getpid() system call, once per connection otherwise.)
        self._loop: asyncio.AbstractEventLoop = ctx.loop  # type: ignore[assignment]
        self._clock: Callable[[], float] = ctx.clock
        self._buf = bytearray()
        self._out: list[bytes] = []
        options = ctx.options
        self._must_tls = options.require_tls
        self._line_limit = options.max_command_length
        self._buffer_limit = options.max_command_length + _MAIL_ALLOWANCE

    def __repr__(self) -> str:
        state = "data" if self._in_data else ("closed" if self._closed else "command")
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
            ctx.logger.info("%s connected%s", self._peer_text(), " (implicit TLS)" if implicit else "")
        if ctx.stopping or len(ctx.protocols) > ctx.options.max_connections:
            if not ctx.stopping:
                ctx.logger.info("refusing %s: %d connections already", self._peer_text(),
                                ctx.options.max_connections)
            if implicit:  # the client expects a TLS handshake: a plaintext reply is noise
                self._close()
            else:
                self._close_with(REPLY.SHUTTING_DOWN if ctx.stopping else REPLY.TOO_MANY_CONNECTIONS)
            return
        self._last_activity = self._clock()
        if ctx.sweeper is None:
            _arm_sweeper(ctx, self._loop)
        if implicit:
            # Accepted in plaintext and counted from here: the handshake is the one STARTTLS
            # uses (its timeout, its stop), and the greeting follows it.
            start_handshake(self, self.transport, implicit=True)
            return
        self._welcome()

    def _welcome(self) -> None:
        """The greeting, or what an injected ``connect`` fault puts in its place."""
        if self.ctx.faults.armed and self._fault("connect", (self.session.peer[0],), self._greet,
                                                 self._hang_up):
            self._flush()
            return
        self._greet()

    def _greet(self) -> None:
        self._send(self.ctx.greeting)
        self._flush()

    def _hang_up(self) -> None:
        """Send what is pending, then close (a refused greeting)."""
        self._flush()
        self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._closed = True
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
        self._reader = None  # a transaction cut off in DATA leaves nothing behind
        if self._held:
            self._release_data()
        self._buf = bytearray()
        if ctx.logger.isEnabledFor(logging.INFO):
            ctx.logger.info("%s disconnected", self._peer_text())

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
        if not self._closed:
            self._loop.call_soon(self._drained)

    def _drained(self) -> None:
        if not self._closed and not self._input_held():
            self._resume_input()

    def _input_held(self) -> bool:
        """Whether input is held rather than handled: a delayed reply or a TLS handshake
        (``_suspended``), or a client that does not read its replies (``_write_paused``)."""
        return self._suspended or self._write_paused

    def data_received(self, data: bytes) -> None:
        # The usual read: exactly one whole command line, with no reader, no partial line, no
        # overlong line being drained, and nothing held. It goes straight to _command; every
        # other read takes the general way through _receive, which checks the same things.
        # (_input_held() is spelled out: a call here costs 1% of a whole session.)
        n = len(data)
        if (n > 1 and data[-1] == 0x0A and self._reader is None and data.find(b"\n") == n - 1
                and data[0] != _TLS_RECORD and not self._buf and not self._draining
                and not self._closed and not (self._suspended or self._write_paused)):
            try:  # replies are written as they are made: nothing is batched here
                self._command(data[:-2] if data[-2] == 0x0D else data[:-1])
            except Exception:
                self._internal_error()
            return
        self._receive(data)

    def _receive(self, data: bytes) -> None:
        if self._closed:
            return
        if self._suspended or self._write_paused:  # _input_held(), without the call
            if not self._discard_input:
                self._buf += data
            return
        # Pipelined commands in one read get their replies in one write.
        batching, self._batching = self._batching, True
        try:
            while True:
                reader = self._reader
                data = self._feed_commands(data) if reader is None else reader(data)
                if not data or self._closed:
                    break
                if self._suspended or self._write_paused:  # _input_held(): hold what follows
                    if not self._discard_input:
                        self._buf += data
                    break
        except Exception:
            self._internal_error()
            return
        finally:
            self._batching = batching
        if self._out and not batching:
            self._flush()

    def _internal_error(self) -> None:
        """Isolation: a bug in one session is logged and ends that session, never the loop."""
        self.ctx.stats.errors += 1
        self.ctx.logger.exception("internal error in session with %s", self._peer_text())
        self._close_with(REPLY.LOCAL_ERROR)

    def eof_received(self) -> bool:
        # A half-closed client has nothing more to say; anything not yet acknowledged is lost.
        return False

    # -- shutdown, from the server ----------------------------------------------------------

    def shutdown(self) -> None:
        """Say 421 and close, unless a message is being received: that one may finish.

        A session in a TLS handshake cannot be answered in plaintext: it is ended at once. A
        session inside TLS is not left waiting for the client's side of the TLS close.
        """
        if self._tls_task is not None:
            self._end_handshake()
        elif not self._closed and not self._in_data and self._reader is None:
            self._close_with(REPLY.SHUTTING_DOWN)
            transport = self.transport
            if self.session.tls is not None and transport is not None and not _unsent(transport):
                # Closing TLS waits for the client's close_notify, which a client blocked on
                # stop() (a test's own thread) never sends: stop() would wait out its grace.
                # The 421 and our close_notify are sent; end the connection now.
                transport.abort()

    def abort(self) -> None:
        """Drop the connection now; a message in progress is discarded."""
        if self._tls_task is not None:
            self._end_handshake()
            return
        if not self._closed:
            self._close_with(REPLY.SHUTTING_DOWN)
        if self.transport is not None:
            self.transport.abort()

    def _end_handshake(self) -> None:
        """Cancel the TLS handshake in progress and drop the connection; the session is gone
        (``connection_lost``) before this returns, so no one waits on it."""
        task, self._tls_task = self._tls_task, None
        if task is not None:
            task.cancel()
        self._closed = True
        if self.transport is not None:
            self.transport.abort()
        self.connection_lost(None)

    # -- output -----------------------------------------------------------------------------

    def _send(self, line: bytes) -> None:
        if self._batching:
            self._out.append(line)
        else:  # one reply to one command (the usual read): no list, no join
            transport = self.transport
            if transport is not None and not transport.is_closing():
                transport.write(line)
        if self.ctx.debug:  # a multi-line reply (EHLO) is logged one line per record
            for part in line.rstrip(b"\r\n").split(b"\r\n"):
                self.ctx.logger.debug("%s > %s", self._peer_text(), part.decode("utf-8", "replace"))

    def _refused(self, reply: Reply) -> None:
        """Log a refusal (for the command line), with the envelope it refused."""
        if _refusals.isEnabledFor(logging.INFO) and reply is not REPLY.SHUTTING_DOWN:
            env = self.envelope
            _refusals.info("%s refused: %s", self._peer_text(), reply, extra={
                "smtp_reply": reply, "smtp_peer": self._peer_text(),
                "smtp_mail_from": env.mail_from, "smtp_rcpt_tos": tuple(env.rcpt_tos)})

    def _reply(self, reply: Reply) -> None:
        code = reply.code
        if code >= 400:
            self._refused(reply)
            self.ctx.stats.rejected_commands += 1
            if code in _COUNTS_AS_ERROR:
                self._bad_commands += 1
                if self._bad_commands >= self.ctx.options.max_bad_commands:
                    self._send(reply.line)
                    self._close_with(REPLY.TOO_MANY_ERRORS)
                    return
        self._send(reply.line)

    def _flush(self) -> None:
        out = self._out
        if out:
            transport = self.transport
            if transport is not None and not transport.is_closing():
                transport.write(out[0] if len(out) == 1 else b"".join(out))
            out.clear()

    def _close_with(self, reply: Reply) -> None:
        if reply.code >= 400:
            self._refused(reply)
        self._send(reply.line)
        if self._out:  # batched replies go first (a lone QUIT's 221 is written already)
            self._flush()
        self._close()

    def _close(self) -> None:
        self._closed = True
        self._in_data = False
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
                self._timer = self._loop.call_later(self.ctx.options.idle_timeout, transport.abort)

    def _peer_text(self) -> str:
        host, port = self.session.peer
        return f"[{host}]:{port}"

    # -- timers -----------------------------------------------------------------------------

    def _check_idle(self, now: float) -> None:
        """Idle timeout in command mode; in DATA, a minimum rate once the timeout has passed.

        Called by the server's sweeper (:func:`_sweep`) a few times per ``idle_timeout``.
        """
        if self._closed:
            return
        opts = self.ctx.options
        if self._suspended:  # a delayed reply or a TLS handshake (which has its own timeout)
            self._last_activity = now
            return
        if self._in_data or self._reader is not None:
            # Each octet buys 1/min_data_rate seconds beyond idle_timeout, and no gap between
            # chunks may exceed idle_timeout.
            deadline = self._last_activity + opts.idle_timeout
            if opts.min_data_rate:
                deadline = min(deadline, self._data_started + opts.idle_timeout
                               + self._data_bytes / opts.min_data_rate)
            if now >= deadline:
                self.ctx.logger.info("%s too slow in DATA; closing", self._peer_text())
                self._close_with(REPLY.DATA_TOO_SLOW)
        elif now >= self._last_activity + opts.idle_timeout:
            self.ctx.logger.info("%s idle for %ss; closing", self._peer_text(), opts.idle_timeout)
            self._close_with(REPLY.IDLE_TIMEOUT)

    # -- command phase ----------------------------------------------------------------------

    def _feed_commands(self, data: bytes) -> bytes:
        """Handle every complete command line; return bytes that follow a DATA command."""
        if self._draining:  # discarding the rest of an overlong line
            nl = data.find(b"\n")
            if nl < 0:
                return b""
            self._draining = False
            self._reply(REPLY.LINE_TOO_LONG)
            data = data[nl + 1 :]
            if self._closed or not data:
                return b""
        buf = self._buf
        if data and data[0] == _TLS_RECORD and not buf and self.session.tls is None:
            # A TLS ClientHello on a plain connection: it would wait for a reply forever.
            self._close_with(REPLY.TLS_ON_PLAIN_PORT)
            return b""
        src: bytes | bytearray
        if buf:  # a partial line is pending: append to it
            buf += data
            src = buf
        else:  # the usual case: scan the read itself, and keep only a partial last line
            src = data
        pos = 0
        out = self._out
        while not self._closed and not (self._suspended or self._write_paused):  # _input_held()
            nl = src.find(b"\n", pos)
            if nl < 0:
                if len(src) - pos > self._buffer_limit and len(src) - pos > self._partial_limit(src, pos):
                    if _is_forbidden(src[pos : pos + _FIRST_WORD]):
                        self._not_smtp(bytes(src[pos : pos + _FIRST_WORD]))
                        return b""
                    self._draining = True
                    self._line_hook = None  # an AUTH response that long ends the exchange
                    buf.clear()
                    return b""
                break
            end = nl - 1 if nl > pos and src[nl - 1] == 0x0D else nl
            line = bytes(src[pos:end])
            pos = nl + 1
            self._command(line)
            if self._reader is not None:
                rest = bytes(src[pos:])
                buf.clear()
                return rest
            if len(out) >= _FLUSH_EVERY:
                # Pipelined replies go out every so often, so that a client that does not read
                # them fills the transport's buffer (pause_writing) long before our memory.
                self._flush()
        if src is buf:
            del buf[:pos]
        elif pos < len(src) and not self._discard_input:  # STARTTLS drops pipelined plaintext
            buf += src[pos:]
        return b""

    def _command(self, line: bytes) -> None:
        ctx = self.ctx
        self._last_activity = self._clock()
        if self._line_hook is not None:  # a response inside an AUTH exchange: never logged
            if ctx.debug:
                ctx.logger.debug("%s < ****", self._peer_text())
            self._line_hook(line)
            return
        if ctx.debug:
            ctx.logger.debug("%s < %s", self._peer_text(), _loggable(line))
        verb, _, arg = line.partition(b" ")
        handler = self._handlers.get(verb)  # the verb as nearly every client writes it
        if handler is None:
            verb = verb.upper()
            handler = self._handlers.get(verb)
        if handler is None:
            if verb in _FORBIDDEN:
                self._not_smtp(verb)
            elif not line:
                self._reply(REPLY.SYNTAX_ERROR)
            elif b"\x00" in line:
                self._reply(REPLY.NUL_IN_COMMAND)
            else:
                self._reply(REPLY.UNRECOGNIZED)
            return
        if len(line) + 2 > self._line_limit and len(line) + 2 > self._long_limit(verb):
            self._reply(REPLY.LINE_TOO_LONG)
        elif b"\x00" in arg:
            self._reply(REPLY.NUL_IN_COMMAND)
        elif self._must_tls and verb not in _BEFORE_TLS:
            self._reply(REPLY.TLS_REQUIRED)
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
        if self._line_hook is not None:  # a response inside an AUTH exchange
            return AUTH_RESPONSE_LIMIT + 2
        if src[pos : pos + 5].upper() == b"AUTH ":
            return AUTH_LINE_LIMIT
        return self._buffer_limit

    def _not_smtp(self, line: bytes) -> None:
        """A web client reached the SMTP port: close at once, with no reply."""
        self.ctx.logger.info("%s sent %r: not SMTP (a web client?); closing", self._peer_text(),
                             line.split(b" ", 1)[0].decode("latin-1"))
        self.ctx.stats.rejected_commands += 1
        self._flush()
        self._close()

    def _reset_transaction(self) -> None:
        if self.envelope.mail_from is not None or self.envelope.rcpt_tos:
            if self._held:
                self._release_data()
            self.envelope = Envelope()

    def _cmd_ehlo(self, arg: bytes) -> None:
        name = arg.strip()
        if not name or _has_control(name) is not None:
            self._reply(REPLY.EHLO_SYNTAX)
            return
        if self.ctx.faults.armed and self._fault("helo", (name.decode("utf-8", "replace"),),
                                           lambda: self._cmd_ehlo_accept(name)):
            return
        self._cmd_ehlo_accept(name)

    def _cmd_ehlo_accept(self, name: bytes) -> None:
        self.session.helo = name.decode("utf-8", "replace")
        self.session.esmtp = True
        if self.envelope.mail_from is not None:  # (no call for the usual fresh envelope)
            self._reset_transaction()
        self._send(self.ctx.ehlo_reply(self.session))

    def _cmd_helo(self, arg: bytes) -> None:
        name = arg.strip()
        if not name or _has_control(name) is not None:
            self._reply(REPLY.HELO_SYNTAX)
            return
        if self.ctx.faults.armed and self._fault("helo", (name.decode("utf-8", "replace"),),
                                           lambda: self._cmd_helo_accept(name)):
            return
        self._cmd_helo_accept(name)

    def _cmd_helo_accept(self, name: bytes) -> None:
        self.session.helo = name.decode("utf-8", "replace")
        self.session.esmtp = False
        if self.envelope.mail_from is not None:  # (no call for the usual fresh envelope)
            self._reset_transaction()
        self._send(self.ctx.helo_reply)

    def _cmd_mail(self, arg: bytes) -> None:
        if self.session.helo is None:
            self._reply(REPLY.NEED_HELO)
            return
        if self.envelope.mail_from is not None:
            self._reply(REPLY.NESTED_MAIL)
            return
        if self.ctx.options.require_auth and self.session.auth_user is None:
            self._reply(REPLY.AUTH_REQUIRED)
            return
        params: list[str] = []
        smtputf8 = False
        simple = SIMPLE_FROM.fullmatch(arg)
        if simple is not None:  # <local@domain> and no parameters: nothing more to check
            address = simple[1].decode("ascii")
        else:
            try:
                path, params = parse_path_argument(arg, b"FROM:", REPLY.MAIL_SYNTAX)
                smtputf8 = self._check_mail_params(params)
                address = validate_path(path, utf8=smtputf8, bad=REPLY.BAD_SENDER,
                                        allow_empty=True)
            except PathError as e:
                self._reply(e.reply)
                return
        if self.ctx.faults.armed and self._fault(
                "mail", (address,), lambda: self._cmd_mail_accept(address, params, smtputf8)):
            return
        self._cmd_mail_accept(address, params, smtputf8)

    def _cmd_mail_accept(self, address: str, params: list[str], smtputf8: bool) -> None:
        env = self.envelope
        env.mail_from = address
        env.mail_options = params
        env.smtputf8 = smtputf8
        env.binarymime = bool(params) and any(p.upper() == "BODY=BINARYMIME" for p in params)
        self._send(REPLY.SENDER_OK.line)

    def _check_mail_params(self, params: list[str]) -> bool:
        """Validate MAIL parameters; return whether SMTPUTF8 was given."""
        if not params:
            return False
        if not self.session.esmtp:
            raise PathError(REPLY.UNKNOWN_PARAMETER)
        smtputf8 = False
        max_size = self.ctx.options.max_message_size
        for param in params:
            key, has_value, value = param.partition("=")
            key = key.upper()
            if key == "SIZE":
                if not value.isdigit() or not value.isascii():
                    raise PathError(REPLY.BAD_PARAMETER_VALUE)
                if max_size and not fits_in(value, max_size):
                    raise PathError(REPLY.MESSAGE_TOO_BIG)
            elif key == "BODY":
                if value.upper() not in ("7BIT", "8BITMIME", "BINARYMIME"):
                    raise PathError(REPLY.BAD_PARAMETER_VALUE)
            elif key == "SMTPUTF8":
                if has_value:
                    raise PathError(REPLY.BAD_PARAMETER_VALUE)
                smtputf8 = True
            else:
                raise PathError(REPLY.UNKNOWN_PARAMETER)
        return smtputf8

    def _cmd_rcpt(self, arg: bytes) -> None:
        env = self.envelope
        if env.mail_from is None:
            self._reply(REPLY.NEED_MAIL)
            return
        simple = SIMPLE_TO.fullmatch(arg)
        if simple is not None:
            address = simple[1].decode("ascii")
        else:
            try:
                path, params = parse_path_argument(arg, b"TO:", REPLY.RCPT_SYNTAX)
                if params:
                    raise PathError(REPLY.UNKNOWN_PARAMETER)
                address = validate_path(path, utf8=env.smtputf8, bad=REPLY.BAD_RECIPIENT,
                                        allow_postmaster=True)
            except PathError as e:
                self._reply(e.reply)
                return
        if len(env.rcpt_tos) >= self.ctx.options.max_recipients:
            self._reply(REPLY.TOO_MANY_RECIPIENTS)
            return
        if self.ctx.faults.armed and self._fault("rcpt", (address,), lambda: self._cmd_rcpt_accept(address)):
            return
        self._cmd_rcpt_accept(address)

    def _cmd_rcpt_accept(self, address: str) -> None:
        self.envelope.rcpt_tos.append(address)
        self._send(REPLY.RECIPIENT_OK.line)

    def _cmd_rset(self, arg: bytes) -> None:
        if arg.strip():
            self._reply(REPLY.NO_ARGUMENTS)
            return
        self._reset_transaction()
        self._send(REPLY.OK.line)

    def _cmd_noop(self, arg: bytes) -> None:
        self._send(REPLY.OK.line)

    def _cmd_quit(self, arg: bytes) -> None:
        if arg.strip():
            self._reply(REPLY.NO_ARGUMENTS)
            return
        self._close_with(REPLY.BYE)

    def _cmd_vrfy(self, arg: bytes) -> None:
        if not arg.strip():
            self._reply(REPLY.VRFY_SYNTAX)
        else:
            self._send(REPLY.CANNOT_VRFY.line)

    def _cmd_help(self, arg: bytes) -> None:
        self._send(REPLY.HELP.line)

    def _cmd_not_implemented(self, arg: bytes) -> None:
        self._reply(REPLY.NOT_IMPLEMENTED)

    # -- injected faults (see faults.py) ----------------------------------------------------

    def _envelope_subjects(self) -> tuple[str, ...]:
        env = self.envelope
        return (env.mail_from or "", *env.rcpt_tos)

    def _fault(self, stage: str, subjects: Sequence[str], proceed: Callable[[], None],
               failed: Callable[[], None] | None = None) -> bool:
        """Apply the fault that fires for this command, if any; True when one took over.

        ``proceed`` does what the command does without a fault (used after a pure delay);
        ``failed`` runs after a fault reply was sent.
        """
        fault = self.ctx.faults.pick(stage, subjects)
        if fault is None:
            return False
        _refusals.info("%s %s: injected %r", self._peer_text(), stage, fault,
                       extra={"smtp_fault": fault, "smtp_subjects": tuple(subjects)})
        if fault.delay > 0:
            self._suspend()
            self._loop.call_later(fault.delay, self._fault_due, fault, proceed, failed)
        else:
            self._fault_act(fault, proceed, failed)
        return True

    def _fault_act(self, fault: Fault, proceed: Callable[[], None],
                   failed: Callable[[], None] | None) -> None:
        if fault.disconnect:
            self._hang_up()
            return
        if fault.reply is None:
            proceed()
            return
        self.ctx.stats.rejected_commands += 1
        self._send(fault.reply.line)
        if failed is not None:
            failed()
        if fault.reply.code == 421 and not self._closed:
            self._hang_up()

    def _fault_due(self, fault: Fault, proceed: Callable[[], None],
                   failed: Callable[[], None] | None) -> None:
        if self._closed:
            return
        self._suspended = False
        self._last_activity = self._clock()
        try:
            self._fault_act(fault, proceed, failed)
        except Exception:
            self._internal_error()
            return
        if not self._closed and not self._input_held():  # unread replies: resume_writing will
            self._resume_input()

    def _suspend(self) -> None:
        """Hold input (reading paused, what arrives is buffered) until :meth:`_resume_input`."""
        self._suspended = True
        if self.transport is not None:
            self.transport.pause_reading()

    def _resume_input(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()
        pending = bytes(self._buf)
        self._buf.clear()
        self._receive(pending)

    # -- delivery: the one way a message (DATA or BDAT) goes into the store -----------------

    def _deliver(self, raw: bytes, *, refusal: Reply | None = None, binary: bool = False,
                 flags: frozenset[str] = frozenset()) -> None:
        """End the transaction with ``raw`` (the whole content): check it against the limits
        and strict mode, apply a ``"message"`` fault, store it and reply 250 naming it; or reply
        why not (``refusal`` when the reader already knows). See :meth:`_end_transaction`."""
        opts = self.ctx.options
        if refusal is None and (opts.strict or (opts.max_message_size and len(raw) > opts.max_message_size)):
            refusal = self._refusal(raw, binary)
        if refusal is not None:
            self.ctx.stats.rejected_messages += 1
            self._end_transaction(refusal)
            return
        if self.ctx.faults.armed and self._fault("message", self._envelope_subjects(),
                                                 lambda: self._store(raw, flags), self._message_refused):
            return
        self._store(raw, flags)

    def _refusal(self, raw: bytes, binary: bool) -> Reply | None:
        """Why the content ``raw`` may not be stored (size, strict mode), if it may not."""
        opts = self.ctx.options
        if opts.max_message_size and len(raw) > opts.max_message_size:
            return REPLY.MESSAGE_TOO_BIG
        if opts.strict and not binary:
            found = _protocol_flags(raw)
            if "long_line" in found:
                return REPLY.DATA_LINE_TOO_LONG
            if "bare_lf" in found or "bare_cr" in found:
                return REPLY.BARE_LINE_ENDING
        return None

    def _message_refused(self) -> None:
        """After a ``"message"`` fault's reply: the transaction ends without a message."""
        self.ctx.stats.rejected_messages += 1
        self._end_transaction(None)

    def _store(self, raw: bytes, flags: frozenset[str]) -> None:
        """Put the message in the store, then reply 250 naming it (451 if the store fails)."""
        stats = self.ctx.stats
        session, env = self.session, self.envelope
        assert env.mail_from is not None
        store = self.ctx.store
        try:
            message = _new_message(store.new_id(), raw, env.mail_from, tuple(env.rcpt_tos),
                                   tuple(env.mail_options), session.peer, session.helo or "",
                                   session.tls, session.auth_user, flags)
            store.add(message)
        except Exception:
            stats.errors += 1
            stats.rejected_messages += 1
            self.ctx.logger.exception("store failed to add a message from %s", self._peer_text())
            self._end_transaction(REPLY.LOCAL_ERROR)
            return
        stats.messages += 1
        stats.bytes += len(raw)
        logger = self.ctx.logger
        if logger.isEnabledFor(logging.INFO):  # not joining the recipients for nothing
            logger.info(
                "message %s from <%s> to %s, %d bytes", message.id, message.mail_from,
                ", ".join(f"<{r}>" for r in message.rcpt_tos), len(raw),
            )
        self._end_transaction(None, f"250 2.0.0 Ok: queued as {message.id}\r\n".encode())

    def _end_transaction(self, reply: Reply | None, line: bytes = b"") -> None:
        """The transaction is over: its data no longer counts, the envelope starts afresh, and
        ``reply`` (or the ready-made ``line``; neither when a fault replied) is sent. While the
        server stops, ``421`` follows whatever the outcome and the session closes: nothing new
        is accepted."""
        if reply is not None:
            self._reply(reply)  # before the reset: what the reply ends is still there to see
        elif line:
            self._send(line)
        if self._held:
            self._release_data()
        self.envelope = Envelope()
        if self.ctx.stopping and not self._closed:
            self._close_with(REPLY.SHUTTING_DOWN)

    # -- the server's budget for message data in flight (max_pending_data) ---------------

    def _budget_full(self) -> bool:
        """Whether a new DATA or BDAT is refused (452): the other sessions' message data in
        flight has reached ``max_pending_data`` (a BDAT transaction's own chunks never stop
        it from going on)."""
        budget = self.ctx.options.max_pending_data
        return bool(budget) and self.ctx.pending_data - self._held >= budget

    def _budget_exceeded(self) -> bool:
        """Whether this session's data in flight must be discarded (452 at its end): the
        server is past ``max_pending_data`` and others hold data too (a message that is the
        only one in flight is never refused for the budget, so any size limit stays usable)."""
        budget = self.ctx.options.max_pending_data
        pending = self.ctx.pending_data
        return bool(budget) and pending > budget and pending > self._held

    def _hold(self, n: int) -> None:
        """``n`` more octets of this session's message data are in memory."""
        self._held += n
        self.ctx.pending_data += n

    def _release_data(self) -> None:
        """This session's message data no longer counts (stored, refused, discarded, gone)."""
        if self._held:
            self.ctx.pending_data -= self._held
            self._held = 0


def _arm_sweeper(ctx: EngineContext, loop: asyncio.AbstractEventLoop) -> None:
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
        protocol._check_idle(now)
    if ctx.protocols and ctx.sweeper is None:
        ctx.sweeper = loop.call_later(interval, _sweep, ctx, loop, interval)


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
        self.data_received(view if self._in_data else bytes(view))  # type: ignore[arg-type]


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


_has_control = re.compile(rb"[\x00-\x1f\x7f]").search
"""Whether a HELO/EHLO name holds a control octet (a match, else ``None``): a CR or tab must
never reach ``Message.helo``, which later layers may put in a header or a page. (A compiled
pattern's own method: no Python call per HELO.)"""


def _loggable(line: bytes) -> str:
    """A command line as it may appear in a log: AUTH credentials are never shown."""
    if line[:4].upper() == b"AUTH":
        verb, _, rest = line.partition(b" ")
        mechanism = rest.split(b" ", 1)[0]
        return f"{verb.decode('latin-1')} {mechanism.decode('latin-1')} ****"
    return line.decode("utf-8", "backslashreplace")


SMTPProtocol._handlers = {
    b"EHLO": SMTPProtocol._cmd_ehlo,
    b"HELO": SMTPProtocol._cmd_helo,
    b"MAIL": SMTPProtocol._cmd_mail,
    b"RCPT": SMTPProtocol._cmd_rcpt,
    b"DATA": cmd_data,
    b"RSET": SMTPProtocol._cmd_rset,
    b"NOOP": SMTPProtocol._cmd_noop,
    b"QUIT": SMTPProtocol._cmd_quit,
    b"VRFY": SMTPProtocol._cmd_vrfy,
    b"HELP": SMTPProtocol._cmd_help,
    b"EXPN": SMTPProtocol._cmd_not_implemented,
    b"TURN": SMTPProtocol._cmd_not_implemented,
    b"ETRN": SMTPProtocol._cmd_not_implemented,
    b"STARTTLS": cmd_starttls,
    b"AUTH": cmd_auth,
    b"BDAT": cmd_bdat,
}
