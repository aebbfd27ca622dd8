"""``GET /api/mocksmtp/messages``: whole messages, oldest first, by query and page."""

from __future__ import annotations

import base64

import httpx
from tests.http.helpers import get_json, send

from mocksmtp import MockSMTPServer


def test_pages_of_whole_messages_oldest_first(web: MockSMTPServer) -> None:
    """Each item carries the raw bytes byte-exact and the envelope; query, start and limit page."""
    first = send(web, "Subject: one\r\n\r\n\xe9\r\n".encode("latin-1"), to=("b@example.com", "c@example.com"))
    second = send(web, "Subject: two\r\n\r\nx\r\n")
    page = get_json(web, "/api/mocksmtp/messages")
    assert (page["total"], page["messages_count"], page["start"]) == (2, 2, 0)
    assert [r["id"] for r in page["messages"]] == [first, second]
    one = page["messages"][0]
    assert base64.b64decode(one["raw"]) == web.messages[0].raw
    assert (one["mail_from"], one["rcpt_tos"]) == ("a@example.com", ["b@example.com", "c@example.com"])
    assert "8bit" in one["flags"]
    assert [r["id"] for r in get_json(web, "/api/mocksmtp/messages", query="subject:two")["messages"]] == [second]
    later = get_json(web, "/api/mocksmtp/messages", start=1, limit=5)
    assert [r["id"] for r in later["messages"]] == [second]
    assert get_json(web, "/api/mocksmtp/messages", limit=0)["messages"] == []


def test_bad_parameters_are_400(web: MockSMTPServer) -> None:
    """A bad query or page is a 400 with one line."""
    for params in ({"query": 'subject:"open'}, {"start": "-1"}, {"limit": "x"}):
        answer = httpx.get(f"{web.http_url}/api/mocksmtp/messages", params=params, timeout=10)
        assert answer.status_code == 400, params
        assert "\n" not in answer.text.strip()
