"""Closing a session twice, or a session whose transport is already closing, is harmless."""

from __future__ import annotations

import asyncio

from mocksmtp import REPLY
from mocksmtp.config import SMTPOptions
from mocksmtp.smtp.protocol import SMTPProtocol
from mocksmtp.smtp.state import EngineContext
from mocksmtp.store import MemoryStore


class BreaksAfterClose(asyncio.Transport):
    """Like asyncio's SSL transport: once closed, a second close() drops its protocol and
    every later call fails."""

    def __init__(self) -> None:
        super().__init__()
        self.closes = 0
        self.written: list[bytes] = []

    def _check(self) -> None:
        if self.closes > 1:
            raise AttributeError("'NoneType' object has no attribute '_get_write_buffer_size'")

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._check()
        self.written.append(bytes(data))

    def close(self) -> None:
        self.closes += 1

    def is_closing(self) -> bool:
        return self.closes > 0

    def get_write_buffer_size(self) -> int:
        self._check()
        return 0

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 2525) if name == "peername" else default


def test_shutdown_after_the_session_closed_does_nothing() -> None:
    """A QUIT-closed session, then a server shutdown and an abort: one close, no error."""

    async def main() -> BreaksAfterClose:
        ctx = EngineContext(SMTPOptions(), MemoryStore())
        protocol = SMTPProtocol(ctx)
        transport = BreaksAfterClose()
        protocol.connection_made(transport)
        protocol.data_received(b"QUIT\r\n")
        protocol.shutdown()
        protocol.close_with(REPLY.SHUTTING_DOWN)
        return transport

    transport = asyncio.run(main())
    assert transport.closes == 1
    assert transport.written[-1].startswith(b"221 ")


class LosesConnectionOnClose(BreaksAfterClose):
    """Like Python 3.10's SSL transport: after close(), or once its connection is gone,
    get_write_buffer_size() raises AttributeError; and losing the connection does not mark it
    closed (it would warn when collected unless someone closes it)."""

    def get_write_buffer_size(self) -> int:
        if self.closes:
            raise AttributeError("'NoneType' object has no attribute 'get_write_buffer_size'")
        return 0


def test_closing_copes_with_a_transport_that_lost_its_connection() -> None:
    """The server closes a session (421 on shutdown) whose transport cannot say what is left
    unsent: no error; and a session whose client went away gets its transport closed."""

    async def main() -> tuple[LosesConnectionOnClose, LosesConnectionOnClose]:
        ctx = EngineContext(SMTPOptions(), MemoryStore())
        shut = SMTPProtocol(ctx)
        first = LosesConnectionOnClose()
        shut.connection_made(first)
        shut.shutdown()  # 421 and close: get_write_buffer_size() now raises
        gone = SMTPProtocol(ctx)
        second = LosesConnectionOnClose()
        gone.connection_made(second)
        gone.connection_lost(None)  # the client went away; nobody had closed the transport
        return first, second

    first, second = asyncio.run(main())
    assert first.closes == 1
    assert first.written[-1].startswith(b"421 ")
    assert second.closes == 1
