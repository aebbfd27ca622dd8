"""The server facades: :class:`MockSMTPServer` runs the engine in a thread of its own."""

from __future__ import annotations

import enum
import logging
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .config import SMTPOptions
from .errors import ConfigError, ServerStartError, ServerStateError
from .filters import MessageFilter
from .message import Message
from .queries import MessageQueries, wait_sync
from .smtp.faults import Fault, Matcher, Stage
from .smtp.state import EngineContext, Stats
from .store import MemoryStore

if TYPE_CHECKING:  # the engine (asyncio and all it imports) loads on the first start()
    import asyncio
    import concurrent.futures
    import ssl

    from .smtp.listener import Listener

__all__ = ["MockSMTPServer", "ServerState"]

logger = logging.getLogger("mocksmtp")


class ServerState(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


def _check_address(host: object, port: object) -> tuple[str, int]:
    if not isinstance(host, str):
        raise ConfigError(f"host must be a string such as 'localhost' or '127.0.0.1', got {host!r}")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ConfigError(f"port must be between 0 and 65535, got {port!r}")
    return host, port


class MockSMTPServer(MessageQueries):
    """An SMTP server that keeps every message it accepts, running in a background thread.

    ``port=0`` picks a free port; :attr:`port` tells which. Options beyond ``host``, ``port``
    and ``verbose`` are those of :class:`~mocksmtp.config.SMTPOptions` (``max_message_size``,
    ``idle_timeout``, ``hostname``, ...).

    >>> import smtplib
    >>> with MockSMTPServer(port=0) as server:
    ...     with smtplib.SMTP(server.host, server.port) as client:
    ...         _ = client.sendmail("a@example.com", ["b@example.com"], "Subject: hi\\r\\n\\r\\nhello")
    ...     server.get_message_count()
    1
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 1025,
        verbose: bool = False,
        *,
        store: MemoryStore | None = None,
        **options: Any,
    ) -> None:
        self._host, self._requested_port = _check_address(host, port)
        self._port = port
        self.verbose = bool(verbose)
        self.options = SMTPOptions.from_kwargs(options)
        self.store = store if store is not None else MemoryStore()
        self._ctx = EngineContext(self.options, self.store, debug=self.verbose, tls_names=(host,))
        self._state = ServerState.NEW
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: Listener | None = None
        self._started_at: float | None = None
        self._started_monotonic = 0.0

    def __repr__(self) -> str:
        return (
            f"<MockSMTPServer {self._host}:{self._port} {self._state.value} "
            f"messages={self.store.count}>"
        )

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 5) -> MockSMTPServer:
        """Bind and serve in a background thread; return once connections are accepted.

        Raises :class:`~mocksmtp.ServerStartError` (with the cause) when the address cannot be
        used, and :class:`~mocksmtp.ServerStateError` when already running. A stopped server
        may be started again; it keeps its messages.
        """
        import concurrent.futures  # here, not at the top: `import mocksmtp` stays cheap

        with self._lock:
            if self._state is ServerState.RUNNING:
                raise ServerStateError(f"{self!r} is already running; stop() it first")
            ready: concurrent.futures.Future[Listener] = concurrent.futures.Future()
            thread = threading.Thread(target=self._run, args=(ready,), daemon=True,
                                      name=f"mocksmtp-{self._host}:{self._requested_port}")
            thread.start()
            try:
                listener = ready.result(timeout)
            except concurrent.futures.TimeoutError:
                raise ServerStartError(
                    f"server on {self._host}:{self._requested_port} did not start within "
                    f"{timeout} s; try a larger timeout",
                    host=self._host, port=self._requested_port,
                ) from None
            except OSError as e:
                thread.join(timeout)
                hint = (" (is another server using it? port=0 picks a free port)"
                        if "in use" in str(e) else "")
                raise ServerStartError(
                    f"cannot listen on {self._host}:{self._requested_port}: "
                    f"{e.strerror or e}{hint}",
                    host=self._host, port=self._requested_port,
                ) from e
            self._thread = thread
            self._listener = listener
            self._port = listener.port
            self._state = ServerState.RUNNING
            self._started_at = time.time()
            self._started_monotonic = time.monotonic()
        logger.info("mocksmtp listening on %s:%d", self._host, self._port)
        return self

    def _run(self, ready: concurrent.futures.Future[Listener]) -> None:
        import asyncio

        from .smtp.listener import Listener

        loop = asyncio.new_event_loop()
        try:
            try:
                listener = loop.run_until_complete(
                    Listener.open(self._ctx, self._host, self._requested_port))
            except BaseException as e:
                ready.set_exception(e)
                return
            self._loop = loop
            ready.set_result(listener)
            loop.run_forever()
            for protocol in list(self._ctx.protocols):  # left over when stop() ran out of time
                protocol.abort()
            _finish_pending(loop)
        finally:
            loop.close()

    def stop(self, timeout: float = 5) -> None:
        """Stop serving and join the thread, within ``timeout`` seconds. Idempotent.

        Sessions get ``421``; a client in the middle of DATA may finish its message (and gets
        its ``250``) until shortly before the timeout, after which it is dropped and its
        message discarded, never half stored.
        """
        import asyncio

        with self._lock:
            if self._state is not ServerState.RUNNING:
                return
            loop, thread, listener = self._loop, self._thread, self._listener
            if loop is None or thread is None or listener is None:  # pragma: no cover
                raise ServerStateError(f"{self!r} is running but has no loop; this is a bug")
            # One hop into the loop (close, then stop the loop), then join: a hop between
            # threads is the dearest part of stopping on a busy machine.
            future = asyncio.run_coroutine_threadsafe(_close_and_stop(listener, timeout * 0.8), loop)
            try:
                thread.join(timeout)
                if thread.is_alive():
                    logger.warning("mocksmtp sessions did not close within %s s", timeout)
                    loop.call_soon_threadsafe(loop.stop)
                elif future.done():
                    future.result()  # an error while closing is the caller's to see
            finally:
                self._state = ServerState.STOPPED
                self._thread = self._loop = self._listener = None
        logger.info("mocksmtp on %s:%d stopped: %s", self._host, self._port,
                    self._ctx.stats.as_dict())

    def __enter__(self) -> MockSMTPServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

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

    # -- messages and statistics --------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """Every kept message, oldest first (a snapshot; reading does not clear anything)."""
        return self.store.messages()

    @property
    def stats(self) -> Stats:
        """Live counters of the engine."""
        return self._ctx.stats

    def reset(self) -> None:
        """Forget every message and zero the counters."""
        self.store.clear()
        self._ctx.stats.reset()

    def get_messages(self) -> list[dict[str, Any]]:
        """The messages received since the previous call, as dictionaries (the seed's API).

        Each has ``peer``, ``mail_from``, ``rcpt_tos`` and ``data``, plus ``id``, ``raw``,
        ``received_at`` and ``mail_options``. Messages stay in :attr:`messages`.
        """
        return [m.as_dict() for m in self.store.drain()]

    def get_message_count(self) -> int:
        """How many messages were accepted since start or the last :meth:`reset`."""
        return self.store.count

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

        The returned :class:`~mocksmtp.Fault` counts ``.triggered`` and, as a context
        manager, removes itself on exit:

        >>> with server.inject_fault("rcpt", code=451, match="a@example.com", times=1):  # doctest: +SKIP
        ...     send_mail()   # the first RCPT TO:<a@example.com> gets 451, a retry passes
        """
        return self._ctx.faults.add(stage, code=code, message=message, match=match, times=times,
                                    probability=probability, delay=delay, disconnect=disconnect)

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self._ctx.faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """The injected faults still registered, oldest first."""
        return self._ctx.faults.faults()

    def get_results(self) -> dict[str, Any]:
        """Statistics and every kept message (as dictionaries)."""
        stats = self._ctx.stats.as_dict()
        uptime = time.monotonic() - self._started_monotonic if self.is_running() else 0.0
        return {
            "host": self._host,
            "port": self._port,
            "running": self.is_running(),
            "uptime": uptime,
            "message_count": self.store.count,
            **stats,
            "messages": [m.as_dict() for m in self.store.messages()],
        }

    # -- waiting (filter, assert_sent and assert_nothing_sent come from MessageQueries) ---------

    def wait_for(self, count: int = 1, *, timeout: float = 5.0, **filters: Any) -> list[Message]:
        """Block until at least ``count`` kept messages match ``filters``; return all that do.

        Wakes when a message is stored, never sleeps or polls. After ``timeout`` seconds raises
        :class:`~mocksmtp.WaitTimeout` (an ``AssertionError``) listing what did arrive and
        which filter each message missed. Filters are those of :meth:`filter`.

        >>> (message,) = server.wait_for(to="user@example.com", subject="Welcome")  # doctest: +SKIP
        """
        __tracebackhide__ = True  # pytest shows the caller's line, not ours
        return wait_sync(self.store, count, timeout, MessageFilter(**filters))

def _finish_pending(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what still runs in a stopped loop (a stop that ran out of time, a TLS handshake,
    a delayed reply) and let it unwind there, as ``asyncio.run`` does, so nothing is left to
    be torn down later outside its loop."""
    import asyncio

    tasks = asyncio.all_tasks(loop)
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


async def _close_and_stop(listener: Listener, grace: float) -> None:
    """Close ``listener`` (see :meth:`Listener.close`), then stop the loop it runs in."""
    import asyncio

    loop = asyncio.get_running_loop()
    try:
        await listener.close(grace)
    except asyncio.CancelledError:
        raise  # the stopped loop is being unwound by _finish_pending; it must not stop again
    except BaseException:
        loop.call_soon(loop.stop)
        raise
    # call_soon, not stop(): the task's result reaches stop() in the same last batch.
    loop.call_soon(loop.stop)
