"""Measure mocksmtp against aiosmtpd and Postfix's smtp-sink, side by side, in one run.

    python benchmarks/run.py            # the full run: about 4 minutes on 2 cores
    python benchmarks/run.py --quick    # a quarter of the messages: about 1 minute

Needs Postfix's ``smtp-source`` and ``smtp-sink`` (Debian: ``apt-get install postfix``; the
postfix daemon is never started, and the run refuses to go on if anything listens on port 25),
``pip install -e '.[bench]'`` (mocksmtp, aiosmtpd, pytest and uvloop; without uvloop the
uvloop rows are left out). Everything listens on 127.0.0.1 on free ports; every server is a fresh process
per measurement and is stopped (and, if it does not stop, killed) before the next one.

Loads (from ``peers.md``): (a) ``smtp-source`` 2000 x 5 KB, one session, a new connection per
message; (b) 5000 x 5 KB, 20 parallel sessions; (c) 200 x 1 MB, 4 sessions; (d) smtplib,
1000 x 5 KB over one connection. Each cell is the median of ``--reps`` runs (at least 3) with
min and max. The markdown tables go to stdout, progress to stderr.
"""
# ruff: noqa: RUF001  (the tables use the multiplication sign and the en dash on purpose)

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import select
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
MiB = 1024 * 1024
POSTFIX_DIRS = ("/usr/sbin", "/usr/lib/postfix/sbin", "/usr/libexec/postfix", "/usr/local/sbin")

# -- the loads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    key: str
    title: str
    messages: int
    size: int
    sessions: int  # parallel smtp-source sessions; 0 means smtplib over one connection


LOADS = (
    Load("a", "(a) 2000 × 5 KB, 1 session, new connection each", 2000, 5 * 1024, 1),
    Load("b", "(b) 5000 × 5 KB, 20 sessions", 5000, 5 * 1024, 20),
    Load("c", "(c) 200 × 1 MB, 4 sessions", 200, 1024 * 1024, 4),
    Load("d", "(d) smtplib 1000 × 5 KB, one connection", 1000, 5 * 1024, 0),
)


def smtplib_message(size: int) -> bytes:
    """A message of exactly ``size`` octets, CRLF line endings, no line starting with a dot."""
    head = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: load d\r\n\r\n"
    line = b"x" * 78 + b"\r\n"
    body = line * ((size - len(head)) // len(line))
    tail = size - len(head) - len(body)
    return head + body + (b"y" * (tail - 2) + b"\r\n" if tail else b"")


# -- the servers -----------------------------------------------------------------------------


@dataclass
class Server:
    key: str
    label: str
    command: Callable[[int], list[str]]  # port -> argv
    stores: bool  # reports what it kept in a final line we can check
    stop_signal: int = signal.SIGINT
    env: dict[str, str] | None = None  # the environment, when not this process's own


def find_postfix_tool(name: str) -> str:
    found = shutil.which(name)
    for directory in POSTFIX_DIRS:
        if found:
            break
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            found = str(candidate)
    if not found:
        sys.exit(f"run.py: {name} not found (Debian: apt-get install postfix; never start the daemon)")
    return found


def mocksmtp_argv(port: int, loop: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mocksmtp",
        "--loop",
        loop,
        "--host",
        HOST,
        "--port",
        str(port),
        "--quiet",
        "--stats-interval",
        "0",
    ]


def baseline_servers(revision: str, workdir: Path, with_uvloop: bool) -> list[Server]:
    """mocksmtp as of ``revision`` (its ``src/`` from git, first on ``PYTHONPATH``), on both loops."""
    repo = HERE.parent
    label = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", revision], capture_output=True, text=True
    ).stdout.strip()
    if not label:
        sys.exit(f"run.py: --baseline {revision}: no such git revision in {repo}")
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", revision, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(workdir)], input=archive, check=True)
    env = {**os.environ, "PYTHONPATH": str(workdir / "src")}
    servers = [
        Server(
            "base", f"mocksmtp @ `{label}` (asyncio loop)", lambda port: mocksmtp_argv(port, "asyncio"), True, env=env
        ),
        Server(
            "base-sqlite",
            f"mocksmtp --database @ `{label}` (SQLite, asyncio loop)",
            lambda port: sqlite_argv(port, "asyncio"),
            True,
            env=env,
        ),
    ]
    if with_uvloop:
        servers.append(
            Server(
                "base-uvloop",
                f"mocksmtp @ `{label}` (uvloop)",
                lambda port: mocksmtp_argv(port, "uvloop"),
                True,
                env=env,
            )
        )
        servers.append(
            Server(
                "base-sqlite-uvloop",
                f"mocksmtp --database @ `{label}` (SQLite, uvloop)",
                lambda port: sqlite_argv(port, "uvloop"),
                True,
                env=env,
            )
        )
    return servers


