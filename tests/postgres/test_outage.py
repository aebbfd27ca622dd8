"""A database that goes away: SMTP clients get 421, HTTP clients 503, and the node serves
again by itself when the database is back, with every acknowledged message kept."""

from __future__ import annotations

import smtplib

import httpx
import pytest
from tests.pgcluster import Cluster
from tests.support import RawClient

from mocksmtp import MockSMTPServer


def send(server: MockSMTPServer, subject: str) -> tuple[int, bytes]:
    """The reply to the end of data (or to whatever ended the session first)."""
    with RawClient(server.port) as c:
        c.code("EHLO me")
        c.code("MAIL FROM:<a@example.com>")
        c.code("RCPT TO:<b@example.com>")
        c.code("DATA")
        c.send(f"Subject: {subject}\r\n\r\nbody\r\n.\r\n".encode())
        code, lines = c.read_reply()
        return code, " ".join(lines).encode()


def test_a_database_outage_gives_421_and_503_then_recovers(own_cluster: Cluster) -> None:
    """While PostgreSQL is stopped: 421 to SMTP (the connection closed), 503 with a one-line
    reason to HTTP; once it is back both work again, and the messages acknowledged before are
    all there."""
    url = own_cluster.database()
    with MockSMTPServer(port=0, database=url, http_port=0) as server:
        assert server.http_url is not None
        assert send(server, "before")[0] == 250
        own_cluster.stop()
        code, text = send(server, "during")
        assert code == 421, text
        assert b"try again later" in text
        response = httpx.get(f"{server.http_url}/api/v1/messages", timeout=10)
        assert response.status_code == 503
        assert "cannot be reached" in response.text
        assert "\n" not in response.text.strip()
        own_cluster.start_again()
        assert send(server, "after")[0] == 250
        response = httpx.get(f"{server.http_url}/api/v1/messages", timeout=10)
        assert response.status_code == 200, response.text
        assert sorted(m["Subject"] for m in response.json()["messages"]) == ["after", "before"]


def test_smtplib_sees_the_421_as_a_temporary_failure(own_cluster: Cluster) -> None:
    """A standard client gets a 4xx it retries later, not a 5xx that bounces the mail."""
    url = own_cluster.database()
    with MockSMTPServer(port=0, database=url) as server:
        own_cluster.stop()
        with (
            pytest.raises((smtplib.SMTPDataError, smtplib.SMTPServerDisconnected)) as caught,
            smtplib.SMTP(*server.address) as client,
        ):
            client.sendmail("a@example.com", ["b@example.com"], "Subject: x\r\n\r\n")
        if isinstance(caught.value, smtplib.SMTPDataError):
            assert caught.value.smtp_code == 421
        own_cluster.start_again()
        with smtplib.SMTP(*server.address) as client:
            assert client.sendmail("a@example.com", ["b@example.com"], "Subject: y\r\n\r\n") == {}
        assert server.get_message_count() == 1
