"""Server options: one frozen dataclass, validated once, read by the engine.

Nothing here reads the environment; the command line and the pytest plugin turn their inputs
into :class:`SMTPOptions`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from .errors import ConfigError

__all__ = ["DEFAULT_ACCESS", "DEFAULT_HOSTNAME", "Credentials", "HTTPAccess", "SMTPOptions", "ServerOptions", "closest"]

DEFAULT_HOSTNAME = "localhost"
MiB = 1024 * 1024


class Credentials(Mapping[str, str]):
    """A read-only mapping of user to password whose ``repr`` never shows a password.

    >>> Credentials({"alice": "s3cret"})
    <Credentials users=['alice']>
    """

    __slots__ = ("_users",)

    def __init__(self, users: Mapping[str, str]) -> None:
        for user, password in users.items():
            if not isinstance(user, str) or not isinstance(password, str) or not user:
                raise ConfigError("auth must map non-empty user names (str) to passwords (str)")
        self._users = dict(users)

    def __getitem__(self, user: str) -> str:
        return self._users[user]

    def __iter__(self) -> Iterator[str]:
        return iter(self._users)

    def __len__(self) -> int:
        return len(self._users)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __hash__(self) -> int:
        return hash(frozenset(self._users.items()))

    def __repr__(self) -> str:
        return f"<Credentials users={sorted(self._users)!r}>"


@dataclass(frozen=True, slots=True)
class SMTPOptions:
    """Limits and policies of the SMTP engine (defaults from ``smtp-behaviour.md``).

    >>> SMTPOptions(max_message_size=1024).max_message_size
    1024
    """

    hostname: str = DEFAULT_HOSTNAME
    """Name used in the greeting and the EHLO reply. Never looked up."""
    max_message_size: int = 32 * MiB
    """Largest message accepted, in octets; advertised in ``SIZE``. 0 means no limit."""
    max_pending_data: int = 512 * MiB
    """Message data all sessions together may hold while receiving, in octets; 0 means no
    limit. Past it a new DATA or BDAT gets ``452 4.3.1``, and data that arrives beyond it is
    discarded and its message refused with ``452 4.3.1`` at the end, unless it is the only
    message in flight. The default holds 16 messages of the default maximum size, or 500
    sessions sending 1 MiB each, where connections times size would allow 32 GiB."""
    max_recipients: int = 1000
    """Recipients accepted per transaction; the next one gets ``452 4.5.3``."""
    max_connections: int = 1000
    """Simultaneous connections; the next one gets ``421 4.7.0`` and is closed."""
    max_command_length: int = 512
    """Longest command line in octets, CRLF included (RFC 5321 4.5.3.1.4)."""
    max_bad_commands: int = 10
    """Unrecognised or malformed commands before the session is closed with ``421 4.7.0``."""
    idle_timeout: float = 300.0
    """Seconds without a complete command before ``421 4.4.2`` and close (checked every eighth
    of it, 10 ms to 1 s apart, so the cut-off comes up to that much later)."""
    min_data_rate: int = 1024
    """During DATA, octets per second a client must keep up once ``idle_timeout`` has passed."""
    strict: bool = False
    """Reject (instead of storing and flagging) bare CR/LF and lines over 1000 octets in data."""
    backlog: int = 1024
    """Listen backlog: large, so hundreds of simultaneous connects never wait on SYN retries."""
    tls: str | None = None
    """``None`` (plain SMTP), ``"starttls"`` (offered after EHLO) or ``"implicit"`` (TLS from the
    first byte, like port 465)."""
    require_tls: bool = False
    """With ``tls="starttls"``: every command but EHLO, NOOP, STARTTLS and QUIT gets
    ``530 5.7.0`` until the client has started TLS."""
    certfile: str | None = None
    """PEM certificate chain; without it a throw-away CA and certificate are made (``trustme``)."""
    keyfile: str | None = None
    """PEM private key for ``certfile`` (when the key is not in ``certfile`` itself)."""
    tls_handshake_timeout: float = 10.0
    """Seconds a client has to complete a TLS handshake before it is disconnected."""
    auth: str | Mapping[str, str] | None = None
    """``None`` (AUTH not offered), ``"any"`` (any user and password accepted) or a mapping of
    user to password (stored as :class:`Credentials`, whose ``repr`` hides the passwords)."""
    require_auth: bool = False
    """``530 5.7.0`` to MAIL until the client has authenticated."""
    max_auth_failures: int = 3
    """AUTH attempts refused with ``535`` that a connection may make; the ``535`` of one more is
    followed by ``421 4.7.0`` and the connection is closed. 0 means no limit. (smtplib's
    ``login()`` tries up to three mechanisms: one failed call stays within the default.)"""

    def __post_init__(self) -> None:
        for name in ("strict", "require_tls", "require_auth"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.hostname, str) or not self.hostname or any(c.isspace() for c in self.hostname):
            raise ConfigError(f"hostname must be a non-empty name without spaces, got {self.hostname!r}")
        for name in (
            "max_message_size",
            "max_pending_data",
            "max_recipients",
            "max_connections",
            "max_bad_commands",
            "max_command_length",
            "backlog",
            "min_data_rate",
            "max_auth_failures",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
        if self.max_recipients < 1 or self.max_connections < 1 or self.backlog < 1:
            raise ConfigError("max_recipients, max_connections and backlog must be at least 1")
        if self.max_command_length < 512:
            raise ConfigError(f"max_command_length must be at least 512 (RFC 5321), got {self.max_command_length}")
        if (
            not isinstance(self.idle_timeout, (int, float))
            or isinstance(self.idle_timeout, bool)
            or self.idle_timeout <= 0
        ):
            raise ConfigError(f"idle_timeout must be a positive number of seconds, got {self.idle_timeout!r}")

        self._check_tls()
        self._check_auth()

    def _check_tls(self) -> None:
        if self.tls not in (None, "starttls", "implicit"):
            raise ConfigError(f"tls must be None, 'starttls' or 'implicit', got {self.tls!r}")
        for name in ("certfile", "keyfile"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigError(f"{name} must be a path to a PEM file, got {value!r}")
        if self.tls is None and (self.certfile or self.keyfile or self.require_tls):
            raise ConfigError("certfile, keyfile and require_tls need tls='starttls' or tls='implicit'")
        if self.keyfile and not self.certfile:
            raise ConfigError("keyfile was given without certfile; give both, or neither for a throw-away certificate")
        timeout = self.tls_handshake_timeout
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise ConfigError(f"tls_handshake_timeout must be a positive number of seconds, got {timeout!r}")

    def _check_auth(self) -> None:
        auth = self.auth
        if isinstance(auth, Mapping):
            if not auth:
                raise ConfigError("auth mapping is empty; give at least one user, or auth='any'")
            if not isinstance(auth, Credentials):
                object.__setattr__(self, "auth", Credentials(auth))
        elif auth not in (None, "any"):
            raise ConfigError(f"auth must be None, 'any' or a mapping of user to password, got {auth!r}")
        if self.require_auth and auth is None:
            raise ConfigError("require_auth needs auth='any' or a mapping of user to password")

    @classmethod
    def from_kwargs(cls, options: dict[str, Any]) -> SMTPOptions:
        """Build options from keyword arguments, naming any unknown one and the valid ones."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"unknown option(s) {', '.join(unknown)}{closest(unknown, known)}; "
                f"valid options are {', '.join(sorted(known))}"
            )
        return cls(**options)


