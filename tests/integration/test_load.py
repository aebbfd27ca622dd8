"""Catalogue group H: load on loopback, bounded in count and time (threads joined with timeouts)."""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from tests.support import RawClient, assert_healthy, codes_in, settle, token

from mocksmtp import REPLY, MockSMTPServer

MakeServer = Callable[..., MockSMTPServer]
JOIN = 30.0  # no thread of these tests may outlive this


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def pipelined_message(c: RawClient, sender: str, body: bytes) -> tuple[int, str]:
    """MAIL, RCPT and DATA in one write, then the body: returns the final code and text."""
    c.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<sink@example.com>\r\nDATA\r\n".encode())
    assert c.read_replies(3) == [250, 250, 354]
    c.send(body + b".\r\n")
    code, texts = c.read_reply()
    return code, texts[0]


def test_500_idle_connections_do_not_delay_a_real_send(server: MockSMTPServer) -> None:
    """With 500 idle sessions open, a new client is still served: every reply arrives within
    the client's read timeout (speed itself is measured in benchmarks/, not asserted here)."""
    idle: list[RawClient] = []
    try:
        for _ in range(500):
            idle.append(RawClient(server.port))
        assert all(c.greeting is not None and c.greeting[0] == 220 for c in idle)
        with RawClient(server.port) as c:
            code, _ = c.send_message("a@example.com", ["b@example.com"], b"prompt\r\n")
            assert code == 250
            assert server.stats.active_connections == 501
    finally:
        for c in idle:
            c.close()
    assert settle(server) == 0
    assert_healthy(server, stored=1)


def test_500_sessions_sending_several_messages_each_are_all_stored_intact(server: MockSMTPServer) -> None:
    """500 simultaneous sessions x 6 messages: stored == 250s seen, each with its sender's token."""
    sessions, per_session = 500, 6
    clients: list[RawClient] = []
    sent: dict[str, bytes] = {}
    lock = threading.Lock()
    acks: list[str] = []
    try:
        for _ in range(sessions):
            clients.append(RawClient(server.port))

        def work(i: int) -> None:
            c = clients[i]
            assert c.code(f"EHLO s{i}.example") == 250
            for j in range(per_session):
                tok = token()
                body = (
                    f"Subject: {tok}\r\nX-Session: {i}\r\n\r\n".encode()
                    + f"{i}-{j}\r\n".encode() * 20
                    + b"..stuffed\r\n"
                )
                code, text = pipelined_message(c, f"s{i}m{j}@example.com", body)
                assert code == 250, text
                with lock:
                    sent[tok] = body.replace(b"\r\n..", b"\r\n.")
                    acks.append(text.rsplit(" ", 1)[1])

        with ThreadPoolExecutor(max_workers=32) as pool:
            futures = [pool.submit(work, i) for i in range(sessions)]
            for f in futures:
                f.result(timeout=JOIN)
    finally:
        for c in clients:
            c.close()
    stored = server.messages
    assert len(stored) == len(acks) == sessions * per_session
    assert sorted(m.id for m in stored) == sorted(acks)
    for m in stored:
        tok = m.raw.split(b"\r\n", 1)[0].removeprefix(b"Subject: ").decode()
        assert m.raw == sent.pop(tok)
    assert not sent
    assert_healthy(server, stored=sessions * per_session)


