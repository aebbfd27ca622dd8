"""The basic promise, end to end with smtplib."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from tests.support import RawClient

from mocksmtp import MockSMTPServer


def test_smtplib_message_with_attachment_is_stored_byte_for_byte(server: MockSMTPServer) -> None:
    """A message with an attachment sent by smtplib is stored exactly as it went on the wire."""
    msg = EmailMessage()
    msg["Subject"] = "Report"
    msg["From"] = "app@example.com"
    msg["To"] = "user@example.com"
    msg.set_content("See attached.\n.leading dot line\n")
    msg.add_attachment(bytes(range(256)) * 40, maintype="application", subtype="octet-stream", filename="data.bin")
    wire = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    with smtplib.SMTP(server.host, server.port) as client:
        client.sendmail("app@example.com", ["user@example.com"], wire)
    (stored,) = server.messages
    assert stored.raw == wire
    assert stored.mail_from == "app@example.com"
    assert stored.rcpt_tos == ("user@example.com",)


def test_reply_names_the_stored_message(server: MockSMTPServer) -> None:
    """The 250 after data names the id, and the message is retrievable when it is read."""
    with RawClient(server.port) as c:
        code, (text,) = c.send_message("a@example.com", ["b@example.com"], b"hi\r\n")
        assert code == 250
        assert server.messages[-1].id in text
