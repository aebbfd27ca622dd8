"""What the mocksmtp loggers say: connections, messages and statistics at INFO, the SMTP
dialogue at DEBUG with verbose, and never a password."""

from __future__ import annotations

import base64
import logging
import smtplib

import pytest

from mocksmtp import MockSMTPServer


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
    for leak in (secret, base64.b64encode(secret.encode()).decode(),
                 base64.b64encode(f"\0alice\0{secret}".encode()).decode()):
        assert leak not in caplog.text
