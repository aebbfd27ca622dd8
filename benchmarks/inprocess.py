"""In-process costs of mocksmtp, printed as one JSON object (``run.py`` calls this).

    python benchmarks/inprocess.py [--quick]

- ``start_stop``: ``MockSMTPServer(port=0)`` constructed, started and stopped (median of 100),
  and aiosmtpd's ``Controller`` on a free port for comparison when aiosmtpd is installed;
- ``reset``: ``server.reset()`` with 10 messages stored, and with none;
- ``visible``: for messages sent with smtplib, whether the message is counted the moment the
  client has read its 250 (no wait allowed), and how long that check took;
- ``import``: ``python -X importtime`` of ``import mocksmtp``, of ``from mocksmtp import
  MockSMTPServer`` (also in a bare interpreter, ``python -S``, and after ``import pytest``) and
  of ``import mocksmtp.pytest_plugin`` after ``import pytest`` (what the plugin adds to a run).
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import mocksmtp
from mocksmtp import MockSMTPServer

MESSAGE = b"Subject: reset\r\n\r\n" + b"x" * 1000 + b"\r\n"


def summary(samples: list[float]) -> dict[str, float]:
    """Median, min and max, in microseconds."""
    return {
        "median_us": statistics.median(samples) * 1e6,
        "min_us": min(samples) * 1e6,
        "max_us": max(samples) * 1e6,
        "n": len(samples),
    }


def start_stop(n: int) -> dict[str, Any]:
    for _ in range(10):  # warm up: first binds, imports done lazily, caches
        MockSMTPServer(port=0).start().stop()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        server = MockSMTPServer(port=0)
        server.start()
        server.stop()
        samples.append(time.perf_counter() - t0)
    return summary(samples)


def aiosmtpd_start_stop(n: int) -> dict[str, Any] | None:
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        return None

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    samples = []
    for i in range(n + 10):
        t0 = time.perf_counter()
        controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
        controller.start()
        controller.stop()
        if i >= 10:
            samples.append(time.perf_counter() - t0)
    return summary(samples)


def reset_cost(n: int) -> dict[str, Any]:
    """``reset()`` with 10 messages stored, called right after the last 250, as a fixture
    does between two tests; and with none.

    Not after a pause: on this shared machine a thread that has been off the CPU for a few
    milliseconds finds its caches cold, and then even an empty reset() takes ~50 µs.
    """
    with MockSMTPServer("127.0.0.1", 0) as server:
        full, empty = [], []
        with smtplib.SMTP(server.host, server.port) as client:
            for _ in range(n):
                for _ in range(10):
                    client.sendmail("a@example.com", ["b@example.com"], MESSAGE)
                t0 = time.perf_counter()
                server.reset()
                full.append(time.perf_counter() - t0)
        for _ in range(n * 10):
            t0 = time.perf_counter()
            server.reset()
            empty.append(time.perf_counter() - t0)
    return {"with_10_messages": summary(full), "empty": summary(empty)}


def visibility(n: int) -> dict[str, Any]:
    """The message must be readable as soon as the client has its 250: count the misses."""
    misses = 0
    samples = []
    with MockSMTPServer("127.0.0.1", 0) as server, smtplib.SMTP(server.host, server.port) as client:
        for i in range(n):
            client.sendmail("a@example.com", ["b@example.com"], MESSAGE)
            t0 = time.perf_counter()
            seen = server.get_message_count() == i + 1 and server.messages[-1].raw == MESSAGE
            samples.append(time.perf_counter() - t0)
            if not seen:
                misses += 1
                server.wait_for(i + 1, timeout=5)
    return {"messages": n, "waits_needed": misses, **summary(samples)}


def _top_level_imports(code: str, bare: bool) -> dict[str, int]:
    """Cumulative µs of each top-level import made by ``python -c code``.

    ``bare``: with ``-S``, so that no ``.pth`` file of the environment imports anything first
    (here one imports re, typing and pathlib at startup, which mocksmtp then finds loaded).
    """
    flags, env = [], None
    if bare:
        flags = ["-S"]
        env = {**os.environ, "PYTHONPATH": str(Path(mocksmtp.__file__).resolve().parent.parent)}
    result = subprocess.run(
        [sys.executable, *flags, "-X", "importtime", "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    if result.returncode != 0:
        raise ImportError(result.stderr.strip().splitlines()[-1])
    times: dict[str, int] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, _, fields = line.partition(":")
        _self_us, cumulative, name = fields.split("|")
        if name.startswith(" ") and not name.startswith("  "):  # top level: one space
            times[name.strip()] = int(cumulative)
    return times


def import_time(statement: str, runs: int, *, bare: bool = False, after: str = "pass") -> dict[str, Any] | None:
    """Median over ``runs`` fresh interpreters of the imports ``statement`` adds to those of
    startup and of the code ``after``."""
    startup = set(_top_level_imports(after, bare))
    samples = []
    for _ in range(runs):
        try:
            times = _top_level_imports(f"{after}; {statement}", bare)
        except ImportError:
            return None
        samples.append(sum(t for name, t in times.items() if name not in startup) / 1e6)
    return summary(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 30 if args.quick else 100
    runs = 5 if args.quick else 9
    result = {
        "start_stop": start_stop(100),
        "aiosmtpd_start_stop": aiosmtpd_start_stop(n),
        "reset": reset_cost(n),
        "visible": visibility(300 if args.quick else 1000),
        "import_mocksmtp": import_time("import mocksmtp", runs),
        "import_server": import_time("from mocksmtp import MockSMTPServer", runs),
        "import_server_bare": import_time("from mocksmtp import MockSMTPServer", runs, bare=True),
        "import_server_in_pytest": import_time("from mocksmtp import MockSMTPServer", runs, after="import pytest"),
        "import_plugin": import_time("import mocksmtp.pytest_plugin", runs, after="import pytest"),
    }
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
