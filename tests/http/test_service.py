"""How HTTP starts and stops with the server: the facades, the plugin, the command line, and
the one-line message without the [web] extra."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
import threading

import httpx
import pytest
from tests.http.helpers import get_json, send
from tests.integration.processes import PYTHON, Process

from mocksmtp import AsyncMockSMTPServer, ConfigError, MockSMTPServer, ServerStartError


def test_http_url_names_the_bound_port_without_a_trailing_slash(web: MockSMTPServer) -> None:
    """http_port=0 picks a free port; http_url is http://127.0.0.1:PORT and serves /livez."""
    assert web.http_url is not None
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", web.http_url), web.http_url
    response = httpx.get(f"{web.http_url}/livez", timeout=10)
    assert response.status_code == 200
    assert response.headers["date"].endswith(" GMT")


def test_no_http_unless_asked_for() -> None:
    """Without http_port, nothing is served over HTTP and http_url is None."""
    with MockSMTPServer("127.0.0.1", 0) as server:
        assert server.http_url is None


def test_stop_closes_the_http_port_and_a_restart_serves_again() -> None:
    """After stop() the HTTP port refuses connections and http_url is None; start() serves again."""
    server = MockSMTPServer("127.0.0.1", 0, http_port=0).start()
    url = server.http_url
    assert url is not None
    port = int(url.rsplit(":", 1)[1])
    send(server, "Subject: kept\r\n\r\nbody\r\n")
    server.stop()
    assert server.http_url is None
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    with server:
        assert server.http_url is not None
        assert get_json(server, "/api/v1/messages")["total"] == 1


def test_a_failed_http_bind_fails_start_and_leaves_nothing_behind() -> None:
    """An HTTP port in use: start() raises ServerStartError naming it; no thread, no SMTP
    listener is left, and the server may start again elsewhere."""
    before = {t.name for t in threading.enumerate()}
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        server = MockSMTPServer("127.0.0.1", 0, http_port=taken)
        with pytest.raises(ServerStartError, match=rf"cannot serve HTTP on 127\.0\.0\.1:{taken}: .*in use"):
            server.start()
    assert not server.is_running()
    assert {t.name for t in threading.enumerate()} <= before
    assert server.http_url is None


def test_the_async_server_serves_http_in_the_callers_loop() -> None:
    """AsyncMockSMTPServer(http_port=0) serves HTTP in the running loop, no thread of its own."""

    async def main() -> dict[str, object]:
        threads = threading.active_count()
        async with AsyncMockSMTPServer(http_port=0) as server:
            assert server.http_url is not None
            assert threading.active_count() == threads
            async with httpx.AsyncClient() as client:
                response = await client.get(f"{server.http_url}/api/v1/messages")
            assert response.status_code == 200
            return response.json()  # type: ignore[no-any-return]

    assert asyncio.run(main())["total"] == 0


def test_without_the_web_extra_asking_for_http_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """If uvicorn cannot be imported, http_port= raises ConfigError in one line naming the extra."""
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(ConfigError) as caught:
        MockSMTPServer("127.0.0.1", 0, http_port=0)
    text = str(caught.value)
    assert "\n" not in text
    assert text.endswith("pip install 'mocksmtp[web]'")
    assert "uvicorn" in text


