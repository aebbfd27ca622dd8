"""Helpers for the HTTP tests: send mail over SMTP, read JSON over HTTP."""

from __future__ import annotations

import smtplib
from typing import Any

import httpx

from mocksmtp import MockSMTPServer


def send(
    server: MockSMTPServer, raw: str | bytes, *, to: tuple[str, ...] = ("b@example.com",), sender: str = "a@example.com"
) -> str:
    """Send ``raw`` over SMTP; return the id the 250 names."""
    with smtplib.SMTP(server.host, server.port) as client:
        client.ehlo()
        client.mail(sender)
        for rcpt in to:
            client.rcpt(rcpt)
        code, reply = client.data(raw)
    assert code == 250, reply
    return reply.decode().rsplit(" ", 1)[-1]


def get_json(server: MockSMTPServer, path: str, **params: Any) -> Any:
    """GET ``path`` of the server's HTTP API; asserts status 200 and returns the JSON."""
    assert server.http_url is not None
    response = httpx.get(f"{server.http_url}{path}", params=params, timeout=10)
    assert response.status_code == 200, (response.status_code, response.text)
    return response.json()
