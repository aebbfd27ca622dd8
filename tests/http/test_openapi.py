"""The OpenAPI description is generated from the app's routes, covers every one of them, and
matches what the endpoints answer: schemathesis drives a live server from it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.http.helpers import get_json, send

from mocksmtp import MockSMTPServer
from mocksmtp.http.app import WebContext, build_app
from mocksmtp.http.openapi import OPERATIONS, SPEC_PATHS
from mocksmtp.store import MemoryStore

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

REPORT = (
    "From: Ann <ann@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: report\r\n"
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/html\r\n\r\n<p>Hello</p>\r\n"
    "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF\r\n"
    "--b--\r\n"
)


def test_every_route_of_the_app_is_described() -> None:
    """Every HTTP route (each method) is an operation of the description with its answers
    declared, and every websocket is listed under x-websockets: nothing served is left out."""
    from starlette.routing import Route, WebSocketRoute

    app: Any = build_app(WebContext(MemoryStore()), cast(Any, None), cast(Any, None))  # no request is served
    routes = app.app.routes
    with MockSMTPServer("127.0.0.1", 0, http_port=0) as server:
        document = get_json(server, SPEC_PATHS[0])
        assert get_json(server, SPEC_PATHS[1]) == document
    served = {
        (method.lower(), route.path.replace(":str", ""))
        for route in routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    described = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert served == described
    undescribed = [
        (method, path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("x-undescribed") or not any(code[0] in "23" for code in operation["responses"])
    ]
    assert undescribed == [], "declare these in mocksmtp.http.openapi.OPERATIONS"
    assert set(document["x-websockets"]) == {r.path for r in routes if isinstance(r, WebSocketRoute)}
    assert document["openapi"] == "3.1.0"


@pytest.fixture(scope="module")
def live() -> Iterator[MockSMTPServer]:
    """A live server holding a few messages: one with an HTML body and a PDF, one plain."""
    with MockSMTPServer("127.0.0.1", 0, http_port=0) as server:
        send(server, REPORT)
        send(server, "Subject: plain\r\n\r\nhello\r\n", to=("carol@example.com",))
        yield server


# Left out: the streams that never end (MailHog's events, the long-poll wait).
CHECKED = sorted(key for key in OPERATIONS if key not in {("GET", "/api/v1/events"), ("GET", "/api/mocksmtp/wait")})


@pytest.fixture(scope="module")
def described(live: MockSMTPServer) -> Any:
    """The live server's description, loaded by schemathesis."""
    assert live.http_url is not None
    return schemathesis.openapi.from_url(f"{live.http_url}{SPEC_PATHS[0]}")


@pytest.mark.parametrize(("method", "path"), CHECKED, ids=[f"{m} {p}" for m, p in CHECKED])
def test_the_description_matches_the_answers(live: MockSMTPServer, described: Any, method: str, path: str) -> None:
    """Requests generated from the description get no 5xx, and every answer has a declared
    status, a declared content type, and a body that fits its schema."""

    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=described[path][method].as_strategy())  # valid requests (the positive mode)
    def check(case: Any) -> None:
        response = case.call_and_validate(checks=CHECKS, timeout=10)
        assert response.status_code < 500
        live.clear_faults()  # what POST /api/mocksmtp/faults, Jim or chaos armed ends with the example
        if live.store.count() < 2:  # keep something to read: a DELETE may have emptied the mailbox
            send(live, REPORT)
            send(live, "Subject: plain\r\n\r\nhello\r\n")

    check()


def test_a_web_page_may_read_the_description(live: MockSMTPServer) -> None:
    """The description is a GET: a page from another origin may read it (a Swagger UI)."""
    assert live.http_url is not None
    answer = httpx.get(f"{live.http_url}{SPEC_PATHS[1]}", headers={"Origin": "http://evil.example"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["info"]["title"] == "mocksmtp"
