"""Listening sockets for one server, and an orderly shutdown of its sessions.

Used by both the threaded :class:`~mocksmtp.MockSMTPServer` and the asyncio facade: it runs
in whatever event loop calls it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket

from .protocol import protocol_class
from .state import EngineContext

__all__ = ["Listener"]

_ACCEPT_TURNS = 2  # loop turns from a connection's accept to its connection_made (asyncio's)


class Listener:
    """The bound sockets of one server (one per address family ``host`` resolves to).

    ``port=0`` binds a free port on the first address and the same port on the others, so
    ``localhost`` answers on both 127.0.0.1 and ::1 where both exist.
    """

    def __init__(self, ctx: EngineContext, servers: list[asyncio.Server], host: str, port: int) -> None:
        self.ctx = ctx
        self.host = host
        self.port = port
        self._servers = servers
        self._drained: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        return f"<Listener {self.host}:{self.port} sessions={len(self.ctx.protocols)}>"

    @classmethod
    async def open(cls, ctx: EngineContext, host: str, port: int) -> Listener:
        """Bind and start serving; raises ``OSError`` when the address cannot be used."""
        loop = asyncio.get_running_loop()
        ctx.stopping = False
        ctx.sweeper = None  # a sweep belongs to one loop; a restarted server may have another
        ctx.use_loop(loop)
        sockets = _bind(host, port, ctx.options.backlog)
        servers: list[asyncio.Server] = []
        # Implicit TLS is not the server's ssl= argument: asyncio would then call
        # connection_made only after the handshake, so handshakes in progress would escape
        # max_connections and stop(). Sessions start the handshake themselves (starttls.py).
        session = protocol_class(loop)
        try:
            for sock in sockets:
                servers.append(await loop.create_server(lambda: session(ctx), sock=sock, backlog=ctx.options.backlog))
        except BaseException:
            for server in servers:
                server.close()
            for sock in sockets:
                sock.close()
            raise
        bound = sockets[0].getsockname()[1]
        return cls(ctx, servers, host, bound)

    async def close(self, grace: float) -> None:
        """Stop accepting; sessions get 421, and those in DATA have ``grace`` seconds to finish.
        A message the store is still storing is waited for within the same ``grace``: its
        session gets the store's answer (250 or 451), then 421.

        After that anything still connected is dropped: a message in progress is discarded,
        never half stored; a session whose message the store has not finished with is dropped
        without a reply, and that message is stored if the store still finishes it.
        """
        ctx = self.ctx
        ctx.stopping = True
        # A connection the loop has just accepted has no session yet. On asyncio's loops its
        # accept task makes the session on the loop's next turn, and connection_made comes a
        # turn later (uvloop: one turn); once the listener is closed, asyncio fails that task
        # silently and leaves its socket open, so the client would hang. So: stop accepting,
        # let those turns pass (each such session is answered 421 in connection_made and
        # waited for below), then close. A connection still in the listening socket's queue
        # is reset by the kernel when the socket closes: the client sees it refused.
        loop = asyncio.get_running_loop()
        if isinstance(loop, asyncio.selector_events.BaseSelectorEventLoop):
            for server in self._servers:
                for sock in server.sockets:
                    loop.remove_reader(sock.fileno())
        for _ in range(_ACCEPT_TURNS):
            await asyncio.sleep(0)
        for server in self._servers:
            server.close()
        for protocol in list(ctx.protocols):
            protocol.shutdown()
        if ctx.storing:
            ctx.logger.info(
                "stopping: waiting up to %g s for the store to finish %d message%s",
                grace,
                ctx.storing,
                "" if ctx.storing == 1 else "s",
            )
        if ctx.protocols or ctx.storing:
            waiter: asyncio.Future[None] = loop.create_future()
            aborted = False

            def on_idle() -> None:  # no session is left: the first wait also needs no add pending
                if not waiter.done() and (aborted or not ctx.storing):
                    waiter.set_result(None)

            ctx.on_idle = on_idle
            try:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiter), max(grace, 0.0))
                aborted = True
                for protocol in list(ctx.protocols):
                    protocol.abort()
                if ctx.protocols:  # aborted transports report connection_lost on the next tick
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(asyncio.shield(waiter), 1.0)
            finally:
                ctx.on_idle = None
        if ctx.sweeper is not None:
            ctx.sweeper.cancel()
            ctx.sweeper = None


def _bind(host: str, port: int, backlog: int) -> list[socket.socket]:
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    seen: set[tuple[int, str]] = set()
    sockets: list[socket.socket] = []
    try:
        for family, type_, proto, _, addr in infos:
            key = (family, str(addr[0]))
            if key in seen:
                continue
            seen.add(key)
            sock = socket.socket(family, type_, proto)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                if sockets:  # the other families share the first one's port
                    port = sockets[0].getsockname()[1]
                sock.bind((addr[0], port, *addr[2:]))
                sock.listen(backlog)
                sock.setblocking(False)
            except OSError as e:
                sock.close()
                # The first address must work; a further family is optional (no IPv6 here,
                # or someone else holds the same port number on it).
                if not sockets or e.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                    raise
                continue
            sockets.append(sock)
    except BaseException:
        for s in sockets:
            s.close()
        raise
    return sockets
