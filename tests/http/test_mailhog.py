"""MailHog's API where it does not collide with Mailpit's: v2 messages and search in MailHog's
real shape, v1 delete of one message and download; read back with httpx and the ``mailhog``
client library from PyPI."""

from __future__ import annotations

import json

import httpx
import pytest
from tests.http.helpers import get_json, send

from mocksmtp import MockSMTPServer

MULTIPART = (
    "From: =?utf-8?q?J=C3=B6rg?= <joerg@example.com>\r\nTo: ann@example.com\r\n"
    "Subject: Two parts\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n"
    "--XX\r\nContent-Type: text/plain\r\n\r\nplain text\r\n"
    "--XX\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--XX--\r\n"
)


def test_v2_messages_have_mailhogs_shape_newest_first(web: MockSMTPServer) -> None:
    """GET /api/v2/messages: {total, count, start, items}; each item has the envelope as
    paths, headers as sent (not decoded), the body, top-level MIME parts and the raw data."""
    first = send(web, MULTIPART, to=("ann@example.com", "bcc@example.com"), sender="bounce@example.com")
    second = send(web, "Subject: single\r\n\r\nonly\r\n")
    page = get_json(web, "/api/v2/messages", limit=250)
    assert (page["total"], page["count"], page["start"]) == (2, 2, 0)
    assert [m["ID"] for m in page["items"]] == [second, first]
    item = page["items"][1]
    assert item["From"] == {"Relays": None, "Mailbox": "bounce", "Domain": "example.com", "Params": ""}
    assert [f"{p['Mailbox']}@{p['Domain']}" for p in item["To"]] == ["ann@example.com", "bcc@example.com"]
    assert item["Content"]["Headers"]["From"] == ["=?utf-8?q?J=C3=B6rg?= <joerg@example.com>"]
    assert item["Content"]["Headers"]["Content-Type"] == ["multipart/alternative; boundary=XX"]
    assert item["Content"]["Size"] == len(MULTIPART)
    parts = item["MIME"]["Parts"]
    assert [p["Body"] for p in parts] == ["plain text", "<p>html</p>"]
    assert parts[1]["Headers"] == {"Content-Type": ["text/html"]}
    assert item["Raw"]["Data"] == MULTIPART
    assert item["Raw"]["From"] == "bounce@example.com"
    assert page["items"][0]["MIME"] is None
    assert page["items"][0]["Content"]["Body"] == "only\r\n"


@pytest.mark.parametrize(
    ("kind", "query", "found"),
    [
        ("from", "JOERG@", ["multi"]),
        ("from", "bounce", ["multi"]),
        ("to", "bcc@", ["multi"]),
        ("to", "nobody", []),
        ("containing", "<p>HTML", ["multi"]),
        ("containing", "single", ["single"]),
    ],
)
def test_v2_search_by_kind(web: MockSMTPServer, kind: str, query: str, found: list[str]) -> None:
    """GET /api/v2/search?kind=from|to|containing: a substring ignoring case of the envelope
    or the From/To header, or of the body or any header."""
    ids = {
        "multi": send(web, MULTIPART, to=("ann@example.com", "bcc@example.com"), sender="bounce@example.com"),
        "single": send(web, "Subject: single\r\n\r\nonly\r\n"),
    }
    page = get_json(web, "/api/v2/search", kind=kind, query=query)
    assert [m["ID"] for m in page["items"]] == [ids[name] for name in found]
    assert page["total"] == len(found)


def test_v2_search_without_kind_or_query_is_a_400(web: MockSMTPServer) -> None:
    """A missing or unknown kind, or no query: 400 with a one-line reason."""
    for params in ({"query": "x"}, {"kind": "subject", "query": "x"}, {"kind": "to"}):
        answer = httpx.get(f"{web.http_url}/api/v2/search", params=params, timeout=10)
        assert answer.status_code == 400, params


def test_v1_delete_one_and_download(web: MockSMTPServer) -> None:
    """DELETE /api/v1/messages/{id} deletes that message only; .../download is the raw message."""
    keep, gone = send(web, "Subject: keep\r\n\r\nx\r\n"), send(web, "Subject: gone\r\n\r\nx\r\n")
    download = httpx.get(f"{web.http_url}/api/v1/messages/{gone}/download", timeout=10)
    assert download.content == b"Subject: gone\r\n\r\nx\r\n"
    assert httpx.delete(f"{web.http_url}/api/v1/messages/{gone}", timeout=10).status_code == 200
    assert [m.id for m in web.messages] == [keep]
    assert httpx.delete(f"{web.http_url}/api/v1/messages/{gone}", timeout=10).status_code == 404


def test_the_mailhog_pypi_client_works_unchanged(web: MockSMTPServer) -> None:
    """The ``mailhog`` client: messages, search, a subject, delete one, delete all."""
    mailhog = pytest.importorskip("mailhog", reason="not installable on Python 3.13 (dataclass-wizard<0.23)")
    port = int(str(web.http_url).rsplit(":", 1)[1])
    send(web, MULTIPART, to=("ann@example.com",), sender="bounce@example.com")
    other = send(web, "To: bob@example.com\r\nSubject: other\r\n\r\nx\r\n", to=("bob@example.com",))
    client = mailhog.Mailhog("127.0.0.1", port)
    listed = client.messages()
    assert listed.total == 2
    assert listed.items[1].get_sender() == "bounce@example.com"
    assert listed.items[1].get_subject() == "Two parts"
    found = client.search("bob@", kind="to")
    assert [m.id for m in found.items] == [other]
    client.delete(found.items[0])
    assert client.messages().total == 1
    client.delete_all()
    assert client.messages().total == 0


def test_mailhog_event_stream_and_websocket_push_each_new_message(web: MockSMTPServer) -> None:
    """GET /api/v1/events (an EventSource stream) and the /api/v2/websocket each push a new
    message, whole, in MailHog's shape."""
    websockets_client = pytest.importorskip("websockets.sync.client")
    ws_url = str(web.http_url).replace("http://", "ws://", 1) + "/api/v2/websocket"
    with (
        httpx.stream("GET", f"{web.http_url}/api/v1/events", timeout=10) as stream,
        websockets_client.connect(ws_url, open_timeout=10) as ws,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines).startswith(":")  # the stream is open: the comment that starts it
        id = send(web, MULTIPART, to=("ann@example.com",), sender="bounce@example.com")
        data = next(line for line in lines if line.startswith("data: "))
        pushed = json.loads(data.removeprefix("data: "))
        assert pushed["ID"] == id
        assert pushed["Content"]["Headers"]["Subject"] == ["Two parts"]
        over_ws = json.loads(ws.recv(timeout=10))
        assert over_ws["ID"] == id
        assert over_ws["Raw"]["From"] == "bounce@example.com"
