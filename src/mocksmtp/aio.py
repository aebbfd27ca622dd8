"""The asyncio facade: :class:`AsyncMockSMTPServer` serves in the caller's event loop."""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import TYPE_CHECKING

from .errors import ServerStateError
from .facade import PathLike, ServerFacade, ServerState
from .message import Message
from .queries import check_timeout, wait_async

if TYPE_CHECKING:  # asyncio and the engine load on first use: `import mocksmtp` stays cheap
    import asyncio

    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

    from collections.abc import Mapping, Sequence

    from .config import ServerOptions
    from .filters import FilterArgs
    from .store import MessageStore
    from .store.transfer import Format


__all__ = ["AsyncMockSMTPServer"]

logger = logging.getLogger("mocksmtp")


class AsyncMockSMTPServer(ServerFacade):
    """An SMTP server running in the current event loop, for asyncio code and tests.

    The same messages, options, filters and assertions as :class:`~mocksmtp.MockSMTPServer`;
    :meth:`wait_for` is awaited instead of blocking. Defaults suit tests: ``127.0.0.1`` and a
    free port. ``store=``, ``database=``, ``max_messages=``, ``max_age=``, ``http_port=``,
    ``http_host=``, ``api_cors=`` and ``ui_auth=`` are those of :class:`~mocksmtp.MockSMTPServer`
    (HTTP is served in this loop).

    >>> import asyncio, smtplib
    >>> async def main() -> str:
    ...     async with AsyncMockSMTPServer() as server:
    ...         def send() -> None:
    ...             with smtplib.SMTP(*server.address) as client:
    ...                 client.sendmail("a@example.com", ["b@example.com"], "To: b@example.com\\r\\n"
    ...                                "Subject: hi\\r\\n\\r\\nHello\\r\\n")
    ...         sending = asyncio.create_task(asyncio.to_thread(send))
    ...         (message,) = await server.wait_for(to="b@example.com")
    ...         await sending
    ...         return message.subject
    >>> asyncio.run(main())
    'hi'
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
        *,
        store: MessageStore | None = None,
        database: PathLike | None = None,
        max_messages: int | None = None,
        max_age: float | None = None,
        http_port: int | None = None,
        http_host: str = "127.0.0.1",
        api_cors: str | Sequence[str] | None = None,
        ui_auth: str | Mapping[str, str] | None = None,
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
            api_cors=api_cors,
            ui_auth=ui_auth,
        )
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> AsyncMockSMTPServer:
        """Bind and serve in the running loop; return once connections are accepted.

        Raises :class:`~mocksmtp.ServerStartError` when the address cannot be used and
        :class:`~mocksmtp.ServerStateError` when already running.
        """
        import asyncio

        if self._state is ServerState.RUNNING:
            raise ServerStateError(f"{self!r} is already running; stop() it first")
        try:
            listener = await self._open_services()
        except OSError as e:
            raise self._start_error(e) from e
        self._listener = listener
        self._loop = asyncio.get_running_loop()
        self._port = listener.port
        self._state = ServerState.RUNNING
        logger.info("mocksmtp listening on %s:%d", self._host, self._port)
        return self

    async def stop(self, timeout: float = 5) -> None:
        """Stop serving (sessions get 421; those in DATA may finish until shortly before
        ``timeout``). Idempotent."""
        check_timeout(timeout)
        listener = self._listener
        if self._state is not ServerState.RUNNING or listener is None:
            return
        self._state = ServerState.STOPPED
        self._listener = None
        await self._close_http(timeout * 0.8)
        await listener.close(grace=timeout * 0.8)
        logger.info("mocksmtp on %s:%d stopped: %s", self._host, self._port, self._ctx.stats.as_dict())

    async def __aenter__(self) -> AsyncMockSMTPServer:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def wait_for(self, count: int = 1, *, timeout: float = 5.0, **filters: Unpack[FilterArgs]) -> list[Message]:
        """Wait until at least ``count`` kept messages match ``filters``; return all that do.

        The loop keeps running (the server itself serves in it): the waiter wakes when the
        store's version moves (the same wait as :meth:`MockSMTPServer.wait_for`), never polls. After ``timeout``
        seconds raises :class:`~mocksmtp.WaitTimeout` listing what arrived.
        """
        __tracebackhide__ = True  # pytest shows the caller's line, not ours
        from .filters import MessageFilter

        return await wait_async(self.store, count, timeout, MessageFilter(**filters))

    # -- export and import (mocksmtp.store.transfer), off the loop -------------------------------

    async def export(self, dest: PathLike, format: Format = "eml", *, query: str | None = None) -> int:
        """:meth:`MockSMTPServer.export`, in a worker thread (``asyncio.to_thread``): the loop
        keeps serving while the files are written."""
        import asyncio

        from .store.transfer import export_messages

        return await asyncio.to_thread(export_messages, self.store, dest, format=format, query=query)

    async def import_messages(self, *sources: PathLike) -> int:
        """:meth:`MockSMTPServer.import_messages`, in a worker thread (``asyncio.to_thread``):
        the loop keeps serving (and waiters wake) while the files are read."""
        import asyncio

        from .store.transfer import import_messages

        return await asyncio.to_thread(import_messages, self.store, sources)
