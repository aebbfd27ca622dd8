"""The engine's own cost per SMTP session, without sockets: for A/B tests of engine changes.

    python benchmarks/engine.py            # µs per session, best batch of 250, 40 batches
    python benchmarks/engine.py --profile  # the same under cProfile, sorted by own time

Each session is what smtp-source does per message in loads (a) and (b): connect, HELO, MAIL,
RCPT, DATA, 5 KB of data in one read, QUIT, disconnect, each command in a read of its own,
fed to the plain protocol (the one uvloop gets) through a transport that only counts. The
store is cleared every 2000 sessions. Throughput on a busy machine swings 10-50%; the best
batch of this moves by about 1%, so two versions measured a minute apart can be compared.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from typing import Any

from mocksmtp.config import SMTPOptions
from mocksmtp.smtp.protocol import SMTPProtocol
from mocksmtp.smtp.state import EngineContext
from mocksmtp.store import MemoryStore

BODY = b"".join(b"X" * 70 + b"\r\n" for _ in range(70))
READS = [
    b"HELO client.example\r\n",
    b"MAIL FROM:<a@example.com>\r\n",
    b"RCPT TO:<b@example.com>\r\n",
    b"DATA\r\n",
    b"Message-Id: <1.2@client.example>\r\nFrom: a@example.com\r\nTo: b@example.com\r\n"
    b"Subject: hi\r\n\r\n" + BODY + b".\r\n",
    b"QUIT\r\n",
]


class CountingTransport:
    """Just enough of a transport for a session; writes are counted, not kept."""

    def __init__(self) -> None:
        self.closing = False
        self.written = 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def measure(batches: int, batch: int, profile: bool) -> float:
    ctx = EngineContext(SMTPOptions(), MemoryStore())

    def session() -> None:
        protocol = SMTPProtocol(ctx)
        protocol.connection_made(CountingTransport())  # type: ignore[arg-type]
        for read in READS:
            protocol.data_received(read)
        protocol.connection_lost(None)

    for _ in range(500):  # warm up
        session()
    if ctx.store.count() != 500 or ctx.stats.errors:
        raise SystemExit(f"engine.py: the sessions stored {ctx.store.count()} of 500 messages")
    ctx.store.clear()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    best = float("inf")
    for i in range(batches):
        started = time.perf_counter()
        for _ in range(batch):
            session()
        best = min(best, time.perf_counter() - started)
        if (i + 1) * batch % 2000 == 0:
            ctx.store.clear()
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return best / batch * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--profile", action="store_true", help="run under cProfile (slower)")
    args = parser.parse_args()
    per_session = asyncio.run(measure(args.batches, args.batch, args.profile))
    print(f"{per_session:.1f} µs per session (best batch of {args.batch}, {args.batches} batches)")


if __name__ == "__main__":
    main()
