"""The aiosmtpd peer for the benchmark: a handler that appends each message to a list.

    python benchmarks/aiosmtpd_server.py --port 0

Prints ``aiosmtpd: listening on HOST:PORT`` once it accepts connections, serves until SIGINT or
SIGTERM, then prints ``aiosmtpd: stopped: N messages, B bytes`` and exits 0. This is how
aiosmtpd's own ``Controller`` serves (``loop.create_server`` with an ``SMTP`` per connection),
without the thread, so it runs in the same kind of process as the ``mocksmtp`` command.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class ListHandler:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content: Any = envelope.original_content
        self.messages.append(content)
        return "250 OK"


async def serve(host: str, port: int) -> int:
    loop = asyncio.get_running_loop()
    handler = ListHandler()
    server = await loop.create_server(lambda: SMTP(handler), host, port)
    bound = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"aiosmtpd: listening on {host}:{bound}", flush=True)
    await stop.wait()
    server.close()
    size = sum(len(m) for m in handler.messages)
    print(f"aiosmtpd: stopped: {len(handler.messages)} messages, {size} bytes", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    return asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    sys.exit(main())
