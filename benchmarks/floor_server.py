"""The floor: the least an asyncio SMTP responder can do, for comparison only.

Canned replies to whole command lines, end of data found with one search, nothing parsed,
checked or kept. No real server can be faster on the same event loop, so its row in the table
shows what the loop itself costs; the gap between it and mocksmtp is our own code.

    python benchmarks/floor_server.py --port 2525 [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import cast

REPLIES = {b"EHLO": b"250-floor\r\n250 PIPELINING\r\n", b"DATA": b"354 go ahead\r\n", b"QUIT": b"221 bye\r\n"}


class Floor(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.WriteTransport, transport)  # uvloop's do not subclass it
        self.in_data = False
        self.pending = b""
        transport.write(b"220 floor ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        data = self.pending + data
        while data:
            if self.in_data:
                end = data.find(b"\r\n.\r\n")
                if end < 0:
                    self.pending = data[-4:]
                    return
                self.in_data = False
                self.transport.write(b"250 2.0.0 Ok\r\n")
                data = data[end + 5 :]
                continue
            nl = data.find(b"\r\n")
            if nl < 0:
                break
            verb = data[:4].upper()
            self.transport.write(REPLIES.get(verb, b"250 Ok\r\n"))
            if verb == b"DATA":
                self.in_data = True
                data = b"\r\n" + data[nl + 2 :]  # so a first-line "." ends the data too
            elif verb == b"QUIT":
                self.transport.close()
                return
            else:
                data = data[nl + 2 :]
        self.pending = data


class BufferedFloor(Floor, asyncio.BufferedProtocol):
    """The same, receiving into one buffer: on asyncio's own loop a plain Protocol gets a fresh
    256 KiB bytes per read (mocksmtp makes the same choice, per loop)."""

    buffer = memoryview(bytearray(256 * 1024))

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(self.buffer[:nbytes]))


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    protocol = BufferedFloor if isinstance(loop, asyncio.BaseEventLoop) else Floor
    server = await loop.create_server(protocol, "127.0.0.1", port, backlog=1024)
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set_result, None)
    await stop
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
