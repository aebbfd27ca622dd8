"""Test helpers: a raw SMTP client over a real socket, for the cases smtplib cannot send, and
a transport that drives the engine without sockets.

Every read blocks on the socket with a timeout; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import collections
import shutil
import socket
import ssl
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mocksmtp import Message, MessageStore, MockSMTPServer, SMTPOptions
    from mocksmtp.query import Query
    from mocksmtp.store import MessageState
    from mocksmtp.store.base import Subscriber
    from mocksmtp.summary import Summary

__all__ = [
    "CountingStore",
    "FakeTransport",
    "RawClient",
    "Reply",
    "assert_healthy",
    "codes_in",
    "feed_engine",
    "feed_streams",
    "open_data",
    "settle",
    "swaks",
    "token",
]

Reply = tuple[int, list[str]]


class FakeTransport(asyncio.Transport):
    """In memory: records each write the engine makes; closing only sets a flag."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    @property
    def out(self) -> bytes:
        """Everything written, in order."""
        return b"".join(self.writes)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def feed_streams(
    streams: list[list[bytes]], options: SMTPOptions | None = None
) -> list[tuple[bytes, list[bytes]]]:
    """Each stream's chunks fed to a fresh engine session, one read per chunk (the exact
    segmentation TCP cannot promise); for each, what it wrote and the messages it stored."""
    from mocksmtp import MemoryStore, SMTPOptions
    from mocksmtp.smtp.protocol import SMTPProtocol
    from mocksmtp.smtp.state import EngineContext

    results = []
    for chunks in streams:
        store = MemoryStore()
        protocol = SMTPProtocol(EngineContext(options or SMTPOptions(), store))
        transport = FakeTransport()
        protocol.connection_made(transport)
        for chunk in chunks:
            protocol.data_received(chunk)
        protocol.connection_lost(None)
        results.append((transport.out, [m.raw for m in store.messages()]))
    return results


def feed_engine(chunks: list[bytes], options: SMTPOptions | None = None) -> tuple[bytes, list[bytes]]:
    """One stream through :func:`feed_streams`, in its own event loop."""
    ((out, raws),) = asyncio.run(feed_streams([chunks], options))
    return out, raws


