"""The same tests, unchanged, against ``MockSMTPServer(port=0, http_port=0)`` in this process
and against ``mocksmtp.connect(url)`` talking to a ``mocksmtp`` process over HTTP."""

from __future__ import annotations

import re
import signal
import smtplib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from tests.integration.processes import PYTHON, Process

import mocksmtp
from mocksmtp import MessageAssertionError, MockSMTPServer, RemoteServer, WaitTimeout

API = MockSMTPServer | RemoteServer
PDF = b"%PDF-1.4\x00\xff binary"


@dataclass
class Target:
    """A server's testing API, and where to send it mail."""

    api: API
    smtp_port: int

    def send(self, subject: str, to: str = "ann@example.com", *, bcc: str | None = None) -> None:
        mail = EmailMessage()
        mail["From"] = "App <app@example.com>"
        mail["To"] = to
        mail["Subject"] = subject
        mail.set_content(f"Hello, this is {subject}\n")
        mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="terms.pdf")
        with smtplib.SMTP("127.0.0.1", self.smtp_port) as client:
            client.send_message(mail, to_addrs=[to, *([bcc] if bcc else [])])


@pytest.fixture(scope="module")
def process() -> Iterator[tuple[str, int]]:
    """A ``mocksmtp`` process on free ports: its HTTP URL and SMTP port."""
    proc = Process([PYTHON, "-m", "mocksmtp", "--host", "127.0.0.1", "--port", "0", "--http-port", "0", "-q"])
    try:
        smtp = re.search(r"listening on 127\.0\.0\.1:(\d+)", proc.wait_for_line("listening on"))
        http = re.search(r"(http://127\.0\.0\.1:\d+)", proc.wait_for_line("http://"))
        assert smtp, proc.lines
        assert http, proc.lines
        yield http.group(1), int(smtp.group(1))
        proc.proc.send_signal(signal.SIGINT)
        status, _, err = proc.finish()
        assert status == 0, err
    finally:
        proc.kill()


@pytest.fixture(params=["in-process", "remote"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Each test runs once per way of reaching a server."""
    if request.param == "in-process":
        with MockSMTPServer("127.0.0.1", 0, http_port=0) as server:
            yield Target(server, server.port)
        return
    url, port = request.getfixturevalue("process")
    remote = mocksmtp.connect(url)
    remote.reset()
    remote.clear_faults()
    yield Target(remote, port)


def test_messages_are_real_messages(target: Target) -> None:
    """messages holds Message objects with the envelope and the parsed views."""
    target.send("Welcome", bcc="audit@example.com")
    (m,) = target.api.messages
    assert isinstance(m, mocksmtp.Message)
    assert (m.mail_from, m.rcpt_tos) == ("app@example.com", ("ann@example.com", "audit@example.com"))
    assert (m.subject, m.from_, m.to, m.bcc) == (
        "Welcome",
        "app@example.com",
        ["ann@example.com"],
        ["audit@example.com"],
    )
    assert m.text == "Hello, this is Welcome\n"
    assert [(a.filename, a.content) for a in m.attachments] == [("terms.pdf", PDF)]
    assert m.helo
    assert m.peer[0] == "127.0.0.1"
    assert target.api.get_message_count() == 1


def test_wait_for_returns_when_the_mail_arrives(target: Target) -> None:
    """wait_for blocks until a matching message arrives, sent while it waits."""
    target.send("Other", to="bob@example.com")
    sender = threading.Thread(target=target.send, args=("Welcome",))
    sender.start()
    try:
        (m,) = target.api.wait_for(to="ann@example.com", subject="Welcome", timeout=10)
    finally:
        sender.join()
    assert m.subject == "Welcome"
    (q,) = target.api.wait_for(query="subject:welcome has:attachment", timeout=10)
    assert q == m


def test_wait_for_times_out_listing_what_arrived(target: Target) -> None:
    """A wait that is not satisfied raises WaitTimeout naming what arrived and what it missed."""
    target.send("Welcome")
    with pytest.raises(WaitTimeout) as timeout:
        target.api.wait_for(2, subject="Welcome", timeout=0.2)
    assert "waited 0.2 s for 2 messages matching subject='Welcome'; 1 matched." in str(timeout.value)
    assert [m.subject for m in timeout.value.matched] == ["Welcome"]


def test_filter_and_assertions(target: Target) -> None:
    """filter, assert_sent and assert_nothing_sent work as on the in-process server."""
    target.send("Welcome")
    target.send("Invoice", to="bob@example.com")
    assert [m.subject for m in target.api.filter(to="bob@example.com")] == ["Invoice"]
    assert [m.subject for m in target.api.filter(query="to:ann@example.com", subject=re.compile("^Wel"))] == ["Welcome"]
    (invoice,) = target.api.assert_sent(1, subject="Invoice", has_attachment="terms.pdf")
    assert invoice.to == ["bob@example.com"]
    target.api.assert_nothing_sent(to="admin@example.com")
    with pytest.raises(MessageAssertionError, match=r"expected no message matching to='bob@example.com'"):
        target.api.assert_nothing_sent(to="bob@example.com")
    with pytest.raises(MessageAssertionError, match="missed subject='Refund'"):
        target.api.assert_sent(subject="Refund")


def test_inject_fault_fires_once_and_is_removed(target: Target) -> None:
    """A rcpt fault for one address fails its first RCPT with 451; the handle counts it and
    removes it."""
    with target.api.inject_fault("rcpt", code=451, match="ann@example.com", times=1) as fault:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            target.send("Welcome")
        target.send("Welcome again")
        assert fault.triggered == 1
        assert [f.stage for f in target.api.faults] == ["rcpt"]
    assert target.api.faults == []
    assert [m.subject for m in target.api.messages] == ["Welcome again"]


def test_clear_faults_and_reset(target: Target) -> None:
    """clear_faults removes every fault; reset forgets every message."""
    target.api.inject_fault("mail", code=550, match=re.compile(r"@example\.com$"))
    with pytest.raises(smtplib.SMTPSenderRefused):
        target.send("Refused")
    target.api.clear_faults()
    target.send("Welcome")
    assert target.api.get_message_count() == 1
    target.api.reset()
    assert target.api.messages == []
    assert target.api.get_message_count() == 0


def test_bad_fault_is_a_config_error(target: Target) -> None:
    """A bad fault argument is a ConfigError either way, saying what is wrong."""
    with pytest.raises(mocksmtp.ConfigError, match="times must be a positive integer"):
        target.api.inject_fault("rcpt", times=0)
