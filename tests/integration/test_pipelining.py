"""Catalogue group K: pipelining (RFC 2920). Replies come in order; data is data."""

from __future__ import annotations

import asyncio
import socket
import threading

from tests.support import FakeTransport, RawClient, assert_healthy, codes_in

from mocksmtp import REPLY, MockSMTPServer, SMTPOptions


def test_ehlo_mail_rcpt_rcpt_data_in_one_segment_give_five_replies_in_order(server: MockSMTPServer) -> None:
    """A whole command group in one send(): EHLO (one multi-line reply), MAIL, RCPT, RCPT, DATA."""
    with RawClient(server.port) as c:
        c.send(
            b"EHLO client.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n"
            b"RCPT TO:<c@example.com>\r\nDATA\r\n"
        )
        ehlo = c.read_reply()
        assert ehlo[0] == 250
        assert "PIPELINING" in ehlo[1]
        assert c.read_replies(4) == [
            REPLY.SENDER_OK.code,
            REPLY.RECIPIENT_OK.code,
            REPLY.RECIPIENT_OK.code,
            REPLY.START_DATA.code,
        ]
        c.send(b"x\r\n.\r\n")
        assert c.read_reply()[0] == 250
    assert server.messages[0].rcpt_tos == ("b@example.com", "c@example.com")
    assert_healthy(server, stored=1)


def test_errors_in_a_pipelined_group_are_answered_in_place(server: MockSMTPServer) -> None:
    """A refused RCPT inside a pipelined group gets its own reply in its place; the rest go on."""
    with RawClient(server.port) as c:
        c.send(
            b"EHLO client.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<bad@>\r\nFROB\r\n"
            b"RCPT TO:<c@example.com>\r\nDATA\r\n"
        )
        assert c.read_replies(6) == [250, 250, REPLY.BAD_RECIPIENT.code, REPLY.UNRECOGNIZED.code, 250, 354]
        c.send(b"x\r\n.\r\n")
        assert c.read_reply()[0] == 250
    assert server.messages[0].rcpt_tos == ("c@example.com",)
    assert_healthy(server, stored=1)