def sqlite_argv(port: int, loop: str) -> list[str]:
    """mocksmtp with ``--database`` on a new file (each run starts empty)."""
    folder = Path(tempfile.mkdtemp(prefix="mocksmtp-bench-db-"))
    CLEANUP.append(lambda: shutil.rmtree(folder, ignore_errors=True))
    return [*mocksmtp_argv(port, loop), "--database", str(folder / "mail.sqlite")]


def build_servers(sink: str, wanted: set[str], baseline: list[Server]) -> list[Server]:
    python = sys.executable
    as_nobody = ["-u", "nobody"] if os.geteuid() == 0 else []
    servers = [
        Server(
            "sink",
            "Postfix `smtp-sink` (C, discards)",
            lambda port: [sink, *as_nobody, f"{HOST}:{port}", "1024"],
            False,
            signal.SIGTERM,
        ),
        Server(
            "aiosmtpd",
            "aiosmtpd, handler appending to a list",
            lambda port: [python, str(HERE / "aiosmtpd_server.py"), "--port", str(port)],
            True,
        ),
        Server("mocksmtp", "**mocksmtp** (asyncio loop)", lambda port: mocksmtp_argv(port, "asyncio"), True),
        Server(
            "sqlite", "**mocksmtp --database** (SQLite, asyncio loop)", lambda port: sqlite_argv(port, "asyncio"), True
        ),
        *baseline[:2],
    ]
    floor = str(HERE / "floor_server.py")
    servers.append(
        Server(
            "floor",
            "*floor: canned replies, nothing parsed or kept* (asyncio loop)",
            lambda port: [python, floor, "--port", str(port)],
            False,
            signal.SIGTERM,
        )
    )
    try:
        import uvloop  # noqa: F401
    except ImportError:
        print("run.py: uvloop is not installed; no uvloop rows", file=sys.stderr)
    else:
        servers.append(
            Server(
                "floor-uvloop",
                "*floor: canned replies, nothing parsed or kept* (uvloop)",
                lambda port: [python, floor, "--port", str(port), "--uvloop"],
                False,
                signal.SIGTERM,
            )
        )
        servers.append(Server("uvloop", "**mocksmtp** (uvloop)", lambda port: mocksmtp_argv(port, "uvloop"), True))
        servers.append(
            Server(
                "sqlite-uvloop",
                "**mocksmtp --database** (SQLite, uvloop)",
                lambda port: sqlite_argv(port, "uvloop"),
                True,
            )
        )
        servers.extend(baseline[2:])
    return [s for s in servers if not wanted or s.key in wanted]


# -- processes -------------------------------------------------------------------------------

LIVE: set[subprocess.Popen[str]] = set()
CLEANUP: list[Callable[[], object]] = []  # run when the run ends, however it ends


