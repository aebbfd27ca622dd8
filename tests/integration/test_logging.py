"""What the mocksmtp loggers say: connections, messages and statistics at INFO, the SMTP
dialogue at DEBUG with verbose, and never a password."""

from __future__ import annotations

import base64
import logging
import smtplib

import pytest

from mocksmtp import REPLY, MockSMTPServer


def send(server: MockSMTPServer) -> None:
    with smtplib.SMTP(server.host, server.port) as client:
        client.sendmail("app@example.com", ["ann@example.com"], "Subject: x\r\n\r\nhi\r\n")


def test_info_logs_connections_messages_and_statistics(caplog: pytest.LogCaptureFixture) -> None:
    """At INFO: the listening address, each connection and disconnection, each message with
    its id, sender, recipients and size, and the statistics at stop; no dialogue."""
    caplog.set_level(logging.INFO, logger="mocksmtp")
    with MockSMTPServer("127.0.0.1", 0) as server:
        send(server)
        (message,) = server.messages
    text = caplog.text
    assert f"listening on 127.0.0.1:{server.port}" in text
    assert "connected" in text
    assert "disconnected" in text
    assert f"message {message.id} from <app@example.com> to <ann@example.com>, {message.size} bytes" in text
    assert "stopped: {'connections': 1" in text
    assert "mail from" not in text.lower()


def test_verbose_logs_the_dialogue_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """verbose=True logs each command and reply at DEBUG; without it, none are logged."""
    caplog.set_level(logging.DEBUG, logger="mocksmtp")
    with MockSMTPServer("127.0.0.1", 0, verbose=True) as server:
        send(server)
    assert "< mail from:<app@example.com>" in caplog.text.lower()
    assert "> 250 2.1.0 Ok" in caplog.text
    caplog.clear()
    with MockSMTPServer("127.0.0.1", 0) as server:
        send(server)
    assert "mail from" not in caplog.text.lower()


def test_passwords_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    """With verbose on, AUTH PLAIN and AUTH LOGIN credentials are masked in the dialogue."""
    caplog.set_level(logging.DEBUG, logger="mocksmtp")
    secret = "s3cret-Pa55"
    with MockSMTPServer("127.0.0.1", 0, verbose=True, auth={"alice": secret}) as server:
        for mechanism in ("PLAIN", "LOGIN"):
            with smtplib.SMTP(server.host, server.port) as client:
                client.ehlo()
                client.user, client.password = "alice", secret
                client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))
    assert "AUTH PLAIN ****" in caplog.text
    for leak in (
        secret,
        base64.b64encode(secret.encode()).decode(),
        base64.b64encode(f"\0alice\0{secret}".encode()).decode(),
    ):
        assert leak not in caplog.text


def test_refusals_are_logged_with_their_reply_and_envelope(caplog: pytest.LogCaptureFixture) -> None:
    """Each refused command is an INFO record on mocksmtp.smtp.refusals carrying the reply and
    the envelope it refused (the command line prints a line from it); a fired fault is one too."""
    caplog.set_level(logging.INFO, logger="mocksmtp")
    with (
        MockSMTPServer("127.0.0.1", 0, max_message_size=100) as server,
        smtplib.SMTP(server.host, server.port) as client,
    ):
        client.ehlo()
        client.mail("app@example.com")  # no SIZE=: refused at the end of data, with its envelope
        client.rcpt("ann@example.com")
        assert client.data("Subject: x\r\n\r\n" + "y" * 200)[0] == 552
        with server.inject_fault("rcpt", code=451), pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("app@example.com", ["bob@example.com"], "Subject: x\r\n\r\nhi\r\n")
    refusals = [r for r in caplog.records if r.name == "mocksmtp.smtp.refusals"]
    refused = next(r for r in refusals if getattr(r, "smtp_reply", None) == REPLY.MESSAGE_TOO_BIG)
    assert (refused.smtp_mail_from, refused.smtp_rcpt_tos) == ("app@example.com", ("ann@example.com",))  # type: ignore[attr-defined]
    assert "refused: 552 5.3.4" in refused.getMessage()
    fault = next(r for r in refusals if getattr(r, "smtp_fault", None) is not None)
    assert fault.smtp_subjects == ("bob@example.com",)  # type: ignore[attr-defined]


def test_a_multi_line_reply_is_logged_one_line_per_record(caplog: pytest.LogCaptureFixture) -> None:
    """With verbose, the EHLO reply is logged as one record per reply line, none with a CR or LF."""
    caplog.set_level(logging.DEBUG, logger="mocksmtp")
    with MockSMTPServer("127.0.0.1", 0, verbose=True) as server, smtplib.SMTP(server.host, server.port) as client:
        client.ehlo()
    sent = [r.getMessage() for r in caplog.records if " > " in r.getMessage()]
    assert any(m.endswith("> 250-SIZE 33554432") for m in sent), sent
    assert any(m.endswith("> 250 HELP") for m in sent), sent
    assert not [m for m in sent if "\r" in m or "\n" in m]
