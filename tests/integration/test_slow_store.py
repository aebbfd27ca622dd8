"""A slow store holds its own session's reply, never the loop: the engine hands each message
to the store's ``add_later`` and writes the 250 (or 451) only when the store says how it went.

The store here completes an add only when the test says so: "slow" without any timing.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.support import RawClient, open_data

from mocksmtp import MemoryStore, Message, MockSMTPServer, StoreError
from mocksmtp.store import AddDone

BODY = b"Subject: slow\r\n\r\nbody\r\n"
SLOW = "slow@example.com"  # the sender whose messages the store holds


class GatedStore:
    """A memory store whose ``add_later`` holds the messages ``hold`` picks until
    :meth:`release`; the others it stores at once."""

    def __init__(self, hold: Callable[[Message], bool] = lambda m: m.mail_from == SLOW) -> None:
        self.inner = MemoryStore()
        self.hold = hold
        self.held: queue.Queue[tuple[Message, AddDone]] = queue.Queue()

    def __getattr__(self, name: str) -> Any:  # the rest of the protocol is the memory store's
        return getattr(self.inner, name)

    def add_later(self, message: Message, done: AddDone) -> None:
        if self.hold(message):
            self.held.put((message, done))
        else:
            self.inner.add_later(message, done)

    def handed_over(self) -> Message:
        """Block until the engine hands over a held message; it stays held."""
        message, done = self.held.get(timeout=10)
        self.held.put((message, done))
        return message

    def release(self, error: BaseException | None = None, *, store: bool = True) -> Message:
        """Finish the oldest held add (in another thread, as a store's writer would): stored
        and ``done(None)``, or ``done(error)``."""
        message, done = self.held.get(timeout=10)
        if error is None and store:
            self.inner.add(message)
        finisher = threading.Thread(target=done, args=(error,))
        finisher.start()
        finisher.join(10)
        return message


def nothing_to_read(client: RawClient) -> bytes:
    """What the server has sent the client and it has not read yet (without waiting)."""
    client.sock.setblocking(False)
    try:
        return client._buf + client.sock.recv(65536)
    except BlockingIOError:
        return client._buf
    finally:
        client.sock.setblocking(True)


@pytest.fixture(params=["asyncio", "uvloop"])
def gated(request: pytest.FixtureRequest) -> Iterator[tuple[MockSMTPServer, GatedStore]]:
    """A server on each loop, on a GatedStore."""
    store = GatedStore()
    previous = asyncio.get_event_loop_policy()
    if request.param == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        server = MockSMTPServer("127.0.0.1", 0, store=store).start()
    finally:
        asyncio.set_event_loop_policy(previous)
    try:
        yield server, store
    finally:
        while not store.held.empty():  # let a failed test's held session go
            store.release()
        server.stop()


def another_whole_transaction(server: MockSMTPServer) -> None:
    with RawClient(server.port) as other:
        assert other.send_message("fast@example.com", ["b@example.com"], BODY)[0] == 250
        assert other.code("QUIT") == 221


def test_a_slow_add_holds_only_its_own_sessions_250(gated: tuple[MockSMTPServer, GatedStore]) -> None:
    """While the store holds one session's message, another client completes a whole
    transaction; the first gets its 250, naming the message, once the store says stored."""
    server, store = gated
    with RawClient(server.port) as slow:
        open_data(slow, SLOW)
        slow.send(BODY + b".\r\n")
        held = store.handed_over()
        another_whole_transaction(server)
        assert nothing_to_read(slow) == b""
        assert [m.mail_from for m in server.messages] == ["fast@example.com"]
        store.release()
        code, (text,) = slow.read_reply()
        assert (code, text.rsplit(" ", 1)[1]) == (250, held.id)
        assert [m.mail_from for m in server.messages] == ["fast@example.com", SLOW]


def test_reset_waits_for_a_pending_add_and_clears_it_too(gated: tuple[MockSMTPServer, GatedStore]) -> None:
    """reset() while the store is storing a message: reset waits for that add, so the message
    is not in the store once reset returns, and its client still gets its 250."""
    server, store = gated
    with RawClient(server.port) as slow:
        open_data(slow, SLOW)
        slow.send(BODY + b".\r\n")
        held = store.handed_over()
        resetting = threading.Thread(target=server.reset)
        resetting.start()
        store.release()
        resetting.join(10)
        assert not resetting.is_alive()
        assert server.messages == []
        code, (text,) = slow.read_reply()
        assert (code, text.rsplit(" ", 1)[1]) == (250, held.id)


def test_reset_says_so_when_the_store_never_answers(
    gated: tuple[MockSMTPServer, GatedStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that never finishes an add: reset() raises a one-line StoreError after its
    wait and clears nothing; once the store answers, reset() works."""
    import mocksmtp.facade

    server, store = gated
    monkeypatch.setattr(mocksmtp.facade, "_RESET_WAIT", 0.0)
    another_whole_transaction(server)
    with RawClient(server.port) as slow:
        open_data(slow, SLOW)
        slow.send(BODY + b".\r\n")
        store.handed_over()
        with pytest.raises(StoreError, match=r"^reset\(\): the store has not finished storing 1 message after 0 s"):
            server.reset()
        assert len(server.messages) == 1
        store.release()
        assert slow.read_reply()[0] == 250
    server.reset()
    assert server.messages == []


def test_a_message_the_store_is_storing_counts_against_max_pending_data() -> None:
    """A slow store pushes back on the sessions: the data of a message waiting for its store
    still counts against ``max_pending_data``, so another client's DATA gets 452 until the
    store has it, and then 354 (memory does not grow with the store's queue)."""
    store = GatedStore()
    with MockSMTPServer("127.0.0.1", 0, store=store, max_pending_data=len(BODY)) as server:
        with RawClient(server.port) as slow, RawClient(server.port) as other:
            open_data(slow, SLOW)
            slow.send(BODY + b".\r\n")
            store.handed_over()
            assert other.code("EHLO client.example") == 250
            assert other.code("MAIL FROM:<fast@example.com>") == 250
            assert other.code("RCPT TO:<b@example.com>") == 250
            assert other.code("DATA") == 452
            store.release()
            assert slow.read_reply()[0] == 250
            assert other.code("DATA") == 354
            other.send(BODY + b".\r\n")
            assert other.read_reply()[0] == 250
        assert [m.mail_from for m in server.messages] == [SLOW, "fast@example.com"]


def test_pipelined_commands_after_the_data_wait_for_the_250(gated: tuple[MockSMTPServer, GatedStore]) -> None:
    """Commands pipelined behind the end of data are neither run nor answered until the
    store has answered; then every reply comes, in order."""
    server, store = gated
    with RawClient(server.port) as slow:
        open_data(slow, SLOW)
        slow.send(BODY + b".\r\nNOOP\r\nMAIL FROM:<next@example.com>\r\nRCPT TO:<b@example.com>\r\nRSET\r\n")
        store.handed_over()
        another_whole_transaction(server)
        assert nothing_to_read(slow) == b""
        store.release()
        replies = [slow.read_reply() for _ in range(5)]
        assert [code for code, _ in replies] == [250, 250, 250, 250, 250]
        assert replies[0][1][0].startswith("2.0.0 Ok: queued as ")
        assert slow.code("QUIT") == 221


def test_a_failed_add_is_451_counted_logged_once_and_nothing_stored(
    gated: tuple[MockSMTPServer, GatedStore], caplog: pytest.LogCaptureFixture
) -> None:
    """A store that reports a failure: 451 for that message, nothing stored, one error
    counted and one log record; the session goes on."""
    server, store = gated
    with caplog.at_level(logging.ERROR, logger="mocksmtp"), RawClient(server.port) as slow:
        open_data(slow, SLOW)
        slow.send(BODY + b".\r\n")
        store.release(OSError("disk full"))
        assert slow.read_reply()[0] == 451
        assert server.messages == []
        assert (server.stats.errors, server.stats.rejected_messages, server.stats.messages) == (1, 1, 0)
        failures = [r for r in caplog.records if "store failed" in r.getMessage()]
        assert len(failures) == 1
        assert "disk full" in str(failures[0].exc_info)
        assert slow.send_message("fast@example.com", ["b@example.com"], BODY, ehlo=False)[0] == 250


def test_stop_waits_for_a_pending_add_and_then_says_421(gated: tuple[MockSMTPServer, GatedStore]) -> None:
    """stop() while a message is being stored: its session gets the 250, then 421; other
    sessions get 421 at once; the message is kept."""
    server, store = gated
    with RawClient(server.port) as slow, RawClient(server.port) as idle:
        open_data(slow, SLOW)
        slow.send(BODY + b".\r\n")
        held = store.handed_over()
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        assert idle.read_reply()[0] == 421  # stop() is under way
        store.release()
        assert [code for code, _ in slow.replies_until_closed()] == [250, 421]
        stopping.join(10)
        assert not stopping.is_alive()
    assert [m.id for m in server.messages] == [held.id]


def test_stop_waits_for_the_add_of_a_dropped_session(gated: tuple[MockSMTPServer, GatedStore]) -> None:
    """A session dropped while its message is being stored (as the command line's second
    Ctrl+C drops them) hears nothing; stop() then still waits for the store (which answers
    two loop turns after stop() began to wait, when the loop would have stopped without
    waiting), and the message is stored and counted."""
    server, store = gated
    loop = server._loop
    assert loop is not None
    released = threading.Event()

    def release() -> None:
        store.release()
        released.set()

    class Waiting(logging.Handler):  # runs in the loop's thread, as stop() begins to wait
        def emit(self, record: logging.LogRecord) -> None:
            if "waiting up to" in record.getMessage():
                assert loop is not None
                loop.call_soon(loop.call_soon, release)

    handler = Waiting()
    logger = logging.getLogger("mocksmtp.smtp")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        with RawClient(server.port) as slow:
            open_data(slow, SLOW)
            slow.send(BODY + b".\r\n")
            store.handed_over()
            server._drop_sessions(timeout=5)
            assert slow.read_until_closed() == b""
        server.stop()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert released.is_set(), "stop() did not wait for the pending add"
    assert (server.stats.messages, len(server.messages)) == (1, 1)


def test_a_store_slower_than_stop_drops_its_session_without_a_reply(gated: tuple[MockSMTPServer, GatedStore]) -> None:
    """A store that has not answered when stop()'s time is up: the session is dropped with
    no reply at all (not a 421 that would say "not stored"), and the message is kept if the
    store finishes it later."""
    server, store = gated
    with RawClient(server.port) as slow:
        open_data(slow, SLOW)
        slow.send(BODY + b".\r\n")
        store.handed_over()
        server.stop(timeout=0.5)
        assert slow.read_until_closed() == b""
    store.release()
    assert len(server.messages) == 1


def test_without_add_later_the_store_is_called_on_the_loop() -> None:
    """A store with only add() (no add_later) works as before: stored, then 250."""

    class AddOnly:
        def __init__(self) -> None:
            self.inner = MemoryStore()
            self.threads: list[int] = []

        def __getattr__(self, name: str) -> Any:
            if name == "add_later":
                raise AttributeError(name)
            return getattr(self.inner, name)

        def add(self, message: Message) -> None:
            self.threads.append(threading.get_ident())
            self.inner.add(message)

    store = AddOnly()
    with MockSMTPServer("127.0.0.1", 0, store=store) as server:
        assert server._ctx.add_later is None
        with RawClient(server.port) as c:
            assert c.send_message("a@example.com", ["b@example.com"], BODY)[0] == 250
        assert len(server.messages) == 1
        assert store.threads == [server._ctx.loop_thread]


def test_a_burst_from_many_sessions_is_all_stored_once(gated: tuple[MockSMTPServer, GatedStore]) -> None:
    """Twenty sessions whose adds are all pending at once: each gets its own 250 when its
    own add completes, in whatever order the store finishes them."""
    server, store = gated
    clients = [RawClient(server.port) for _ in range(20)]
    try:
        for c in clients:
            open_data(c, SLOW)
            c.send(BODY + b".\r\n")
        ids = {}
        for _ in clients:
            message = store.release()
            ids[message.id] = message
        for c in clients:
            code, (text,) = c.read_reply()
            assert code == 250
            assert ids.pop(text.rsplit(" ", 1)[1]).peer[1] == c.sock.getsockname()[1]
        assert not ids
    finally:
        for c in clients:
            c.close()
    assert len(server.messages) == 20