def test_the_plugin_serves_http_when_the_options_ask(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """mocksmtp_options {"http_port": 0}: the fixture's server has an http_url, and each test
    starts with an empty mailbox over HTTP too."""
    pytester.makeconftest("""
import pytest

@pytest.fixture(scope="session")
def mocksmtp_options():
    return {"http_port": 0}
""")
    pytester.makepyfile("""
import json, smtplib, urllib.request
import pytest

def listed(server):
    with urllib.request.urlopen(server.http_url + "/api/v1/messages", timeout=10) as response:
        return json.load(response)["total"]

@pytest.mark.parametrize("n", range(2))
def test_each_test_sees_its_own_mail(mocksmtp, n):
    assert mocksmtp.http_url.startswith("http://127.0.0.1:")
    assert listed(mocksmtp) == 0
    with smtplib.SMTP(mocksmtp.host, mocksmtp.port) as client:
        client.sendmail("a@example.com", ["b@example.com"], "Subject: hi\\r\\n\\r\\nbody\\r\\n")
    assert listed(mocksmtp) == 1
""")
    pytester.runpytest(*plugin_args).assert_outcomes(passed=2)


# -- the command line -------------------------------------------------------------------------


def _start(argv: list[str]) -> tuple[Process, list[str]]:
    proc = Process(argv)
    first = proc.read_line()
    assert re.fullmatch(r"mocksmtp: listening on 127\.0\.0\.1:\d+ \(Ctrl\+C to stop\)", first), first
    return proc, [first, proc.read_line()]


def _stop(proc: Process) -> str:
    proc.proc.send_signal(signal.SIGINT)
    status, out, err = proc.finish()
    assert status == 0, err
    return out


def test_the_command_prints_the_http_url_and_serves_it() -> None:
    """mocksmtp --http-port 0 prints `web UI and API on http://127.0.0.1:PORT` after the
    listening line, and that URL answers."""
    proc, lines = _start(
        [PYTHON, "-m", "mocksmtp", "--host", "127.0.0.1", "--port", "0", "--http-port", "0", "--stats-interval", "0"]
    )
    try:
        match = re.fullmatch(r"mocksmtp: web UI and API on (http://127\.0\.0\.1:\d+)", lines[1])
        assert match, lines
        assert httpx.get(match.group(1) + "/readyz", timeout=10).status_code == 200
        _stop(proc)
    finally:
        proc.kill()


def test_no_http_serves_smtp_only() -> None:
    """mocksmtp --no-http prints no URL and serves no HTTP."""
    proc = Process(
        [PYTHON, "-m", "mocksmtp", "--host", "127.0.0.1", "--port", "0", "--no-http", "--stats-interval", "0"]
    )
    try:
        proc.read_line()
        out = _stop(proc)
    finally:
        proc.kill()
    assert "http://" not in " ".join(proc.lines) + out


WITHOUT_WEB = "import sys; sys.modules['starlette'] = None; from mocksmtp.cli import main; sys.exit(main())"


def test_without_the_extra_the_command_says_once_how_to_get_it_and_serves_smtp() -> None:
    """Without the web extra, mocksmtp says in one line what to install and serves SMTP."""
    proc, lines = _start([PYTHON, "-c", WITHOUT_WEB, "--host", "127.0.0.1", "--port", "0", "--stats-interval", "0"])
    try:
        assert lines[1] == (
            "mocksmtp: no web UI or API (Mailpit's, on port 8025): pip install 'mocksmtp[web]' to serve them"
        )
        out = _stop(proc)
    finally:
        proc.kill()
    assert "pip install" not in out


def test_without_the_extra_an_explicit_http_port_is_a_one_line_error() -> None:
    """--http-port without the web extra: one line naming the extra, status 2."""
    proc = Process([PYTHON, "-c", WITHOUT_WEB, "--port", "0", "--http-port", "0"])
    status, _, err = proc.finish(timeout=20)
    assert status == 2
    assert err.count("\n") == 1, err
    assert err.rstrip().endswith("pip install 'mocksmtp[web]'")


def test_http_connections_have_tcp_nodelay(web: MockSMTPServer) -> None:
    """Each accepted HTTP connection has TCP_NODELAY, so an answer written in two parts on a
    kept-alive connection never waits for the client's delayed ACK (40 ms a request)."""
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{web.http_url}/livez").status_code == 200
        service = web._http
        assert service is not None
        connections = list(service._server.server_state.connections)
        assert connections
        for connection in connections:
            sock = connection.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
