"""The engine on uvloop, the command line's loop whenever it is installed.

On uvloop the engine is a plain ``asyncio.Protocol`` (on asyncio's loops a buffered one), and
uvloop's transports behave a little differently: these run the main paths on it end to end.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Iterator
from typing import Any

import pytest
from tests.support import RawClient, assert_healthy, codes_in

from mocksmtp import REPLY, MockSMTPServer

uvloop = pytest.importorskip("uvloop")
BODY = b"Subject: on uvloop\r\n\r\nbody\r\n"


@pytest.fixture
def uv_server(request: pytest.FixtureRequest) -> Iterator[MockSMTPServer]:
    """A server whose loop is uvloop's; the policy is put back as soon as its loop exists."""
    options: dict[str, Any] = getattr(request, "param", {})
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        server = MockSMTPServer("localhost", 0, **options).start()
    finally:
        asyncio.set_event_loop_policy(previous)
    try:
        assert type(server._loop).__module__.startswith("uvloop")
        yield server
    finally:
        server.stop()


def test_smtplib_delivers_byte_for_byte(uv_server: MockSMTPServer) -> None:
    """A plain delivery, then a second on the same connection: both stored exactly."""
    with smtplib.SMTP("127.0.0.1", uv_server.port, timeout=5) as client:
        client.sendmail("a@example.com", ["b@example.com"], BODY)
        client.sendmail("a@example.com", ["c@example.com"], BODY + b"..dot\r\n")
    first, second = uv_server.messages
    assert first.raw == BODY
    assert second.raw == BODY + b"..dot\r\n"  # smtplib stuffs it, the server unstuffs it


def test_pipelined_transactions_in_one_write(uv_server: MockSMTPServer) -> None:
    """Two whole transactions in one write: every reply, in order, and two exact messages."""
    one = b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n" + BODY + b".\r\n"
    with RawClient(uv_server.port) as c:
        c.send(b"EHLO c\r\n" + one + one + b"QUIT\r\n")
        assert codes_in(c.read_until_closed()) == [250, 250, 250, 354, 250, 250, 250, 354, 250, 221]
    assert [m.raw for m in uv_server.messages] == [BODY, BODY]


def test_data_in_many_reads(uv_server: MockSMTPServer) -> None:
    """Data sent a few octets at a time, the end marker split: one exact message."""
    content = b"Subject: slow\r\n\r\n" + b"line\r\n" * 50
    with RawClient(uv_server.port) as c:
        c.nodelay()
        assert c.code("EHLO c") == 250
        assert c.code("MAIL FROM:<a@x.example>") == 250
        assert c.code("RCPT TO:<b@x.example>") == 250
        assert c.code("DATA") == 354
        data = content + b".\r\n"
        for i in range(0, len(data), 7):
            c.send(data[i : i + 7])
        assert c.read_reply()[0] == 250
    assert uv_server.messages[0].raw == content
    assert_healthy(uv_server, stored=1)


@pytest.mark.parametrize("uv_server", [{"tls": "starttls", "auth": {"alice": "s3cret"}}], indirect=True)
def test_starttls_and_auth(uv_server: MockSMTPServer) -> None:
    """STARTTLS with a verified certificate, then AUTH, then a delivery, all on uvloop."""
    pytest.importorskip("trustme")
    with smtplib.SMTP("localhost", uv_server.port, timeout=5) as client:
        client.starttls(context=uv_server.client_ssl_context())
        client.login("alice", "s3cret")
        client.sendmail("a@example.com", ["b@example.com"], BODY)
    (message,) = uv_server.messages
    assert (message.raw, message.auth_user) == (BODY, "alice")
    assert message.tls is not None


@pytest.mark.parametrize("uv_server", [{"idle_timeout": 0.2}], indirect=True)
def test_idle_timeout(uv_server: MockSMTPServer) -> None:
    """The idle sweep runs on uvloop's clock too."""
    with RawClient(uv_server.port) as c:
        assert c.code("EHLO c") == 250
        assert codes_in(c.read_until_closed()) == [REPLY.IDLE_TIMEOUT.code]


def test_stop_with_a_client_in_the_middle_of_data(uv_server: MockSMTPServer) -> None:
    """stop() while a message is half sent: nothing half stored, the client told 421."""
    c = RawClient(uv_server.port)
    try:
        assert c.code("EHLO c") == 250
        assert c.code("MAIL FROM:<a@x.example>") == 250
        assert c.code("RCPT TO:<b@x.example>") == 250
        assert c.code("DATA") == 354
        c.send(b"half a message\r\n")
        uv_server.stop(timeout=0.2)
        assert REPLY.SHUTTING_DOWN.code in codes_in(c.read_until_closed())
    finally:
        c.close()
    assert uv_server.messages == []


def test_a_delayed_reply_holds_pipelined_commands_in_order(uv_server: MockSMTPServer) -> None:
    """An injected delay pauses reading on uvloop's transport; what was pipelined after it is
    answered afterwards, in order, and the message is stored once."""
    with uv_server.inject_fault("mail", delay=0.1, code=451, times=1) as fault, RawClient(uv_server.port) as c:
        assert c.code("EHLO c") == 250
        c.send(b"MAIL FROM:<a@x.example>\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n")
        assert c.read_replies(4) == [451, 250, 250, 354]
        c.send(BODY + b".\r\n")
        assert c.read_reply()[0] == 250
    assert fault.triggered == 1
    assert [m.raw for m in uv_server.messages] == [BODY]
