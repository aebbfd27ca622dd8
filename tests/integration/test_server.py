"""MockSMTPServer's lifecycle and seed API, through real sockets."""

from __future__ import annotations

import smtplib
import socket
import threading

import pytest

from mocksmtp import ConfigError, MockSMTPServer, ServerStartError, ServerState, ServerStateError


def send(server: MockSMTPServer, body: str = "Subject: x\r\n\r\nhello\r\n") -> None:
    with smtplib.SMTP(server.host, server.port) as client:
        client.sendmail("a@example.com", ["b@example.com"], body)


def test_port_zero_binds_a_free_port_and_reports_it() -> None:
    """port=0 picks a free port; .port and .address tell which once started."""
    server = MockSMTPServer("127.0.0.1", 0)
    assert server.port == 0
    with server:
        assert server.port != 0
        assert server.address == ("127.0.0.1", server.port)
        with socket.create_connection(server.address, timeout=5) as s:
            assert s.recv(100).startswith(b"220 ")


def test_localhost_answers_on_every_loopback_family() -> None:
    """'localhost' binds the same free port on 127.0.0.1 and (where it exists) ::1."""
    with MockSMTPServer("localhost", 0) as server:
        families = {info[0] for info in socket.getaddrinfo("localhost", server.port, type=socket.SOCK_STREAM)}
        for family in families:
            with socket.socket(family) as s:
                s.settimeout(5)
                s.connect(("::1" if family == socket.AF_INET6 else "127.0.0.1", server.port))
                assert s.recv(100).startswith(b"220 ")


def test_get_messages_drains_while_count_and_messages_do_not(server: MockSMTPServer) -> None:
    """get_messages() returns only what arrived since the previous call; the count and
    .messages keep everything; reset() clears both."""
    send(server)
    send(server)
    assert len(server.get_messages()) == 2
    assert server.get_messages() == []
    send(server)
    assert [m["mail_from"] for m in server.get_messages()] == ["a@example.com"]
    assert server.get_message_count() == 3
    assert len(server.messages) == 3
    server.reset()
    assert server.get_message_count() == 0
    assert server.messages == []
    assert server.get_messages() == []
    assert server.get_results()["connections"] == 0


def test_get_results_reports_statistics_and_messages(server: MockSMTPServer) -> None:
    """get_results() has the address, state, uptime, counters and every kept message."""
    send(server, "Subject: x\r\n\r\n12345\r\n")
    results = server.get_results()
    assert results["host"] == "127.0.0.1"
    assert results["port"] == server.port
    assert results["running"] is True
    assert results["uptime"] > 0
    assert results["connections"] == 1
    assert results["message_count"] == 1
    assert results["bytes"] == len(b"Subject: x\r\n\r\n12345\r\n")
    assert results["rejected_commands"] == 0
    assert results["errors"] == 0
    assert [m["data"] for m in results["messages"]] == ["Subject: x\r\n\r\n12345\r\n"]


def test_stop_is_idempotent_and_a_stopped_server_can_start_again() -> None:
    """stop() twice is harmless; start() after stop() serves again and keeps the messages."""
    server = MockSMTPServer("127.0.0.1", 0).start()
    send(server)
    server.stop()
    server.stop()
    assert not server.is_running()
    assert server.state is ServerState.STOPPED
    server.start()
    try:
        send(server)
        assert server.get_message_count() == 2
    finally:
        server.stop()


def test_start_twice_is_a_clear_error(server: MockSMTPServer) -> None:
    """start() on a running server raises ServerStateError naming the server."""
    with pytest.raises(ServerStateError, match="already running"):
        server.start()


def test_port_in_use_raises_server_start_error() -> None:
    """A port another socket holds gives ServerStartError with the OSError as its cause."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = MockSMTPServer("127.0.0.1", port)
        with pytest.raises(ServerStartError, match="in use") as info:
            server.start()
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.port == port
    assert not server.is_running()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"port": -1}, "port must be between 0 and 65535"),
        ({"port": 70000}, "port must be"),
        ({"host": 1}, "host must be a string"),
        ({"max_recipients": 0}, "at least 1"),
        ({"idle_timeout": 0}, "idle_timeout"),
        ({"max_mesage_size": 10}, "unknown option.*max_mesage_size.*valid options are"),
    ],
)
def test_bad_options_raise_config_error(kwargs: dict[str, object], match: str) -> None:
    """Options are validated when the server is created, with a message naming the option."""
    with pytest.raises(ConfigError, match=match):
        MockSMTPServer(**kwargs)  # type: ignore[arg-type]


def test_repr_shows_address_state_and_count(server: MockSMTPServer) -> None:
    """repr(server) tells where it listens, its state and how many messages it keeps."""
    send(server)
    assert repr(server) == f"<MockSMTPServer 127.0.0.1:{server.port} running messages=1>"


def test_no_thread_is_left_after_stop() -> None:
    """Each server's thread is joined by stop()."""
    before = set(threading.enumerate())
    for _ in range(5):
        with MockSMTPServer("127.0.0.1", 0) as server:
            send(server)
    assert set(threading.enumerate()) <= before


