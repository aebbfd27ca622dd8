"""The SQLite store with 100,000 messages of about 5 KB: the server's memory, and how long a
list view's first page takes.

    python benchmarks/storage.py            # makes /tmp/mocksmtp-bench-100000.sqlite once, then measures
    python benchmarks/storage.py --messages 20000 --reps 21

The file is made by writing through the store's API directly (``SQLiteStore.add``, then one
search so that everything is indexed), not over SMTP, and kept for the next run (it is made
again only if it does not hold exactly ``--messages`` messages of this schema). Messages are
generated from a fixed seed: 1,000 recipients, 200 senders, subjects from a dozen templates,
about 5 KB of text from a 2,000-word vocabulary, a tenth with an HTML alternative and a
twentieth with a small attachment; one message in 1,000 holds the rare word ``quetzal``.

Then, each in a fresh process or store:

- the resident set size (``VmRSS``, and the peak ``VmHWM``) of ``mocksmtp --database FILE``,
  once it listens and has served an SMTP session (goal: under 150 MiB);
- the median time, over ``--reps`` runs after one to warm up, of the first page (50
  summaries, newest first) of a ``to:`` query, a ``subject:`` query and bare-word queries
  (goal: under 50 ms each), of ``count()`` with and without a query, and of the next page
  through a cursor (``after=``).

A markdown table goes to stdout, progress to stderr. A run over an existing file takes about
a minute; making the file, a few minutes more.
"""
# ruff: noqa: RUF001  (the table uses the multiplication sign on purpose)

from __future__ import annotations

import argparse
import os
import random
import re
import smtplib
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from mocksmtp import Message, SQLiteStore
from mocksmtp.query import parse_query
from mocksmtp.store.sqlite import SCHEMA_VERSION

MiB = 1024 * 1024
WORDS = [
    f"{a}{b}"
    for a in (
        "ba",
        "ce",
        "di",
        "fo",
        "gu",
        "ha",
        "ki",
        "lo",
        "mu",
        "ne",
        "pi",
        "ro",
        "sa",
        "tu",
        "ve",
        "wo",
        "xi",
        "yu",
        "za",
        "qe",
    )
    for b in (
        "ler",
        "mon",
        "tis",
        "vak",
        "rud",
        "pen",
        "sol",
        "gar",
        "nix",
        "bel",
        "dor",
        "fim",
        "jut",
        "kal",
        "lop",
        "mer",
        "nop",
        "pur",
        "qir",
        "ros",
        "sut",
        "tev",
        "ulm",
        "vas",
        "wen",
        "yar",
        "zok",
        "bim",
        "cun",
        "dap",
        "eft",
        "gol",
        "hup",
        "ink",
        "jov",
        "kes",
        "lur",
        "mip",
        "nod",
        "orb",
        "pax",
        "quo",
        "rex",
        "sil",
        "tam",
        "uno",
        "vid",
        "wax",
        "yel",
        "zip",
        "aft",
        "bor",
        "cax",
        "dex",
        "egg",
        "fen",
        "gim",
        "hex",
        "ilk",
        "jam",
        "kin",
        "lax",
        "mox",
        "nub",
        "oak",
        "pim",
        "rig",
        "sax",
        "tux",
        "urn",
        "vox",
        "wig",
        "yak",
        "zed",
        "ask",
        "bud",
        "cob",
        "den",
        "elm",
        "fig",
        "gut",
        "hop",
        "imp",
        "jig",
        "keg",
        "lid",
        "mug",
        "nag",
        "owl",
        "pug",
        "rut",
        "sob",
    )
]
SUBJECTS = [
    "Your order {n} has shipped",
    "Invoice {n} from Acme",
    "Reset your password",
    "Welcome aboard, {name}",
    "Weekly report {n}",
    "Meeting notes {n}",
    "Your receipt {n}",
    "Security alert for {name}",
    "Newsletter issue {n}",
    "Comment on ticket {n}",
    "Reminder: renew before {n}",
    "Build {n} failed",
]
QUERIES = [  # (label, query): first pages a list view asks for
    ("`to:` one recipient in 1,000 (exact address)", "to:user0042@example.com"),
    ("`to:` a substring (`to:user004`: 10 recipients)", "to:user004"),
    ("`subject:` one template in 12 (`subject:invoice`)", "subject:invoice"),
    ("`subject:` a phrase in one message", 'subject:"order 77777 has"'),
    ("bare word in most messages (`bamon`)", "bamon"),
    ("bare word in 1 message in 1,000 (`quetzal`)", "quetzal"),
]


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def message(rng: random.Random, n: int, start: datetime) -> tuple[bytes, str, list[str]]:
    """Message ``n`` of the corpus: raw bytes (about 5 KB), sender and recipients."""
    name = rng.choice(["Ann", "Bob", "Carl", "Dana", "Erin", "Finn", "Gia", "Hugo"])
    sender = f"noreply{rng.randrange(200):03d}@shop{rng.randrange(20)}.example"
    to = [f"user{rng.randrange(1000):04d}@example.com"]
    cc = [f"user{rng.randrange(1000):04d}@example.com"] if rng.random() < 0.2 else []
    subject = rng.choice(SUBJECTS).format(n=n, name=name)
    if n == 77777:  # the one message `subject:"order 77777 has"` finds
        subject = f"Your order {n} has shipped"
    words = rng.choices(WORDS, k=700)
    if n % 1000 == 500:
        words[rng.randrange(700)] = "quetzal"
    lines = [" ".join(words[i : i + 12]) for i in range(0, 700, 12)]
    text = "\r\n".join(lines) + "\r\n"
    head = (
        f"From: {name} Shop <{sender}>\r\nTo: {name} <{to[0]}>\r\n"
        + (f"Cc: {cc[0]}\r\n" if cc else "")
        + f"Subject: {subject}\r\nDate: {(start + timedelta(seconds=n)).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
        f"\r\nMessage-ID: <{n}.{rng.randrange(10**9)}@shop.example>\r\nMIME-Version: 1.0\r\n"
    )
    kind = rng.random()
    if kind < 0.05:
        body = (
            f"Content-Type: multipart/mixed; boundary=b{n}\r\n\r\n--b{n}\r\nContent-Type: text/plain\r\n\r\n"
            f"{text}--b{n}\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
            f"filename=doc{n}.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b{n}--\r\n"
        )
    elif kind < 0.15:
        half = "\r\n".join(lines[:30]) + "\r\n"
        body = (
            f"Content-Type: multipart/alternative; boundary=a{n}\r\n\r\n--a{n}\r\nContent-Type: text/plain\r\n\r\n"
            f"{half}--a{n}\r\nContent-Type: text/html\r\n\r\n<p>{half}</p>\r\n--a{n}--\r\n"
        )
    else:
        body = f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}"
    return (head + body).encode(), sender, to + cc


