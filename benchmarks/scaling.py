"""Ingest through ``mocksmtp`` nodes on the SQLite store and on the PostgreSQL store, side by
side in one run: one SQLite node, one PostgreSQL node, two PostgreSQL nodes on one database.

    python benchmarks/scaling.py                  # 4,000 messages of 5 KB per variant
    python benchmarks/scaling.py --messages 10000 --sessions 20 --reps 3

Each node is a ``mocksmtp --database ... --no-http --quiet`` process; Postfix's
``smtp-source`` sends ``--messages`` messages of 5 KB over ``--sessions`` parallel sessions (a
new connection per message), split evenly between the nodes. PostgreSQL is a throw-away
cluster (tests/pgcluster.py: Debian's ``initdb`` as ``nobody`` when run as root, on a free
port, ``fsync=off`` as in the tests; a production server with ``fsync=on`` commits slower).
The messages stored are counted afterwards: a variant that lost one fails.

A markdown table goes to stdout (messages per second, median of ``--reps``), progress to
stderr. Every process shares the machine's cores: with two cores, two nodes, the clients and
PostgreSQL compete for them, so the two-node figure says what one machine does, not a cluster.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.pgcluster: the tests' throw-away cluster

from tests.pgcluster import Cluster, find_bin  # noqa: E402

from mocksmtp import SQLiteStore  # noqa: E402
from mocksmtp.store.postgres import PostgresStore  # noqa: E402


def start_node(database: str) -> tuple[subprocess.Popen[str], int]:
    quiet = ["--no-http", "--quiet", "--stats-interval", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mocksmtp", "--host", "127.0.0.1", "--port", "0", *quiet, "--database", database],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "listening on" in line:
            return proc, int(line.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
    raise RuntimeError(f"mocksmtp --database {database} did not start")


def send(ports: list[int], messages: int, sessions: int) -> float:
    """Seconds for smtp-source processes (one per node, in parallel) to send ``messages``."""
    source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    started = time.perf_counter()
    each = ["-s", str(max(sessions // len(ports), 1)), "-m", str(messages // len(ports)), "-l", "5120"]
    procs = [
        subprocess.Popen(
            [source, *each, f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for port in ports
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        if p.returncode:
            raise RuntimeError(f"smtp-source failed: {err.strip()[-300:]}")
    return time.perf_counter() - started


def one(kind: str, nodes: int, cluster: Cluster | None, messages: int, sessions: int) -> float:
    folder = tempfile.mkdtemp(prefix="mocksmtp-scaling-")
    database = cluster.database() if cluster else str(Path(folder) / "mail.sqlite")
    running = [start_node(database) for _ in range(nodes)]
    try:
        seconds = send([port for _, port in running], messages, sessions)
    finally:
        for proc, _ in running:
            proc.terminate()
            proc.wait(30)
    store = PostgresStore(database) if cluster else SQLiteStore(database)
    try:
        stored = store.count()
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
    if stored != messages // nodes * nodes:
        raise RuntimeError(f"{kind}: {stored} messages stored of {messages} sent")
    return messages / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args()
    bin = find_bin()
    if bin is None:
        sys.exit("no PostgreSQL server binaries: apt install postgresql (or set MOCKSMTP_PG_BIN)")
    cluster = Cluster(bin).start()
    rows = []
    try:
        for label, kind, nodes in (
            ("SQLite, 1 node", "sqlite", 1),
            ("PostgreSQL, 1 node", "postgres", 1),
            ("PostgreSQL, 2 nodes", "postgres", 2),
        ):
            rates = []
            for _ in range(args.reps):
                rates.append(one(kind, nodes, cluster if kind == "postgres" else None, args.messages, args.sessions))
                print(f"{label}: {rates[-1]:,.0f} messages/s", file=sys.stderr)
            rows.append((label, statistics.median(rates), nodes))
    finally:
        cluster.destroy()
    print(f"{args.messages:,} messages of 5 KB, {args.sessions} smtp-source sessions, median of {args.reps}\n")
    print("| store | messages/s | per node |\n|---|---:|---:|")
    for label, rate, nodes in rows:
        print(f"| {label} | {rate:,.0f} | {rate / nodes:,.0f} |")


if __name__ == "__main__":
    main()