_ORIGIN = re.compile(r"https?://[^/\s?#@]+")


@dataclass(frozen=True, slots=True)
class HTTPAccess:
    """Who may use the HTTP API beyond its defaults (``docs/http.md``, "Safe by default").

    ``cors``: the web origins (``"http://localhost:3000"``) whose pages may change things and
    read the answers (CORS), or ``("*",)`` for any; ``users``: the user names and passwords of
    basic auth on every route but ``/livez`` and ``/readyz`` (``None``: no auth).

    >>> HTTPAccess.from_options("http://localhost:3000, https://app.example", "ann:s3cret")
    HTTPAccess(cors=('http://localhost:3000', 'https://app.example'), users=<Credentials users=['ann']>)
    """

    cors: tuple[str, ...] = ()
    users: Credentials | None = None

    @classmethod
    def from_options(cls, api_cors: str | Sequence[str] | None, ui_auth: str | Mapping[str, str] | None) -> HTTPAccess:
        """``api_cors``: origins, comma-separated or a list, or ``"*"``; ``ui_auth``:
        ``"USER:PASSWORD"`` or a mapping of user to password. Raises :class:`ConfigError`."""
        return cls(_origins(api_cors), _users(ui_auth))


DEFAULT_ACCESS = HTTPAccess()
"""No CORS, no basic auth: the HTTP API's defaults."""


