"""Catalogue group D: encoding. Bytes are stored as sent; addresses follow RFC 6531."""

from __future__ import annotations

import pytest
from tests.support import RawClient, assert_healthy, open_data

from mocksmtp import REPLY, MockSMTPServer


@pytest.mark.parametrize(
    "line",
    [
        b"NOOP\x00",
        b"\x00",
        b"EHLO a\x00b",
        b"MAIL FROM:<a\x00@example.com>",
        b"RCPT TO:<b@example.com>\x00",
        b"VRFY \x00",
    ],
)
def test_nul_in_a_command_is_501(server: MockSMTPServer, line: bytes) -> None:
    """A NUL anywhere in a command line gets 501 and the command is not carried out."""
    with RawClient(server.port) as c:
        assert c.code("HELO client.example") == 250
        assert c.code("MAIL FROM:<first@example.com>") == 250
        assert c.code(line) == REPLY.NUL_IN_COMMAND.code
        assert c.code("RCPT TO:<b@example.com>") == 250
        assert c.code("DATA") == 354
        c.send(b"x\r\n.\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert (m.mail_from, m.rcpt_tos, m.helo) == ("first@example.com", ("b@example.com",), "client.example")
    assert_healthy(server, stored=1)


def test_nul_and_non_utf8_bytes_in_data_are_stored_verbatim(server: MockSMTPServer) -> None:
    """NUL, invalid UTF-8 and every other octet value in data are kept exactly, and flagged."""
    content = b"Subject: \xff\xfe\x00bin\r\n\r\n" + bytes(range(256)).replace(b"\r", b"").replace(b"\n", b"") + b"\r\n"
    with RawClient(server.port) as c:
        open_data(c)
        c.send(content + b".\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.raw == content
    assert {"nul", "8bit"} <= m.flags
    assert "\ufffd" in m.data  # the text view replaces, the raw bytes never change
    assert_healthy(server, stored=1)


def test_smtputf8_addresses_are_accepted_and_stored_as_utf8(server: MockSMTPServer) -> None:
    """With SMTPUTF8 on MAIL, non-ASCII local parts and domains are accepted and kept exactly."""
    sender = "Jos\u00e9.\u00d1o\u00f1o@ex\u00e4mple.de"
    recipients = [
        "\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a",
        "\u0434\u0436@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",
    ]
    content = f"From: {sender}\r\nSubject: \u00fcber\r\n\r\nGr\u00fc\u00dfe\r\n".encode()
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code(f"MAIL FROM:<{sender}> SMTPUTF8 BODY=8BITMIME".encode()) == 250
        for r in recipients:
            assert c.code(f"RCPT TO:<{r}>".encode()) == 250
        assert c.code("DATA") == 354
        c.send(content + b".\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.mail_from == sender
    assert m.rcpt_tos == tuple(recipients)
    assert m.mail_options == ("SMTPUTF8", "BODY=8BITMIME")
    assert m.raw == content
    assert_healthy(server, stored=1)


@pytest.mark.parametrize(
    ("mail", "rcpt"),
    [
        ("MAIL FROM:<jos\u00e9@example.com>", None),
        ("MAIL FROM:<a@ex\u00e4mple.com>", None),
        ("MAIL FROM:<a@example.com>", "RCPT TO:<\u00fcser@example.com>"),
    ],
)
def test_non_ascii_address_without_smtputf8_is_553(server: MockSMTPServer, mail: str, rcpt: str | None) -> None:
    """Policy: a non-ASCII address without the SMTPUTF8 parameter gets 553 5.6.7 (not stored)."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        if rcpt is None:
            code, texts = c.command(mail.encode())
        else:
            assert c.code(mail.encode()) == 250
            code, texts = c.command(rcpt.encode())
        assert (code, texts[0].split()[0]) == (REPLY.NON_ASCII_ADDRESS.code, REPLY.NON_ASCII_ADDRESS.status)
    assert_healthy(server, stored=0)


@pytest.mark.parametrize(
    "path",
    [
        b"\xff@example.com",
        b"a@\xc3example.com",
        b"\xc0\xaf@example.com",
        b"\xed\xa0\x80@example.com",
        b"a\xf8\x88\x80\x80\x80@example.com",
    ],
)
@pytest.mark.parametrize("smtputf8", [True, False])
def test_invalid_utf8_in_an_address_is_rejected(server: MockSMTPServer, path: bytes, smtputf8: bool) -> None:
    """Invalid UTF-8 (stray, truncated, overlong, surrogate) in a path is refused with 501, with or
    without SMTPUTF8; never a crash."""
    param = b" SMTPUTF8" if smtputf8 else b""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code(b"MAIL FROM:<" + path + b">" + param) == REPLY.BAD_SENDER.code
        assert c.code(b"MAIL FROM:<a@example.com>" + param) == 250
        assert c.code(b"RCPT TO:<" + path + b">") == REPLY.BAD_RECIPIENT.code
    assert server.stats.errors == 0
    assert_healthy(server, stored=0)


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Type: text/plain; charset=x-no-such-charset",
        b"Content-Type: text/plain; charset=utf-8",  # with a body that is not UTF-8
        b'Content-Type: text/plain; charset="\xff"',
        b"Subject: =?bogus?Q?=FF=FE?= =?utf-8?B?!!notbase64?=",
    ],
)
def test_wrong_or_unknown_charsets_are_stored_raw(server: MockSMTPServer, header: bytes) -> None:
    """Content with unknown or lying charset labels is stored byte for byte; parsing is later."""
    content = b"Subject: charset\r\n" + header + b"\r\n\r\n\xe9t\xe9 \x80\x81\r\n"
    with RawClient(server.port) as c:
        open_data(c)
        c.send(content + b".\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.raw == content
    assert isinstance(m.data, str)
    assert_healthy(server, stored=1)


def test_8bit_helo_name_is_accepted_and_does_not_break_the_session(server: MockSMTPServer) -> None:
    """A HELO name with non-UTF-8 octets is accepted (it is only informational)."""
    with RawClient(server.port) as c:
        assert c.code(b"EHLO h\xffst") == 250
        code, _ = c.send_message("a@example.com", ["b@example.com"], b"x\r\n", ehlo=False)
        assert code == 250
    assert server.messages[0].helo == "h\ufffdst"
    assert_healthy(server, stored=1)
