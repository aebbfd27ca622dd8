"""Catalogue group E: envelope addresses are validated, never rewritten."""

from __future__ import annotations

import pytest
from tests.support import RawClient, assert_healthy

from mocksmtp import REPLY, MockSMTPServer

GOOD = [
    '"john doe"@example.com',
    '"a>b<c"@example.com',
    '"quote\\"d"@example.com',
    '"back\\\\slash"@example.com',
    '""@example.com',
    "user+tag@example.com",
    "o'brien@example.com",
    "!#$%&'*+-/=?^_`{|}~@example.com",
    "user@[127.0.0.1]",
    "user@[IPv6:::1]",
    "user@[IPv6:2001:db8::1]",
    "user@[IPv6:::ffff:192.0.2.1]",
    "user@[x-tag:opaque]",
    "@relay.example:user@example.com",
    "@a.example,@b.example:user@c.example",
    "user@localhost",
    "User.Name@Sub.Example.COM",
]


@pytest.mark.parametrize("address", GOOD)
def test_valid_addresses_are_accepted_and_stored_exactly(server: MockSMTPServer, address: str) -> None:
    """Quoted local parts, address literals and source routes are accepted, kept as sent."""
    with RawClient(server.port) as c:
        code, _ = c.send_message(address, [address, "plain@example.com"], b"x\r\n")
    assert code == 250
    (m,) = server.messages
    assert m.mail_from == address
    assert m.rcpt_tos == (address, "plain@example.com")
    assert m.raw == b"x\r\n"
    assert_healthy(server, stored=1)


def test_null_sender_is_accepted_and_stored_empty(server: MockSMTPServer) -> None:
    """MAIL FROM:<> (bounces) is accepted; the message's sender is the empty string."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<> SIZE=3") == 250
        assert c.code("RCPT TO:<b@example.com>") == 250
        assert c.code("DATA") == 354
        c.send(b"x\r\n.\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.mail_from == ""
    assert m.as_dict()["mail_from"] == ""
    assert_healthy(server, stored=1)


@pytest.mark.parametrize("postmaster", ["Postmaster", "postmaster", "POSTMASTER"])
def test_bare_postmaster_is_accepted_as_recipient(server: MockSMTPServer, postmaster: str) -> None:
    """RCPT TO:<Postmaster> (no domain) is accepted in any case and stored as sent."""
    with RawClient(server.port) as c:
        code, _ = c.send_message("a@example.com", [postmaster], b"x\r\n")
    assert code == 250
    assert server.messages[0].rcpt_tos == (postmaster,)
    assert_healthy(server, stored=1)


def test_bare_postmaster_is_not_a_sender(server: MockSMTPServer) -> None:
    """<Postmaster> without a domain is only special as a recipient: as sender it is 501."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<Postmaster>") == REPLY.BAD_SENDER.code
    assert_healthy(server, stored=0)


@pytest.mark.parametrize(
    "line", ["MAIL FROM: <a@example.com>", "MAIL FROM:a@example.com", "MAIL FROM:  <a@example.com>  SIZE=10"]
)
def test_lenient_spacing_and_missing_brackets_are_tolerated(server: MockSMTPServer, line: str) -> None:
    """Common client deviations (space after the colon, no angle brackets) are accepted."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code(line) == 250
        assert c.code("RCPT TO: b@example.com") == 250
        assert c.code("DATA") == 354
        c.send(b"x\r\n.\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert (m.mail_from, m.rcpt_tos) == ("a@example.com", ("b@example.com",))
    assert_healthy(server, stored=1)


BAD = [
    "user@",
    "@example.com",
    "@x",
    "user",
    "user@@example.com",
    "us er@example.com",
    "user@exa mple.com",
    "user@.example.com",
    "user@example..com",
    "user@example.com.",
    "user@-example.com",
    ".user@example.com",
    "user.@example.com",
    "us..er@example.com",
    '"unterminated@example.com',
    "user@[127.0.0.1",
    "user@[1.2.3.4.5]",
    "user@[IPv6:]",
    "user@[]",
    "@a.example:",
    "@a.example,user@example.com",
    "a@b@c",
    "user@exa_mple.com",
    "(comment)user@example.com",
]


@pytest.mark.parametrize("address", BAD)
def test_malformed_addresses_are_refused(server: MockSMTPServer, address: str) -> None:
    """Malformed paths get 501 (or 553) for MAIL and RCPT; nothing is stored."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code(f"MAIL FROM:<{address}>") in (501, 553)
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code(f"RCPT TO:<{address}>") in (501, 553)
        assert c.code("DATA") == REPLY.NEED_RCPT.code
    assert_healthy(server, stored=0)


