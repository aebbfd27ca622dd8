"""Catalogue group F: recipients, their limit, and the envelope as the client gave it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.support import RawClient, assert_healthy

from mocksmtp import REPLY, MockSMTPServer

MakeServer = Callable[..., MockSMTPServer]


def pipeline_rcpts(c: RawClient, recipients: list[str]) -> list[int]:
    """Send every RCPT in one write and return their reply codes."""
    c.send(b"".join(f"RCPT TO:<{r}>\r\n".encode() for r in recipients))
    return c.read_replies(len(recipients))


@pytest.mark.parametrize("n", [1, 100, 1000])
def test_up_to_1000_recipients_are_accepted_in_order(server: MockSMTPServer, n: int) -> None:
    """1, 100 and 1000 recipients (the default limit) are all accepted and kept in order."""
    recipients = [f"r{i:04d}@example.com" for i in range(n)]
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert pipeline_rcpts(c, recipients) == [REPLY.RECIPIENT_OK.code] * n
        assert c.code("DATA") == 354
        c.send(b"x\r\n.\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert list(m.rcpt_tos) == recipients
    assert_healthy(server, stored=1)


def test_the_1001st_recipient_gets_452_and_the_first_1000_are_kept(server: MockSMTPServer) -> None:
    """Past the limit each RCPT gets 452 4.5.3; the message keeps exactly the first 1000."""
    recipients = [f"r{i:04d}@example.com" for i in range(1003)]
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        c.send(b"".join(f"RCPT TO:<{r}>\r\n".encode() for r in recipients))
        for i in range(1000):
            assert c.read_reply()[0] == 250, i
        for _ in range(3):
            code, texts = c.read_reply()
            assert (code, texts[0].split()[0]) == (REPLY.TOO_MANY_RECIPIENTS.code, REPLY.TOO_MANY_RECIPIENTS.status)
        assert c.code("DATA") == 354
        c.send(b"x\r\n.\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert list(m.rcpt_tos) == recipients[:1000]
    assert_healthy(server, stored=1)


def test_the_recipient_limit_is_per_transaction(make_server: MakeServer) -> None:
    """max_recipients applies to each transaction: the next one starts from zero."""
    server = make_server(max_recipients=2)
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        for n in (1, 2):
            assert c.code("MAIL FROM:<a@example.com>") == 250
            assert pipeline_rcpts(c, ["x@example.com", "y@example.com", "z@example.com"]) == [250, 250, 452]
            assert c.code("DATA") == 354
            c.send(f"message {n}\r\n.\r\n".encode())
            assert c.read_reply()[0] == 250
    assert [m.rcpt_tos for m in server.messages] == [("x@example.com", "y@example.com")] * 2
    assert_healthy(server, stored=2)


def test_452_does_not_count_as_a_bad_command(make_server: MakeServer) -> None:
    """Recipients over the limit are a 4xx, not an error toward max_bad_commands."""
    server = make_server(max_recipients=1, max_bad_commands=2)
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert pipeline_rcpts(c, [f"r{i}@example.com" for i in range(10)]) == [250] + [452] * 9
        assert c.code("NOOP") == 250
    assert_healthy(server, stored=0)


def test_duplicate_recipients_are_kept_as_given(server: MockSMTPServer) -> None:
    """Duplicates are accepted without a crash and recorded exactly as sent (the envelope is the
    client's, not deduplicated), including case variants."""
    recipients = ["b@example.com", "b@example.com", "B@example.com", "b@example.com"]
    with RawClient(server.port) as c:
        code, _ = c.send_message("a@example.com", recipients, b"x\r\n")
    assert code == 250
    assert list(server.messages[0].rcpt_tos) == recipients
    assert_healthy(server, stored=1)


def test_a_rejected_rcpt_in_the_middle_leaves_the_others(server: MockSMTPServer) -> None:
    """A refused RCPT between good ones is simply not added; order of the rest is kept."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        c.send(
            b"RCPT TO:<one@example.com>\r\nRCPT TO:<bad@>\r\nRCPT TO:<caf\xc3\xa9@example.com>\r\n"
            b"RCPT TO:<two@example.com> NOTIFY=NEVER\r\nRCPT TO:<three@example.com>\r\n"
        )
        assert c.read_replies(5) == [
            250,
            REPLY.BAD_RECIPIENT.code,
            REPLY.NON_ASCII_ADDRESS.code,
            REPLY.UNKNOWN_PARAMETER.code,
            250,
        ]
        assert c.code("DATA") == 354
        c.send(b"x\r\n.\r\n")
        assert c.read_reply()[0] == 250
    assert server.messages[0].rcpt_tos == ("one@example.com", "three@example.com")
    assert_healthy(server, stored=1)


def test_bcc_recipients_are_visible_on_the_message(server: MockSMTPServer) -> None:
    """An RCPT that appears in no header (a Bcc) is still on the message's envelope."""
    content = b"From: a@example.com\r\nTo: to@example.com\r\nCc: cc@example.com\r\nSubject: bcc\r\n\r\nhi\r\n"
    with RawClient(server.port) as c:
        code, _ = c.send_message("a@example.com", ["to@example.com", "cc@example.com", "hidden@example.com"], content)
    assert code == 250
    (m,) = server.messages
    assert m.rcpt_tos == ("to@example.com", "cc@example.com", "hidden@example.com")
    assert b"hidden" not in m.raw
    assert m.as_dict()["rcpt_tos"] == ["to@example.com", "cc@example.com", "hidden@example.com"]
    assert_healthy(server, stored=1)


def test_recipients_do_not_leak_into_the_next_transaction(server: MockSMTPServer) -> None:
    """After a message is accepted, the next transaction starts with no recipients."""
    with RawClient(server.port) as c:
        code, _ = c.send_message("a@example.com", ["first@example.com"], b"1\r\n")
        assert code == 250
        code, _ = c.send_message("a@example.com", ["second@example.com"], b"2\r\n", ehlo=False)
        assert code == 250
    assert [m.rcpt_tos for m in server.messages] == [("first@example.com",), ("second@example.com",)]
    assert_healthy(server, stored=2)
