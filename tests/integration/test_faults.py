"""Injected faults, per test: failures, delays and disconnects at every stage."""

from __future__ import annotations

import base64
import re
import select
import smtplib
import time
from collections.abc import Callable

import pytest
from tests.support import RawClient

from mocksmtp import ConfigError, Fault, MockSMTPServer

MakeServer = Callable[..., MockSMTPServer]
BODY = b"Subject: t\r\n\r\nbody\r\n"


def _has_data(client: RawClient) -> bool:
    """Whether the server has sent anything not yet read (without blocking)."""
    return bool(select.select([client.sock], [], [], 0)[0])


def test_rcpt_fault_done_when(server: MockSMTPServer) -> None:
    """The first RCPT to the matched address fails with 451, the retry succeeds, nothing else changes."""
    with server.inject_fault("rcpt", code=451, match="a@example.com", times=1) as fault:
        with RawClient(server.port) as c:
            c.command("EHLO client.example")
            assert c.code("MAIL FROM:<sender@example.com>") == 250
            assert c.code("RCPT TO:<b@example.com>") == 250
            code, (text,) = c.command("RCPT TO:<a@example.com>")
            assert (code, text[:5]) == (451, "4.3.0")
            assert c.code("RCPT TO:<a@example.com>") == 250
            assert c.code("DATA") == 354
            c.send(BODY + b".\r\n")
            assert c.read_reply()[0] == 250
        assert fault.triggered == 1
        with smtplib.SMTP(server.host, server.port, timeout=5) as client:
            assert client.sendmail("x@example.com", ["a@example.com"], BODY) == {}
    assert server.faults == []
    first, second = server.messages
    assert first.rcpt_tos == ("b@example.com", "a@example.com")
    assert second.rcpt_tos == ("a@example.com",)