@pytest.mark.parametrize(
    "line",
    [
        "MAIL FROM:<a@example.com",
        "MAIL FROM:a@example.com>",
        "MAIL FROM:<<a@example.com>",
        "MAIL FROM:<a@example.com>>",
        "MAIL FROM:<a@exa<mple.com>",
        'MAIL FROM:<"a@example.com>',
    ],
)
def test_unbalanced_brackets_are_501(server: MockSMTPServer, line: str) -> None:
    """Angle brackets (and quotes) must balance: 501 otherwise."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code(line) == 501
    assert_healthy(server, stored=0)


@pytest.mark.parametrize("control", [b"\r", b"\t", b"\x00", b"\x1b", b"\x7f", b"\x0b", b"\x0c"])
def test_control_characters_in_a_path_are_refused_and_never_stored(server: MockSMTPServer, control: bytes) -> None:
    """CR, NUL, tab and other control octets in a path are refused; none reaches anything stored."""
    evil = b"a" + control + b"Bcc: injected@evil.example@example.com"
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code(b"MAIL FROM:<" + evil + b">") == 501
        assert c.code(b"MAIL FROM:<a@example.com>") == 250
        assert c.code(b"RCPT TO:<" + evil + b">") == 501
        assert c.code(b"RCPT TO:<b" + control + b"@example.com>") == 501
        assert c.code(b"RCPT TO:<b@example.com>") == 250
        assert c.code("DATA") == 354
        c.send(b"Subject: clean\r\n\r\nbody\r\n.\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.raw == b"Subject: clean\r\n\r\nbody\r\n"
    assert (m.mail_from, m.rcpt_tos) == ("a@example.com", ("b@example.com",))
    assert b"injected" not in m.raw
    assert_healthy(server, stored=1)


def test_a_bare_lf_inside_a_path_splits_the_line_and_both_halves_fail(server: MockSMTPServer) -> None:
    """An LF inside a path ends the command there (LF alone ends commands): two errors, no rcpt."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        c.send(b"RCPT TO:<b\nBcc: x@evil.example>\r\n")
        assert c.read_replies(2) == [501, 500]
        assert c.code("DATA") == REPLY.NEED_RCPT.code
    assert_healthy(server, stored=0)


@pytest.mark.parametrize("verb", ["HELO", "EHLO"])
@pytest.mark.parametrize("control", [b"\r", b"\t", b"\x1b", b"\x7f", b"\x0b"])
def test_control_characters_in_the_helo_name_are_refused(server: MockSMTPServer, verb: str, control: bytes) -> None:
    """A HELO/EHLO name with a control octet gets 501 and never reaches a stored message."""
    with RawClient(server.port) as c:
        assert c.code(verb.encode() + b" evil" + control + b"X-Injected: yes") == 501
        assert c.code("MAIL FROM:<a@example.com>") == REPLY.NEED_HELO.code
        code, _ = c.send_message("a@example.com", ["b@example.com"], b"x\r\n")
        assert code == 250
    (m,) = server.messages
    assert m.helo == "client.example"
    assert_healthy(server, stored=1)
