"""The HTTP service: uvicorn serving the app in the running event loop, beside SMTP.

No thread and no signal handler of its own: the socket is bound here (so a port in use is an
``OSError`` for the caller, not uvicorn's ``sys.exit``), uvicorn's protocol serves it through
``loop.create_server``, and :meth:`HTTPService.close` ends it: long polls and event streams
are told to finish, idle connections close, requests in flight get until the grace period.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from typing import TYPE_CHECKING

from .app import WebContext, build_app
from .edges import own_hosts
from .events import EventHub

if TYPE_CHECKING:
    import uvicorn

__all__ = ["HTTPService", "url_for"]

logger = logging.getLogger("mocksmtp.http")


def url_for(host: str, port: int) -> str:
    """``http://127.0.0.1:8025``; an IPv6 address in brackets; no trailing slash."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _bind(host: str, port: int, backlog: int) -> socket.socket:
    """A listening socket for ``host:port``. Its protocol is IPPROTO_TCP (not 0, as
    ``socket.create_server`` makes it), so that asyncio sets TCP_NODELAY on each connection:
    without it, an answer written as headers then body waits for the client's delayed ACK
    (40 ms on Linux) whenever the connection is kept alive."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        if hasattr(socket, "SO_REUSEADDR") and sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class HTTPService:
    """One running HTTP server; :meth:`open` it in the loop that is to serve it."""

    def __init__(
        self, server: uvicorn.Server, sock: socket.socket, hub: EventHub, closing: asyncio.Event, host: str
    ) -> None:
        self._server = server
        self._sock = sock
        self._hub = hub
        self._closing = closing
        self.host = host
        self.port: int = sock.getsockname()[1]

    def __repr__(self) -> str:
        return f"<HTTPService {self.url}>"

    @property
    def url(self) -> str:
        return url_for(self.host, self.port)

    @classmethod
    async def open(cls, ctx: WebContext, host: str, port: int, *, backlog: int = 1024) -> HTTPService:
        """Bind ``host:port`` and serve ``ctx.store``; raises ``OSError`` when it cannot bind."""
        import uvicorn

        loop = asyncio.get_running_loop()
        sock = _bind(host, port, backlog)
        try:
            hub = EventHub(ctx.store, loop)
            closing = asyncio.Event()
            app = build_app(ctx, hub, closing, hosts=own_hosts(host))
            config = uvicorn.Config(
                app,
                lifespan="off",
                ws="wsproto",
                log_config=None,
                access_log=False,
                proxy_headers=False,
                server_header=False,
                date_header=False,
                backlog=backlog,
            )
            config.load()
            server = uvicorn.Server(config)
            server.lifespan = config.lifespan_class(config)
            await server.startup(sockets=[sock])
        except BaseException:
            sock.close()
            raise
        service = cls(server, sock, hub, closing, host)
        logger.info("mocksmtp HTTP on %s", service.url)
        return service

    async def close(self, grace: float = 1.0) -> None:
        """Stop serving: no new connection; streams and waits end; requests in flight may
        finish within ``grace`` seconds, then are cancelled. Idempotent."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._hub.close()
        server = self._server
        for listening in server.servers:
            listening.close()
        self._sock.close()
        state = server.server_state
        from wsproto.utilities import LocalProtocolError

        for connection in list(state.connections):
            try:
                connection.shutdown()
            except LocalProtocolError:  # a websocket its client closed a moment ago: nothing to say
                logger.debug("websocket already closed at shutdown", exc_info=True)
        tasks = set(state.tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=max(grace, 0.0))
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        for connection in list(state.connections):  # what is left (a slow client): drop it
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
