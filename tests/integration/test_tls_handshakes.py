"""TLS handshakes as the engine sees them, on asyncio's loop and on uvloop: the first command
sent together with the client's last handshake flight, stopping the server in the middle of
handshakes, and implicit-TLS connections counted against ``max_connections`` from accept."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.support import RawClient, parse_replies

from mocksmtp import MockSMTPServer

pytest.importorskip("trustme")

MakeServer = Callable[..., MockSMTPServer]


@pytest.fixture(params=["asyncio", "uvloop"])
def make_loop_server(request: pytest.FixtureRequest) -> Iterator[MakeServer]:
    """Start servers (``make_loop_server(tls="starttls")``) on asyncio's loop, then on uvloop."""
    started: list[MockSMTPServer] = []
    policy: asyncio.AbstractEventLoopPolicy | None = None
    if request.param == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        policy = uvloop.EventLoopPolicy()

    def make(**options: Any) -> MockSMTPServer:
        previous = asyncio.get_event_loop_policy()
        if policy is not None:
            asyncio.set_event_loop_policy(policy)
        try:
            server = MockSMTPServer("127.0.0.1", 0, **options).start()
        finally:
            asyncio.set_event_loop_policy(previous)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


class MemoryTLSClient:
    """A TLS client on ``ssl.MemoryBIO``: it decides exactly which bytes go in which write."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        self.sock = sock
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")
        self._plain = b""

    def handshake_holding_last_flight(self) -> None:
        """Complete the handshake on our side, but keep our last flight (with TLS 1.3 the
        client's Finished) unsent: the next :meth:`send` writes it with application data."""
        while True:
            try:
                self.tls.do_handshake()
                return
            except ssl.SSLWantReadError:
                pass
            pending = self.outgoing.read()
            if pending:
                self.sock.sendall(pending)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the connection during the handshake")
            self.incoming.write(data)

    def send(self, plain: bytes) -> bytes:
        """Encrypt ``plain`` and send it with any pending handshake bytes in one ``sendall``;
        returns the bytes of that one write."""
        self.tls.write(plain)
        wire = self.outgoing.read()
        self.sock.sendall(wire)
        return wire

    def closed(self) -> bool:
        """Block until the server closes the TCP connection (True), reading past TLS records
        such as its close_notify; False if it sends application data first."""
        while True:
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                return True
            if not data:
                return True
            self.incoming.write(data)
            try:
                if self.tls.read(65536):
                    return False
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                pass

    def read_reply(self) -> tuple[int, list[str]]:
        """One complete reply, decrypted (post-handshake tickets are consumed on the way)."""
        while True:
            lines = self._plain.split(b"\r\n")
            for i, line in enumerate(lines[:-1]):
                if line[3:4] != b"-":  # the last line of a reply
                    ((code, texts),) = parse_replies(b"\r\n".join(lines[: i + 1]) + b"\r\n")
                    self._plain = b"\r\n".join(lines[i + 1 :])
                    return code, texts
            try:
                self._plain += self.tls.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"server closed the connection; unread: {self._plain!r}")
            self.incoming.write(data)


def _record_types(wire: bytes) -> list[int]:
    """The content type of each TLS record in ``wire``."""
    types, pos = [], 0
    while pos + 5 <= len(wire):
        types.append(wire[pos])
        pos += 5 + int.from_bytes(wire[pos + 3 : pos + 5], "big")
    assert pos == len(wire), "not whole TLS records"
    return types


def _tls13_context(server: MockSMTPServer) -> ssl.SSLContext:
    context = server.client_ssl_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


# -- the first command rides with the client's Finished ---------------------------------------


