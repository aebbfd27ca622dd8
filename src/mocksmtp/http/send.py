"""``POST /api/v1/send``: Mailpit's send API, delivered over SMTP to this very server.

The JSON becomes a MIME message, which is then sent to the server's own SMTP listener over
loopback, so it takes exactly the path mail from any client takes: the same limits, injected
faults, statistics, store and ``250`` (whose id the answer names). The web layer needs no
part of the engine for it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.policy
import email.utils
from email.message import EmailMessage
from typing import Any

__all__ = ["SendError", "build", "submit"]

TIMEOUT = 30.0
"""Seconds the whole SMTP exchange may take."""


class SendError(Exception):
    """The request cannot be sent (``status`` 400) or the server refused it (``status`` 500
    for a refusal: the message says which reply)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key) or ""
    if not isinstance(value, str):
        raise SendError(f"{key} must be a string")
    return value


def _mailbox(value: object, key: str) -> tuple[str, str]:
    if not isinstance(value, dict) or not isinstance(value.get("Email"), str) or not value["Email"].strip():
        raise SendError(f'{key} must be {{"Email": "...", "Name": "..."}} with an Email')
    name = value.get("Name") or ""
    if not isinstance(name, str):
        raise SendError(f"{key} Name must be a string")
    email_address = value["Email"].strip()
    if any(c in email_address for c in "\r\n<> ") or "@" not in email_address:
        raise SendError(f"{key} Email is not an address: {email_address[:80]!r}")
    return name, email_address


def _mailboxes(body: dict[str, Any], key: str) -> list[tuple[str, str]]:
    value = body.get(key) or []
    if not isinstance(value, list):
        raise SendError(f'{key} must be a list of {{"Email": ..., "Name": ...}}')
    return [_mailbox(v, key) for v in value]


def build(body: dict[str, Any]) -> tuple[str, list[str], bytes, list[str]]:
    """``(sender, recipients, raw message, tags)`` from the JSON of a send request."""
    if "From" not in body:
        raise SendError('From is required: {"From": {"Email": "app@example.com"}}')
    sender = _mailbox(body["From"], "From")
    to, cc, reply_to = _mailboxes(body, "To"), _mailboxes(body, "Cc"), _mailboxes(body, "ReplyTo")
    bcc = body.get("Bcc") or []
    if not isinstance(bcc, list) or not all(isinstance(b, str) and "@" in b for b in bcc):
        raise SendError("Bcc must be a list of addresses (strings)")
    recipients = [a for _, a in to + cc] + [b.strip() for b in bcc]
    if not recipients:
        raise SendError("give at least one recipient in To, Cc or Bcc")
    tags = body.get("Tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise SendError("Tags must be a list of strings")
    message = EmailMessage(policy=email.policy.SMTP)
    try:
        message["From"] = email.utils.formataddr(sender)
        for key, found in (("To", to), ("Cc", cc), ("Reply-To", reply_to)):
            if found:
                message[key] = ", ".join(email.utils.formataddr(a) for a in found)
        message["Subject"] = _text(body, "Subject")
        message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = email.utils.make_msgid(domain="mocksmtp.local")
        headers = body.get("Headers") or {}
        if not isinstance(headers, dict):
            raise SendError("Headers must be an object of name: value")
        for name, value in headers.items():
            if not isinstance(value, str) or not name or any(c in name for c in ":\r\n ") or "\n" in value:
                raise SendError(f"header {str(name)[:40]!r} must be a name and a one-line string value")
            message[name] = value
        _content(message, _text(body, "Text"), _text(body, "HTML"), body.get("Attachments") or [])
        raw = message.as_bytes()
    except SendError:
        raise
    except (ValueError, TypeError) as e:
        raise SendError(f"cannot build the message: {e}".splitlines()[0]) from None
    return sender[1], recipients, raw, tags


def _content(message: EmailMessage, text: str, html: str, attachments: object) -> None:
    if not isinstance(attachments, list):
        raise SendError("Attachments must be a list")
    message.set_content(text or ("" if html else "\n"))
    if html:
        message.add_alternative(html, subtype="html")
    for item in attachments:
        if not isinstance(item, dict) or not isinstance(item.get("Content"), str):
            raise SendError("each attachment needs Content (base64) and Filename")
        try:
            content = base64.b64decode(item["Content"], validate=True)
        except (binascii.Error, ValueError):
            raise SendError(f"attachment {str(item.get('Filename'))[:40]!r}: Content is not base64") from None
        maintype, _, subtype = str(item.get("ContentType") or "application/octet-stream").partition("/")
        cid = item.get("ContentID") or ""
        filename = str(item.get("Filename") or "") or None
        if cid:  # inline: part of the HTML body, shown where cid: points
            target = message.get_body(("html",)) or message
            target.add_related(
                content,
                maintype=maintype,
                subtype=subtype or "octet-stream",
                cid=f"<{str(cid).strip('<>')}>",
                filename=filename,
                disposition="inline",
            )
        else:
            message.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)


async def _reply(reader: asyncio.StreamReader) -> tuple[int, str]:
    lines = []
    while True:
        line = (await reader.readline()).decode("utf-8", "replace").rstrip("\r\n")
        if len(line) < 3 or not line[:3].isdigit():
            raise SendError(f"the SMTP service answered {line[:80]!r}", 500)
        lines.append(line[4:])
        if line[3:4] != "-":
            return int(line[:3]), " ".join(lines)


async def _exchange(host: str, port: int, sender: str, recipients: list[str], raw: bytes) -> str:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        steps: list[tuple[bytes | None, int]] = [
            (None, 220),
            (b"EHLO mocksmtp.http", 250),
            (f"MAIL FROM:<{sender}>".encode(), 250),
        ]
        steps += [(f"RCPT TO:<{r}>".encode(), 250) for r in recipients]
        steps += [(b"DATA", 354)]
        for command, expected in steps:
            if command is not None:
                writer.write(command + b"\r\n")
            code, text = await _reply(reader)
            if code != expected:
                raise SendError(
                    f"the SMTP service refused {(command or b'the connection').decode()[:60]}: {code} {text}", 500
                )
        lines = raw.split(b"\r\n")
        stuffed = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines)
        writer.write(stuffed + (b"" if stuffed.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        code, text = await _reply(reader)
        if code != 250:
            raise SendError(f"the SMTP service refused the message: {code} {text}", 500)
        writer.write(b"QUIT\r\n")
        return text.rsplit(" ", 1)[-1]
    finally:
        writer.close()


async def submit(address: tuple[str, int], sender: str, recipients: list[str], raw: bytes) -> str:
    """Send ``raw`` to the SMTP service at ``address``; return the id its ``250`` names."""
    host, port = address
    try:
        return await asyncio.wait_for(_exchange(host, port, sender, recipients, raw), TIMEOUT)
    except asyncio.TimeoutError:
        raise SendError(f"the SMTP service did not answer within {TIMEOUT:g} s", 500) from None
    except OSError as e:
        raise SendError(f"cannot reach the SMTP service: {e.strerror or e}", 500) from None
