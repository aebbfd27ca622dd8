"""The list endpoints read the store's summaries: a page of 50 parses no whole message, in
either store (a spy counts the full parses)."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.http.helpers import get_json

import mocksmtp.parsing
from mocksmtp import MockSMTPServer
from mocksmtp.query import parse_query

MAIL = (
    "From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: note {n}\r\n"
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain\r\n\r\nhello {n}\r\n"
    "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF\r\n"
    "--b--\r\n"
)


@pytest.fixture(params=["memory", "sqlite"])
def stocked(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MockSMTPServer]:
    """A server with HTTP holding 60 two-part messages, in memory or in SQLite, indexed."""
    database = tmp_path / "mail.db" if request.param == "sqlite" else None
    with MockSMTPServer("127.0.0.1", 0, http_port=0, database=database) as server:
        with smtplib.SMTP(server.host, server.port) as client:
            for n in range(60):
                client.sendmail("app@example.com", ["bob@example.com"], MAIL.format(n=n))
        server.store.count(parse_query("subject:note"))  # a search: SQLite indexes every message first
        yield server


@pytest.fixture
def full_parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every whole-message parse from now on (the raw bytes parsed), in any thread."""
    parsed: list[bytes] = []
    real = mocksmtp.parsing.parse

    def spy(raw: bytes) -> Any:
        parsed.append(raw)
        return real(raw)

    monkeypatch.setattr(mocksmtp.parsing, "parse", spy)
    return parsed


@pytest.mark.parametrize(
    ("path", "params", "items"),
    [
        ("/api/v1/messages", {}, "messages"),
        ("/api/v1/search", {"query": "subject:note from:ann@example.com"}, "messages"),
        ("/api/v2/messages", {}, "items"),
        ("/api/v2/search", {"kind": "containing", "query": "hello"}, "items"),
    ],
)
def test_a_page_of_50_parses_no_whole_message(
    stocked: MockSMTPServer, full_parses: list[bytes], path: str, params: dict[str, str], items: str
) -> None:
    """Mailpit's list and search, MailHog's messages and search: 50 items, attachments counted
    (Mailpit) or parts split (MailHog), and not one message parsed whole to answer."""
    page = get_json(stocked, path, **params)
    assert len(page[items]) == 50
    if items == "messages":
        assert {m["Attachments"] for m in page["messages"]} == {1}
        assert page["messages"][0]["Snippet"] == "hello 59"
    else:
        assert {len(m["MIME"]["Parts"]) for m in page["items"]} == {2}
    assert full_parses == []
