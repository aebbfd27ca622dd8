"""The threaded facade: :class:`MockSMTPServer` runs the engine in a thread of its own."""

from __future__ import annotations

import logging
import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .errors import ServerStartError, ServerStateError
from .facade import PathLike, ServerFacade, ServerState
from .message import Message
from .queries import check_timeout, wait_sync

if TYPE_CHECKING:  # the engine (asyncio and all it imports) loads on the first start()
    import asyncio
    import concurrent.futures
    from collections.abc import Awaitable, Callable

    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

    from .config import ServerOptions
    from .filters import FilterArgs
    from .smtp.listener import Listener
    from .smtp.state import EngineContext
    from .store import MessageStore
    from .store.transfer import Format

__all__ = ["MockSMTPServer"]

logger = logging.getLogger("mocksmtp")


class MockSMTPServer(ServerFacade):
    """An SMTP server that keeps every message it accepts, running in a background thread.

    ``port=0`` picks a free port; :attr:`port` tells which. Options beyond ``host``, ``port``
    and ``verbose`` are those of :class:`~mocksmtp.config.SMTPOptions` (``max_message_size``,
    ``idle_timeout``, ``hostname``, ...), typed by :class:`~mocksmtp.ServerOptions` so that a
    type checker catches a misspelt one; at run time it is a :class:`~mocksmtp.ConfigError`.

    Messages are kept in memory unless ``database=PATH`` keeps them in a SQLite file across
    restarts (:class:`~mocksmtp.SQLiteStore`), ``database="postgresql://..."`` in a PostgreSQL
    database that several servers share (the ``[postgres]`` extra, ``docs/scaling.md``), or
    ``store=`` gives any
    :class:`~mocksmtp.MessageStore`. Nothing is deleted unless ``max_messages=N`` (keep the
    newest N) or ``max_age=`` (seconds) ask for it.

    ``http_port=`` (``0`` for a free port) also serves Mailpit's HTTP API, live events and a
    long-poll wait on ``http_host`` (``127.0.0.1``), in this server's loop; :attr:`http_url`
    says where (the ``[web]`` extra, ``docs/http.md``).

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
        store: MessageStore | None = None,
        database: PathLike | None = None,
        max_messages: int | None = None,
        max_age: float | None = None,
        http_port: int | None = None,
        http_host: str = "127.0.0.1",
        **options: Unpack[ServerOptions],
    ) -> None:
        super().__init__(
            host,
            port,
            verbose,
            store,
            dict(options),
            database=database,
            max_messages=max_messages,
            max_age=max_age,
            http_port=http_port,
            http_host=http_host,
        )
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started_monotonic = 0.0

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 5) -> MockSMTPServer:
        """Bind and serve in a background thread; return once connections are accepted.

        Raises :class:`~mocksmtp.ServerStartError` (with the cause) when the address cannot be
        used or the server is not serving within ``timeout`` seconds, and
        :class:`~mocksmtp.ServerStateError` when already running. A failed start leaves
        nothing behind (no thread, socket or loop) and may be tried again. A stopped server
        may be started again; it keeps its messages.
        """
        import concurrent.futures  # here, not at the top: `import mocksmtp` stays cheap

        check_timeout(timeout)
        with self._lock:
            if self._state is ServerState.RUNNING:
                raise ServerStateError(f"{self!r} is already running; stop() it first")
            ready: concurrent.futures.Future[tuple[Listener, asyncio.AbstractEventLoop]]
            ready = concurrent.futures.Future()
            thread = threading.Thread(
                target=self._run, args=(ready,), daemon=True, name=f"mocksmtp-{self._host}:{self._requested_port}"
            )
            thread.start()
            try:
                try:
                    listener, loop = ready.result(timeout)
                except concurrent.futures.TimeoutError:
                    if ready.cancel():  # the thread gives up: it closes what it opened, and ends
                        thread.join(max(timeout, 1.0))
                        raise self._timed_out(timeout, thread.is_alive()) from None
                    listener, loop = ready.result()  # it finished just as the wait ended
            except ServerStartError:
                thread.join(timeout)
                raise
            except OSError as e:
                thread.join(timeout)
                raise self._start_error(e) from e
            except Exception as e:
                thread.join(timeout)
                raise ServerStartError(
                    f"server on {self._host}:{self._requested_port} failed to start: {e!r}",
                    host=self._host,
                    port=self._requested_port,
                ) from e
            except BaseException:  # a KeyboardInterrupt while waiting: leave nothing behind either
                if not ready.cancel() and ready.exception() is None:
                    import asyncio

                    listener, loop = ready.result()
                    asyncio.run_coroutine_threadsafe(_close_and_stop(listener, 0, self._close_http), loop)
                thread.join(max(timeout, 1.0))
                raise
            self._thread = thread
            self._loop = loop
            self._listener = listener
            self._port = listener.port
            self._state = ServerState.RUNNING
            self._started_monotonic = time.monotonic()
        logger.info("mocksmtp listening on %s:%d", self._host, self._port, extra={"mocksmtp_event": "listening"})
        return self

    def _timed_out(self, timeout: float, alive: bool) -> ServerStartError:
        left = "; its thread is still finishing" if alive else ""
        return ServerStartError(
            f"server on {self._host}:{self._requested_port} did not start within {timeout} s{left}; "
            "try a larger timeout",
            host=self._host,
            port=self._requested_port,
        )

    def _run(self, ready: concurrent.futures.Future[tuple[Listener, asyncio.AbstractEventLoop]]) -> None:
        import asyncio
        import concurrent.futures

        loop = asyncio.new_event_loop()
        try:
            opening = loop.create_task(self._open_services())

            def abandon(future: concurrent.futures.Future[tuple[Listener, asyncio.AbstractEventLoop]]) -> None:
                if future.cancelled():  # start() gave up waiting: stop opening
                    try:
                        loop.call_soon_threadsafe(opening.cancel)
                    except RuntimeError:  # the loop is closed already: nothing to cancel
                        pass

            ready.add_done_callback(abandon)
            try:
                listener = loop.run_until_complete(opening)
            except BaseException as e:
                try:
                    ready.set_exception(e)
                except concurrent.futures.InvalidStateError:  # start() gave up: nobody to tell
                    pass
                return
            try:
                ready.set_result((listener, loop))
            except concurrent.futures.InvalidStateError:  # start() gave up just before
                loop.run_until_complete(self._close_http(0))
                loop.run_until_complete(listener.close(0))
                return
            loop.run_forever()
            for protocol in list(self._ctx.protocols):  # left over when stop() ran out of time
                protocol.abort()
        finally:
            _finish_pending(loop)
            loop.close()

    def stop(self, timeout: float = 5) -> None:
        """Stop serving and join the thread, within ``timeout`` seconds. Idempotent.

        Sessions get ``421``; a client in the middle of DATA may finish its message (and gets
        its ``250``) until shortly before the timeout, after which it is dropped and its
        message discarded, never half stored.
        """
        import asyncio

        check_timeout(timeout)
        with self._lock:
            if self._state is not ServerState.RUNNING:
                return
            loop, thread, listener = self._loop, self._thread, self._listener
            if loop is None or thread is None or listener is None:  # pragma: no cover
                raise ServerStateError(f"{self!r} is running but has no loop; this is a bug")
            # One hop into the loop (close, then stop the loop), then join: a hop between
            # threads is the dearest part of stopping on a busy machine.
            future = asyncio.run_coroutine_threadsafe(_close_and_stop(listener, timeout * 0.8, self._close_http), loop)
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
        logger.info(
            "mocksmtp on %s:%d stopped: %s",
            self._host,
            self._port,
            self._ctx.stats.as_dict(),
            extra={"mocksmtp_event": "stopped"},
        )

    def _drop_sessions(self, timeout: float | None = None) -> None:
        """Drop every open connection now; a message in progress is discarded (never half
        stored), and a graceful :meth:`stop` under way then ends at once.

        Safe from any thread and from a signal handler while :meth:`stop` runs (it takes no
        lock). With ``timeout``, waits up to that long for the connections to be gone.
        """
        import asyncio
        import concurrent.futures

        loop = self._loop
        if loop is None or not self._ctx.protocols:
            return
        try:
            done = asyncio.run_coroutine_threadsafe(_abort_sessions(self._ctx), loop)
        except RuntimeError:  # the loop has closed meanwhile: nothing left to drop
            return
        if timeout is not None:
            try:
                done.result(timeout)
            except concurrent.futures.TimeoutError:
                logger.warning("mocksmtp connections were not dropped within %s s", timeout)

    def __enter__(self) -> MockSMTPServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def get_messages(self) -> list[dict[str, Any]]:
        """The messages received since the previous call, as dictionaries (the seed's API).

        Each has ``peer``, ``mail_from``, ``rcpt_tos`` and ``data``, plus ``id``, ``raw``,
        ``received_at`` and ``mail_options``. Messages stay in :attr:`messages`.
        """
        return [m.as_dict() for m in self._drain()]

    def get_message_count(self) -> int:
        """How many messages are kept (accepted since start or the last :meth:`reset`, plus
        those a database kept from before, minus any deleted)."""
        return self.store.count()

    def get_results(self) -> dict[str, Any]:
        """Statistics and every kept message (as dictionaries)."""
        stats = self._ctx.stats.as_dict()
        uptime = time.monotonic() - self._started_monotonic if self.is_running() else 0.0
        return {
            "host": self._host,
            "port": self._port,
            "running": self.is_running(),
            "uptime": uptime,
            "message_count": self.store.count(),
            **stats,
            "pruned": self.pruned,
            "messages": [m.as_dict() for m in self.store.messages()],
        }

    # -- waiting (filter, assert_sent and assert_nothing_sent come from MessageQueries) ---------

    def wait_for(self, count: int = 1, *, timeout: float = 5.0, **filters: Unpack[FilterArgs]) -> list[Message]:
        """Block until at least ``count`` kept messages match ``filters``; return all that do.

        Wakes when a message is stored, never sleeps or polls. After ``timeout`` seconds raises
        :class:`~mocksmtp.WaitTimeout` (an ``AssertionError``) listing what did arrive and
        which filter each message missed. Filters are those of :meth:`filter`.

        >>> (message,) = server.wait_for(to="user@example.com", subject="Welcome")  # doctest: +SKIP
        """
        __tracebackhide__ = True  # pytest shows the caller's line, not ours
        from .filters import MessageFilter

        return wait_sync(self.store, count, timeout, MessageFilter(**filters))

    # -- export and import (mocksmtp.store.transfer) -------------------------------------------

    def export(self, dest: PathLike, format: Format = "eml", *, query: str | None = None) -> int:
        """Write the kept messages (those matching ``query``) to ``dest`` as ``.eml`` files in a
        folder, an mbox file or a Maildir, byte for byte; return how many (see
        ``docs/storage.md``). Bad arguments raise :class:`~mocksmtp.ConfigError`, a ``dest``
        that cannot be written :class:`~mocksmtp.TransferError`.

        >>> server.export("mail.mbox", format="mbox", query="to:ann@example.com")  # doctest: +SKIP
        3
        """
        from .store.transfer import export_messages

        return export_messages(self.store, dest, format=format, query=query)

    def import_messages(self, *sources: PathLike) -> int:
        """Add the messages of ``sources`` (``.eml`` files, folders of them, mbox files,
        Maildirs) to the store with new ids, so waits wake; return how many. A missing or
        unreadable source, or one that is not mail, raises :class:`~mocksmtp.TransferError`
        naming it, before anything is imported.

        >>> server.import_messages("fixtures/welcome.eml", "old.mbox")  # doctest: +SKIP
        12
        """
        from .store.transfer import import_messages

        return import_messages(self.store, sources)


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


async def _abort_sessions(ctx: EngineContext) -> None:
    """Abort every session of ``ctx`` and let the loop report their connections lost."""
    import asyncio

    for protocol in list(ctx.protocols):
        protocol.abort()
    for _ in range(10):  # aborted transports report connection_lost on the next ticks
        if not ctx.protocols:
            break
        await asyncio.sleep(0)


async def _close_and_stop(
    listener: Listener, grace: float, close_http: Callable[[float], Awaitable[None]] | None = None
) -> None:
    """Close HTTP (``close_http``) and ``listener`` (see :meth:`Listener.close`), then stop the
    loop they run in."""
    import asyncio

    loop = asyncio.get_running_loop()
    try:
        if close_http is not None:
            await close_http(grace)
        await listener.close(grace)
    except asyncio.CancelledError:
        raise  # the stopped loop is being unwound by _finish_pending; it must not stop again
    except BaseException:
        loop.call_soon(loop.stop)
        raise
    # call_soon, not stop(): the task's result reaches stop() in the same last batch.
    loop.call_soon(loop.stop)
