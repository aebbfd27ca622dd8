"""Catalogue group L: cross-protocol requests. A web page in a browser can POST to
localhost:1025; an HTTP request on the SMTP port is closed at once and nothing of it stored."""

from __future__ import annotations

import asyncio

import pytest
from tests.support import RawClient, assert_healthy, codes_in, feed_engine, feed_streams

from mocksmtp import MockSMTPServer

# What a browser sends for <form method=post enctype=text/plain action=http://localhost:1025/>:
# the body is an SMTP transaction, and the request line and headers come first.
BROWSER_POST = (
    b"POST / HTTP/1.1\r\nHost: localhost:1025\r\nUser-Agent: Mozilla/5.0\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 160\r\n\r\n"
    b"EHLO evil.example\r\nMAIL FROM:<attacker@evil.example>\r\nRCPT TO:<victim@example.com>\r\n"
    b"DATA\r\nSubject: from a browser\r\n\r\nspam\r\n.\r\nQUIT\r\n"
)

FIRST_LINES = [
    b"GET / HTTP/1.1\r\nHost: localhost:1025\r\n\r\n",
    b"get /favicon.ico HTTP/1.0\r\n\r\n",
    b"POST /api HTTP/1.1\r\nHost: x\r\n\r\n",
    b"CONNECT mail.example.com:25 HTTP/1.1\r\n\r\n",
    b"Host: x\r\n",
    b"HEAD / HTTP/1.1\r\n",
    b"PUT /x HTTP/1.1\r\n",
    b"OPTIONS * HTTP/1.1\r\n",
    b"DELETE /x HTTP/1.1\r\n",
    b"PATCH /x HTTP/1.1\r\n",
    b"User-Agent: curl/8\r\n",
]


@pytest.mark.parametrize("request_bytes", FIRST_LINES, ids=[r.split(b" ")[0].decode() for r in FIRST_LINES])
def test_http_request_lines_are_closed_at_once(server: MockSMTPServer, request_bytes: bytes) -> None:
    """An HTTP request line or header as the first line: the server closes without a reply."""
    with RawClient(server.port) as c:
        c.try_send(request_bytes + b"NOOP\r\n")
        assert c.read_until_closed() == b""
    assert_healthy(server, stored=0)


def test_a_browser_post_carrying_an_smtp_transaction_stores_nothing(server: MockSMTPServer) -> None:
    """A browser POST whose body is a whole SMTP transaction is closed at the request line."""
    with RawClient(server.port) as c:
        c.try_send(BROWSER_POST)
        assert c.read_until_closed() == b""
    assert server.stats.messages == 0
    assert_healthy(server, stored=0)
    assert all(m.mail_from != "attacker@evil.example" for m in server.messages)


def test_a_browser_post_in_several_segments_stores_nothing(server: MockSMTPServer) -> None:
    """The same POST arriving header by header: closed at the first line; the body never runs."""
    with RawClient(server.port) as c:
        c.nodelay()
        head, _, body = BROWSER_POST.partition(b"\r\n\r\n")
        c.try_send(head.split(b"\r\n", 1)[0] + b"\r\n")
        assert c.is_closed()
        c.try_send(body)  # the server has gone: at most a reset
    assert_healthy(server, stored=0)


def test_an_http_request_in_the_middle_of_a_transaction_drops_it(server: MockSMTPServer) -> None:
    """An HTTP line after MAIL/RCPT (a request smuggled behind a real greeting) closes the
    session at once and the transaction is discarded."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code("RCPT TO:<b@example.com>") == 250
        c.try_send(b"POST / HTTP/1.1\r\nDATA\r\nbody\r\n.\r\n")
        assert c.read_until_closed() == b""
    assert_healthy(server, stored=0)


def test_an_http_verb_as_message_content_is_just_content(server: MockSMTPServer) -> None:
    """Inside DATA, `GET /` and `Host:` lines are ordinary content and stored."""
    content = b"GET / HTTP/1.1\r\nHost: x\r\nPOST / HTTP/1.1\r\n"
    with RawClient(server.port) as c:
        code, _ = c.send_message("a@example.com", ["b@example.com"], content)
    assert code == 250
    assert server.messages[0].raw == content
    assert_healthy(server, stored=1)


def test_words_that_merely_start_like_http_verbs_are_ordinary_bad_commands(server: MockSMTPServer) -> None:
    """`GETX`, `POSTMASTER` and `Hostname:` are unknown commands (500), not HTTP: no close."""
    with RawClient(server.port) as c:
        assert c.code("GETX /") == 500
        assert c.code("POSTMASTER") == 500
        assert c.code("Hostname: x") == 500
        assert c.code("NOOP") == 250
    assert_healthy(server, stored=0)


@pytest.mark.parametrize("url_size", [1000, 100_000])
def test_a_browser_post_with_an_overlong_url_stores_nothing(server: MockSMTPServer, url_size: int) -> None:
    """A request line too long to inspect is drained as an overlong command; the Host header
    that every browser sends next still closes the session before the body."""
    request = BROWSER_POST.replace(b"POST / ", b"POST /" + b"x" * url_size + b" ", 1)
    with RawClient(server.port) as c:
        c.nodelay()
        c.try_send(request[:700])
        c.try_send(request[700:])
        c.read_until_closed()
    assert_healthy(server, stored=0)


# A request line longer than any command, and no Host: header after it (HTTP/1.0 needs none):
# only the first word tells it is not SMTP.
LONG_POST = (
    b"POST /" + b"x" * 1500 + b" HTTP/1.1\r\nContent-Type: text/plain\r\n\r\n"
    b"EHLO evil.example\r\nMAIL FROM:<attacker@evil.example>\r\nRCPT TO:<victim@example.com>\r\n"
    b"DATA\r\nSubject: from a browser\r\n\r\nspam\r\n.\r\nQUIT\r\n"
)


@pytest.mark.parametrize("verb", [b"POST /", b"get /", b"CONNECT ", b"Host: ", b"User-Agent: "])
def test_a_long_http_line_is_closed_however_the_bytes_are_segmented(verb: bytes) -> None:
    """An HTTP request line or header too long for a command is recognised by its first word
    at every split point (also while the rest of the line is being drained): no reply but the
    greeting, nothing stored."""
    request = verb + LONG_POST[len(b"POST /") :]
    cuts = range(1, len(request))
    results = asyncio.run(feed_streams([[request[:cut], request[cut:]] for cut in cuts]))
    for cut, (out, stored) in zip(cuts, results, strict=True):
        assert (codes_in(out), stored) == ([220], []), f"split at {cut}: {out!r}"


def test_a_long_http_line_octet_by_octet_is_closed() -> None:
    """The same request arriving one octet per read is closed before any reply."""
    out, stored = feed_engine([LONG_POST[i : i + 1] for i in range(len(LONG_POST))])
    assert (codes_in(out), stored) == ([220], [])


def test_a_long_smtp_line_is_still_an_overlong_command() -> None:
    """An overlong line whose first word is not HTTP is drained and answered 500 as before."""
    out, stored = feed_engine([b"NOOP " + b"x" * 1500, b"\r\nNOOP\r\n"])
    assert (codes_in(out), stored) == ([220, 500, 250], [])
