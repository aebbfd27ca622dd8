"""Catalogue group B: overlong input and message size, through a raw socket."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from tests.support import FakeTransport, RawClient, assert_healthy, codes_in, feed_engine, open_data

from mocksmtp import REPLY, MockSMTPServer, SMTPOptions

MakeServer = Callable[..., MockSMTPServer]


def _vm(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


@contextmanager
def peak_rss_growth() -> Iterator[list[int]]:
    """Measure how far this process's peak RSS rises inside the block (Linux only)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak (VmHWM) to the current RSS
        before = _vm("VmHWM")
    except OSError as e:
        pytest.skip(f"cannot reset the peak RSS of this process: {e}")
    growth: list[int] = []
    yield growth
    growth.append(_vm("VmHWM") - before)


# -- command lines ----------------------------------------------------------------------------


def test_a_600_byte_command_is_500_and_the_next_command_works(server: MockSMTPServer) -> None:
    """A command line over 512 octets gets 500 5.5.2; the session goes on."""
    with RawClient(server.port) as c:
        assert c.code("NOOP " + "x" * 595) == REPLY.LINE_TOO_LONG.code
        assert c.code("EHLO client.example") == 250
    assert_healthy(server, stored=0)


def test_command_limit_is_512_octets_including_crlf(server: MockSMTPServer) -> None:
    """510 octets plus CRLF is accepted; one more octet is 500."""
    with RawClient(server.port) as c:
        assert c.code("NOOP " + "x" * 505) == 250
        code, texts = c.command("NOOP " + "x" * 506)
        assert (code, texts[0]) == (REPLY.LINE_TOO_LONG.code, str(REPLY.LINE_TOO_LONG)[4:])
    assert_healthy(server, stored=0)