def test_smtplib_sees_the_rcpt_fault(server: MockSMTPServer) -> None:
    """smtplib raises SMTPRecipientsRefused with the injected code; nothing is stored."""
    with (
        server.inject_fault("rcpt", code=450, message="4.2.1 Mailbox busy"),
        smtplib.SMTP(server.host, server.port, timeout=5) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        client.sendmail("a@example.com", ["b@example.com"], BODY)
    assert refused.value.recipients["b@example.com"] == (450, b"4.2.1 Mailbox busy")
    assert server.get_message_count() == 0


def test_connect_fault_refuses_the_greeting(server: MockSMTPServer) -> None:
    """A connect fault answers the connection with 421 and closes it."""
    with server.inject_fault("connect", times=1) as fault:
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP(server.host, server.port, timeout=5)
        assert refused.value.smtp_code == 421
        with RawClient(server.port) as c:  # times=1: the next connection is greeted
            assert c.greeting is not None
            assert c.greeting[0] == 220
    assert fault.triggered == 1


def test_connect_fault_with_5xx_closes(server: MockSMTPServer) -> None:
    """A connect fault with 554 sends it and closes the connection."""
    with (
        server.inject_fault("connect", code=554, message="5.7.1 Go away"),
        RawClient(server.port, read_greeting=False) as c,
    ):
        assert c.read_until_closed() == b"554 5.7.1 Go away\r\n"


def test_helo_fault(server: MockSMTPServer) -> None:
    """A helo fault matched on the HELO name fails EHLO; another name passes."""
    with server.inject_fault("helo", code=550, match="bad.example"), RawClient(server.port) as c:
        assert c.code("EHLO bad.example") == 550
        assert c.code("MAIL FROM:<a@example.com>") == 503  # no EHLO was accepted
        assert c.code("EHLO good.example") == 250


def test_auth_fault_matches_the_user(make_server: MakeServer) -> None:
    """An auth fault fails the matching user's correct login once with 454; the retry passes."""
    server = make_server(auth={"alice": "pw", "bob": "pw"})
    plain = "AUTH PLAIN " + base64.b64encode(b"\0alice\0pw").decode()
    with server.inject_fault("auth", match="alice", times=1) as fault, RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.command(plain)[0] == 454
        assert c.code(plain) == 235
    assert fault.triggered == 1


def test_mail_fault_with_regex_and_callable(server: MockSMTPServer) -> None:
    """match as a regex (search) and as a callable narrow a mail fault to some senders."""
    with (
        server.inject_fault("mail", code=550, match=re.compile(r"@spam\.example$")),
        server.inject_fault("mail", code=553, match=lambda sender: sender.startswith("x")),
        RawClient(server.port) as c,
    ):
        c.command("EHLO client.example")
        assert c.code("MAIL FROM:<a@spam.example>") == 550
        assert c.code("MAIL FROM:<xavier@example.com>") == 553
        assert c.code("MAIL FROM:<ok@example.com>") == 250


def test_raising_match_callable_counts_as_no_match(server: MockSMTPServer) -> None:
    """A match callable that raises does not fire and does not hurt the session."""

    def broken(subject: str) -> bool:
        raise RuntimeError("bug in a test helper")

    with server.inject_fault("mail", match=broken) as fault, RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("MAIL FROM:<a@example.com>") == 250
    assert fault.triggered == 0


def test_data_fault_default_554(server: MockSMTPServer) -> None:
    """A data fault answers DATA with 554 5.3.0; nothing is stored, RSET and retry work."""
    with server.inject_fault("data", times=1), RawClient(server.port) as c:
        c.command("EHLO client.example")
        c.command("MAIL FROM:<a@example.com>")
        c.command("RCPT TO:<b@example.com>")
        code, (text,) = c.command("DATA")
        assert (code, text[:5]) == (554, "5.3.0")
        assert c.code("RSET") == 250
        assert c.send_message("a@example.com", ["b@example.com"], BODY, ehlo=False)[0] == 250
    assert server.get_message_count() == 1


def test_data_fault_matches_any_envelope_address(server: MockSMTPServer) -> None:
    """For data and message, match is applied to the sender and to each recipient."""
    with server.inject_fault("data", match="bcc@example.com") as fault, RawClient(server.port) as c:
        c.command("EHLO client.example")
        c.command("MAIL FROM:<a@example.com>")
        c.command("RCPT TO:<b@example.com>")
        assert c.code("DATA") == 354
        c.send(b"x\r\n.\r\n")
        assert c.read_reply()[0] == 250
        c.command("MAIL FROM:<a@example.com>")
        c.command("RCPT TO:<b@example.com>")
        c.command("RCPT TO:<BCC@example.com>")
        assert c.code("DATA") == 554
    assert fault.triggered == 1


def test_message_fault_stores_nothing(server: MockSMTPServer) -> None:
    """A message fault replaces the 250 after the data with 451; the message is not stored."""
    with server.inject_fault("message", times=1), smtplib.SMTP(server.host, server.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("a@example.com", ["b@example.com"], BODY)
        assert refused.value.smtp_code == 451
        assert server.get_message_count() == 0
        client.rset()
        client.sendmail("a@example.com", ["b@example.com"], BODY)
    assert server.get_message_count() == 1
    assert server.stats.rejected_messages == 1


def test_times_then_pass(server: MockSMTPServer) -> None:
    """times=2 fails the next two matching commands, then lets them pass; triggered counts."""
    fault = server.inject_fault("mail", times=2)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        codes = [c.code("MAIL FROM:<a@example.com>") for _ in range(3)]
    assert codes == [451, 451, 250]
    assert fault.triggered == 2
    assert fault.remaining == 0


def test_commands_that_fail_anyway_do_not_use_up_a_fault(server: MockSMTPServer) -> None:
    """A RCPT that fails on its own (no MAIL, bad syntax) neither triggers nor consumes the fault."""
    fault = server.inject_fault("rcpt", times=1)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("RCPT TO:<b@example.com>") == 503
        c.command("MAIL FROM:<a@example.com>")
        assert c.code("RCPT TO:<bad") == 501
        assert fault.triggered == 0
        assert c.code("RCPT TO:<b@example.com>") == 451
        assert c.code("RCPT TO:<b@example.com>") == 250


def test_probability_fires_sometimes(server: MockSMTPServer) -> None:
    """probability=0.5 fires on some but not all of 200 commands."""
    fault = server.inject_fault("helo", probability=0.5)
    with RawClient(server.port) as c:
        c.send(b"EHLO client.example\r\n" * 200)
        codes = c.read_replies(200)
    assert 0 < codes.count(451) < 200
    assert fault.triggered == codes.count(451)


def test_delay_does_not_block_other_sessions(server: MockSMTPServer) -> None:
    """While one session's reply is held for its delay, other sessions are served: a whole
    message goes through, and the held reply has still not come."""
    # A delay far longer than the other client's 5 s socket timeout: a server that held its
    # loop for the delay would time that client out, whatever the machine's load.
    with (
        server.inject_fault("rcpt", code=451, delay=60, match="slow@example.com") as fault,
        RawClient(server.port) as slow,
        RawClient(server.port) as other,
    ):
        slow.command("EHLO client.example")
        slow.command("MAIL FROM:<a@example.com>")
        slow.send(b"RCPT TO:<slow@example.com>\r\n")
        assert other.code("NOOP") == 250
        assert other.send_message("a@example.com", ["b@example.com"], BODY)[0] == 250
        assert fault.triggered == 1
        assert not _has_data(slow)  # still held
    assert server.get_message_count() == 1


def test_pipelined_commands_wait_for_the_delayed_reply(server: MockSMTPServer) -> None:
    """Commands pipelined after a delayed one are answered after it, in order."""
    with server.inject_fault("mail", delay=0.2, code=451, times=1), RawClient(server.port) as c:
        c.command("EHLO client.example")
        started = time.monotonic()
        c.send(b"MAIL FROM:<a@example.com>\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        assert c.read_replies(4) == [451, 250, 250, 354]
        assert time.monotonic() - started >= 0.2
        c.send(BODY + b".\r\n")
        assert c.read_reply()[0] == 250
    assert server.get_message_count() == 1


def test_delay_without_code_proceeds(server: MockSMTPServer) -> None:
    """A delay without code or message is a slow server: the command then succeeds."""
    with (
        server.inject_fault("message", delay=0.2) as fault,
        smtplib.SMTP(server.host, server.port, timeout=5) as client,
    ):
        started = time.monotonic()
        client.sendmail("a@example.com", ["b@example.com"], BODY)
        assert time.monotonic() - started >= 0.2
    assert fault.triggered == 1
    assert server.get_message_count() == 1


def test_delayed_greeting(server: MockSMTPServer) -> None:
    """A connect delay holds the greeting; a client that talks first is answered after it."""
    started = time.monotonic()  # before connecting: the server's delay starts at accept
    with server.inject_fault("connect", delay=0.2), RawClient(server.port, read_greeting=False) as c:
        c.send(b"NOOP\r\n")
        assert c.read_reply()[0] == 220
        assert time.monotonic() - started >= 0.2
        assert c.read_reply()[0] == 250


def test_disconnect_at_rcpt(server: MockSMTPServer) -> None:
    """disconnect drops the connection instead of replying; nothing is stored."""
    with server.inject_fault("rcpt", disconnect=True), RawClient(server.port) as c:
        c.command("EHLO client.example")
        c.command("MAIL FROM:<a@example.com>")
        c.send(b"RCPT TO:<b@example.com>\r\n")
        assert c.read_until_closed() == b""
    assert server.get_message_count() == 0


def test_disconnect_after_data_stores_nothing(server: MockSMTPServer) -> None:
    """A message-stage disconnect after the content: no reply, no message."""
    with server.inject_fault("message", disconnect=True, delay=0.05), RawClient(server.port) as c:
        c.command("EHLO client.example")
        c.command("MAIL FROM:<a@example.com>")
        c.command("RCPT TO:<b@example.com>")
        c.command("DATA")
        c.send(BODY + b".\r\n")
        assert c.read_until_closed() == b""
    assert server.get_message_count() == 0


def test_421_closes_the_connection(server: MockSMTPServer) -> None:
    """A fault reply with code 421 closes the connection after it."""
    with server.inject_fault("mail", code=421), RawClient(server.port) as c:
        c.command("EHLO client.example")
        c.send(b"MAIL FROM:<a@example.com>\r\nNOOP\r\n")
        assert c.read_until_closed().startswith(b"421 4.3.0")


def test_clear_faults_and_fault_objects(server: MockSMTPServer) -> None:
    """clear_faults removes every fault; Fault is exported and has a useful repr."""
    fault = server.inject_fault("mail", code=550, times=3)
    server.inject_fault("rcpt")
    assert isinstance(fault, Fault)
    assert "mail" in repr(fault)
    assert "550" in repr(fault)
    assert len(server.faults) == 2
    server.clear_faults()
    assert server.faults == []
    with RawClient(server.port) as c:
        assert c.send_message("a@example.com", ["b@example.com"], BODY)[0] == 250


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"stage": "quit"}, "unknown fault stage"),
        ({"stage": "mail", "code": 250}, "4xx or 5xx"),
        ({"stage": "mail", "times": 0}, "times"),
        ({"stage": "mail", "probability": 0}, "probability"),
        ({"stage": "mail", "delay": -1}, "delay"),
        ({"stage": "mail", "delay": float("nan")}, "delay"),
        ({"stage": "mail", "delay": 86400}, "delay"),
        ({"stage": "mail", "disconnect": "yes"}, "disconnect"),
        ({"stage": "mail", "message": "two\r\nlines"}, "one line"),
        ({"stage": "mail", "match": 42}, "match"),
    ],
)
def test_invalid_faults_are_config_errors(server: MockSMTPServer, kwargs: dict[str, object], error: str) -> None:
    """inject_fault validates its arguments and says what is wrong."""
    with pytest.raises(ConfigError, match=error):
        server.inject_fault(**kwargs)  # type: ignore[arg-type]
