"""The HTTP API under load: requests per second with 10,000 messages stored, and what a client
polling the API at full speed costs SMTP ingest.

    python benchmarks/http_api.py             # under two minutes; prints a markdown table
    python benchmarks/http_api.py --quick     # 2,000 messages, shorter runs: about 30 s

For each store (memory, and SQLite in a temporary file) a ``mocksmtp`` process serves SMTP and
HTTP (``--quiet --stats-interval 0``, the default loop). It is filled over SMTP with messages
of about 2 KB (four smtplib connections; a tenth with a small PDF), then:

- **requests/s** of one keep-alive client (httpx, in this process) for ``--seconds`` each:
  ``GET /api/v1/messages`` (the first page, 50 summaries), ``GET /api/v1/search`` for
  ``subject:"invoice 7"`` (about a hundredth of the messages; the first page), and
  ``GET /api/v1/message/{id}`` (a different message each time, the whole Mailpit Message);
- **ingest**: smtplib sends ``--ingest`` messages over one connection, alone, and then while
  another process polls ``GET /api/v1/messages`` in a loop as fast as it can; the two are
  alternated three times and the median of each is given, with the poller's own request rate.

A markdown table goes to stdout, progress to stderr. Loopback, one machine: the client and the
poller share its cores with the server, as they do in a CI job.
"""

from __future__ import annotations

import argparse
import base64
import re
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

PYTHON = sys.executable
PDF = base64.b64encode(b"%PDF-1.4 " + bytes(range(256)) * 8).decode()


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def mail(n: int) -> str:
    """Message ``n``: about 2 KB of text; every tenth with a small PDF attached."""
    body = f"Hello {n}, here is the statement you asked for.\r\n" + "Lorem ipsum dolor sit amet. " * 60 + "\r\n"
    head = f"From: Billing <billing@example.com>\r\nTo: user{n % 500}@example.com\r\nSubject: invoice {n % 100}\r\n"
    if n % 10:
        return head + "\r\n" + body
    return (
        head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n' + body
        + "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=s.pdf\r\n"
        + f"Content-Transfer-Encoding: base64\r\n\r\n{PDF}\r\n--b--\r\n"
    )  # fmt: skip


class Server:
    """A ``mocksmtp`` process serving SMTP and HTTP on free ports."""

    def __init__(self, database: str | None) -> None:
        argv = [PYTHON, "-m", "mocksmtp", "--host", "127.0.0.1", "--port", "0", "--http-port", "0"]
        argv += ["--quiet", "--stats-interval", "0", "--max-message-size", "10485760"]
        if database:
            argv += ["--database", database]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        smtp = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.proc.stdout.readline())
        http = re.search(r"on (http://\S+)", self.proc.stdout.readline())
        if smtp is None or http is None:
            raise SystemExit("mocksmtp did not start with HTTP: is the web extra installed?")
        self.smtp_port, self.url = int(smtp.group(1)), http.group(1)

    def send(self, numbers: range | list[int]) -> None:
        with smtplib.SMTP("127.0.0.1", self.smtp_port) as client:
            for n in numbers:
                client.sendmail("billing@example.com", [f"user{n % 500}@example.com"], mail(n))

    def fill(self, count: int, connections: int = 4) -> None:
        threads = [threading.Thread(target=self.send, args=(range(i, count, connections),)) for i in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def rate(client: httpx.Client, paths: list[str], seconds: float) -> float:
    """Requests per second of ``client`` going through ``paths`` in turn for ``seconds``."""
    done, deadline = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        response = client.get(paths[done % len(paths)])
        assert response.status_code == 200, response.text
        done += 1
    return done / (time.perf_counter() - start)


def poll(url: str) -> None:
    """The poller (``--poll URL``): GET the first page in a loop until stdin closes; then print
    how many requests it made per second."""
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    done, start = 0, time.perf_counter()
    with httpx.Client(base_url=url) as client:
        while not stop.is_set():
            client.get("/api/v1/messages")
            done += 1
    print(done / (time.perf_counter() - start), flush=True)


def ingest(server: Server, first: int, count: int, *, polled: bool) -> tuple[float, float]:
    """Messages per second of one smtplib connection sending ``count`` messages, and the
    poller's requests per second (0 without one)."""
    poller = None
    if polled:
        poller = subprocess.Popen(
            [PYTHON, __file__, "--poll", server.url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        with httpx.Client(base_url=server.url) as client:  # the poller is polling once this moves
            client.get("/api/v1/messages")
        time.sleep(0.3)  # benchmark only: let the poller reach full speed before timing
    t0 = time.perf_counter()
    server.send(range(first, first + count))
    elapsed = time.perf_counter() - t0
    polls = 0.0
    if poller is not None:
        out, _ = poller.communicate("", timeout=30)
        polls = float(out.strip() or 0)
    return count / elapsed, polls


def measure(store: str, database: str | None, args: argparse.Namespace) -> list[str]:
    server = Server(database)
    try:
        progress(f"{store}: storing {args.messages:,} messages over SMTP")
        t0 = time.perf_counter()
        server.fill(args.messages)
        progress(f"{store}: stored in {time.perf_counter() - t0:.1f} s")
        rows = []
        with httpx.Client(base_url=server.url, timeout=30) as client:
            page = client.get("/api/v1/messages", params={"limit": 1000}).json()
            ids = [m["ID"] for m in page["messages"]]
            search = '/api/v1/search?query=subject:"invoice 7"'
            assert client.get(search).json()["messages_count"] >= args.messages // 100
            for name, paths in (
                ("list: GET /api/v1/messages", ["/api/v1/messages"]),
                ('search: GET /api/v1/search?query=subject:"invoice 7"', [search]),
                ("get one: GET /api/v1/message/{id}", [f"/api/v1/message/{id}" for id in ids]),
            ):
                rate(client, paths, 0.3)  # warm up
                found = rate(client, paths, args.seconds)
                progress(f"{store}: {name}: {found:.0f}/s")
                rows.append(f"| {store} | {name} | {found:,.0f} |")
        alone, polled, polls = [], [], []
        first = args.messages
        for _ in range(3):
            for polling in (False, True):
                speed, poller = ingest(server, first, args.ingest, polled=polling)
                first += args.ingest
                (polled if polling else alone).append(speed)
                if polling:
                    polls.append(poller)
                progress(f"{store}: ingest {'with' if polling else 'without'} a poller: {speed:.0f} msg/s")
        a, p = statistics.median(alone), statistics.median(polled)
        rows.append(f"| {store} | SMTP ingest, no poller (msg/s, one connection) | {a:,.0f} |")
        rows.append(
            f"| {store} | SMTP ingest while polled at {statistics.median(polls):,.0f} req/s (msg/s) | "
            f"{p:,.0f} ({p / a - 1:+.0%}) |"
        )
        return rows
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 messages and shorter runs")
    parser.add_argument("--messages", type=int, default=10_000, help="messages stored (default: 10,000)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per request rate (default: 3)")
    parser.add_argument("--ingest", type=int, default=300, help="messages per ingest run (default: 300)")
    parser.add_argument("--poll", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.poll:
        poll(args.poll)
        return 0
    if args.quick:
        args.messages, args.seconds, args.ingest = 2000, 1.0, 300
    rows = measure("memory", None, args)
    with tempfile.TemporaryDirectory() as tmp:
        rows += measure("SQLite", str(Path(tmp) / "bench.sqlite"), args)
    print(f"### HTTP API, {args.messages:,} messages stored\n")
    print("| store | measure | requests/s or messages/s |\n|---|---|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
