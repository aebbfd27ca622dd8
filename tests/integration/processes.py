"""Running the command line in a subprocess, reading its output with deadlines."""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def netns_available() -> bool:
    """Whether we may run a command in a private network namespace (root, unshare, ip)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "--net", "ip", "link", "set", "lo", "up"], capture_output=True, timeout=10)
    return probe.returncode == 0


def in_netns(argv: list[str]) -> list[str]:
    """``argv`` run in a fresh network namespace with only loopback, so fixed ports never clash."""
    quoted = " ".join(_quote(a) for a in argv)
    return ["unshare", "--net", "sh", "-c", f"ip link set lo up && exec {quoted}"]


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


class Process:
    """A child process whose stdout is read line by line with a deadline."""

    def __init__(self, argv: list[str], *, cwd: Path = ROOT, stderr: Path | None = None) -> None:
        """``stderr``: a file to write the process's stderr to (so a chatty process never blocks
        on a full pipe), rather than a pipe read at the end."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT / "src")}
        # Unbuffered: two lines written at once must not hide the second from select().
        with contextlib.ExitStack() as files:
            err = files.enter_context(stderr.open("wb")) if stderr is not None else subprocess.PIPE
            self.proc = subprocess.Popen(
                argv, cwd=cwd, stdout=subprocess.PIPE, stderr=err, bufsize=0, stdin=subprocess.DEVNULL, env=env
            )
        assert self.proc.stdout is not None
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.lines: list[str] = []

    def read_line(self, timeout: float = 10.0) -> str:
        """The next line of stdout; fails with what was read so far if none comes in time."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._selector.select(remaining):
                raise AssertionError(f"no output line within {timeout} s; so far: {self.lines}")
            line = self.proc.stdout.readline().decode()
            if not line:
                raise AssertionError(f"process exited; stdout: {self.lines}; stderr: {self.stderr()}")
            self.lines.append(line.rstrip("\n"))
            return self.lines[-1]

    def wait_for_line(self, prefix: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(max(deadline - time.monotonic(), 0.001))
            if prefix in line:
                return line

    def finish(self, timeout: float = 10.0) -> tuple[int, str, str]:
        """Wait for exit; return (status, rest of stdout, stderr)."""
        out, err = self.proc.communicate(timeout=timeout)
        self._selector.close()
        return self.proc.returncode, out.decode(), err.decode()

    def stderr(self) -> str:
        return "" if self.proc.poll() is None or self.proc.stderr is None else self.proc.stderr.read().decode()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()
        self._selector.close()


PYTHON = sys.executable