def test_end_of_one_message_and_the_next_transaction_in_one_segment(server: MockSMTPServer) -> None:
    """`.` plus the next MAIL/RCPT/DATA and its content in one send(): replies in order, two messages."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<one@example.com>") == 250
        assert c.code("RCPT TO:<b@example.com>") == 250
        assert c.code("DATA") == 354
        c.send(
            b"first\r\n.\r\nMAIL FROM:<two@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nsecond\r\n.\r\nQUIT\r\n"
        )
        assert codes_in(c.read_until_closed()) == [250, 250, 250, 354, 250, 221]
    assert [(m.mail_from, m.raw) for m in server.messages] == [
        ("one@example.com", b"first\r\n"),
        ("two@example.com", b"second\r\n"),
    ]
    assert_healthy(server, stored=2)


def test_bytes_after_data_in_the_same_segment_are_content(server: MockSMTPServer) -> None:
    """Whatever follows an accepted DATA in the same segment is message content, not commands."""
    content = b"QUIT\r\nRSET\r\nMAIL FROM:<smuggled@evil.example>\r\nRCPT TO:<x@example.com>\r\n"
    with RawClient(server.port) as c:
        c.send(
            b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n" + content + b".\r\nNOOP\r\n"
        )
        assert c.read_replies(6) == [250, 250, 250, 354, 250, 250]
    (m,) = server.messages
    assert m.raw == content
    assert m.mail_from == "a@example.com"
    assert_healthy(server, stored=1)


def test_a_client_that_talks_before_the_greeting_is_accepted(server: MockSMTPServer) -> None:
    """Commands sent before the 220 are queued and answered after it, in order."""
    with RawClient(server.port, read_greeting=False) as c:
        c.send(
            b"EHLO early.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
            b"early\r\n.\r\nQUIT\r\n"
        )
        assert codes_in(c.read_until_closed()) == [220, 250, 250, 250, 354, 250, 221]
    assert server.messages[0].raw == b"early\r\n"
    assert_healthy(server, stored=1)


def test_100_pipelined_noops_give_100_replies(server: MockSMTPServer) -> None:
    """100 NOOPs in one send() get exactly 100 replies."""
    with RawClient(server.port) as c:
        c.send(b"NOOP\r\n" * 100 + b"QUIT\r\n")
        assert codes_in(c.read_until_closed()) == [REPLY.OK.code] * 100 + [REPLY.BYE.code]
    assert_healthy(server, stored=0)


def test_a_huge_pipelined_batch_is_answered_completely(server: MockSMTPServer) -> None:
    """20,000 pipelined commands (replies far larger than any socket buffer) are all answered,
    in order, while the client writes and reads at once."""
    n = 20_000
    with RawClient(server.port) as c:
        sender = threading.Thread(target=c.send, args=(b"HELP\r\nNOOP\r\n" * n + b"QUIT\r\n",))
        sender.start()
        codes = codes_in(c.read_until_closed())
        sender.join(30)
        assert not sender.is_alive()
    assert codes == [REPLY.HELP.code, REPLY.OK.code] * n + [REPLY.BYE.code]
    assert_healthy(server, stored=0)


def test_pipelined_rset_between_transactions_in_one_segment(server: MockSMTPServer) -> None:
    """RSET between two pipelined groups discards the first; only the second is stored."""
    with RawClient(server.port) as c:
        c.send(
            b"EHLO c\r\nMAIL FROM:<dropped@example.com>\r\nRCPT TO:<b@example.com>\r\nRSET\r\n"
            b"MAIL FROM:<kept@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
        )
        assert c.read_replies(7) == [250, 250, 250, 250, 250, 250, 354]
        c.send(b"kept\r\n.\r\n")
        assert c.read_reply()[0] == 250
    assert [m.mail_from for m in server.messages] == ["kept@example.com"]
    assert_healthy(server, stored=1)


# -- a client that pipelines without reading its replies ---------------------------------------

HIGH_WATER = 64 * 1024  # asyncio's and uvloop's default high-water mark for a transport
OK = b"250 2.0.0 Ok\r\n"


class UnreadTransport(FakeTransport):
    """A transport whose peer reads only when the test says: replies queue up, and past the
    high-water mark the protocol is told to pause writing, as a real transport does."""

    def __init__(self) -> None:
        super().__init__()
        self.protocol: asyncio.BaseProtocol | None = None
        self.queued = bytearray()
        self.most_queued = 0
        self.paused = False
        self.reading = True
        self.progress = asyncio.Event()

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.queued += data
        self.most_queued = max(self.most_queued, len(self.queued))
        self.progress.set()
        if not self.paused and len(self.queued) > HIGH_WATER:
            self.paused = True
            assert isinstance(self.protocol, asyncio.Protocol)
            self.protocol.pause_writing()

    def get_write_buffer_size(self) -> int:
        return len(self.queued)

    def read_all(self) -> bytes:
        """The peer reads everything queued; a paused protocol is told to resume."""
        data = bytes(self.queued)
        self.queued.clear()
        if self.paused:
            self.paused = False
            assert isinstance(self.protocol, asyncio.Protocol)
            self.protocol.resume_writing()
        return data


def test_a_client_that_does_not_read_gets_bounded_output_then_every_reply_in_order() -> None:
    """40,000 pipelined NOOPs in one read from a client that reads nothing: the replies queued
    for it stay near the transport's high-water mark (the engine stops handling commands while
    the transport is above it); as the client reads, it gets every reply, in order."""
    n = 40_000

    async def main() -> tuple[bytes, int]:
        from mocksmtp import MemoryStore
        from mocksmtp.smtp.protocol import SMTPProtocol
        from mocksmtp.smtp.state import EngineContext

        protocol = SMTPProtocol(EngineContext(SMTPOptions(), MemoryStore()))
        transport = UnreadTransport()
        transport.protocol = protocol
        protocol.connection_made(transport)
        protocol.data_received(b"NOOP\r\n" * n)
        received = bytearray()
        while received.count(b"\r\n") < n + 1:
            transport.progress.clear()
            received += transport.read_all()
            if received.count(b"\r\n") < n + 1:
                await asyncio.wait_for(transport.progress.wait(), 5)  # the engine goes on
        return bytes(received), transport.most_queued

    received, most_queued = asyncio.run(main())
    assert received == b"220 localhost ESMTP mocksmtp\r\n" + OK * n
    assert most_queued <= 2 * HIGH_WATER, f"{most_queued} octets of replies queued for one client"


def test_a_delayed_reply_does_not_resume_reading_for_a_client_that_does_not_read() -> None:
    """A delayed (injected) reply that comes due while the client's unread replies are over the
    high-water mark answers, but reading stays paused until the client reads; then every reply
    comes, in order."""
    help_line = REPLY.HELP.line
    # Enough HELPs that the last batch written before the delay crosses the high-water mark.
    n_help = HIGH_WATER // len(help_line) + 1
    assert n_help % 64
    assert (n_help // 64) * 64 * len(help_line) < HIGH_WATER
    n_noop = 1000

    async def main() -> tuple[bytes, list[bool]]:
        from mocksmtp import MemoryStore
        from mocksmtp.smtp.protocol import SMTPProtocol
        from mocksmtp.smtp.state import EngineContext

        ctx = EngineContext(SMTPOptions(), MemoryStore())
        ctx.faults.add("helo", delay=0.01)
        protocol = SMTPProtocol(ctx)
        transport = UnreadTransport()
        transport.protocol = protocol
        protocol.connection_made(transport)
        transport.progress.clear()
        protocol.data_received(b"HELP\r\n" * n_help + b"HELO c\r\n" + b"NOOP\r\n" * n_noop)
        reading = [transport.reading]  # paused: over the mark, and the HELO reply delayed
        transport.progress.clear()
        await asyncio.wait_for(transport.progress.wait(), 5)  # the delayed HELO reply
        reading.append(transport.reading)  # still paused: nothing of it was read yet
        received = bytearray()
        while received.count(b"\r\n") < n_help + 2 + n_noop:
            transport.progress.clear()
            received += transport.read_all()
            if received.count(b"\r\n") < n_help + 2 + n_noop:
                await asyncio.wait_for(transport.progress.wait(), 5)
        reading.append(transport.reading)
        return bytes(received), reading

    received, reading = asyncio.run(main())
    assert reading == [False, False, True]
    assert received == (b"220 localhost ESMTP mocksmtp\r\n" + help_line * n_help + b"250 localhost\r\n" + OK * n_noop)


def test_other_clients_are_served_while_one_does_not_read(server: MockSMTPServer) -> None:
    """A client pipelining 100,000 NOOPs without reading: other clients are served meanwhile,
    the server's queued output for it stays bounded, and it then reads every reply in order."""
    n = 100_000
    hog = socket.socket()
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)  # a small window: replies back up
    hog.settimeout(10)
    hog.connect(("127.0.0.1", server.port))
    sender = threading.Thread(target=hog.sendall, args=(b"NOOP\r\n" * n,))
    sender.start()
    try:
        with RawClient(server.port) as other:
            assert other.code("NOOP") == 250
            assert other.send_message("a@example.com", ["b@example.com"], b"served\r\n")[0] == 250
        assert max(_queued_output(server)) <= 2 * HIGH_WATER
        expected = b"220 localhost ESMTP mocksmtp\r\n" + OK * n
        received = bytearray()
        while len(received) < len(expected):
            chunk = hog.recv(1 << 20)
            assert chunk, f"closed after {len(received)} of {len(expected)} octets"
            received += chunk
        assert bytes(received) == expected
    finally:
        sender.join(10)
        hog.close()
    assert not sender.is_alive()
    assert_healthy(server, stored=1)


def _queued_output(server: MockSMTPServer) -> list[int]:
    """Octets each session's transport holds unsent, read in the server's own loop."""
    ctx = server._ctx  # the engine's shared state: its loop and its live sessions
    loop = ctx.loop
    assert loop is not None

    async def sizes() -> list[int]:
        return [p.transport.get_write_buffer_size() for p in ctx.protocols if p.transport is not None]

    return asyncio.run_coroutine_threadsafe(sizes(), loop).result(5)