def test_first_command_in_the_same_write_as_the_finished_after_starttls(make_loop_server: MakeServer) -> None:
    """STARTTLS, then the client's Finished and an encrypted EHLO in one write: EHLO is answered
    (nodemailer and msmtp always write them together)."""
    server = make_loop_server(tls="starttls")
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("STARTTLS") == 220
        client = MemoryTLSClient(c.sock, _tls13_context(server))
        client.handshake_holding_last_flight()
        assert client.tls.version() == "TLSv1.3"
        wire = client.send(b"EHLO again.example\r\n")
        # The client's Finished and the EHLO are two encrypted records (type 23) in this one
        # write (a change_cipher_spec record, type 20, may precede them).
        assert _record_types(wire)[-2:] == [23, 23], _record_types(wire)
        code, lines = client.read_reply()
        assert (code, lines[0]) == (250, "localhost")
        assert "STARTTLS" not in lines
        client.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        assert [client.read_reply()[0] for _ in range(3)] == [250, 250, 354]
        client.send(b"Subject: together\r\n\r\nbody\r\n.\r\n")
        assert client.read_reply()[0] == 250
    (message,) = server.messages
    assert message.raw == b"Subject: together\r\n\r\nbody\r\n"
    assert message.tls == "TLSv1.3"


def test_first_command_in_the_same_write_as_the_finished_on_implicit_tls(make_loop_server: MakeServer) -> None:
    """Implicit TLS: a client that talks before the greeting, in the write that completes the
    handshake, gets the greeting and then its EHLO answered."""
    server = make_loop_server(tls="implicit")
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    with sock:
        client = MemoryTLSClient(sock, _tls13_context(server))
        client.handshake_holding_last_flight()
        client.send(b"EHLO client.example\r\n")
        assert client.read_reply()[0] == 220
        assert client.read_reply()[0] == 250


def test_plaintext_pipelined_after_starttls_is_still_discarded(make_loop_server: MakeServer) -> None:
    """CVE-2011-0411: STARTTLS\\r\\nNOOP\\r\\n in one segment gets only the 220, even when the
    first encrypted command comes with the Finished."""
    server = make_loop_server(tls="starttls")
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        c.send(b"STARTTLS\r\nNOOP\r\n")
        assert c.read_reply()[0] == 220
        client = MemoryTLSClient(c.sock, _tls13_context(server))
        client.handshake_holding_last_flight()
        client.send(b"HELP\r\n")
        assert client.read_reply()[0] == 214  # not the NOOP's 250


# -- stop() in the middle of handshakes ---------------------------------------------------------


def test_stop_ends_stalled_starttls_handshakes_and_a_restarted_server_serves(make_loop_server: MakeServer) -> None:
    """Clients stalled after STARTTLS's 220: stop() ends them at once (not after the handshake
    timeout), no session stays counted, and after start() a fresh client is served."""
    server = make_loop_server(tls="starttls", tls_handshake_timeout=60, max_connections=3)
    clients = [RawClient(server.port) for _ in range(3)]
    try:
        for c in clients:
            assert c.code("EHLO client.example") == 250
            assert c.code("STARTTLS") == 220  # and never a ClientHello
        assert server.stats.active_connections == 3
        server.stop(timeout=3)
        assert server.stats.active_connections == 0
        assert server.stats.tls_handshake_failures == 0  # ended by stop, not failed
        for c in clients:
            assert c.is_closed()
    finally:
        for c in clients:
            c.close()
    server.start()
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("STARTTLS") == 220
        c.starttls(server.client_ssl_context())
        assert c.send_message("a@example.com", ["b@example.com"], b"after restart\r\n")[0] == 250
    assert server.stats.tls_handshakes == 1


def test_stop_ends_silent_implicit_tls_connections(make_loop_server: MakeServer) -> None:
    """Connections to an implicit-TLS port that never send a ClientHello are ended by stop(),
    and a session inside TLS is told 421."""
    server = make_loop_server(tls="implicit", tls_handshake_timeout=60)
    clients = [RawClient(server.port, read_greeting=False) for _ in range(3)]
    try:
        with RawClient(server.port, read_greeting=False) as talker:
            talker.starttls(server.client_ssl_context())
            assert talker.read_reply()[0] == 220  # so the silent ones were accepted before
            assert server.stats.active_connections == 4
            server.stop(timeout=3)
            assert [code for code, _ in talker.replies_until_closed()] == [421]
        for c in clients:
            assert c.is_closed()
        assert server.stats.active_connections == 0
        assert server.stats.tls_handshakes == 1
    finally:
        for c in clients:
            c.close()


