"""Helpers for the multi-node tests: ``mocksmtp`` processes on one database, and a bounded
load of SMTP clients that records exactly which messages were acknowledged."""

from __future__ import annotations

import contextlib
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from tests.integration.processes import Process

_QUIET = ["--quiet", "--stats-interval", "0", "--database"]  # the URL follows


class Node:
    """One ``mocksmtp --database URL`` process, with its SMTP address and HTTP URL."""

    def __init__(self, url: str, log: Path) -> None:
        self.log = log
        self.process = Process(
            [sys.executable, "-m", "mocksmtp", "--host", "127.0.0.1", "--port", "0", "--http-port", "0", *_QUIET, url],
            stderr=log,
        )
        listening = self.process.wait_for_line("listening on", timeout=30)
        self.port = int(listening.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
        self.http_url = self.process.wait_for_line("web UI and API on", timeout=30).rsplit(" ", 1)[1]

    def kill(self) -> None:
        """``kill -9``: no chance to finish anything."""
        self.process.proc.kill()
        self.process.proc.wait(10)

    def stop(self) -> None:
        """Ctrl+C's signal (SIGKILL after 15 s), then close the pipe."""
        proc = self.process.proc
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.process.finish(10)

    def raw_messages(self) -> dict[str, bytes]:
        """Every message this node's HTTP API lists, by id, with its raw bytes."""
        with httpx.Client(base_url=self.http_url, timeout=30) as client:
            listed = client.get("/api/v1/messages", params={"limit": 10_000})
            assert listed.status_code == 200, listed.text
            ids = [m["ID"] for m in listed.json()["messages"]]
            return {id: client.get(f"/api/v1/message/{id}/raw").content for id in ids}


def message(client: int, n: int) -> bytes:
    """A message unique to (client, n), with 8-bit bytes, a dot-led line and a long body."""
    body = (f"client {client} message {n} \xe9\xe8 ".encode("latin-1") + bytes(range(128, 256))) * 8
    return (
        f"From: c{client}@example.com\r\nTo: sink@example.com\r\nSubject: load {client}/{n}\r\n"
        f"Message-ID: <{client}.{n}@load.example>\r\n\r\n".encode()
        + body
        + b"\r\n.leading dot\r\nend\r\n"
    )


class Load:
    """``clients`` threads, each sending ``per_client`` messages through one connection at a
    time to ``target(client)`` (an SMTP port, asked again after each failure).

    A message whose reply is not 250 (a 421, a dropped connection, a node that is gone) is
    sent again on a new connection, until ``deadline`` seconds have passed. ``acked`` maps the
    id each 250 named to the bytes sent; :meth:`wait_acked` blocks until enough are.
    """

    def __init__(self, clients: int, per_client: int, target: Callable[[int], int], *, deadline: float = 120) -> None:
        self.per_client = per_client
        self.target = target
        self.deadline = time.monotonic() + deadline
        self.acked: dict[str, bytes] = {}
        self.refused: list[int] = []  # reply codes other than 250 (421 while the database is down)
        self.dropped = 0  # connections lost or refused
        self._cond = threading.Condition()
        self._threads = [threading.Thread(target=self._client, args=(c,), daemon=True) for c in range(clients)]

    def start(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def join(self) -> None:
        for t in self._threads:
            t.join(max(self.deadline - time.monotonic(), 0) + 30)
        assert not any(t.is_alive() for t in self._threads), "clients still running after the deadline"

    def wait_acked(self, n: int, timeout: float = 60) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.acked) >= n, timeout), f"only {len(self.acked)} acked"

    def wait_refused(self, n: int, timeout: float = 60) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.refused) >= n, timeout), f"only {len(self.refused)} refused"

    def _client(self, c: int) -> None:
        n = 0
        while n < self.per_client and time.monotonic() < self.deadline:
            try:
                with smtplib.SMTP("127.0.0.1", self.target(c), timeout=30) as smtp:
                    smtp.ehlo("load.example")
                    while n < self.per_client:
                        raw = message(c, n)
                        smtp.mail(f"c{c}@example.com")
                        smtp.rcpt("sink@example.com")
                        code, reply = smtp.data(raw)
                        with self._cond:
                            if code == 250:
                                self.acked[reply.decode().rsplit(" ", 1)[-1]] = raw
                                n += 1
                            else:
                                self.refused.append(code)
                            self._cond.notify_all()
                        if code != 250:
                            break
            except (OSError, smtplib.SMTPException) as e:
                with self._cond:
                    if isinstance(e, smtplib.SMTPResponseException) and e.smtp_code != 250:
                        self.refused.append(e.smtp_code)
                    else:
                        self.dropped += 1
                    self._cond.notify_all()


def stop_all(nodes: list[Node]) -> None:
    for node in nodes:
        with contextlib.suppress(Exception):
            node.stop()
