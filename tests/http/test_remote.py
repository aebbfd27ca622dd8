"""What only ``mocksmtp.connect`` has: its errors, its requests, and fault handles that outlive
their fault."""

from __future__ import annotations

import smtplib
import socket
import threading
from typing import Any

import pytest
from tests.http.helpers import send

import mocksmtp
from mocksmtp import ConfigError, MockSMTPServer, RemoteError, RemoteServer
from mocksmtp.remote import _HTTP


def test_unreachable_server_is_one_clear_error() -> None:
    """connect() to a port nobody listens on raises RemoteError naming the URL and what to check."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(RemoteError, match=rf"cannot reach mocksmtp at http://127.0.0.1:{port}: .*is it running"):
            mocksmtp.connect(f"http://127.0.0.1:{port}/")


@pytest.mark.parametrize("url", ["127.0.0.1:8025", "ftp://x", 8025])
def test_a_url_that_is_not_http_is_a_config_error(url: Any) -> None:
    """The URL must be http:// or https://."""
    with pytest.raises(ConfigError, match="url must be the server's HTTP address"):
        mocksmtp.connect(url)


def test_a_server_without_our_api_says_so(web: MockSMTPServer) -> None:
    """A path the server lacks (another program, an older mocksmtp) is a RemoteError with the status."""
    assert web.http_url is not None
    http = _HTTP(web.http_url, 10)
    with pytest.raises(RemoteError, match=r"answered 404.*is it mocksmtp") as error:
        http.call("GET", "/api/mocksmtp/nothing-here")
    assert error.value.status == 404


def test_callable_match_cannot_travel(web: MockSMTPServer) -> None:
    """A callable match is refused before anything is sent."""
    assert web.http_url is not None
    remote = mocksmtp.connect(web.http_url)
    with pytest.raises(ConfigError, match="a callable cannot be sent over HTTP"):
        remote.inject_fault("rcpt", match=str.isupper)
    assert web.faults == []


def test_fault_handle_keeps_its_last_count(web: MockSMTPServer) -> None:
    """After remove() (or clear_faults elsewhere) the handle still tells how often it fired."""
    assert web.http_url is not None
    remote = mocksmtp.connect(web.http_url)
    fault = remote.inject_fault("helo", times=1)
    with smtplib.SMTP(web.host, web.port) as client:
        assert client.ehlo()[0] == 451
    assert fault.triggered == 1
    web.clear_faults()
    assert fault.triggered == 1
    assert fault.remaining == 0
    fault.remove()  # already gone: nothing to do, no error
    assert fault.triggered == 1


def test_wait_for_makes_one_long_poll_per_arrival(web: MockSMTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """wait_for never polls: with a filter only Python can apply, it asks the server for one more
    message after each arrival that does not match, and returns on the one that does."""
    assert web.http_url is not None
    remote = mocksmtp.connect(web.http_url)
    waits: list[dict[str, object]] = []
    real = _HTTP.call

    def counting(self: _HTTP, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        if path == "/api/mocksmtp/wait":
            waits.append(kwargs["params"])
            if len(waits) == 1:  # the first wait is pending: now send a mail that does not match
                threading.Thread(target=send, args=(web, "Subject: other\r\n\r\nx\r\n")).start()
            elif len(waits) == 2:
                threading.Thread(target=send, args=(web, "Subject: Welcome\r\n\r\nx\r\n")).start()
        return real(self, method, path, **kwargs)

    monkeypatch.setattr(_HTTP, "call", counting)
    (m,) = remote.wait_for(subject="Welcome", timeout=10)
    assert m.subject == "Welcome"
    assert [w["count"] for w in waits] == [1, 2]


def test_repr_and_url() -> None:
    """A RemoteServer shows its URL."""
    assert repr(RemoteServer("http://127.0.0.1:1")) == "<RemoteServer http://127.0.0.1:1>"
