"""A throw-away PostgreSQL cluster for the tests: made in a temporary folder by Debian's (or
any) ``initdb``, run on a free port of 127.0.0.1 and a unix socket in that folder, stopped and
deleted at the end. PostgreSQL refuses to run as root, so as root the cluster runs as
``nobody`` (through ``runuser``).

``MOCKSMTP_PG_BIN`` names the folder of ``initdb`` and ``pg_ctl``; otherwise the newest
``/usr/lib/postgresql/*/bin`` is used (never a ``pg_ctl`` wrapper found on the PATH).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["Cluster", "find_bin"]


def find_bin() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``."""
    given = os.environ.get("MOCKSMTP_PG_BIN")
    candidates = [Path(given)] if given else []
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )[::-1]
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One running cluster; :meth:`database` makes an empty database and gives its URL."""

    def __init__(self, bin: Path) -> None:
        self.bin = bin
        self.folder = Path(tempfile.mkdtemp(prefix="mocksmtp-pg-"))
        self.data = self.folder / "data"
        self.port = 0
        self._names = itertools.count()
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "nobody", "--"]
            os.chmod(self.folder, 0o755)
            shutil.chown(self.folder, "nobody")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as, str(self.bin / tool), *args], capture_output=True, text=True, timeout=120, cwd=self.folder
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")

    def start(self) -> Cluster:
        """Start on a free port (another is tried if that one was taken meanwhile)."""
        for _attempt in range(5):
            try:
                self._start(_free_port())
                return self
            except RuntimeError:
                if "already in use" not in self.log():
                    raise
        raise RuntimeError(f"PostgreSQL did not start: {self.log()}")

    def _start(self, port: int) -> None:
        self.port = port
        options = (
            f"-p {port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def start_again(self) -> None:
        """Start after :meth:`stop`, on the same port."""
        self._start(self.port)

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def log(self) -> str:
        path = self.folder / "log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new, empty database's URL."""
        import psycopg

        name = f"mail_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
