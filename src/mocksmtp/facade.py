"""What both server facades share: address, state, messages, statistics, TLS and faults.

:class:`~mocksmtp.MockSMTPServer` (a thread of its own) and
:class:`~mocksmtp.AsyncMockSMTPServer` (the caller's event loop) differ only in how they start,
stop and wait; everything else is here, once.
"""

from __future__ import annotations

import enum
import logging
import os
from typing import TYPE_CHECKING, Any, Union

from .errors import ConfigError, ServerStartError, StoreError
from .message import Message
from .queries import MessageQueries
from .store import MemoryStore, MessageStore
from .store.retention import Pruner, Retention
from .store.urls import is_url, redact

if TYPE_CHECKING:
    import ssl
    from collections.abc import Mapping, Sequence

    from .config import HTTPAccess, SMTPOptions
    from .http.service import HTTPService
    from .smtp.faults import Fault, Matcher, Stage
    from .smtp.listener import Listener
    from .smtp.state import EngineContext, Stats

__all__ = ["PathLike", "ServerFacade", "ServerState"]

logger = logging.getLogger("mocksmtp")

PathLike = Union[str, "os.PathLike[str]"]


class ServerState(enum.Enum):
    """Where a server is in its life: new, running, or stopped (and may start again)."""

    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


def _check_address(host: object, port: object) -> tuple[str, int]:
    if not isinstance(host, str):
        raise ConfigError(f"host must be a string such as 'localhost' or '127.0.0.1', got {host!r}")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ConfigError(f"port must be between 0 and 65535, got {port!r}")
    return host, port


def _open_store(store: MessageStore | None, database: PathLike | None) -> MessageStore:
    if store is not None and database is not None:
        raise ConfigError(
            "give store= or database=, not both: database=PATH makes a SQLiteStore on that file "
            "(a postgresql:// URL, a PostgresStore)"
        )
    if database is not None:
        if not isinstance(database, (str, os.PathLike)) or not os.fspath(database):
            raise ConfigError(f"database must be the path of a SQLite file or a postgresql:// URL, got {database!r}")
        if isinstance(database, str) and is_url(database):
            from .store.postgres import PostgresStore  # psycopg loads only for such a URL

            return PostgresStore(database)
        from .store.sqlite import SQLiteStore  # sqlite3 loads only when a database is asked for

        return SQLiteStore(database)
    if store is None:
        return MemoryStore()
    # hasattr, not isinstance(store, MessageStore): from Python 3.12 a runtime protocol check
    # does not see members a wrapper provides through __getattr__.
    missing = sorted(n for n in _STORE_MEMBERS if not hasattr(store, n))
    if missing:
        raise ConfigError(
            f"store must implement mocksmtp.MessageStore; {type(store).__name__} lacks {', '.join(missing)}"
        )
    return store


def _check_http(host: object, port: object, access: HTTPAccess) -> tuple[str, int] | None:
    if port is None:
        if access.cors or access.users:
            raise ConfigError("api_cors and ui_auth are for the HTTP API: give http_port too (0 for a free port)")
        return None
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ConfigError(f"http_port must be None (no HTTP) or between 0 and 65535, got {port!r}")
    if not isinstance(host, str) or not host:
        raise ConfigError(f"http_host must be a host name or address such as '127.0.0.1', got {host!r}")
    from .http import require  # the [web] extra: a one-line ConfigError naming it when missing

    require()
    return host, port


_RESET_WAIT = 10.0
"""Seconds reset() waits for the messages the store is still storing."""

_STORE_MEMBERS = (
    "version",
    "new_id",
    "add",
    "get",
    "count",
    "messages",
    "summaries",
    "state",
    "delete",
    "delete_matching",
    "clear",
    "mark_read",
    "set_tags",
    "prune",
    "subscribe",
    "close",
)


