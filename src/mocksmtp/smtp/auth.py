"""SMTP AUTH (RFC 4954) with the SASL mechanisms PLAIN, LOGIN and CRAM-MD5.

The option ``auth`` decides what is offered and accepted:

- ``None``: AUTH is not offered and answers ``502``.
- ``"any"``: PLAIN and LOGIN accept any user name and password (the user is recorded).
  CRAM-MD5 is **not** offered: the server would need the password to check the digest, and
  accepting any digest would let a client that computes it wrongly pass here and fail against a
  real server. Asking for it gets ``504``.
- a mapping of user to password: PLAIN, LOGIN and CRAM-MD5, checked against the mapping.

Wrong credentials get ``535``; past ``max_auth_failures`` of them (3 by default) the ``535``
is followed by ``421 4.7.0`` and the connection is closed, so one connection cannot try
passwords at speed.

Passwords never reach a log: the engine masks the AUTH line and every continuation line, and
nothing here logs.

>>> mechanisms("any"), mechanisms({"alice": "pw"})
(('PLAIN', 'LOGIN'), ('PLAIN', 'LOGIN', 'CRAM-MD5'))
>>> check_plain(b"\\x00alice\\x00pw")
Login(user='alice', mechanism='PLAIN')
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .replies import REPLY, Reply

if TYPE_CHECKING:
    from .session_io import SessionIO

__all__ = [
    "AUTH_LINE_LIMIT",
    "AUTH_RESPONSE_LIMIT",
    "AuthError",
    "Login",
    "check_plain",
    "cmd_auth",
    "decode_response",
    "mechanisms",
    "verify",
]

AUTH_RESPONSE_LIMIT = 12288
"""Longest SASL response a client may send, as an initial response or a line of its own, CRLF
not included (RFC 4954 §4); longer ones end the exchange with ``500 5.5.2``."""
AUTH_LINE_LIMIT = len(b"AUTH ") + 20 + 1 + AUTH_RESPONSE_LIMIT + 2
"""Longest AUTH command line, CRLF included: the verb, a mechanism name (at most 20 characters,
RFC 4422), a space and the initial response."""

_USERNAME = base64.b64encode(b"Username:")
_PASSWORD = base64.b64encode(b"Password:")


class AuthError(Exception):
    """The exchange ends with ``reply``."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(str(reply))
        self.reply = reply


@dataclass(frozen=True, slots=True)
class Login:
    """Credentials a client presented; ``repr`` never shows the secret."""

    user: str
    mechanism: str
    password: str | None = field(default=None, repr=False)
    challenge: bytes = field(default=b"", repr=False)
    digest: str = field(default="", repr=False)


def mechanisms(auth: str | Mapping[str, str] | None) -> tuple[str, ...]:
    """The mechanisms offered for the ``auth`` option, in the order advertised."""
    if auth is None:
        return ()
    if isinstance(auth, str):
        return ("PLAIN", "LOGIN")
    return ("PLAIN", "LOGIN", "CRAM-MD5")


def verify(auth: str | Mapping[str, str] | None, login: Login) -> bool:
    """Whether ``login`` is accepted under the ``auth`` option."""
    if auth is None:
        return False
    if isinstance(auth, str):
        return login.mechanism != "CRAM-MD5"
    expected = auth.get(login.user)
    if expected is None:
        return False
    if login.mechanism == "CRAM-MD5":
        digest = hmac.new(expected.encode(), login.challenge, hashlib.md5).hexdigest()
        return hmac.compare_digest(digest, login.digest.lower())
    return login.password is not None and hmac.compare_digest(login.password.encode(), expected.encode())


def decode_response(line: bytes) -> bytes:
    """A client's base64 response; ``*`` cancels (501), invalid base64 is 501, ``=`` is empty."""
    text = line.strip()
    if text == b"*":
        raise AuthError(REPLY.AUTH_CANCELLED)
    if text == b"=":
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise AuthError(REPLY.AUTH_BAD_BASE64) from None