def reap_all() -> None:
    """Stop every process this run started that is still alive."""
    for proc in list(LIVE):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        LIVE.discard(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def port_25_in_use() -> bool:
    for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            with socket.socket(family) as s:
                s.settimeout(0.5)
                if s.connect_ex((addr, 25)) == 0:
                    return True
        except OSError:
            continue
    return False


def wait_for_greeting(port: int, proc: subprocess.Popen[str], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before greeting")
        try:
            with socket.create_connection((HOST, port), timeout=2) as s:
                if s.recv(512).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"no SMTP greeting on port {port} within the deadline")


@dataclass
class Running:
    server: Server
    proc: subprocess.Popen[str]
    port: int
    errors: tempfile._TemporaryFileWrapper[str]  # stderr goes to a file: a full pipe would block

    def stderr(self) -> str:
        self.errors.seek(0)
        return self.errors.read().strip()[-800:]


def start(server: Server) -> Running:
    port = free_port()
    errors = tempfile.NamedTemporaryFile("w+", prefix="mocksmtp-bench-", suffix=".err")  # noqa: SIM115
    proc = subprocess.Popen(
        server.command(port), stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL, text=True, env=server.env
    )
    LIVE.add(proc)
    running = Running(server, proc, port, errors)
    deadline = time.monotonic() + 15
    if server.stores:  # our Python servers print one line once they accept connections
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        line = proc.stdout.readline() if ready else ""
        if "listening on" not in line:
            reap_all()
            raise RuntimeError(f"{server.key} did not start: {line!r} {running.stderr()}")
    else:
        wait_for_greeting(port, proc, deadline)
    return running


def peak_rss(pid: int) -> int:
    """VmHWM of ``pid`` in bytes (the peak resident set size since it started)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


FINAL = re.compile(r"(\d+) messages, (\d+) bytes")


def stop(running: Running) -> tuple[int, int] | None:
    """Stop the server; return (messages, bytes) from its final line when it reports them."""
    proc = running.proc
    proc.send_signal(running.server.stop_signal)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=10)
        raise RuntimeError(f"{running.server.key} did not stop within 30 s; killed") from None
    finally:
        if proc.poll() is not None:  # otherwise reap_all() still has to end it
            LIVE.discard(proc)
        err = running.stderr()
        running.errors.close()
    if err and running.server.stores:
        print(f"\n{running.server.key} wrote to stderr: {err}", file=sys.stderr)
    if not running.server.stores:
        return None
    if proc.returncode != 0:
        raise RuntimeError(f"{running.server.key} exited with {proc.returncode}: {err}")
    match = FINAL.search(out.strip().splitlines()[-1] if out.strip() else "")
    if not match:
        raise RuntimeError(f"{running.server.key}: no final statistics line in {out[-300:]!r}")
    return int(match.group(1)), int(match.group(2))


# -- clients ---------------------------------------------------------------------------------


def probe_smtp_source(source: str, size: int) -> tuple[int, int]:
    """Capture one message of ``smtp-source -l size`` with a minimal server of our own.

    Returns (octets as stored, the probe's pid). smtp-source writes ``Message-Id:
    <PID.FD.LEFT@host>``, each field ``%04x``: a later run's messages differ from the probe's
    only by the width of their pid, and by four octets where LEFT (messages left to send, read
    racily by parallel sessions) is -1, printed ``ffffffff``: at most once per session.
    """
    with socket.create_server((HOST, 0)) as srv:
        srv.settimeout(15)
        port = srv.getsockname()[1]
        proc = subprocess.Popen(
            [source, "-m", "1", "-l", str(size), f"{HOST}:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        LIVE.add(proc)
        data = b""
        conn, _ = srv.accept()
        conn.settimeout(15)
        with conn, conn.makefile("rb") as f:
            conn.sendall(b"220 probe\r\n")
            while line := f.readline():
                verb = line[:4].upper()
                if verb == b"DATA":
                    conn.sendall(b"354 go on\r\n")
                    chunks = []
                    while (line := f.readline()) not in (b".\r\n", b""):
                        chunks.append(line[1:] if line.startswith(b".") else line)
                    data = b"".join(chunks)
                    conn.sendall(b"250 ok\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    break
                else:
                    conn.sendall(b"250 ok\r\n")
        proc.wait(15)
    LIVE.discard(proc)
    if not data:
        raise RuntimeError("smtp-source sent no message to the probe")
    if f"<{proc.pid:04x}.".encode() not in data:
        raise RuntimeError("smtp-source's Message-Id does not carry its pid; cannot predict sizes")
    return len(data), proc.pid


@dataclass
class Sample:
    seconds: float
    sent_bytes: int
    slack: int = 0  # smtp-source: up to 4 more octets per session (see probe_smtp_source)

    def matches(self, stored_bytes: int) -> bool:
        extra = stored_bytes - self.sent_bytes
        return 0 <= extra <= self.slack and extra % 4 == 0


def run_smtp_source(source: str, load: Load, messages: int, port: int, probe: tuple[int, int]) -> Sample:
    argv = [source, "-s", str(load.sessions), "-m", str(messages), "-l", str(load.size), f"{HOST}:{port}"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    LIVE.add(proc)
    _, err = proc.communicate(timeout=300)
    LIVE.discard(proc)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:  # without -A, smtp-source stops at the first unexpected reply
        raise RuntimeError(f"smtp-source failed ({proc.returncode}): {err.strip()[-500:]}")
    size, probe_pid = probe
    per_message = size - len(f"{probe_pid:04x}") + len(f"{proc.pid:04x}")
    return Sample(elapsed, per_message * messages, 4 * load.sessions if load.sessions > 1 else 0)


def run_smtplib(load: Load, messages: int, port: int) -> Sample:
    message = smtplib_message(load.size)
    t0 = time.perf_counter()
    with smtplib.SMTP(HOST, port, timeout=60) as client:
        for _ in range(messages):
            refused = client.sendmail("a@example.com", ["b@example.com"], message)
            if refused:
                raise RuntimeError(f"recipients refused: {refused}")
    return Sample(time.perf_counter() - t0, len(message) * messages)


# -- results ---------------------------------------------------------------------------------


@dataclass
class Cell:
    rates: list[float] = field(default_factory=list)
    checks: list[tuple[int, int, int, Sample]] = field(default_factory=list)  # stored n, b; sent n
    rss: list[tuple[int, int]] = field(default_factory=list)  # peak RSS, bytes stored


def fmt_rate(v: float) -> str:
    return f"{v:,.0f}" if v >= 20 else f"{v:.1f}"


def fmt_cell(rates: list[float]) -> str:
    if not rates:
        return "–"
    return f"{fmt_rate(statistics.median(rates))} ({fmt_rate(min(rates))}–{fmt_rate(max(rates))})"


def measure(args: argparse.Namespace) -> None:
    source, sink = find_postfix_tool("smtp-source"), find_postfix_tool("smtp-sink")
    if port_25_in_use():
        sys.exit("run.py: something listens on port 25 (a postfix daemon?); stop it: this run never uses it")
    baseline: list[Server] = []
    if args.baseline:
        workdir = Path(tempfile.mkdtemp(prefix="mocksmtp-baseline-"))
        CLEANUP.append(lambda: shutil.rmtree(workdir, ignore_errors=True))
        baseline = baseline_servers(args.baseline, workdir, importlib.util.find_spec("uvloop") is not None)
    wanted = set(args.servers.split(",")) if args.servers else set()
    if wanted:  # the baseline of what was asked for (its memory rows always: the reference)
        wanted |= {"base", "base-uvloop"} | ({"base-sqlite", "base-sqlite-uvloop"} & {f"base-{k}" for k in wanted})
    servers = build_servers(sink, wanted, baseline)
    loads = [ld for ld in LOADS if not args.loads or ld.key in args.loads]
    scale = 4 if args.quick else 1
    probes = {size: probe_smtp_source(source, size) for size in {ld.size for ld in loads if ld.sessions}}
    results: dict[tuple[str, str], Cell] = {(s.key, ld.key): Cell() for s in servers for ld in loads}
    started = time.monotonic()
    for rep in range(args.reps):
        for load in loads:
            messages = load.messages // scale
            for server in servers:
                print(
                    f"[{time.monotonic() - started:6.1f}s] rep {rep + 1}/{args.reps} load {load.key} {server.key} ...",
                    end=" ",
                    file=sys.stderr,
                    flush=True,
                )
                running = start(server)
                try:
                    if load.sessions:
                        sample = run_smtp_source(source, load, messages, running.port, probes[load.size])
                    else:
                        sample = run_smtplib(load, messages, running.port)
                    rss = peak_rss(running.proc.pid)
                except BaseException:  # a failure, Ctrl+C or SIGTERM: end every process now
                    reap_all()
                    raise
                stored = stop(running)
                rate = messages / sample.seconds
                cell = results[(server.key, load.key)]
                cell.rates.append(rate)
                if stored is not None:
                    cell.checks.append((*stored, messages, sample))
                    cell.rss.append((rss, stored[1]))
                print(f"{rate:,.0f} msg/s", file=sys.stderr, flush=True)
    inprocess: dict[str, dict[str, object]] = {}
    if not args.no_inprocess:
        print(f"[{time.monotonic() - started:6.1f}s] in-process costs ...", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, str(HERE / "inprocess.py"), *(["--quick"] if args.quick else [])],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise SystemExit(
                f"run.py: the in-process measurements failed ({last}); pip install -e '.[bench]', or --no-inprocess"
            )
        inprocess = json.loads(done.stdout)
    report(args, servers, loads, results, inprocess, time.monotonic() - started)


def versions() -> str:
    def pkg(name: str) -> str:
        try:
            from importlib.metadata import version

            return version(name)
        except Exception:
            return "not installed"

    postfix = (
        subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "postfix"], capture_output=True, text=True).stdout
        or "?"
    )
    cpu = "?"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return (
        f"Python {platform.python_version()}, mocksmtp {pkg('mocksmtp')}, aiosmtpd {pkg('aiosmtpd')}, "
        f"uvloop {pkg('uvloop')}, postfix {postfix}; {os.cpu_count()} × {cpu}, Linux {platform.release()}"
    )


def report(
    args: argparse.Namespace,
    servers: list[Server],
    loads: list[Load],
    results: dict[tuple[str, str], Cell],
    inproc: dict[str, dict[str, object]],
    took: float,
) -> None:
    w = sys.stdout.write
    scale = " (--quick: a quarter of the messages)" if args.quick else ""
    w(f"## Throughput, messages per second: median of {args.reps} (min–max){scale}\n\n")
    w(f"{versions()}. Run took {took:.0f} s.\n\n")
    w("| server | " + " | ".join(ld.title for ld in loads) + " |\n")
    w("|---|" + "---:|" * len(loads) + "\n")
    for s in servers:
        w(f"| {s.label} | " + " | ".join(fmt_cell(results[(s.key, ld.key)].rates) for ld in loads) + " |\n")

    def med(key: str, load: str) -> float | None:
        rates = results.get((key, load), Cell()).rates
        return statistics.median(rates) if rates else None

    keys = {s.key for s in servers}
    verdicts = []
    for ours in ("mocksmtp", "uvloop"):
        if ours not in keys:
            continue
        for peer, target in (("sink", 0.6), ("aiosmtpd", 3.0)):
            if peer not in keys:
                continue
            ratios = []
            for ld in loads:
                a, b = med(ours, ld.key), med(peer, ld.key)
                ratios.append(a / b if a and b else None)
            name = {"mocksmtp": "mocksmtp", "uvloop": "mocksmtp (uvloop)"}[ours]
            peer_name = {"sink": "smtp-sink", "aiosmtpd": "aiosmtpd"}[peer]
            w(
                f"| *{name} / {peer_name}* (target ≥ {target:g}) | "
                + " | ".join("–" if r is None else (f"**{r:.2f}**" if r >= target else f"{r:.2f} ✗") for r in ratios)
                + " |\n"
            )
            verdicts.append(
                (f"{name} ≥ {target:g} × {peer_name} in every load", all(r is not None and r >= target for r in ratios))
            )

    for ours, base, name in (
        ("mocksmtp", "base", "asyncio loop"),
        ("uvloop", "base-uvloop", "uvloop"),
        ("sqlite", "base-sqlite", "SQLite, asyncio loop"),
        ("sqlite-uvloop", "base-sqlite-uvloop", "SQLite, uvloop"),
    ):
        if ours in keys and base in keys:  # before/after, measured side by side: no target
            ratios = [(med(ours, ld.key) or 0) / (med(base, ld.key) or 1) for ld in loads]
            what = "mocksmtp --database" if ours.startswith("sqlite") else "mocksmtp"
            w(
                f"| *{what} / {what} @ {args.baseline}* ({name}; 1.00 = unchanged) | "
                + " | ".join(f"{r:.2f}" for r in ratios)
                + " |\n"
            )

    for disk, memory, name in (("sqlite", "mocksmtp", "asyncio loop"), ("sqlite-uvloop", "uvloop", "uvloop")):
        if disk in keys and memory in keys:  # issue 10's goal: SQLite at least 0.7 of memory
            ratios = [(med(disk, ld.key) or 0) / (med(memory, ld.key) or 1) for ld in loads]
            w(
                f"| *mocksmtp --database / in memory* ({name}; target ≥ 0.7) | "
                + " | ".join(f"**{r:.2f}**" if r >= 0.7 else f"{r:.2f} ✗" for r in ratios)
                + " |\n"
            )

    for floor, name in (("floor", "floor (asyncio)"), ("floor-uvloop", "floor (uvloop)")):
        if floor in keys and "sink" in keys:  # no target: what the event loop alone allows
            ratios = [(med(floor, ld.key) or 0) / (med("sink", ld.key) or 1) for ld in loads]
            w(
                f"| *{name} / smtp-sink* (the most any server on this loop can reach) | "
                + " | ".join(f"{r:.2f}" for r in ratios)
                + " |\n"
            )

    w("\n## Every message acknowledged with 250 is stored, with its full size\n\n")
    w(
        "smtp-source stops at the first reply that is not the expected one, smtplib raises: so every "
        "message sent was acknowledged with 250. Bytes sent are what the server must store (less the "
        "DATA framing).\n\n"
    )
    w(
        "With parallel smtp-source sessions a few Message-Id headers are 4 octets longer "
        "(`ffffffff` for -1 messages left; at most one per session): the check allows exactly that.\n\n"
    )
    w("| server | load | runs | messages stored / sent | bytes stored / sent | |\n|---|---|---:|---|---|---|\n")
    all_ok = True
    for s in servers:
        if not s.stores:
            continue
        for ld in loads:
            checks = results[(s.key, ld.key)].checks
            ok = all(n == sn and sample.matches(b) for n, b, sn, sample in checks)
            all_ok &= ok
            stored_n = "; ".join(sorted({f"{n:,} / {sn:,}" for n, _, sn, _ in checks}))
            stored_b = "; ".join(
                f"{b:,} / {sample.sent_bytes:,}" + (f" (+{b - sample.sent_bytes})" if b != sample.sent_bytes else "")
                for _, b, _, sample in checks
            )
            verdict = "ok" if ok else "**MISMATCH**"
            w(f"| {s.label} | ({ld.key}) | {len(checks)} | {stored_n} | {stored_b} | {verdict} |\n")
    verdicts.append(("every acknowledged message stored with its full size", all_ok))

    w("\n## Peak RSS of the server process against the bytes it stored\n\n")
    w("Limit: stored × 1.3 + 40 MiB. Median over the runs.\n\n")
    w("| server | load | bytes stored | peak RSS | limit | |\n|---|---|---:|---:|---:|---|\n")
    for s in servers:
        if not s.stores:
            continue
        for ld in loads:
            if ld.key not in ("b", "c"):
                continue
            rss = results[(s.key, ld.key)].rss
            if not rss:
                continue
            peak = statistics.median(r for r, _ in rss)
            stored = statistics.median(b for _, b in rss)
            limit = stored * 1.3 + 40 * MiB
            ok = peak <= limit
            if s.key in ("mocksmtp", "uvloop"):
                verdicts.append((f"{s.key} peak RSS within the limit in ({ld.key})", ok))
            w(
                f"| {s.label} | ({ld.key}) | {stored / MiB:,.1f} MiB | {peak / MiB:,.1f} MiB | {limit / MiB:,.1f} MiB "
                f"| {'ok' if ok else 'over'} |\n"
            )

    if not inproc:
        w("\n## Targets\n\n")
        for title, ok in verdicts:
            w(f"- {'met' if ok else '**not met**'}: {title}\n")
        return
    w("\n## In-process costs (mocksmtp; aiosmtpd's Controller for comparison)\n\n")
    w("| measure | median | min | max | target | |\n|---|---:|---:|---:|---:|---|\n")

    def row(title: str, data: object, target_us: float | None, unit: str = "µs") -> None:
        if not isinstance(data, dict):
            w(f"| {title} | n/a | | | {'' if target_us is None else f'≤ {target_us:g} {unit}'} | |\n")
            return
        div = 1000 if unit == "ms" else 1
        med_, lo, hi = data["median_us"] / div, data["min_us"] / div, data["max_us"] / div
        verdict = ""
        if target_us is not None:
            ok = med_ <= target_us
            verdict = "ok" if ok else "over"
            verdicts.append((title, ok))
        target = "" if target_us is None else f"≤ {target_us:g} {unit}"
        w(f"| {title} | {med_:,.1f} {unit} | {lo:,.1f} | {hi:,.1f} | {target} | {verdict} |\n")

    row("`MockSMTPServer(port=0)` + start() + stop(), 100 times", inproc["start_stop"], 1.5, "ms")
    row("aiosmtpd `Controller` start() + stop() (reference)", inproc["aiosmtpd_start_stop"], None, "ms")
    row("`reset()` with 10 messages stored, right after the last 250", inproc["reset"]["with_10_messages"], 50)
    row("`reset()` with none", inproc["reset"]["empty"], None)
    vis = inproc["visible"]
    row(f"250 read → message visible ({vis['waits_needed']} waits needed in {vis['messages']:,} messages)", vis, None)
    verdicts.append(("message visible when the client reads 250, with zero waits", vis["waits_needed"] == 0))
    row("`import mocksmtp` (`python -X importtime`; names load on first use)", inproc["import_mocksmtp"], 50, "ms")
    row("`from mocksmtp import MockSMTPServer`", inproc["import_server"], 50, "ms")
    row(
        "`from mocksmtp import MockSMTPServer`, bare interpreter (`python -S`)",
        inproc["import_server_bare"],
        None,
        "ms",
    )
    row("`from mocksmtp import MockSMTPServer` after `import pytest`", inproc["import_server_in_pytest"], None, "ms")
    row(
        "`import mocksmtp.pytest_plugin` after `import pytest` (what the plugin adds to a run)",
        inproc["import_plugin"],
        50,
        "ms",
    )

    w("\n## Targets\n\n")
    for title, ok in verdicts:
        w(f"- {'met' if ok else '**not met**'}: {title}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark mocksmtp against aiosmtpd and smtp-sink.")
    parser.add_argument("--quick", action="store_true", help="a quarter of the messages (about a minute)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per cell, at least 3 (default: 3)")
    parser.add_argument(
        "--servers",
        default="",
        help="comma-separated subset: sink,aiosmtpd,mocksmtp,sqlite,uvloop,sqlite-uvloop,floor,floor-uvloop",
    )
    parser.add_argument("--loads", default="", help="subset of the loads, for example 'ad'")
    parser.add_argument("--no-inprocess", action="store_true", help="skip the in-process costs")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        default="",
        help="also measure mocksmtp as of git revision REV (e.g. main~5), side by side: "
        "a change's before and after in one run",
    )
    args = parser.parse_args()
    if args.reps < 3:
        parser.error("--reps must be at least 3 (a median of fewer says little on a shared machine)")
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        measure(args)
    except KeyboardInterrupt:
        print("\nrun.py: interrupted; every process it started is stopped", file=sys.stderr)
        return 130
    finally:
        reap_all()
        for cleanup in CLEANUP:
            cleanup()
        signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