def _origins(api_cors: str | Sequence[str] | None) -> tuple[str, ...]:
    if api_cors is None:
        return ()
    values = api_cors.split(",") if isinstance(api_cors, str) else api_cors
    origins = []
    for value in values:
        origin = value.strip().rstrip("/").lower() if isinstance(value, str) else value
        if origin != "*" and not (isinstance(origin, str) and _ORIGIN.fullmatch(origin)):
            raise ConfigError(
                f"api_cors takes web origins such as 'http://localhost:3000' (comma-separated) or '*', got {value!r}"
            )
        origins.append(origin)
    if not origins:
        raise ConfigError("api_cors is empty; give an origin such as 'http://localhost:3000', or '*'")
    return tuple(origins)


def _users(ui_auth: str | Mapping[str, str] | None) -> Credentials | None:
    if ui_auth is None:
        return None
    if isinstance(ui_auth, str):
        user, sep, password = ui_auth.partition(":")
        if not sep or not user or not password:  # the password is never echoed
            raise ConfigError(f"ui_auth takes USER:PASSWORD, as in ann:s3cret; got {user!r}{'...' if sep else ''}")
        return Credentials({user: password})
    if not isinstance(ui_auth, Mapping) or not ui_auth:
        raise ConfigError("ui_auth must be 'USER:PASSWORD' or a non-empty mapping of user to password")
    try:
        return Credentials(ui_auth)
    except ConfigError:
        raise ConfigError("ui_auth must map non-empty user names (str) to passwords (str)") from None


def closest(unknown: Sequence[str], valid: Iterable[str]) -> str:
    """`` (did you mean max_message_size?)`` for the nearest valid names, or ``""``."""
    import difflib  # only when a name is wrong

    choices = sorted(valid)
    near = [m for name in unknown for m in difflib.get_close_matches(name, choices, n=1, cutoff=0.6)]
    return f" (did you mean {', '.join(dict.fromkeys(near))}?)" if near else ""


class ServerOptions(TypedDict, total=False):
    """The keyword options of :class:`~mocksmtp.MockSMTPServer` and
    :class:`~mocksmtp.AsyncMockSMTPServer`, for type checkers: a misspelt option is an error
    before the test runs. Each is described on :class:`SMTPOptions` (kept in step by a test)."""

    hostname: str
    max_message_size: int
    max_pending_data: int
    max_recipients: int
    max_connections: int
    max_command_length: int
    max_bad_commands: int
    idle_timeout: float
    min_data_rate: int
    strict: bool
    backlog: int
    tls: str | None
    require_tls: bool
    certfile: str | None
    keyfile: str | None
    tls_handshake_timeout: float
    auth: str | Mapping[str, str] | None
    require_auth: bool
    max_auth_failures: int
