"""Nothing a client sends over HTTP can crash the server or earn a 500: every request is
answered, a bad one with a 4xx, and SMTP keeps working."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.http.helpers import get_json, send

from mocksmtp import MockSMTPServer

PATHS = [
    "/api/v1/messages",
    "/api/v1/search",
    "/api/v1/message/{id}",
    "/api/v1/message/latest",
    "/api/v1/message/{id}/headers",
    "/api/v1/message/{id}/raw",
    "/api/v1/message/{id}/part/{x}",
    "/api/v1/tags",
    "/api/v1/tags/{x}",
    "/api/v1/info",
    "/api/v1/webui",
    "/view/{id}.{x}",
    "/view/latest",
    "/livez",
    "/api/mocksmtp/wait",
    "/api/v1/send",
    "/metrics",
    "/api/v1/chaos",
    "/api/v2/messages",
    "/api/v2/search",
    "/api/v1/messages/{id}",
    "/api/v1/messages/{x}/download",
    "/{x}",
]
TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[MockSMTPServer, httpx.Client, str]]:
    """One server with one message (a multipart with an attachment) and a client, for all examples."""
    with MockSMTPServer("127.0.0.1", 0, http_port=0) as server, httpx.Client(timeout=30) as client:
        id = send(
            server,
            b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            b"Content-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\n"
            b"Content-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF\r\n--b--\r\n",
        )
        yield server, client, id


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE"]),
    path=st.sampled_from(PATHS),
    x=st.text(max_size=20),
    query=st.dictionaries(
        st.sampled_from(["query", "start", "limit", "count", "timeout", "tz", "dl", "kind"]),
        st.text(max_size=20),
        max_size=3,
    ),
    body=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        st.sampled_from(
            [
                b'{"IDs": null}',
                b'{"IDs": [1]}',
                b'{"Read": "x"}',
                b'{"From": 1}',
                b'{"From": {"Email": "a@b"}, "To": [{}]}',
                b"ids=&Read=",
                b'{"Tags": ["a b"], "IDs": ["x"]}',
                b'{"Name": 5}',
                b"[]",
                b"null",
            ]
        ),
    ),
    content_type=st.sampled_from(TYPES),
)
def test_any_request_gets_an_answer_below_500(
    shared: tuple[MockSMTPServer, httpx.Client, str],
    method: str,
    path: str,
    x: str,
    query: dict[str, str],
    body: bytes,
    content_type: str,
) -> None:
    """Random methods, paths, parameters and bodies: never a 5xx (but the send API's refusals)."""
    server, client, id = shared
    if "timeout" in query or path == "/api/mocksmtp/wait":
        query["timeout"] = "0"  # a wait must not hold the example up
    url = f"{server.http_url}{path.replace('{id}', id).replace('{x}', quote(x, safe='') or 'x')}"
    headers = {"content-type": content_type} if content_type else {}
    response = client.request(method, url, params=query, content=body, headers=headers)
    assert response.status_code < 500 or path == "/api/v1/send", (response.status_code, response.text)


def test_the_server_still_serves_after_the_fuzzing(shared: tuple[MockSMTPServer, httpx.Client, str]) -> None:
    """After every example, SMTP and HTTP still answer."""
    server, _, _ = shared
    send(server, "Subject: after\r\n\r\nx\r\n")
    assert get_json(server, "/api/v1/search", query="subject:after")["messages_count"] == 1