def test_mail_and_rcpt_have_room_for_parameters_beyond_512(server: MockSMTPServer) -> None:
    """MAIL and RCPT may exceed 512 octets by the parameter allowance; far beyond is 500."""
    local = "l" * 540
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code(f"MAIL FROM:<{local}@example.com> SIZE=100 BODY=8BITMIME") == 250
        assert c.code(f"RCPT TO:<{local}@example.com>") == 250
        assert c.code(f"RCPT TO:<{'r' * 700}@example.com>") == REPLY.LINE_TOO_LONG.code
        assert c.code("DATA") == 354
        c.send(b"x\r\n.\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.mail_from == f"{local}@example.com"
    assert m.rcpt_tos == (f"{local}@example.com",)
    assert_healthy(server, stored=1)


def test_an_overlong_line_split_over_many_segments_gets_one_500(server: MockSMTPServer) -> None:
    """An overlong line arriving in pieces is drained to its end and answered once."""
    with RawClient(server.port) as c:
        c.nodelay()
        c.send(b"MAIL FROM:<")
        for _ in range(20):
            c.send(b"a" * 100)
        c.send(b"@example.com>\r\nNOOP\r\n")
        assert c.read_replies(2) == [REPLY.LINE_TOO_LONG.code, 250]
    assert_healthy(server, stored=0)


def test_a_megabyte_without_crlf_keeps_memory_flat_then_500(server: MockSMTPServer) -> None:
    """64 MiB with no line end is discarded as it arrives (memory flat); the line gets one 500."""
    chunk = b"x" * 65536
    with RawClient(server.port) as c, peak_rss_growth() as growth:
        assert c.code("EHLO client.example") == 250
        for _ in range(1024):
            c.send(chunk)
        c.send(b"\r\nNOOP\r\n")
        assert c.read_replies(2) == [REPLY.LINE_TOO_LONG.code, REPLY.OK.code]
    assert growth[0] < 16 * 1024 * 1024, f"peak RSS grew by {growth[0]} bytes"
    assert_healthy(server, stored=0)


def test_an_overlong_line_is_not_executed_even_if_it_ends_in_a_command(server: MockSMTPServer) -> None:
    """The tail of an overlong line is discarded, never run as a command of its own."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        c.send(b"NOOP " + b"x" * 2000 + b" MAIL FROM:<smuggled@example.com>\r\n")
        assert c.read_reply()[0] == REPLY.LINE_TOO_LONG.code
        assert c.code("RCPT TO:<b@example.com>") == REPLY.NEED_MAIL.code
    assert_healthy(server, stored=0)


# -- data lines -------------------------------------------------------------------------------


@pytest.mark.parametrize("strict", [False, True])
def test_a_1001_byte_data_line_that_is_a_stuffed_dot_is_accepted(make_server: MakeServer, strict: bool) -> None:
    """A dot-stuffed line of 1001 octets on the wire is 1000 once unstuffed: accepted, not flagged."""
    server = make_server(strict=strict)
    line = b"." + b"y" * 997 + b"\r\n"  # 1000 octets: the most RFC 5321 allows
    wire = b"." + line
    assert len(wire) == 1001
    with RawClient(server.port) as c:
        open_data(c)
        c.send(wire + b".\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.raw == line
    assert "long_line" not in m.flags
    assert_healthy(server, stored=1)


def test_a_2000_byte_data_line_is_stored_and_flagged(server: MockSMTPServer) -> None:
    """Outside strict mode a long data line is kept verbatim and flagged long_line."""
    body = b"Subject: long\r\n\r\n" + b"z" * 2000 + b"\r\nend\r\n"
    with RawClient(server.port) as c:
        open_data(c)
        c.send(body + b".\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.raw == body
    assert "long_line" in m.flags
    assert_healthy(server, stored=1)


def test_a_998_octet_data_line_is_not_flagged(server: MockSMTPServer) -> None:
    """998 octets plus CRLF is within RFC 5321's limit: not flagged."""
    body = b"z" * 998 + b"\r\n"
    with RawClient(server.port) as c:
        open_data(c)
        c.send(body + b".\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.raw == body
    assert "long_line" not in m.flags


def test_strict_mode_rejects_a_2000_byte_data_line_after_the_end_of_data(make_server: MakeServer) -> None:
    """In strict mode a long data line gets 500 5.5.2 after the end of data; nothing stored."""
    server = make_server(strict=True)
    with RawClient(server.port) as c:
        open_data(c)
        c.send(b"z" * 2000 + b"\r\nMAIL FROM:<smuggled@example.com>\r\n.\r\nNOOP\r\n")
        code, texts = c.read_reply()
        assert (code, texts[0].split()[0]) == (REPLY.DATA_LINE_TOO_LONG.code, REPLY.DATA_LINE_TOO_LONG.status)
        assert c.read_reply()[0] == 250  # the NOOP after the real end
        assert c.code("RCPT TO:<b@example.com>") == REPLY.NEED_MAIL.code  # transaction is over
    assert_healthy(server, stored=0)


# -- message size -----------------------------------------------------------------------------


def test_declared_size_over_the_limit_is_552_at_mail(make_server: MakeServer) -> None:
    """MAIL with SIZE= over the limit gets 552 5.3.4 at once; no transaction starts."""
    server = make_server(max_message_size=1000)
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com> SIZE=1001") == REPLY.MESSAGE_TOO_BIG.code
        assert c.code("RCPT TO:<b@example.com>") == REPLY.NEED_MAIL.code
        assert c.code("MAIL FROM:<a@example.com> SIZE=1000") == 250
    assert_healthy(server, stored=0)


@pytest.mark.parametrize("digits", ["9" * 5000, "0" * 5000 + "1001"])
def test_a_size_of_thousands_of_digits_is_552_and_the_session_continues(make_server: MakeServer, digits: str) -> None:
    """SIZE= with thousands of digits (a raised command limit lets them through) is over the
    limit like any other: 552 at MAIL, no internal error, and the session goes on."""
    server = make_server(max_message_size=1000, max_command_length=10_000)
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code(f"MAIL FROM:<a@example.com> SIZE={digits}") == REPLY.MESSAGE_TOO_BIG.code
        assert c.code(f"MAIL FROM:<a@example.com> SIZE={'0' * 5000}999") == 250
        assert c.code("RSET") == 250
    assert server.stats.errors == 0
    assert_healthy(server, stored=0)


def test_a_size_of_thousands_of_digits_is_accepted_without_a_limit(make_server: MakeServer) -> None:
    """With max_message_size=0 any SIZE= is accepted, however long; nothing raises."""
    server = make_server(max_message_size=0, max_command_length=10_000)
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code(f"MAIL FROM:<a@example.com> SIZE={'7' * 5000}") == 250
    assert server.stats.errors == 0


def test_data_over_the_limit_is_552_after_the_real_end_of_data(make_server: MakeServer) -> None:
    """Undeclared oversize data gets 552 only after CRLF.CRLF; nothing stored; session usable."""
    server = make_server(max_message_size=1000)
    with RawClient(server.port) as c:
        open_data(c)
        c.send(b"x" * 998 + b"\r\n" + b"more\r\n" * 100)
        c.send(b".\r\n")
        assert c.read_reply()[0] == REPLY.MESSAGE_TOO_BIG.code
        code, _ = c.send_message("a@example.com", ["b@example.com"], b"small\r\n", ehlo=False)
        assert code == 250
    (m,) = server.messages
    assert m.raw == b"small\r\n"
    assert_healthy(server, stored=1)


@pytest.mark.parametrize("tail_size", [10, 200_000])
def test_oversize_data_with_fake_end_markers_and_commands_gets_one_reply(
    make_server: MakeServer, tail_size: int
) -> None:
    """Past the limit, fake end markers and pipelined commands are still data: one 552, nothing run."""
    server = make_server(max_message_size=1000)
    smuggled = (
        b"\n.\nMAIL FROM:<smuggled@example.com>\r\nRCPT TO:<x@example.com>\r\nDATA\r\n"
        b"\r.\r\nQUIT\r\n\r\n.\n\r\n\x00.\r\n..\r\n"
    )
    with RawClient(server.port) as c:
        open_data(c)
        c.send(b"x" * 1500 + smuggled + b"y" * tail_size + smuggled + b"\r\n.\r\nNOOP\r\n")
        assert c.read_replies(2) == [REPLY.MESSAGE_TOO_BIG.code, REPLY.OK.code]
        assert c.code("RCPT TO:<b@example.com>") == REPLY.NEED_MAIL.code
    assert_healthy(server, stored=0)
    assert all(m.mail_from != "smuggled@example.com" for m in server.messages)


def test_a_message_of_exactly_the_limit_is_accepted_byte_exact(make_server: MakeServer) -> None:
    """A message of exactly max_message_size octets (after unstuffing) is stored as sent."""
    limit = 4096
    server = make_server(max_message_size=limit)
    body = b"." * 100 + b"\r\n"  # stuffed on the wire: the wire size is over the limit
    body += b"a" * (limit - len(body) - 2) + b"\r\n"
    assert len(body) == limit
    with RawClient(server.port) as c:
        open_data(c, extra=f" SIZE={limit}")
        c.send(b"." + body + b".\r\n")
        assert c.read_reply()[0] == 250
        open_data(c, extra="")
        c.send(b"b" + body + b".\r\n")  # one octet more
        assert c.read_reply()[0] == REPLY.MESSAGE_TOO_BIG.code
    (m,) = server.messages
    assert m.raw == body
    assert_healthy(server, stored=1)


def test_a_gigabyte_stream_against_the_limit_keeps_memory_flat(make_server: MakeServer) -> None:
    """1 GiB of data against a 1 MiB limit: peak RSS stays flat, then one 552, session usable."""
    server = make_server(max_message_size=1024 * 1024)
    chunk = (b"x" * 1022 + b"\r\n") * 256  # 256 KiB of ordinary lines
    with RawClient(server.port) as c:
        open_data(c)
        with peak_rss_growth() as growth:
            for _ in range(4096):
                c.send(chunk)
            c.send(b".\r\n")
            assert c.read_reply()[0] == REPLY.MESSAGE_TOO_BIG.code
        code, _ = c.send_message("a@example.com", ["b@example.com"], b"after\r\n", ehlo=False)
        assert code == 250
    assert growth[0] < 32 * 1024 * 1024, f"peak RSS grew by {growth[0]} bytes"
    assert_healthy(server, stored=1)


def test_size_limit_zero_means_unlimited_and_advertises_plain_size(make_server: MakeServer) -> None:
    """max_message_size=0 lifts the limit: SIZE has no number and large SIZE= is accepted."""
    server = make_server(max_message_size=0)
    with RawClient(server.port) as c:
        _, lines = c.command("EHLO client.example")
        assert "SIZE" in lines
        assert c.code(f"MAIL FROM:<a@example.com> SIZE={2**40}") == 250
    assert_healthy(server, stored=0)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_memory_per_data_line_is_bounded(server: MockSMTPServer) -> None:
    """A single 8 MiB data line is accepted and flagged; memory grows by about its size, not more."""
    line = b"q" * (8 * 1024 * 1024)
    with RawClient(server.port) as c:
        open_data(c)
        with peak_rss_growth() as growth:
            c.send(line + b"\r\n.\r\n")
            assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.raw == line + b"\r\n"
    assert "long_line" in m.flags
    assert growth[0] < 64 * 1024 * 1024, f"peak RSS grew by {growth[0]} bytes"


@pytest.mark.parametrize("tail", [b".", b".\r"])
def test_a_message_of_exactly_the_limit_is_accepted_whatever_the_segmentation(tail: bytes) -> None:
    """The start of the end marker (`.` or `.\\r`) arriving in a read of its own is not
    counted as content: a message of exactly the limit is still accepted. (Fed to the engine,
    so the marker is split exactly there; TCP would not promise the cut.)"""
    limit = 4096
    body = b"a" * (limit - 2) + b"\r\n"
    head = b"EHLO client.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
    out, raws = feed_engine([head, body + tail, b".\r\n"[len(tail) :]], SMTPOptions(max_message_size=limit))
    assert codes_in(out)[-1] == 250
    assert raws == [body]


class _ScanCounter:
    """Counts the octets the engine's buffers scan (find/count/replace), to check that the
    work of the DATA path is linear in the octets received."""

    scanned = 0

    @classmethod
    def bytearray_type(cls) -> type[bytearray]:
        counter = cls

        class CountingBytearray(bytearray):
            def find(self, sub: Any, start: Any = 0, end: Any = None) -> int:
                i = super().find(sub, start, *(() if end is None else (end,)))
                counter.scanned += (i if i >= 0 else len(self)) - (start or 0)
                return i

            def count(self, *args: Any) -> int:
                counter.scanned += len(self)
                return super().count(*args)

            def replace(self, *args: Any) -> bytearray:
                counter.scanned += len(self)
                return super().replace(*args)

        return CountingBytearray


@pytest.mark.parametrize("over", [False, True], ids=["fits", "over the limit"])
def test_a_message_of_dot_lines_near_the_limit_costs_work_linear_in_its_size(
    monkeypatch: pytest.MonkeyPatch, over: bool
) -> None:
    """Stuffed `..` lines arriving four octets per read, up to (or past) the size limit: the
    engine scans each octet a bounded number of times (it counts stuffed dots as they arrive
    instead of recounting the whole buffer on every read), and the outcome is exact."""
    import mocksmtp.smtp.data
    import mocksmtp.smtp.protocol

    counting = _ScanCounter.bytearray_type()
    for module in (mocksmtp.smtp.protocol, mocksmtp.smtp.data):
        monkeypatch.setattr(module, "bytearray", counting, raising=False)
    limit = 30_000
    lines = limit // 3 + (10 if over else 0)  # each "..\r\n" stores 3 octets
    reads = [b"..\r\n"] * lines
    head = b"EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"
    _ScanCounter.scanned = 0
    out, raws = feed_engine([head, *reads, b".\r\n"], SMTPOptions(max_message_size=limit))
    received = 4 * lines
    assert _ScanCounter.scanned > 0, "no buffer of the patched modules scanned anything: patch where they are made"
    assert _ScanCounter.scanned <= 4 * received, f"{_ScanCounter.scanned} octets scanned for {received} received"
    if over:
        assert (codes_in(out)[-1], raws) == (REPLY.MESSAGE_TOO_BIG.code, [])
    else:
        assert (codes_in(out)[-1], raws) == (250, [b".\r\n" * lines])


def test_a_message_alone_in_flight_is_never_refused_for_the_data_budget(make_server: MakeServer) -> None:
    """max_pending_data below the message size: the only message in flight is still stored, so
    the budget never makes a size limit unusable."""
    server = make_server(max_pending_data=100)
    with RawClient(server.port) as c:
        body = b"y" * 998 + b"\r\n"
        assert c.send_message("a@example.com", ["b@example.com"], body * 5)[0] == 250
    assert [m.raw for m in server.messages] == [body * 5]
    assert_healthy(server, stored=1)


def test_a_refused_message_while_stopping_is_followed_by_421(make_server: MakeServer) -> None:
    """stop() while a client sends an oversize message: after its 552 comes 421 and the close;
    a transaction pipelined behind it is never started, let alone stored."""
    server = make_server(max_message_size=100)
    writer, idle = RawClient(server.port), RawClient(server.port)
    try:
        open_data(writer)
        writer.send(b"x" * 200 + b"\r\n")
        assert idle.code("EHLO client.example") == 250
        stopper = threading.Thread(target=server.stop, kwargs={"timeout": 5})
        stopper.start()
        assert codes_in(idle.read_until_closed()) == [REPLY.SHUTTING_DOWN.code]  # shutdown has begun
        writer.try_send(b".\r\nMAIL FROM:<late@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nlate\r\n.\r\n")
        assert codes_in(writer.read_until_closed()) == [REPLY.MESSAGE_TOO_BIG.code, REPLY.SHUTTING_DOWN.code]
        stopper.join(5)
        assert not stopper.is_alive()
    finally:
        writer.close()
        idle.close()
    assert server.messages == []


@pytest.mark.parametrize(
    "stream",
    [
        b"BDAT 200 LAST\r\n" + b"x" * 200,  # 552 on the last chunk
        b"BDAT 5\r\nhello" + b"BDAT 200 LAST\r\n" + b"x" * 200,
        b"DATA\r\n" + b"a\nb" + b"c" * 60 + b"\r\n.\r\n",  # strict: 550 for the bare LF
    ],
    ids=["BDAT too big", "BDAT LAST after a chunk", "DATA strict"],
)
def test_any_refusal_that_ends_a_transaction_while_stopping_is_followed_by_421(stream: bytes) -> None:
    """Once stopping, every reply that ends a transaction (here a refusal) is followed by 421
    and the close, so nothing new begins."""

    async def main() -> tuple[bytes, bool]:
        from mocksmtp import MemoryStore
        from mocksmtp.smtp.protocol import SMTPProtocol
        from mocksmtp.smtp.state import EngineContext

        ctx = EngineContext(SMTPOptions(max_message_size=100, strict=True), MemoryStore())
        protocol, transport = SMTPProtocol(ctx), FakeTransport()
        protocol.connection_made(transport)
        protocol.data_received(b"EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\n")
        protocol.data_received(stream[:-50])  # in DATA or a chunk when the stop begins
        ctx.stopping = True
        protocol.shutdown()
        protocol.data_received(stream[-50:] + b"MAIL FROM:<late@x.example>\r\n")
        return transport.out, transport.closed

    out, closed = asyncio.run(main())
    assert codes_in(out)[-1] == REPLY.SHUTTING_DOWN.code
    assert codes_in(out)[-2] in (REPLY.MESSAGE_TOO_BIG.code, REPLY.BARE_LINE_ENDING.code)
    assert closed
