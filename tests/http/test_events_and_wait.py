"""Live events on the websocket ``/api/events`` and the long-poll ``/api/mocksmtp/wait``:
both wake on the store's changes, neither polls, and both end when the server stops."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.http.helpers import send
from tests.support import CountingStore

from mocksmtp import MemoryStore, MockSMTPServer

websockets_client = pytest.importorskip("websockets.sync.client")
websockets_exceptions = pytest.importorskip("websockets.exceptions")


def ws_url(server: MockSMTPServer) -> str:
    assert server.http_url is not None
    return server.http_url.replace("http://", "ws://", 1) + "/api/events"


def next_frame(ws: Any) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv(timeout=10))
    return frame


def test_a_websocket_client_sees_new_update_delete_and_truncate(web: MockSMTPServer) -> None:
    """/api/events sends Mailpit's frames: new (a MessageSummary) for mail sent over SMTP,
    update when it is read, delete when deleted, truncate when everything is."""
    with websockets_client.connect(ws_url(web), open_timeout=10) as ws:
        id = send(web, "From: ann@example.com\r\nSubject: live\r\n\r\nhello\r\n")
        new = next_frame(ws)
        assert new["Type"] == "new"
        assert new["Data"]["ID"] == id
        assert new["Data"]["Subject"] == "live"
        assert new["Data"]["From"] == {"Name": "", "Address": "ann@example.com"}
        httpx.put(f"{web.http_url}/api/v1/messages", json={"IDs": [id], "Read": True}, timeout=10)
        assert next_frame(ws) == {"Type": "update", "Data": {"ID": id, "Read": True, "Tags": []}}
        httpx.request("DELETE", f"{web.http_url}/api/v1/messages", json={"IDs": [id]}, timeout=10)
        assert next_frame(ws) == {"Type": "delete", "Data": {"ID": id}}
        web.reset()
        assert next_frame(ws) == {"Type": "truncate", "Data": None}


def test_stopping_the_server_closes_websockets() -> None:
    """stop() ends event streams: the client sees the connection close, and stop returns."""
    server = MockSMTPServer("127.0.0.1", 0, http_port=0).start()
    try:
        with websockets_client.connect(ws_url(server), open_timeout=10) as ws:
            server.stop()
            with pytest.raises(websockets_exceptions.ConnectionClosed):
                ws.recv(timeout=10)
    finally:
        server.stop()


# -- the long-poll wait -----------------------------------------------------------------------


@pytest.fixture
def counted() -> Iterator[tuple[MockSMTPServer, CountingStore]]:
    """A server with HTTP whose store counts reads (``listed`` is set on each list)."""
    store = CountingStore(MemoryStore())
    with MockSMTPServer("127.0.0.1", 0, http_port=0, store=store) as server:
        yield server, store


def _request_in_thread(url: str, params: dict[str, str]) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(httpx.get(url, params=params, timeout=60)))
    thread.start()
    return thread, answers


def test_the_wait_returns_when_the_matching_mail_arrives(counted: tuple[MockSMTPServer, CountingStore]) -> None:
    """A pending wait answers 200 with the matching summaries once the mail is stored, well
    before its timeout, having read the store once per change (no polling)."""
    server, store = counted
    send(server, "Subject: unrelated\r\n\r\nx\r\n")
    store.listed.clear()
    thread, answers = _request_in_thread(
        f"{server.http_url}/api/mocksmtp/wait", {"query": "subject:welcome", "timeout": "60"}
    )
    assert store.listed.wait(10), "the wait never read the store"
    reads_before = store.calls["messages"]
    id = send(server, "Subject: Welcome aboard\r\n\r\nhi\r\n")
    thread.join(30)
    assert not thread.is_alive()
    (answer,) = answers
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["timed_out"] is False
    assert [m["ID"] for m in body["messages"]] == [id]
    assert list(body["messages"][0])[:3] == ["ID", "MessageID", "Read"]
    assert store.calls["messages"] - reads_before <= 3


def test_the_wait_for_mail_already_there_answers_at_once(web: MockSMTPServer) -> None:
    """Messages already stored count: count=2 with two matching answers 200 straight away."""
    ids = [send(web, f"Subject: order {n}\r\n\r\nx\r\n") for n in range(2)]
    answer = httpx.get(
        f"{web.http_url}/api/mocksmtp/wait",
        params={"query": "subject:order", "count": "2", "timeout": "30"},
        timeout=60,
    )
    assert answer.status_code == 200
    assert [m["ID"] for m in answer.json()["messages"]] == ids


def test_the_wait_times_out_with_408_listing_what_arrived(web: MockSMTPServer) -> None:
    """At the timeout the answer is 408, timed_out true, the messages that did match, and
    WaitTimeout's text saying what arrived."""
    match = send(web, "Subject: reset password\r\n\r\nx\r\n")
    send(web, "To: bob@example.com\r\nSubject: other\r\n\r\nx\r\n")
    answer = httpx.get(
        f"{web.http_url}/api/mocksmtp/wait",
        params={"query": "subject:reset", "count": "2", "timeout": "0.2"},
        timeout=30,
    )
    assert answer.status_code == 408
    body = answer.json()
    assert body["timed_out"] is True
    assert (body["count"], body["messages_count"], body["total"]) == (2, 1, 2)
    assert [m["ID"] for m in body["messages"]] == [match]
    assert body["error"].startswith("waited 0.2 s for 2 messages matching query='subject:reset'; 1 matched.")
    assert "2 messages arrived:" in body["error"]


def test_stopping_the_server_ends_a_pending_wait(counted: tuple[MockSMTPServer, CountingStore]) -> None:
    """stop() answers a pending wait at once (503, the server is stopping) and returns."""
    server, store = counted
    store.listed.clear()
    thread, answers = _request_in_thread(f"{server.http_url}/api/mocksmtp/wait", {"timeout": "60"})
    assert store.listed.wait(10)
    server.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert answers[0].status_code == 503
    assert answers[0].json()["error"] == "the server is stopping"