class RawClient:
    """Send exact bytes to a server and read replies.

    >>> with RawClient(server.port) as c:       # doctest: +SKIP
    ...     c.read_reply()                       # (220, ['localhost ESMTP mocksmtp'])
    ...     c.command("EHLO me")                 # (250, [...])
    """

    def __init__(self, port: int, host: str = "127.0.0.1", *, timeout: float = 5.0, read_greeting: bool = True) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self._buf = b""
        self.greeting: Reply | None = self.read_reply() if read_greeting else None

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def starttls(self, context: ssl.SSLContext, server_hostname: str = "localhost") -> None:
        """Wrap the socket in TLS (after the server's 220); raises on a failed handshake."""
        assert not self._buf, f"unread bytes before the handshake: {self._buf!r}"
        self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self._buf += chunk
        return True

    def read_line(self) -> bytes:
        """One reply line without CRLF; raises ``ConnectionError`` if the server closed first."""
        while b"\r\n" not in self._buf:
            if not self._fill():
                raise ConnectionError(f"server closed the connection; unread: {self._buf!r}")
        line, self._buf = self._buf.split(b"\r\n", 1)
        return line

    def read_reply(self) -> Reply:
        """One complete (possibly multi-line) reply as ``(code, [texts])``."""
        lines: list[str] = []
        while True:
            line = self.read_line().decode("utf-8", "replace")
            lines.append(line[4:])
            if line[3:4] != "-":
                return int(line[:3]), lines

    def read_replies(self, n: int) -> list[int]:
        """The codes of the next ``n`` replies."""
        return [self.read_reply()[0] for _ in range(n)]

    def command(self, line: str | bytes) -> Reply:
        """Send one command (CRLF added) and read its reply."""
        data = line.encode() if isinstance(line, str) else line
        self.send(data + b"\r\n")
        return self.read_reply()

    def code(self, line: str | bytes) -> int:
        return self.command(line)[0]

    def is_closed(self) -> bool:
        """Block until the server closes (True) or sends more bytes (False)."""
        if self._buf:
            return False
        try:
            return not self._fill()
        except ConnectionResetError:
            return True

    def read_until_closed(self) -> bytes:
        """Everything the server sends until it closes the connection."""
        try:
            while self._fill():
                pass
        except ConnectionResetError:
            pass
        data, self._buf = self._buf, b""
        return data

    def send_message(self, mail_from: str, rcpt_tos: list[str], body: bytes, *, ehlo: bool = True) -> Reply:
        """A whole transaction; ``body`` is sent as is, followed by ``.\\r\\n``."""
        if ehlo:
            assert self.code("EHLO client.example") == 250
        assert self.code(f"MAIL FROM:<{mail_from}>") == 250
        for r in rcpt_tos:
            assert self.code(f"RCPT TO:<{r}>") == 250
        assert self.code("DATA") == 354
        self.send(body + b".\r\n")
        return self.read_reply()

    # -- additions for the protocol tests ---------------------------------------------------

    def nodelay(self) -> RawClient:
        """Send each ``send()`` as its own TCP segment (no Nagle coalescing)."""
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    def shutdown_write(self) -> None:
        """Half-close: the server sees end of input; replies can still be read."""
        self.sock.shutdown(socket.SHUT_WR)

    def try_send(self, data: bytes) -> bool:
        """Send, tolerating a server that already closed (False then)."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def replies_until_closed(self) -> list[Reply]:
        """Every complete reply the server sends until it closes the connection."""
        return parse_replies(self.read_until_closed())


def parse_replies(data: bytes) -> list[Reply]:
    """Split raw server output into complete replies (a trailing partial line is ignored)."""
    replies: list[Reply] = []
    texts: list[str] = []
    for raw in data.split(b"\r\n")[:-1]:
        line = raw.decode("utf-8", "replace")
        texts.append(line[4:])
        if line[3:4] != "-":
            replies.append((int(line[:3]), texts))
            texts = []
    return replies


def codes_in(data: bytes) -> list[int]:
    """The reply codes in raw server output, in order."""
    return [code for code, _ in parse_replies(data)]


def token() -> str:
    """A unique marker to put in a message, so a stored message can be traced to its sender."""
    return uuid.uuid4().hex


def assert_healthy(server: MockSMTPServer, *, stored: int) -> Message:
    """After a bad-input case: exactly ``stored`` messages are kept, and a fresh client can
    still send one that is stored byte for byte (so ``stored + 1`` afterwards). Returns it."""
    kept = server.messages
    assert len(kept) == stored, f"expected {stored} stored message(s), found {len(kept)}: {kept!r}"
    body = f"Subject: health check\r\n\r\n{token()}\r\n".encode()
    with RawClient(server.port) as c:
        code, texts = c.send_message("health@example.com", ["check@example.com"], body)
        assert code == 250, f"a fresh client could not send: {code} {texts}"
    kept = server.messages
    assert len(kept) == stored + 1, f"expected {stored + 1} stored message(s), found {kept!r}"
    last = kept[-1]
    assert last.raw == body
    assert last.mail_from == "health@example.com"
    assert last.rcpt_tos == ("check@example.com",)
    assert last.id in texts[0]
    return last


def swaks(port: int, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run swaks against 127.0.0.1:``port`` (skipping the test when it is not installed)."""
    path = shutil.which("swaks")
    if path is None:
        pytest.skip("swaks is not installed (apt-get install swaks)")
    return subprocess.run(
        [
            path,
            "--server",
            "127.0.0.1",
            "--port",
            str(port),
            "--from",
            "app@example.com",
            "--to",
            "user@example.com",
            "--timeout",
            "10",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def open_data(c: RawClient, mail_from: str = "a@example.com", extra: str = "") -> None:
    """EHLO, MAIL FROM (with ``extra`` parameters), one RCPT and DATA, each accepted: the
    client is now sending message data."""
    assert c.code("EHLO client.example") == 250
    assert c.code(f"MAIL FROM:<{mail_from}>{extra}") == 250
    assert c.code("RCPT TO:<b@example.com>") == 250
    assert c.code("DATA") == 354


def settle(server: MockSMTPServer) -> int:
    """Round trips on a fresh connection, so the server has handled every earlier disconnect;
    returns how many other sessions are still open."""
    with RawClient(server.port) as c:
        assert c.code("NOOP") == 250
        assert c.code("NOOP") == 250
        return server.stats.active_connections - 1


class CountingStore:
    """A :class:`~mocksmtp.MessageStore` that hands every call to ``inner`` and counts them
    (``calls["messages"]``); ``listed`` is set on each read of messages. Written from the
    protocol alone, no subclassing."""

    def __init__(self, inner: MessageStore) -> None:
        self.inner = inner
        self.calls: collections.Counter[str] = collections.Counter()
        self.listed = threading.Event()

    @property
    def reads(self) -> int:
        """Calls that read the store (version, messages, count, get, state)."""
        return sum(self.calls[n] for n in ("version", "messages", "count", "get", "state"))

    @property
    def version(self) -> int:
        self.calls["version"] += 1
        return self.inner.version

    def new_id(self) -> str:
        self.calls["new_id"] += 1
        return self.inner.new_id()

    def add(self, message: Message) -> None:
        self.calls["add"] += 1
        self.inner.add(message)

    def get(self, id: str) -> Message | None:
        self.calls["get"] += 1
        return self.inner.get(id)

    def count(self, query: Query | None = None) -> int:
        self.calls["count"] += 1
        return self.inner.count(query)

    def messages(
        self,
        query: Query | None = None,
        *,
        newest_first: bool = False,
        offset: int = 0,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[Message]:
        self.calls["messages"] += 1
        try:
            return self.inner.messages(query, newest_first=newest_first, offset=offset, limit=limit, after=after)
        finally:
            self.listed.set()

    def summaries(
        self,
        query: Query | None = None,
        *,
        newest_first: bool = True,
        offset: int = 0,
        limit: int | None = 50,
        after: str | None = None,
    ) -> list[Summary]:
        self.calls["summaries"] += 1
        return self.inner.summaries(query, newest_first=newest_first, offset=offset, limit=limit, after=after)

    def state(self, id: str) -> MessageState | None:
        self.calls["state"] += 1
        return self.inner.state(id)

    def delete(self, ids: Iterable[str]) -> int:
        self.calls["delete"] += 1
        return self.inner.delete(ids)

    def delete_matching(self, query: Query) -> int:
        self.calls["delete_matching"] += 1
        return self.inner.delete_matching(query)

    def clear(self) -> None:
        self.calls["clear"] += 1
        self.inner.clear()

    def mark_read(self, ids: Iterable[str], read: bool = True) -> int:
        self.calls["mark_read"] += 1
        return self.inner.mark_read(ids, read)

    def set_tags(self, ids: Iterable[str], tags: Iterable[str]) -> int:
        self.calls["set_tags"] += 1
        return self.inner.set_tags(ids, tags)

    def prune(self, *, max_messages: int | None = None, max_age: float | None = None) -> int:
        self.calls["prune"] += 1
        return self.inner.prune(max_messages=max_messages, max_age=max_age)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        self.calls["subscribe"] += 1
        return self.inner.subscribe(callback)

    def close(self) -> None:
        self.calls["close"] += 1
        self.inner.close()