def test_options_reach_the_engine() -> None:
    """hostname appears in the greeting and max_message_size in the EHLO SIZE line."""
    with (
        MockSMTPServer("127.0.0.1", 0, hostname="mx.test", max_message_size=1000) as server,
        smtplib.SMTP(server.host, server.port) as client,
    ):
        code, text = client.ehlo()
        assert code == 250
        assert text.split(b"\n")[0] == b"mx.test"
        assert b"SIZE 1000" in text.split(b"\n")


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("mocksmtp-")]


def test_a_start_that_times_out_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """start(timeout) that gives up stops its thread and loop, stays new, and may be retried."""
    import asyncio

    from mocksmtp.smtp.listener import Listener

    real_open = Listener.open
    opening = threading.Event()

    async def hanging_open(ctx: object, host: str, port: int) -> Listener:
        opening.set()
        await asyncio.get_running_loop().create_future()  # never done: a start that hangs
        raise AssertionError("unreachable")

    monkeypatch.setattr(Listener, "open", hanging_open)
    server = MockSMTPServer("127.0.0.1", 0)
    with pytest.raises(ServerStartError, match=r"did not start within 0\.05 s"):
        server.start(timeout=0.05)
    assert opening.is_set()
    assert server_threads() == []
    assert server.state is ServerState.NEW
    monkeypatch.setattr(Listener, "open", real_open)
    with server:
        send(server)
        assert server.get_message_count() == 1
    assert server_threads() == []


def test_a_start_that_succeeds_after_the_timeout_closes_its_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the listener opens just after start() gave up, it is closed again: the port is
    free, no thread is left, and start() works."""
    from mocksmtp.smtp.listener import Listener

    real_open, real_join = Listener.open, threading.Thread.join
    release = threading.Event()
    ports: list[int] = []

    async def late_open(ctx: object, host: str, port: int) -> Listener:
        listener = await real_open(ctx, host, port)  # type: ignore[arg-type]
        ports.append(listener.port)
        release.wait(30)  # until start() has given up (it joins the thread then)
        return listener

    def join(thread: threading.Thread, timeout: float | None = None) -> None:
        release.set()
        real_join(thread, timeout)

    monkeypatch.setattr(Listener, "open", late_open)
    monkeypatch.setattr(threading.Thread, "join", join)
    server = MockSMTPServer("127.0.0.1", 0)
    with pytest.raises(ServerStartError, match="did not start within"):
        server.start(timeout=0.05)
    monkeypatch.undo()
    assert server_threads() == []
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", ports[0]))  # the listener that opened late is closed
    assert server.state is ServerState.NEW
    with server:
        send(server)


def test_a_start_that_raises_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error while opening is a ServerStartError with the cause; no thread is left."""
    from mocksmtp.smtp.listener import Listener

    async def broken_open(ctx: object, host: str, port: int) -> Listener:
        raise RuntimeError("broken")

    monkeypatch.setattr(Listener, "open", broken_open)
    server = MockSMTPServer("127.0.0.1", 0)
    with pytest.raises(ServerStartError, match="failed to start: RuntimeError") as info:
        server.start()
    assert isinstance(info.value.__cause__, RuntimeError)
    assert server_threads() == []
    assert server.state is ServerState.NEW


@pytest.mark.parametrize("started", [False, True])
def test_an_interrupted_start_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch, started: bool) -> None:
    """A KeyboardInterrupt while start() waits (before or after the listener opened) stops the
    thread and closes the socket; start() then works."""
    import concurrent.futures

    real_result = concurrent.futures.Future.result
    calls: list[object] = []

    def interrupted(future: concurrent.futures.Future[object], timeout: float | None = None) -> object:
        calls.append(future)
        if started:
            real_result(future, timeout)  # the listener is open: the interrupt comes just after
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real_result(future, timeout)

    monkeypatch.setattr(concurrent.futures.Future, "result", interrupted)
    server = MockSMTPServer("127.0.0.1", 0)
    with pytest.raises(KeyboardInterrupt):
        server.start()
    monkeypatch.undo()
    assert server_threads() == []
    assert server.state is ServerState.NEW
    with server:
        send(server)