def _text(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AuthError(REPLY.AUTH_MALFORMED) from None
    if any(ord(c) < 32 for c in text):
        raise AuthError(REPLY.AUTH_MALFORMED)
    return text


def check_plain(decoded: bytes) -> Login:
    """``authzid NUL authcid NUL password`` (RFC 4616); anything else is 501."""
    fields = decoded.split(b"\x00")
    if len(fields) != 3 or not fields[1]:
        raise AuthError(REPLY.AUTH_MALFORMED)
    _text(fields[0])
    return Login(user=_text(fields[1]), mechanism="PLAIN", password=_text(fields[2]))


def _check_cram(decoded: bytes, challenge: bytes) -> Login:
    user, sep, digest = decoded.rpartition(b" ")
    if not sep or not user or len(digest) != 32:
        raise AuthError(REPLY.AUTH_MALFORMED)
    try:
        int(digest, 16)
    except ValueError:
        raise AuthError(REPLY.AUTH_MALFORMED) from None
    return Login(user=_text(user), mechanism="CRAM-MD5", challenge=challenge, digest=digest.decode("ascii"))


class _Exchange:
    """One AUTH dialogue in progress: feed it response lines until it yields a Login."""

    __slots__ = ("challenge", "mechanism", "user")

    def __init__(self, mechanism: str, hostname: str) -> None:
        self.mechanism = mechanism
        self.user: str | None = None
        self.challenge = b""
        if mechanism == "CRAM-MD5":
            self.challenge = f"<{secrets.token_hex(8)}.{int(time.time())}@{hostname}>".encode()

    def first(self, initial: bytes | None) -> bytes | Login:
        """Start with the optional initial response: a challenge to send, or the Login."""
        if self.mechanism == "CRAM-MD5":
            if initial is not None:
                raise AuthError(REPLY.AUTH_SYNTAX)
            return base64.b64encode(self.challenge)
        if initial is None:
            return b"" if self.mechanism == "PLAIN" else _USERNAME
        return self.step(initial)

    def step(self, line: bytes) -> bytes | Login:
        decoded = decode_response(line)
        if self.mechanism == "PLAIN":
            return check_plain(decoded)
        if self.mechanism == "CRAM-MD5":
            return _check_cram(decoded, self.challenge)
        if self.user is None:  # LOGIN
            user = _text(decoded)
            if not user:
                raise AuthError(REPLY.AUTH_MALFORMED)
            self.user = user
            return _PASSWORD
        return Login(user=self.user, mechanism="LOGIN", password=_text(decoded))


# -- the AUTH command in a session ------------------------------------------------------------


def cmd_auth(proto: SessionIO, arg: bytes) -> None:
    """``AUTH mechanism [initial-response]``: start an exchange, continued line by line."""
    opts = proto.ctx.options
    session = proto.session
    if opts.auth is None:
        proto.reply(REPLY.NOT_IMPLEMENTED)
        return
    if session.helo is None or not session.esmtp:
        proto.reply(REPLY.NEED_EHLO)
        return
    if session.auth_user is not None:
        proto.reply(REPLY.ALREADY_AUTHENTICATED)
        return
    if proto.envelope.mail_from is not None:
        proto.reply(REPLY.MAIL_IN_PROGRESS)
        return
    parts = arg.split()
    if not 1 <= len(parts) <= 2:
        proto.reply(REPLY.AUTH_SYNTAX)
        return
    mechanism = parts[0].upper().decode("ascii", "replace")
    if mechanism not in mechanisms(opts.auth):
        proto.reply(REPLY.UNKNOWN_MECHANISM)
        return
    exchange = _Exchange(mechanism, opts.hostname)
    try:
        result = exchange.first(parts[1] if len(parts) == 2 else None)
    except AuthError as e:
        proto.reply(e.reply)
        return
    _next(proto, exchange, result)


def _next(proto: SessionIO, exchange: _Exchange, result: bytes | Login) -> None:
    if isinstance(result, Login):
        proto.line_hook = None
        _finish(proto, result)
        return
    proto.line_hook = lambda line: _continue(proto, exchange, line)
    proto.send(b"334 " + result + b"\r\n")


def _continue(proto: SessionIO, exchange: _Exchange, line: bytes) -> None:
    if len(line) > AUTH_RESPONSE_LIMIT:
        proto.line_hook = None
        proto.reply(REPLY.LINE_TOO_LONG)
        return
    try:
        result = exchange.step(line)
    except AuthError as e:
        proto.line_hook = None
        proto.reply(e.reply)
        return
    _next(proto, exchange, result)


def _finish(proto: SessionIO, login: Login) -> None:
    ctx = proto.ctx
    if not verify(ctx.options.auth, login):
        ctx.logger.info("%s AUTH %s failed for user %r", proto.peer_text(), login.mechanism, login.user)
        ctx.stats.auth_failures += 1
        proto.session.auth_failures += 1
        proto.reply(REPLY.AUTH_FAILED)
        limit = ctx.options.max_auth_failures
        if limit and proto.session.auth_failures > limit and not proto.closed:
            ctx.logger.info("%s more than %d AUTH failures; closing", proto.peer_text(), limit)
            proto.close_with(REPLY.TOO_MANY_AUTH_FAILURES)
        return

    def accept() -> None:
        proto.session.auth_user = login.user
        proto.send(REPLY.AUTH_OK.line)

    if ctx.faults.armed and proto.fault("auth", (login.user,), accept):
        return
    accept()
