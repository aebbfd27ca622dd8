"""What handing each message to the SQLite store's writer thread costs one session, against
committing it in the loop's thread: load (d) of run.py, side by side, in one process.

    python benchmarks/handoff.py            # 5 rounds of 1000 × 5 KB per variant, uvloop
    python benchmarks/handoff.py --loop asyncio --rounds 3

Each round makes a fresh server (a new database file) per variant, in turn, and sends 1000 ×
5 KB messages over one smtplib connection from a separate process. The variants:

- memory: the memory store (``add_later`` answers at once);
- SQLite, add_later: what the engine does (the commit in the store's writer thread; the
  session's ``250`` waits for it while the loop serves others);
- SQLite, add on the loop: the engine told the store has no ``add_later`` (the commit blocks
  the loop, as before issue 10's engine change).

With one session nothing else can use the loop meanwhile, so the difference between the last
two is the two thread wake-ups per message (loop to writer, writer to loop).
"""

# ruff: noqa: RUF001, RUF002  (the table uses the multiplication sign and the en dash on purpose)
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile

from mocksmtp import MockSMTPServer

CLIENT = """
import smtplib, sys, time
body = b"Subject: x\\r\\n\\r\\n" + b"x" * 5100 + b"\\r\\n"
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    t = time.perf_counter()
    for _ in range(int(sys.argv[2])):
        s.sendmail("a@example.com", ["b@example.com"], body)
    print(int(sys.argv[2]) / (time.perf_counter() - t))
"""
VARIANTS = ("memory", "SQLite, add_later", "SQLite, add on the loop")


def one(variant: str, messages: int) -> float:
    folder = tempfile.mkdtemp(prefix="mocksmtp-handoff-")
    database = None if variant == "memory" else os.path.join(folder, "mail.sqlite")
    server = MockSMTPServer("127.0.0.1", 0, database=database)
    if variant == "SQLite, add on the loop":
        server._ctx.add_later = None
    with server:
        out = subprocess.run(
            [sys.executable, "-c", CLIENT, str(server.port), str(messages)], capture_output=True, text=True, check=True
        ).stdout
    server.store.close()
    return float(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    rates: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for _ in range(args.rounds):
        for variant in VARIANTS:
            rates[variant].append(one(variant, args.messages))
    memory = statistics.median(rates["memory"])
    print(
        f"| {args.loop}: {args.messages} × 5 KB, one connection | msg/s, median of {args.rounds} (min–max) "
        "| / memory |\n|---|---:|---:|"
    )
    for variant, found in rates.items():
        median = statistics.median(found)
        print(f"| {variant} | {median:,.0f} ({min(found):,.0f}–{max(found):,.0f}) | {median / memory:.2f} |")


if __name__ == "__main__":
    main()
