"""The web UI's first page in Debian's Chromium with 100,000 messages in a SQLite store.

    python benchmarks/ui.py                 # uses /tmp/mocksmtp-bench-100000.sqlite (made once)
    python benchmarks/ui.py --messages 20000 --reps 5
    python benchmarks/ui.py --database /tmp/copy.sqlite   # a copy (opening a file may add an index)

The database is the one benchmarks/storage.py makes (written through the store's API, not over
SMTP) and is made here the same way when it is missing. A server with HTTP on a free port serves
it; each run opens a new browser context (no cache), navigates to ``/`` and reads the page's
``mocksmtp:first-rows`` performance mark: the time from navigation start to the frame after the
first page of rows was put in the document (goal: under 200 ms). When the page asked for the
rows, and how long that API call took, come from the page's resource timing. Needs Playwright and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from storage import holds, log, make

from mocksmtp import MockSMTPServer

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARGS += ["--disable-component-update", "--disable-sync", "--no-first-run"]
MARK = "performance.getEntriesByName('mocksmtp:first-rows')"
API = "performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/messages'))"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=11)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--database", type=Path, help="the file to serve (default: /tmp/mocksmtp-bench-N.sqlite)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    path = args.database or Path(f"/tmp/mocksmtp-bench-{args.messages}.sqlite")
    if not holds(path, args.messages):
        log(f"making {path} ({args.messages:,} messages)")
        make(path, args.messages)
    painted: list[float] = []
    fetched: list[float] = []
    asked: list[float] = []
    with MockSMTPServer("127.0.0.1", 0, http_port=0, database=path) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
        for run in range(args.reps + 1):  # the first warms the server's caches up
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{server.http_url}/")
            page.wait_for_function(f"() => {MARK}.length > 0")
            if run:
                painted.append(page.evaluate(f"() => {MARK}[0].startTime"))
                fetched.append(page.evaluate(f"() => {API}[0].duration"))
                asked.append(page.evaluate(f"() => {API}[0].startTime"))
            context.close()
        browser.close()
    rows = 50
    print(f"### Web UI, first page in Chromium, {args.messages:,} messages of about 5 KB (SQLite)\n")
    print(f"Python {sys.version.split()[0]}; median of {args.reps} (min–max), after one run to warm up.\n")  # noqa: RUF001
    print("| measure | ms |\n|---|---:|")
    for label, values in (
        ("navigation start to the page asking for its first rows", asked),
        (f"navigation start to the first {rows} rows painted", painted),
        (f"of which the API call for {rows} summaries", fetched),
    ):
        print(f"| {label} | {statistics.median(values):,.1f} ({min(values):,.1f}–{max(values):,.1f}) |")  # noqa: RUF001
    return 0


if __name__ == "__main__":
    sys.exit(main())