class ServerFacade(MessageQueries):
    """The state and the API common to the sync and asyncio servers (not used directly)."""

    def __init__(
        self,
        host: str,
        port: int,
        verbose: bool,
        store: MessageStore | None,
        options: dict[str, Any],
        *,
        database: PathLike | None = None,
        max_messages: int | None = None,
        max_age: float | None = None,
        http_port: int | None = None,
        http_host: str = "127.0.0.1",
        api_cors: str | Sequence[str] | None = None,
        ui_auth: str | Mapping[str, str] | None = None,
    ) -> None:
        from .config import HTTPAccess, SMTPOptions  # loads with the first server, not on import

        self._host, self._requested_port = _check_address(host, port)
        self._http_access = HTTPAccess.from_options(api_cors, ui_auth)
        self._http_address = _check_http(http_host, http_port, self._http_access)
        self._http: HTTPService | None = None
        self._database = os.fspath(database) if isinstance(database, (str, os.PathLike)) else ""
        if is_url(self._database):  # shown by /api/v1/info
            self._database = redact(self._database)
        self._port = port
        self.verbose = bool(verbose)
        self.options: SMTPOptions = SMTPOptions.from_kwargs(options)
        retention = Retention(max_messages, max_age)
        self.store: MessageStore = _open_store(store, database)
        """Where the messages are kept: any :class:`~mocksmtp.MessageStore`."""
        self._pruner: Pruner | None = None
        if retention:
            self._pruner = Pruner(self.store, retention)
            self.store.subscribe(self._pruner)
            self._pruner.prune()
        self._handed_out: set[str] = set()  # the ids get_messages() returned (the seed's cursor)
        from .smtp.state import EngineContext  # the engine loads with the first server

        self._ctx: EngineContext = EngineContext(self.options, self.store, debug=self.verbose, tls_names=(host,))
        self._state = ServerState.NEW
        self._listener: Listener | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._host}:{self._port} {self._state.value} messages={self.store.count()}>"

    def _start_error(self, error: OSError) -> ServerStartError:
        """The exception for an address that cannot be used, saying what to try."""
        hint = " (is another server using it? port=0 picks a free port)" if "in use" in str(error) else ""
        return ServerStartError(
            f"cannot listen on {self._host}:{self._requested_port}: {error.strerror or error}{hint}",
            host=self._host,
            port=self._requested_port,
        )

    def is_running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._state is ServerState.RUNNING

    @property
    def state(self) -> ServerState:
        return self._state

    # -- where it listens ---------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The host the server binds to, as given."""
        return self._host

    @property
    def port(self) -> int:
        """The bound port once started (the free port chosen for ``port=0``)."""
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)``, ready for ``smtplib.SMTP(*server.address)``."""
        return self._host, self._port

    @property
    def http_url(self) -> str | None:
        """``"http://127.0.0.1:54321"`` (no trailing slash) while HTTP is served: Mailpit's API,
        live events and the long-poll wait (``http_port=``, the ``[web]`` extra); else ``None``."""
        http = self._http
        return http.url if http is not None else None

    async def _open_services(self) -> Listener:
        """Open the SMTP listener, then HTTP if asked for, in the running loop; a failure of
        either leaves nothing open."""
        from .smtp.listener import Listener

        listener = await Listener.open(self._ctx, self._host, self._requested_port)
        if self._http_address is None:
            return listener
        host, port = self._http_address
        try:
            from .http.app import WebContext
            from .http.chaos import Chaos
            from .http.service import HTTPService

            stats = self._ctx.stats
            smtp_host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self._host, self._host)
            context = WebContext(
                self.store,
                stats=stats.as_dict,
                database=self._database,
                smtp=(smtp_host, listener.port),
                chaos=Chaos(self.inject_fault, lambda: self.faults),
                access=self._http_access,
                retention=(self.retention.max_messages, self.retention.max_age) if self.retention else None,
                faults=self._ctx.faults,
            )
            self._http = await HTTPService.open(context, host, port)
        except OSError as e:
            await listener.close(0)
            hint = " (is another server using it? HTTP port 0 picks a free one)" if "in use" in str(e) else ""
            raise ServerStartError(
                f"cannot serve HTTP on {host}:{port}: {e.strerror or e}{hint}", host=host, port=port
            ) from e
        except BaseException:
            await listener.close(0)
            raise
        return listener

    async def _close_http(self, grace: float) -> None:
        """Stop serving HTTP (if it is served), before the SMTP listener closes."""
        http, self._http = self._http, None
        if http is not None:
            await http.close(grace)

    # -- messages and statistics --------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """Every kept message, oldest first (a snapshot; reading does not clear anything)."""
        return self.store.messages()

    @property
    def stats(self) -> Stats:
        """Live counters of the engine."""
        return self._ctx.stats

    @property
    def retention(self) -> Retention | None:
        """The limits old messages are deleted by (``max_messages``, ``max_age``), or ``None``:
        then nothing is ever deleted but by you."""
        return self._pruner.retention if self._pruner else None

    @property
    def pruned(self) -> int:
        """Messages deleted by :attr:`retention` since creation or the last :meth:`reset`."""
        return self._pruner.pruned if self._pruner else 0

    def reset(self) -> None:
        """Forget every message and zero the counters.

        A message the store is still storing is waited for (up to 10 seconds) and cleared
        too: none lands after this returns, and its client still gets its 250.
        """
        left = self._ctx.adds.wait(_RESET_WAIT)
        if left:
            raise StoreError(
                f"reset(): the store has not finished storing {left} message{'' if left == 1 else 's'} "
                f"after {_RESET_WAIT:g} s, so nothing was cleared; check the store (is it stuck?) and try again"
            )
        self.store.clear()
        self._handed_out = set()
        self._ctx.stats.reset()
        if self._pruner:
            self._pruner.reset()

    def _drain(self) -> list[Message]:
        """The messages not returned by an earlier call (the cursor of ``get_messages()``)."""
        fresh = [m for m in self.store.messages() if m.id not in self._handed_out]
        self._handed_out.update(m.id for m in fresh)
        return fresh

    # -- TLS ----------------------------------------------------------------------------------

    def client_ssl_context(self) -> ssl.SSLContext:
        """An ``ssl.SSLContext`` that trusts this server's certificate, host names checked.

        For ``smtplib.SMTP.starttls(context=...)`` or ``smtplib.SMTP_SSL(context=...)``. With
        the throw-away certificate it trusts only this server's CA; with ``certfile`` it trusts
        the certificates in that file (enough for a self-signed one).

        >>> with MockSMTPServer(port=0, tls="starttls") as server:       # doctest: +SKIP
        ...     with smtplib.SMTP(server.host, server.port) as client:
        ...         client.starttls(context=server.client_ssl_context())
        """
        tls = self._ctx.tls
        if tls is None:
            raise ConfigError("this server has no TLS; create it with tls='starttls' or tls='implicit'")
        return tls.client_context()

    @property
    def ca_pem(self) -> str:
        """The PEM text a client outside Python trusts to verify this server's certificate.

        With the throw-away certificate, the certificate of the throw-away CA that signed it
        (made when the server is created, the same across restarts). With ``certfile``, the
        certificates in that file, without any private key it also holds: enough for a
        self-signed certificate; for one issued by a CA of your own, trust that CA instead.
        Write it to a file for curl (``--cacert``), swaks (``--tls-ca-path``), msmtp
        (``tls_trust_file``) or Node (``tls: {ca: ...}``); ``mocksmtp --ca-file PATH`` does
        that on the command line.

        >>> with MockSMTPServer(port=0, tls="starttls") as server:       # doctest: +SKIP
        ...     Path("ca.pem").write_text(server.ca_pem)
        """
        tls = self._ctx.tls
        if tls is None:
            raise ConfigError(
                "this server has no TLS, so no CA to trust; create it with tls='starttls' or tls='implicit'"
            )
        return tls.ca_pem

    # -- injected faults ----------------------------------------------------------------------

    def inject_fault(
        self,
        stage: Stage,
        *,
        code: int | None = None,
        message: str | None = None,
        match: Matcher | None = None,
        times: int | None = None,
        probability: float = 1.0,
        delay: float = 0.0,
        disconnect: bool = False,
        node_only: bool = False,
    ) -> Fault:
        """Make commands of ``stage`` fail (or stall, or drop the connection) until removed.

        Stages: ``"connect"`` (the greeting), ``"helo"``, ``"auth"``, ``"mail"``, ``"rcpt"``,
        ``"data"`` (the DATA command, or the first BDAT chunk) and ``"message"`` (after the
        content, instead of the 250; the message is not stored). Only commands that would
        otherwise succeed are affected. ``match`` narrows the fault to a subject (the sender
        for ``mail``, the recipient for ``rcpt``, any envelope address for ``data`` and
        ``message``, the user for ``auth``, the HELO name, the client IP for ``connect``): a
        string compared without case, a compiled regex (``search``) or a callable. ``times=N``
        fires N times, then commands pass; ``probability`` fires at random. ``code`` and
        ``message`` set the reply (default per stage: 421 connect, 451 helo/mail/rcpt/message,
        454 auth, 554 data). ``delay`` waits before replying, without blocking other
        sessions; with a delay and no ``code``/``message`` the command then proceeds normally
        (a slow server). ``disconnect`` drops the connection instead of replying. A ``421``
        reply also closes the connection.

        On a PostgreSQL store a fault is every node's (see ``docs/scaling.md``): any node applies,
        lists and removes it, and ``times`` counts all nodes' firings together; ``match`` must
        then be a string or a regex. ``node_only=True`` keeps it on this node alone (any
        ``match``); on other stores every fault is the server's own and it changes nothing.

        The returned :class:`~mocksmtp.Fault` counts ``.triggered`` and, as a context
        manager, removes itself on exit:

        >>> with server.inject_fault("rcpt", code=451, match="a@example.com", times=1):  # doctest: +SKIP
        ...     send_mail()   # the first RCPT TO:<a@example.com> gets 451, a retry passes
        """
        return self._ctx.faults.add(
            stage,
            code=code,
            message=message,
            match=match,
            times=times,
            probability=probability,
            delay=delay,
            disconnect=disconnect,
            node_only=node_only,
        )

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self._ctx.faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """The injected faults still registered, oldest first."""
        return self._ctx.faults.faults()
