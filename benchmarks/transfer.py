"""Export and import of N messages of 5 KB to and from a SQLite database, as a markdown table.

    python benchmarks/transfer.py [--messages 10000] [--runs 3]

For each format (eml, mbox, maildir): ``mocksmtp.store.transfer.export_messages`` of every
message of a database filled beforehand, then ``import_messages`` of what it wrote into a new
database (each ``add`` a committed transaction, as over SMTP). Wall time, median of the runs,
in a temporary folder on the machine's disk.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from mocksmtp import Message, SQLiteStore
from mocksmtp.query import parse_query
from mocksmtp.store.transfer import export_messages, import_messages


def message(i: int) -> bytes:
    head = (
        f"From: app@example.com\r\nTo: user{i % 100}@example.com\r\nSubject: message {i}\r\n"
        f"Date: Sat, 05 Dec 2026 12:00:00 +0000\r\nMessage-ID: <{i}@example.com>\r\n\r\n"
    ).encode()
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n"
    return head + line * ((5000 - len(head)) // len(line) + 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = SQLiteStore(root / "source.sqlite")
        for i in range(args.messages):
            source.add(
                Message(
                    id=source.new_id(),
                    raw=message(i),
                    mail_from="app@example.com",
                    rcpt_tos=[f"user{i % 100}@example.com"],
                )
            )
        source.count(parse_query("subject:warm"))  # the search columns are filled now, not while timing
        print(f"{args.messages:,} messages of {len(message(0)):,} bytes, median of {args.runs} runs\n")
        print("| format | export | import |")
        print("|---|---|---|")
        for format in ("eml", "mbox", "maildir"):
            exports, imports = [], []
            for run in range(args.runs):
                dest = root / f"{format}-{run}"
                started = time.perf_counter()
                assert export_messages(source, dest, format=format) == args.messages  # type: ignore[arg-type]
                exports.append(time.perf_counter() - started)
                target = SQLiteStore(root / f"{format}-{run}.sqlite")
                started = time.perf_counter()
                assert import_messages(target, [dest]) == args.messages
                imports.append(time.perf_counter() - started)
                target.close()
            print(f"| {format} | {statistics.median(exports):.2f} s | {statistics.median(imports):.2f} s |")
        source.close()


if __name__ == "__main__":
    main()