def test_stop_closes_a_tls_session_without_waiting_for_the_client(make_loop_server: MakeServer) -> None:
    """stop() tells a session inside TLS 421 and closes the connection at once: it does not
    wait (out its grace) for the client's side of the TLS close, which a client blocked on
    stop() never sends."""
    server = make_loop_server(tls="starttls")
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("STARTTLS") == 220
        client = MemoryTLSClient(c.sock, server.client_ssl_context())
        client.handshake_holding_last_flight()
        client.send(b"EHLO again.example\r\n")
        assert client.read_reply()[0] == 250
        stopper = threading.Thread(target=server.stop, kwargs={"timeout": 60})
        stopper.start()
        try:
            assert client.read_reply()[0] == 421
            assert client.closed()  # the TCP connection, not only TLS: within the client's timeout
        finally:
            stopper.join()
    assert server.stats.active_connections == 0


# -- max_connections counts implicit-TLS handshakes ---------------------------------------------


def test_max_connections_counts_implicit_tls_connections_from_accept(make_loop_server: MakeServer) -> None:
    """Silent connections to an implicit-TLS port count from accept: the one past the cap is
    closed without a word, the others are held, and once they go TLS clients are served."""
    server = make_loop_server(tls="implicit", max_connections=3, tls_handshake_timeout=60)
    context = server.client_ssl_context()
    held = [RawClient(server.port, read_greeting=False) for _ in range(3)]
    try:
        with RawClient(server.port, read_greeting=False) as extra:
            assert extra.read_until_closed() == b""
        for c in held:  # each was held: it can still complete its handshake and be served
            c.starttls(context)
            assert c.read_reply()[0] == 220
        for c in held[:2]:
            assert c.code("QUIT") == 221
            assert c.is_closed()
            c.close()
        # Round trips on the last one, each at least one turn of the server's loop: by the
        # last, the server has handled the other two's ends (a few turns each).
        assert [held[2].code("NOOP") for _ in range(5)] == [250] * 5
        assert server.stats.active_connections == 1
        fresh = [RawClient(server.port, read_greeting=False) for _ in range(2)]
        for c in fresh:
            with c:
                c.starttls(context)
                assert c.read_reply()[0] == 220
                assert c.send_message("a@example.com", ["b@example.com"], b"freed\r\n")[0] == 250
    finally:
        for c in held:
            c.close()
    assert server.stats.tls_handshakes == 5
    assert all(m.tls is not None for m in server.messages)


def test_failed_and_timed_out_handshakes_are_counted(make_loop_server: MakeServer) -> None:
    """stats counts a handshake that fails (garbage instead of a ClientHello) and one that times
    out as failures, and a completed one as a handshake."""
    server = make_loop_server(tls="implicit", tls_handshake_timeout=0.2)
    with RawClient(server.port, read_greeting=False) as c:
        c.send(b"this is not a TLS record\r\n" * 20)
        assert c.is_closed()
    with RawClient(server.port, read_greeting=False) as c:
        assert c.is_closed()  # silent until the handshake timeout
    with RawClient(server.port, read_greeting=False) as c:
        c.starttls(server.client_ssl_context())
        assert c.read_reply()[0] == 220
        assert c.code("NOOP") == 250  # a round trip: the failures have been counted by now
    assert (server.stats.tls_handshakes, server.stats.tls_handshake_failures) == (1, 2)
    assert server.stats.as_dict()["tls_handshake_failures"] == 2
