"""Replies reach the transport in as few writes as the reads allow, and always in order."""

from __future__ import annotations

import asyncio

from tests.support import FakeTransport

from mocksmtp.config import SMTPOptions
from mocksmtp.smtp.protocol import BufferedSMTPProtocol, SMTPProtocol
from mocksmtp.smtp.state import EngineContext
from mocksmtp.store import MemoryStore


def session(reads: list[bytes], cls: type[SMTPProtocol] = SMTPProtocol) -> tuple[list[list[int]], int]:
    """Feed ``reads``; return the reply codes of each write and the number of messages kept."""

    async def main() -> tuple[list[list[int]], int]:
        store = MemoryStore()
        protocol = cls(EngineContext(SMTPOptions(), store))
        transport = FakeTransport()
        protocol.connection_made(transport)
        for read in reads:
            if isinstance(protocol, BufferedSMTPProtocol):
                protocol.get_buffer(-1)[: len(read)] = read
                protocol.buffer_updated(len(read))
            else:
                protocol.data_received(read)
        protocol.connection_lost(None)
        codes = [[int(line[:3]) for line in w.split(b"\r\n") if line[3:4] == b" "] for w in transport.writes]
        return codes, store.count()

    return asyncio.run(main())


MAIL = b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"


def test_one_command_per_read_gets_one_write_per_reply() -> None:
    """The usual dialogue: each read is one command (or the whole data), each reply a write."""
    reads = [
        b"EHLO c\r\n",
        *[line + b"\r\n" for line in MAIL.split(b"\r\n")[:-1]],
        b"Subject: x\r\n\r\nhi\r\n.\r\n",
        b"QUIT\r\n",
    ]
    for cls in (SMTPProtocol, BufferedSMTPProtocol):
        assert session(reads, cls) == ([[220], [250], [250], [250], [354], [250], [221]], 1)


def test_a_pipelined_read_gets_its_replies_in_one_write_in_order() -> None:
    """MAIL, RCPT and DATA in one read: one write holding 250, 250, 354, in that order; the
    data and QUIT in the next read: one write holding 250, 221."""
    for cls in (SMTPProtocol, BufferedSMTPProtocol):
        codes, kept = session([b"EHLO c\r\n", MAIL, b"hi\r\n.\r\nQUIT\r\n"], cls)
        assert (codes, kept) == ([[220], [250], [250, 250, 354], [250, 221]], 1)