def holds(path: Path, messages: int) -> bool:
    """Whether ``path`` is a finished corpus of ``messages`` messages of this schema."""
    if not path.exists():
        return False
    try:
        with sqlite3.connect(path) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            count, pending = db.execute("SELECT count(*), sum(indexed = 0) FROM messages").fetchone()
    except sqlite3.Error:
        return False
    return bool(version == SCHEMA_VERSION and count == messages and not pending)


def make(path: Path, messages: int) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    rng = random.Random(10)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    store = SQLiteStore(path)
    began = time.perf_counter()
    for n in range(messages):
        raw, sender, rcpts = message(rng, n, start)
        store.add(
            Message(
                id=store.new_id(), raw=raw, mail_from=sender, rcpt_tos=rcpts, received_at=start + timedelta(seconds=n)
            )
        )
        if n % 10000 == 9999:
            log(f"  {n + 1:,} stored ({time.perf_counter() - began:.0f} s)")
    stored = time.perf_counter() - began
    store.count(parse_query("anything"))  # a search indexes whatever is pending, in this thread
    log(f"  stored in {stored:.0f} s, indexed in {time.perf_counter() - began - stored:.0f} s")
    store.close()


def server_rss(path: Path) -> tuple[int, int]:
    """VmRSS and VmHWM of ``mocksmtp --database path`` once it listens and served a session."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mocksmtp",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database",
            str(path),
            "--quiet",
            "--stats-interval",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "listening" in line:
                break
        else:
            raise SystemExit(f"mocksmtp did not start: {proc.stderr.read() if proc.stderr else ''}")
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:  # a session, but the file stays as it is
            client.ehlo()
            client.noop()
        status = Path(f"/proc/{proc.pid}/status").read_text()
        found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.MULTILINE))
        return int(found["VmRSS"]) * 1024, int(found["VmHWM"]) * 1024
    finally:
        proc.terminate()
        proc.wait(30)


def timed(call: Callable[[], object], reps: int) -> tuple[float, float, float]:
    """Median, min and max seconds of ``reps`` calls after one to warm up."""
    call()
    times = []
    for _ in range(reps):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times), min(times), max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--file", type=Path, help="default: /tmp/mocksmtp-bench-MESSAGES.sqlite")
    parser.add_argument("--reps", type=int, default=11)
    args = parser.parse_args()
    path = args.file or Path(f"/tmp/mocksmtp-bench-{args.messages}.sqlite")
    if not holds(path, args.messages):
        log(f"making {path} ({args.messages:,} messages)")
        make(path, args.messages)
    size = sum(os.path.getsize(p) for p in (path, Path(f"{path}-wal")) if os.path.exists(p))
    log("measuring the server's memory")
    rss, hwm = server_rss(path)
    log("measuring first pages")
    store = SQLiteStore(path)
    rows = []

    def row(label: str, call: Callable[[], object], goal: float | None) -> None:
        median, low, high = timed(call, args.reps)
        verdict = "" if goal is None else (" ✓" if median < goal else " ✗")
        rows.append(f"| {label} | {median * 1000:,.1f} ({low * 1000:,.1f}–{high * 1000:,.1f}){verdict} |")

    for label, text in QUERIES:
        query = parse_query(text)
        found = store.count(query)
        row(f"first page of {label}: {min(found, 50)} of {found:,} summaries", lambda q=query: store.summaries(q), 0.05)
    page = store.summaries()
    row("first page, no query: 50 summaries", lambda: store.summaries(), 0.05)
    row("next page through a cursor (`after=` the 50th)", lambda: store.summaries(after=page[-1].id), 0.05)
    row("`count()`", lambda: store.count(), None)
    invoices = parse_query("subject:invoice")
    row("`count(subject:invoice)`", lambda: store.count(invoices), None)
    store.close()

    print(f"### SQLite store, {args.messages:,} messages of about 5 KB\n")
    print(
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}; file {size / MiB:,.0f} MiB "
        f"({path}). Times: median of {args.reps} (min–max), after one run to warm up.\n"
    )
    print("| measure | value |\n|---|---:|")
    print(
        f"| RSS of `mocksmtp --database` serving the file (goal < 150 MiB) | {rss / MiB:.1f} MiB"
        f"{' ✓' if rss < 150 * MiB else ' ✗'} (peak {hwm / MiB:.1f} MiB) |"
    )
    print("\n| query | ms |\n|---|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