def test_2000_rapid_connect_close_cycles_leak_nothing() -> None:
    """2000 connections opened and dropped at once (half of them reset) leave the server alive
    and leak no descriptor: after stop() the process has as many open files as before."""
    fds_before = open_fds()
    server = MockSMTPServer("127.0.0.1", 0).start()
    try:

        def cycles(n: int) -> None:
            for k in range(n):
                c = RawClient(server.port, read_greeting=k % 2 == 0)
                if k % 2:
                    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()

        threads = [threading.Thread(target=cycles, args=(250,)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(JOIN)
            assert not t.is_alive()
        assert settle(server) == 0
        assert server.stats.errors == 0
        assert_healthy(server, stored=0)
    finally:
        server.stop()
    assert open_fds() == fds_before


def test_connections_past_the_cap_get_421_and_others_are_unaffected(make_server: MakeServer) -> None:
    """Past max_connections the extra client gets 421 4.7.0 and is closed; the others still
    send, and a slot freed by QUIT is usable again."""
    server = make_server(max_connections=20)
    clients = [RawClient(server.port) for _ in range(20)]
    try:
        for _ in range(5):
            with RawClient(server.port, read_greeting=False) as extra:
                replies = extra.replies_until_closed()
            assert [(code, texts[0].split()[0]) for code, texts in replies] == [
                (REPLY.TOO_MANY_CONNECTIONS.code, REPLY.TOO_MANY_CONNECTIONS.status)
            ]
        for i, c in enumerate(clients):
            code, _ = c.send_message(f"c{i}@example.com", ["b@example.com"], f"{i}\r\n".encode())
            assert code == 250
        assert clients[0].code("QUIT") == 221
        assert clients[0].is_closed()  # the server's close has run: the slot is free
        with RawClient(server.port) as again:
            assert again.greeting == (220, [f"{server.options.hostname} ESMTP mocksmtp"])
            code, _ = again.send_message("again@example.com", ["b@example.com"], b"again\r\n")
            assert code == 250
    finally:
        for c in clients:
            c.close()
    assert settle(server) == 0
    assert_healthy(server, stored=21)


def test_readers_polling_the_store_while_50_writers_send(server: MockSMTPServer) -> None:
    """Readers calling messages, get_messages, counts and results while 50 writers send see
    no exception and counts that only grow; every acknowledged message is there at the end."""
    writers, per_writer = 50, 10
    stop = threading.Event()
    errors: list[BaseException] = []
    drained: list[dict[str, object]] = []

    def reader(kind: int) -> None:
        last = 0
        try:
            while not stop.wait(0.002):  # pacing our own polling (a busy loop would starve the
                # server of the GIL), not waiting for anything
                if kind == 0:
                    n = len(server.messages)
                elif kind == 1:
                    n = server.get_message_count()
                else:
                    n = server.get_results()["message_count"]
                    drained.extend(server.get_messages())
                assert n >= last, f"count went down: {last} -> {n}"
                last = n
        except BaseException as e:  # reported to the test thread below
            errors.append(e)

    acks = []
    lock = threading.Lock()

    def writer(i: int) -> None:
        with RawClient(server.port) as c:
            assert c.code("EHLO w.example") == 250
            for j in range(per_writer):
                code, text = pipelined_message(c, f"w{i}@example.com", f"{i}/{j}\r\n".encode())
                assert code == 250
                with lock:
                    acks.append(text)

    readers = [threading.Thread(target=reader, args=(k % 3,)) for k in range(3)]
    for t in readers:
        t.start()
    try:
        with ThreadPoolExecutor(max_workers=writers) as pool:
            for f in [pool.submit(writer, i) for i in range(writers)]:
                f.result(timeout=JOIN)
    finally:
        stop.set()
        for t in readers:
            t.join(JOIN)
    assert not errors, errors
    assert len(acks) == server.get_message_count() == writers * per_writer
    drained.extend(server.get_messages())
    assert len(drained) == writers * per_writer  # get_messages() hands out each message once
    assert len({d["id"] for d in drained}) == writers * per_writer


def test_pipelined_load_on_one_connection_keeps_order(server: MockSMTPServer) -> None:
    """1000 transactions pipelined on one connection in a single stream: 1000 messages in order."""
    n = 1000
    stream = (
        b"EHLO x\r\n"
        + b"".join(
            f"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nmessage {k}\r\n.\r\n".encode()
            for k in range(n)
        )
        + b"QUIT\r\n"
    )
    with RawClient(server.port) as c:
        sender = threading.Thread(target=c.send, args=(stream,))
        sender.start()  # write and read at once, so neither side's buffers fill up
        codes = codes_in(c.read_until_closed())
        sender.join(JOIN)
    assert codes == [250] + [250, 250, 354, 250] * n + [221]
    assert [m.raw for m in server.messages] == [f"message {k}\r\n".encode() for k in range(n)]
    assert_healthy(server, stored=n)
