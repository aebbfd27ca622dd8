"""CHUNKING / BDAT and BINARYMIME (RFC 3030) over raw sockets."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.support import RawClient

from mocksmtp import MockSMTPServer

MakeServer = Callable[..., MockSMTPServer]


def _envelope(c: RawClient, *params: str) -> None:
    assert c.code("EHLO client.example") == 250
    assert c.code(" ".join(["MAIL FROM:<a@example.com>", *params])) == 250
    assert c.code("RCPT TO:<b@example.com>") == 250


def _bdat(c: RawClient, chunk: bytes, *, last: bool = False) -> tuple[int, list[str]]:
    c.send(f"BDAT {len(chunk)}{' LAST' if last else ''}\r\n".encode() + chunk)
    return c.read_reply()


def test_chunking_and_binarymime_advertised(server: MockSMTPServer) -> None:
    """EHLO offers CHUNKING and BINARYMIME."""
    with RawClient(server.port) as c:
        lines = c.command("EHLO client.example")[1]
    assert "CHUNKING" in lines
    assert "BINARYMIME" in lines


def test_several_chunks_stored_byte_for_byte(server: MockSMTPServer) -> None:
    """A BDAT transfer in several chunks is stored exactly, with no dot-unstuffing or framing."""
    chunks = [
        b"Subject: chunks\r\n\r\n",
        b"..dots stay\r\n.\r\n",
        b"bare\nLF\rCR\x00NUL" + bytes(range(256)),
        b"\r\n.\r\nMAIL FROM:<smuggled@example.com>\r\n",
        b"end\r\n",
    ]
    with RawClient(server.port) as c:
        _envelope(c)
        for chunk in chunks[:-1]:
            code, (text,) = _bdat(c, chunk)
            assert (code, text) == (250, f"2.0.0 {len(chunk)} octets received")
        code, (text,) = _bdat(c, chunks[-1], last=True)
        assert code == 250
        (message,) = server.messages  # stored before the 250 was read
        assert message.id in text
    assert message.raw == b"".join(chunks)
    assert message.mail_from == "a@example.com"


def test_chunk_split_across_segments(server: MockSMTPServer) -> None:
    """A chunk arriving one byte per segment is read exactly; the next command is recognised."""
    body = b"Subject: slow\r\n\r\nBDAT 3 LAST\r\n"
    with RawClient(server.port) as c:
        _envelope(c)
        c.send(f"BDAT {len(body)} LAST\r\n".encode())
        for i in range(len(body)):
            c.send(body[i : i + 1])
        assert c.read_reply()[0] == 250
        assert c.code("NOOP") == 250
    assert server.messages[0].raw == body


def test_pipelined_chunks_and_next_transaction(server: MockSMTPServer) -> None:
    """Chunks and a second transaction pipelined in one segment: replies in order, two messages."""
    with RawClient(server.port) as c:
        c.send(
            b"EHLO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nBDAT 4\r\none\n"
            b"BDAT 4 LAST\r\ntwo\nMAIL FROM:<c@example.com>\r\nRCPT TO:<d@example.com>\r\n"
            b"BDAT 0 LAST\r\n"
        )
        assert c.read_replies(8) == [250] * 8
    first, second = server.messages
    assert (first.raw, second.raw) == (b"one\ntwo\n", b"")
    assert second.mail_from == "c@example.com"


def test_binarymime_with_bdat(server: MockSMTPServer) -> None:
    """MAIL BODY=BINARYMIME then BDAT stores binary content; the parameter is recorded."""
    payload = bytes(range(256)) * 4
    with RawClient(server.port) as c:
        _envelope(c, "BODY=BINARYMIME")
        assert _bdat(c, payload, last=True)[0] == 250
    (message,) = server.messages
    assert message.raw == payload
    assert message.mail_options == ("BODY=BINARYMIME",)


def test_binarymime_with_strict_is_not_checked_for_line_endings(make_server: MakeServer) -> None:
    """Strict mode does not reject bare LF in BINARYMIME content, but does for plain BDAT."""
    server = make_server(strict=True)
    with RawClient(server.port) as c:
        _envelope(c, "BODY=BINARYMIME")
        assert _bdat(c, b"a\nb", last=True)[0] == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code("RCPT TO:<b@example.com>") == 250
        assert _bdat(c, b"a\nb", last=True)[0] == 550
    assert server.get_message_count() == 1


def test_data_with_binarymime_is_503(server: MockSMTPServer) -> None:
    """BODY=BINARYMIME content must come by BDAT: DATA gets 503."""
    with RawClient(server.port) as c:
        _envelope(c, "BODY=BINARYMIME")
        assert c.code("DATA") == 503


def test_data_after_bdat_is_503(server: MockSMTPServer) -> None:
    """DATA after a BDAT chunk in the same transaction gets 503; RSET discards the chunks."""
    with RawClient(server.port) as c:
        _envelope(c)
        assert _bdat(c, b"part one")[0] == 250
        assert c.code("DATA") == 503
        assert c.code("RSET") == 250
        assert c.send_message("a@example.com", ["b@example.com"], b"fresh\r\n", ehlo=False)[0] == 250
    assert [m.raw for m in server.messages] == [b"fresh\r\n"]


def test_data_after_a_failed_chunk_is_503_until_rset(make_server: MakeServer) -> None:
    """After a refused chunk the transaction stays failed (RFC 3030 3): DATA gets 503 and
    stores nothing; after RSET a new transaction works."""
    server = make_server(max_message_size=10)
    with RawClient(server.port) as c:
        _envelope(c)
        assert _bdat(c, b"x" * 11)[0] == 552
        assert c.code("DATA") == 503
        c.send(b"smuggled\r\n.\r\n")  # not data: two unknown commands
        assert c.read_replies(2) == [500, 500]
        assert c.code("RSET") == 250
        assert c.send_message("a@example.com", ["b@example.com"], b"fresh\r\n", ehlo=False)[0] == 250
    assert [m.raw for m in server.messages] == [b"fresh\r\n"]


def test_bdat_without_mail_or_rcpt_is_503_and_chunk_is_consumed(server: MockSMTPServer) -> None:
    """BDAT without MAIL or RCPT gets 503, and its octets are read, never run as commands."""
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        smuggled = b"MAIL FROM:<evil@example.com>\r\n"
        assert _bdat(c, smuggled, last=True)[0] == 503
        assert c.code("MAIL FROM:<a@example.com>") == 250  # not nested: the chunk did not run
        assert _bdat(c, smuggled)[0] == 503
        assert c.code("NOOP") == 250
    assert server.get_message_count() == 0


@pytest.mark.parametrize(
    "command", ["BDAT", "BDAT abc", "BDAT -1", "BDAT 5 NOTLAST", "BDAT 1 LAST more", "BDAT " + "9" * 30]
)
def test_malformed_bdat_is_501_and_closes(server: MockSMTPServer, command: str) -> None:
    """A BDAT whose size cannot be read gets 501 and the connection is closed, so the chunk
    that follows is never read as commands; a fresh client can still send."""
    with RawClient(server.port) as c:
        _envelope(c)
        c.send(command.encode() + b"\r\nMAIL FROM:<evil@example.com>\r\n")
        assert c.read_reply()[0] == 501
        assert c.is_closed()
    with RawClient(server.port) as c:
        _envelope(c)
        assert _bdat(c, b"ok", last=True)[0] == 250
    assert [m.raw for m in server.messages] == [b"ok"]


def test_a_chunk_size_with_many_leading_zeros_is_read_as_its_value(make_server: MakeServer) -> None:
    """A chunk size of thousands of digits that are leading zeros is just its value (RFC 3030's
    chunk-size is 1*DIGIT): the chunk is read and stored, nothing raises."""
    server = make_server(max_command_length=10_000)
    with RawClient(server.port) as c:
        _envelope(c)
        c.send(b"BDAT " + b"0" * 5000 + b"2 LAST\r\nok")
        assert c.read_reply()[0] == 250
    assert [m.raw for m in server.messages] == [b"ok"]
    assert server.stats.errors == 0


def test_size_limit_enforced_while_reading(make_server: MakeServer) -> None:
    """Chunks past max_message_size: 552 on the chunk, 503 for the rest, nothing stored."""
    server = make_server(max_message_size=100)
    with RawClient(server.port) as c:
        _envelope(c)
        assert _bdat(c, b"x" * 60)[0] == 250
        code, (text,) = _bdat(c, b"y" * 60)
        assert (code, text[:5]) == (552, "5.3.4")
        assert _bdat(c, b"z" * 10)[0] == 503
        assert _bdat(c, b"z" * 10, last=True)[0] == 503
        assert server.get_message_count() == 0
        _envelope(c)
        assert _bdat(c, b"x" * 100, last=True)[0] == 250  # exactly the limit
    assert server.messages[0].raw == b"x" * 100


def test_huge_declared_chunk_is_discarded_not_buffered(make_server: MakeServer) -> None:
    """A chunk far over the limit is read and discarded as it comes; one 552, session usable."""
    server = make_server(max_message_size=1000)
    with RawClient(server.port) as c:
        _envelope(c)
        size = 4 * 1024 * 1024
        c.send(f"BDAT {size} LAST\r\n".encode())
        block = b"q" * 65536
        for _ in range(size // len(block)):
            c.send(block)
        assert c.read_reply()[0] == 552
        assert c.code("NOOP") == 250
    assert server.get_message_count() == 0


def test_disconnect_mid_chunk_stores_nothing(server: MockSMTPServer) -> None:
    """A client that vanishes inside a chunk leaves nothing behind."""
    with RawClient(server.port) as c:
        _envelope(c)
        assert _bdat(c, b"first")[0] == 250
        c.send(b"BDAT 100 LAST\r\nonly part")
    with RawClient(server.port) as c:
        assert c.send_message("a@example.com", ["b@example.com"], b"later\r\n")[0] == 250
    assert [m.raw for m in server.messages] == [b"later\r\n"]


def test_message_fault_on_last_chunk(server: MockSMTPServer) -> None:
    """A message fault answers the LAST chunk; nothing is stored and a new transaction works."""
    with server.inject_fault("message", times=1), RawClient(server.port) as c:
        _envelope(c)
        assert _bdat(c, b"one")[0] == 250
        assert _bdat(c, b"two", last=True)[0] == 451
        _envelope(c)
        assert _bdat(c, b"three", last=True)[0] == 250
    assert [m.raw for m in server.messages] == [b"three"]


def test_data_fault_on_first_chunk(server: MockSMTPServer) -> None:
    """A data fault answers the first chunk of a transaction; later chunks get 503 until LAST."""
    with server.inject_fault("data", times=1) as fault, RawClient(server.port) as c:
        _envelope(c)
        assert _bdat(c, b"one")[0] == 554
        assert _bdat(c, b"two", last=True)[0] == 503
        _envelope(c)
        assert _bdat(c, b"one")[0] == 250
        assert _bdat(c, b"two", last=True)[0] == 250
    assert fault.triggered == 1
    assert [m.raw for m in server.messages] == [b"onetwo"]
