"""Browsers' pages cannot use the API behind the user's back: a foreign ``Host`` (DNS
rebinding) is refused, and so is a change (or the event stream) asked for by a page of
another origin. Clients that are not browsers send no Origin and are not concerned."""

from __future__ import annotations

import httpx
import pytest
from tests.http.helpers import send

from mocksmtp import MockSMTPServer
from mocksmtp.http.edges import own_hosts, refusal

websockets_client = pytest.importorskip("websockets.sync.client")


def test_a_foreign_host_header_is_refused_even_for_reading(web: MockSMTPServer) -> None:
    """Host: evil.example (a DNS name rebound to 127.0.0.1) gets 403 with a one-line reason;
    127.0.0.1 and localhost are served."""
    send(web, "Subject: secret\r\n\r\nx\r\n")
    port = web.http_url.rsplit(":", 1)[1]  # type: ignore[union-attr]
    foreign = httpx.get(f"{web.http_url}/api/v1/messages", headers={"Host": f"evil.example:{port}"}, timeout=10)
    assert foreign.status_code == 403
    assert "evil.example" in foreign.text
    assert "\n" not in foreign.text
    for name in ("127.0.0.1", "localhost"):
        ok = httpx.get(f"{web.http_url}/api/v1/messages", headers={"Host": f"{name}:{port}"}, timeout=10)
        assert ok.status_code == 200


def test_a_change_from_another_origin_is_refused_and_reading_is_not(web: MockSMTPServer) -> None:
    """DELETE with Origin: https://evil.example is refused (403, nothing deleted); the same
    from the server's own origin, or a GET from anywhere, is served."""
    send(web, "Subject: keep\r\n\r\nx\r\n")
    url = f"{web.http_url}/api/v1/messages"
    refused = httpx.request("DELETE", url, headers={"Origin": "https://evil.example"}, timeout=10)
    assert refused.status_code == 403
    assert len(web.messages) == 1
    assert httpx.get(url, headers={"Origin": "https://evil.example"}, timeout=10).status_code == 200
    own = httpx.request("DELETE", url, headers={"Origin": str(web.http_url)}, timeout=10)
    assert own.status_code == 200
    assert web.messages == []


def test_the_event_stream_refuses_another_origin(web: MockSMTPServer) -> None:
    """A websocket to /api/events from a page of another origin is refused at the handshake."""
    url = web.http_url.replace("http://", "ws://", 1) + "/api/events"  # type: ignore[union-attr]
    with pytest.raises(Exception, match="403"):
        websockets_client.connect(url, origin="https://evil.example", open_timeout=10)


def test_every_name_is_accepted_when_serving_on_all_interfaces() -> None:
    """Served on 0.0.0.0 or ::, any Host is accepted (clients use names we cannot know);
    foreign origins are still refused changes."""
    assert own_hosts("0.0.0.0") is None
    scope = {
        "type": "http",
        "method": "DELETE",
        "headers": [(b"host", b"mail.internal:8025"), (b"origin", b"https://evil.example")],
    }
    assert refusal({**scope, "headers": scope["headers"][:1]}, None) is None
    assert refusal(scope, None) is not None
    assert refusal(scope, own_hosts("127.0.0.1")) is not None
