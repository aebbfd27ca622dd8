"""``api_cors`` lets named web origins change things and read the answers (CORS), and
``ui_auth`` asks for basic auth on every route but the health checks; from Python, the
plugin's options and the command line."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.http.helpers import send
from tests.integration.processes import PYTHON, Process

from mocksmtp import ConfigError, MockSMTPServer, cli

websockets_client = pytest.importorskip("websockets.sync.client")

APP = "http://localhost:3000"


@pytest.fixture
def cors() -> Iterator[MockSMTPServer]:
    """A server whose API the pages of http://localhost:3000 may use."""
    with MockSMTPServer("127.0.0.1", 0, http_port=0, api_cors=APP) as server:
        yield server


@pytest.fixture
def locked() -> Iterator[MockSMTPServer]:
    """A server whose API asks for ann / s3cret."""
    with MockSMTPServer("127.0.0.1", 0, http_port=0, ui_auth="ann:s3cret") as server:
        yield server


def test_a_listed_origin_may_change_things_and_gets_cors_headers(cors: MockSMTPServer) -> None:
    """A preflight from the listed origin is answered; its DELETE is served with
    Access-Control-Allow-Origin; another origin is still refused, and nothing of it is deleted."""
    url = f"{cors.http_url}/api/v1/messages"
    send(cors, "Subject: one\r\n\r\nx\r\n")
    preflight = httpx.options(
        url,
        headers={
            "Origin": APP,
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == APP
    assert "DELETE" in preflight.headers["access-control-allow-methods"]
    refused = httpx.request("DELETE", url, headers={"Origin": "http://evil.example"}, timeout=10)
    assert (refused.status_code, len(cors.messages)) == (403, 1)
    assert "access-control-allow-origin" not in refused.headers
    allowed = httpx.request("DELETE", url, headers={"Origin": APP}, timeout=10)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == APP
    assert cors.messages == []


def test_a_listed_origin_may_open_the_event_stream(cors: MockSMTPServer) -> None:
    """The websocket /api/events accepts the listed origin and still refuses another."""
    url = cors.http_url.replace("http://", "ws://", 1) + "/api/events"  # type: ignore[union-attr]
    with websockets_client.connect(url, origin=APP, open_timeout=10):
        pass
    with pytest.raises(Exception, match="403"):
        websockets_client.connect(url, origin="http://evil.example", open_timeout=10)


def test_any_origin_with_a_star() -> None:
    """api_cors='*' lets a page of any origin change things."""
    with MockSMTPServer("127.0.0.1", 0, http_port=0, api_cors="*") as server:
        send(server, "Subject: one\r\n\r\nx\r\n")
        answer = httpx.request("DELETE", f"{server.http_url}/api/v1/messages", headers={"Origin": "http://a.example"})
        assert (answer.status_code, server.messages) == (200, [])


def test_basic_auth_guards_every_route_but_the_health_checks(locked: MockSMTPServer) -> None:
    """No credentials or a wrong password: 401 with a Basic challenge and a one-line reason;
    the right ones are served; /livez and /readyz answer without any."""
    url = f"{locked.http_url}/api/v1/messages"
    for auth in (None, ("ann", "wrong"), ("bob", "s3cret")):
        refused = httpx.get(url, auth=auth, timeout=10)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith('Basic realm="mocksmtp"')
        assert refused.text == "this server needs a user name and password (basic auth)"
    bad = httpx.get(url, headers={"Authorization": "Basic !!not-base64"}, timeout=10)
    assert bad.status_code == 401
    assert httpx.get(url, auth=("ann", "s3cret"), timeout=10).json()["total"] == 0
    for path in ("/livez", "/readyz"):
        assert httpx.get(f"{locked.http_url}{path}", timeout=10).status_code == 200
    assert httpx.get(f"{locked.http_url}/api/v1/openapi.json", timeout=10).status_code == 401


def test_basic_auth_guards_the_event_stream(locked: MockSMTPServer) -> None:
    """The websocket handshake without credentials is refused; with them it opens."""
    url = locked.http_url.replace("http://", "ws://", 1) + "/api/events"  # type: ignore[union-attr]
    with pytest.raises(Exception, match="403"):
        websockets_client.connect(url, open_timeout=10)
    with websockets_client.connect(url.replace("ws://", "ws://ann:s3cret@", 1), open_timeout=10):
        pass


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"api_cors": "http://x.example"}, "api_cors and ui_auth are for the HTTP API: give http_port too"),
        ({"http_port": 0, "api_cors": "x.example"}, "api_cors takes web origins such as 'http://localhost:3000'"),
        ({"http_port": 0, "ui_auth": "ann"}, "ui_auth takes USER:PASSWORD, as in ann:s3cret; got 'ann'"),
        ({"http_port": 0, "ui_auth": {}}, "ui_auth must be 'USER:PASSWORD' or a non-empty mapping"),
    ],
)
def test_bad_access_options_are_config_errors(options: dict[str, object], error: str) -> None:
    """A value that cannot be used is a ConfigError saying what to give, at construction."""
    with pytest.raises(ConfigError, match=re.escape(error)):
        MockSMTPServer("127.0.0.1", 0, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--http-port", "0", "--ui-auth", "ann"], "--ui-auth takes USER:PASSWORD, as in ann:s3cret; got 'ann'"),
        (
            ["--http-port", "0", "--api-cors", "localhost"],
            "--api-cors takes web origins such as 'http://localhost:3000'",
        ),
        (["--no-http", "--ui-auth", "a:b"], "--api-cors and --ui-auth are for the HTTP API: give --http-port too"),
        (["--ui-auth-file", "/nonexistent/users"], "--ui-auth-file: cannot read /nonexistent/users"),
    ],
)
def test_bad_access_flags_are_one_line_errors(args: list[str], error: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The command line says in one line what is wrong with the flag, and exits 2."""
    assert (
        cli.main(["--port", "0", "--http-port", "0", *args] if "--no-http" not in args else ["--port", "0", *args]) == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert error in err


def test_the_command_asks_for_the_users_of_an_auth_file(tmp_path: Path) -> None:
    """mocksmtp --ui-auth-file PATH (USER:PASSWORD lines, comments skipped) serves those users
    only; a password is never printed."""
    users = tmp_path / "users"
    users.write_text("# who may read the mail\nann:s3cret\n\nbob:hunter2\n", encoding="utf-8")
    argv = ["--host", "127.0.0.1", "--port", "0", "--http-port", "0", "--ui-auth-file", str(users)]
    proc = Process([PYTHON, "-m", "mocksmtp", *argv, "--stats-interval", "0"])
    try:
        proc.read_line()
        url = re.fullmatch(r"mocksmtp: web UI and API on (http://\S+)", proc.read_line())
        assert url, proc.stderr
        api = url.group(1) + "/api/v1/info"
        assert httpx.get(api, timeout=10).status_code == 401
        assert httpx.get(api, auth=("bob", "hunter2"), timeout=10).status_code == 200
        proc.proc.send_signal(signal.SIGINT)
        status, out, err = proc.finish()
        assert status == 0, err
        assert "hunter2" not in out + err
    finally:
        proc.kill()
