"""Catalogue group G: connections, disconnects, timeouts, shutdown and store failures."""

from __future__ import annotations

import asyncio
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable

import pytest
from tests.support import RawClient, assert_healthy, codes_in, open_data, settle

from mocksmtp import REPLY, MemoryStore, Message, MockSMTPServer
from mocksmtp.smtp.listener import Listener

MakeServer = Callable[..., MockSMTPServer]


def reset_close(c: RawClient) -> None:
    """Close with a TCP RST instead of a FIN."""
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- disconnects ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["close", "reset"])
def test_disconnect_during_data_stores_nothing(server: MockSMTPServer, how: str) -> None:
    """A client that closes or resets in the middle of DATA leaves nothing; its session is freed."""
    c = RawClient(server.port)
    open_data(c)
    c.send(b"Subject: cut\r\n\r\npartial body\r\n.")
    if how == "reset":
        reset_close(c)
    else:
        c.close()
    assert settle(server) == 0
    assert_healthy(server, stored=0)


def test_disconnect_mid_command_is_harmless(server: MockSMTPServer) -> None:
    """Closing in the middle of a command line (or of a pipelined batch) is harmless."""
    for tail in (b"MAIL FROM:<a@exa", b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDA"):
        c = RawClient(server.port)
        assert c.code("EHLO client.example") == 250
        c.send(tail)
        c.close()
    c = RawClient(server.port)
    c.send(b"EHLO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nbody\r\n")
    reset_close(c)
    assert settle(server) == 0
    assert server.stats.errors == 0
    assert_healthy(server, stored=0)


def test_half_close_after_helo_gets_no_more_replies_and_is_closed(server: MockSMTPServer) -> None:
    """A client that half-closes after HELO has its connection closed; nothing is stored."""
    with RawClient(server.port) as c:
        assert c.code("HELO client.example") == 250
        c.shutdown_write()
        assert c.read_until_closed() == b""
    assert settle(server) == 0
    assert_healthy(server, stored=0)


def test_half_close_after_a_pipelined_transaction_still_gets_every_reply(server: MockSMTPServer) -> None:
    """Input ending right after the final dot (then EOF) is a complete message: stored, acked."""
    with RawClient(server.port) as c:
        c.send(b"EHLO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nbody\r\n.\r\n")
        c.shutdown_write()
        assert codes_in(c.read_until_closed()) == [250, 250, 250, 354, 250]
    assert [m.raw for m in server.messages] == [b"body\r\n"]
    assert_healthy(server, stored=1)


def test_client_closing_right_after_the_dot_has_its_message_stored(server: MockSMTPServer) -> None:
    """A client that vanishes right after `.` without reading the 250: the message is stored."""
    c = RawClient(server.port)
    open_data(c)
    c.send(b"vanishing\r\n.\r\n")
    c.close()
    (message,) = server.wait_for(timeout=5)
    assert message.raw == b"vanishing\r\n"
    assert_healthy(server, stored=1)


# -- timeouts ---------------------------------------------------------------------------------


def test_idle_past_the_timeout_gets_421_and_is_closed(make_server: MakeServer) -> None:
    """No command for idle_timeout seconds: 421 4.4.2, then the server closes."""
    server = make_server(idle_timeout=0.2)
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        started = time.monotonic()
        replies = c.replies_until_closed()  # blocks until the server gives up on us
        waited = time.monotonic() - started
    assert [(code, texts[0].split()[0]) for code, texts in replies] == [
        (REPLY.IDLE_TIMEOUT.code, REPLY.IDLE_TIMEOUT.status)
    ]
    assert waited >= 0.15  # not before the timeout (the socket's own timeout bounds the wait)
    assert_healthy(server, stored=0)


def test_idle_timeout_still_holds_after_a_restart(make_server: MakeServer) -> None:
    """One sweep per server enforces idle timeouts; stop() ends it and start() (a new event
    loop) begins a new one, so an idle client of the restarted server is still cut off."""
    server = make_server(idle_timeout=0.2)
    with RawClient(server.port) as c:  # the first run's sweep is armed, and still is at stop()
        assert c.code("EHLO client.example") == 250
        server.stop()
        assert codes_in(c.read_until_closed()) == [REPLY.SHUTTING_DOWN.code]
    server.start()
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert codes_in(c.read_until_closed()) == [REPLY.IDLE_TIMEOUT.code]
    assert_healthy(server, stored=0)


def test_idle_in_the_middle_of_a_transaction_discards_it(make_server: MakeServer) -> None:
    """A transaction abandoned before DATA is not stored when the idle timeout closes it."""
    server = make_server(idle_timeout=0.2)
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code("RCPT TO:<b@example.com>") == 250
        assert codes_in(c.read_until_closed()) == [REPLY.IDLE_TIMEOUT.code]
    assert_healthy(server, stored=0)


def test_drip_feeding_a_command_is_cut_off_by_a_per_command_deadline(make_server: MakeServer) -> None:
    """One byte at a time inside a command never resets the deadline: 421 within idle_timeout."""
    server = make_server(idle_timeout=0.3)
    with RawClient(server.port) as c:
        c.nodelay()
        assert c.code("EHLO client.example") == 250
        sent = 0
        while sent < 100 and c.try_send(b"x"):  # bounded: at most 100 bytes, 2 s
            sent += 1
            readable, _, _ = select.select([c.sock], [], [], 0.02)  # our own pacing
            if readable:
                break
        replies = c.replies_until_closed()
    assert [code for code, _ in replies] == [REPLY.IDLE_TIMEOUT.code]
    assert sent < 100  # cut off while still dripping: each byte did not buy more time
    assert_healthy(server, stored=0)


def test_a_very_slow_data_phase_is_cut_off_by_the_minimum_rate(make_server: MakeServer) -> None:
    """Data trickling below min_data_rate after idle_timeout gets 421 4.4.2; nothing stored."""
    server = make_server(idle_timeout=0.3, min_data_rate=100)
    with RawClient(server.port) as c:
        c.nodelay()
        open_data(c)
        sent = 0
        while sent < 100 and c.try_send(b"y"):  # 1 octet per 20 ms = 50 octets/s, bounded
            sent += 1
            readable, _, _ = select.select([c.sock], [], [], 0.02)  # our own pacing
            if readable:
                break
        c.try_send(b"\r\n.\r\n")
        replies = c.replies_until_closed()
    assert [(code, texts[0]) for code, texts in replies] == [(REPLY.DATA_TOO_SLOW.code, str(REPLY.DATA_TOO_SLOW)[4:])]
    assert sent < 100  # cut off while still trickling, before the end of data was sent
    assert_healthy(server, stored=0)


def test_a_steady_data_phase_may_outlast_the_idle_timeout(make_server: MakeServer) -> None:
    """A client sending faster than min_data_rate keeps going past idle_timeout and is stored."""
    server = make_server(idle_timeout=0.3, min_data_rate=100)
    line = b"z" * 48 + b"\r\n"
    with RawClient(server.port) as c:
        c.nodelay()
        open_data(c)
        deadline = time.monotonic() + 0.7
        sent = 0
        while time.monotonic() < deadline:  # 50 octets per 10 ms = 5000 octets/s
            c.send(line)
            sent += 1
            assert not select.select([c.sock], [], [], 0.01)[0], "server replied in the middle of DATA"
        c.send(b".\r\n")
        assert c.read_reply()[0] == 250
    assert server.messages[0].raw == line * sent
    assert_healthy(server, stored=1)


def test_a_client_that_never_reads_is_still_cut_off(make_server: MakeServer) -> None:
    """A client that pipelines without ever reading replies is disconnected after the idle
    timeout even though its replies cannot be delivered (its slot is not held forever)."""
    server = make_server(idle_timeout=0.3)
    c = RawClient(server.port)
    try:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.sock.setblocking(False)
        batch = b"HELP\r\n" * 1000
        for _ in range(2000):  # until both socket buffers are full (bounded)
            try:
                c.sock.send(batch)
            except BlockingIOError:
                break
        else:
            pytest.fail("the server kept reading although we never read a reply")
        poller = select.poll()
        poller.register(c.sock, 0)  # only errors and hang-ups: a blocking wait for the reset
        events = poller.poll(5000)
        assert events, "the server held the connection open for 5 s past its idle timeout"
        assert events[0][1] & (select.POLLERR | select.POLLHUP)
    finally:
        c.close()
    assert settle(server) == 0
    assert_healthy(server, stored=0)


# -- shutdown ---------------------------------------------------------------------------------


def test_stop_while_a_client_is_in_data_lets_it_finish(make_server: MakeServer) -> None:
    """stop() during DATA: the client may finish and gets 250, then 421; idle sessions get 421."""
    server = make_server()
    writer, idle = RawClient(server.port), RawClient(server.port)
    try:
        open_data(writer)
        writer.send(b"Subject: in flight\r\n\r\nfirst half\r\n")
        assert idle.code("EHLO client.example") == 250
        stopper = threading.Thread(target=server.stop, kwargs={"timeout": 5})
        stopper.start()
        assert codes_in(idle.read_until_closed()) == [REPLY.SHUTTING_DOWN.code]  # shutdown has begun
        writer.send(b"second half\r\n.\r\n")
        assert codes_in(writer.read_until_closed()) == [250, REPLY.SHUTTING_DOWN.code]
        stopper.join(5)
        assert not stopper.is_alive()
    finally:
        writer.close()
        idle.close()
    assert not server.is_running()
    assert [m.raw for m in server.messages] == [b"Subject: in flight\r\n\r\nfirst half\r\nsecond half\r\n"]


def test_stop_while_a_client_stalls_in_data_returns_in_time_and_stores_nothing() -> None:
    """stop(timeout) with a client stuck in DATA returns within the timeout, drops the client
    (421 or reset, never half a message stored), and leaks no thread or socket."""
    threads_before, fds_before = threading.active_count(), open_fds()
    server = MockSMTPServer("127.0.0.1", 0).start()
    c = RawClient(server.port)
    try:
        open_data(c)
        c.send(b"Subject: never finished\r\n\r\nhalf")
        server.stop(timeout=1)
        assert server.stats.active_connections == 0  # dropped after the grace, not left behind
        try:
            codes = codes_in(c.read_until_closed())
        except OSError:
            codes = []
        assert codes in ([], [REPLY.SHUTTING_DOWN.code])
    finally:
        c.close()
    assert server.messages == []
    assert threading.active_count() == threads_before
    assert open_fds() == fds_before


def test_a_server_stopped_and_started_again_serves_on_a_new_port() -> None:
    """After stop() with sessions open, start() serves again and old messages are kept."""
    server = MockSMTPServer("127.0.0.1", 0)
    with server:
        with RawClient(server.port) as c:
            assert c.send_message("a@example.com", ["b@example.com"], b"one\r\n")[0] == 250
        lingering = RawClient(server.port)
    try:
        assert codes_in(lingering.read_until_closed()) == [REPLY.SHUTTING_DOWN.code]
    finally:
        lingering.close()
    with server:
        assert_healthy(server, stored=1)


def _start_on(loop: str) -> MockSMTPServer:
    """A server on 127.0.0.1 whose loop is asyncio's own or uvloop's."""
    if loop == "asyncio":
        return MockSMTPServer("127.0.0.1", 0).start()
    uvloop = pytest.importorskip("uvloop")
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        return MockSMTPServer("127.0.0.1", 0).start()
    finally:
        asyncio.set_event_loop_policy(previous)


def _outcome(sock: socket.socket) -> str:
    """What a client saw from connect to the server's close: its reply codes, or "refused"
    (a reset: the listener closed with the connection still in its queue)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        if not data:
            return "refused"
    return " ".join(str(code) for code in codes_in(data))


@pytest.mark.parametrize("turns", range(4))
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_clients_connecting_while_stop_runs_get_421_or_are_refused(
    monkeypatch: pytest.MonkeyPatch, loop: str, turns: int
) -> None:
    """Clients that reach the port while stop() runs get 421 and a close, or a refused
    connection, never a hang: whatever the loop had done with them (queued, accepted, session
    made) when stop() closed the listener."""
    server = _start_on(loop)
    entered, release = threading.Event(), threading.Event()
    close = Listener.close

    async def held_close(self: Listener, grace: float) -> None:
        entered.set()
        release.wait(5)  # the loop is held: the clients wait in the listening socket's queue
        for _ in range(turns):  # the loop's turns before the listener closes: accepts, sessions
            await asyncio.sleep(0)
        await close(self, grace)

    monkeypatch.setattr(Listener, "close", held_close)
    stopper = threading.Thread(target=server.stop, kwargs={"timeout": 5})
    stopper.start()
    assert entered.wait(5)
    clients = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(3)]
    release.set()
    stopper.join(5)
    assert not stopper.is_alive()
    try:
        # (a hang is a socket.timeout here: the server is stopped, nothing more will come)
        outcomes = [_outcome(c) for c in clients]
    finally:
        for c in clients:
            c.close()
    assert all(o == "refused" or o.endswith("421") for o in outcomes), outcomes


# -- store failures ---------------------------------------------------------------------------


class FlakyStore(MemoryStore):
    """A store whose add() raises for messages containing b"BOOM"."""

    def add(self, message: Message) -> None:
        if b"BOOM" in message.raw:
            raise OSError("disk on fire")
        super().add(message)


def test_a_store_that_raises_gives_451_and_the_server_stays_up(caplog: pytest.LogCaptureFixture) -> None:
    """store.add raising: 451 4.3.0, nothing stored, the session and the server go on."""
    with MockSMTPServer("127.0.0.1", 0, store=FlakyStore()) as server:
        with RawClient(server.port) as c:
            code, texts = c.send_message("a@example.com", ["b@example.com"], b"BOOM\r\n")
            assert (code, texts[0].split()[0]) == (REPLY.LOCAL_ERROR.code, REPLY.LOCAL_ERROR.status)
            assert c.code("RCPT TO:<b@example.com>") == REPLY.NEED_MAIL.code  # transaction is over
            code, _ = c.send_message("a@example.com", ["b@example.com"], b"fine\r\n", ehlo=False)
            assert code == 250
        assert [m.raw for m in server.messages] == [b"fine\r\n"]
        assert server.stats.errors == 1
        assert "store failed" in caplog.text
        assert_healthy(server, stored=1)
