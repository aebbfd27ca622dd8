"""Catalogue group C: data framing and SMTP smuggling.

Only CRLF.CRLF ends data. Every other end-of-data look-alike is content, so input can never turn
one transaction into two, whatever the segmentation on the wire.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import RawClient, assert_healthy, codes_in, feed_engine, feed_streams, parse_replies

from mocksmtp import REPLY, MockSMTPServer, SMTPOptions

SMUGGLED = "smuggled@evil.example"
FAKE_ENDS = [
    b"\n.\n",
    b"\n.\r\n",
    b"\r.\r",
    b"\r.\n",
    b"\r\n.\n",
    b"\r\n.\r",
    b"\r.\r\n",
    b"\r\n\x00.\r\n",
    b"\r\n\x00\r\n.\n",
    b"\r\n.\x00\r\n",
    b"\r\n..\r\n",
    b"\r\n. \r\n",
    b"\r\r\n.\n\r\n",
]


def stuff(content: bytes) -> bytes:
    """What a client sends for ``content`` (which ends in CRLF or is empty): dot-stuffed."""
    return (b"\r\n" + content).replace(b"\r\n.", b"\r\n..")[2:]


def transaction(sender: str, content: bytes, *, ehlo: bool = True) -> bytes:
    """A whole transaction as pipelined bytes."""
    head = b"EHLO client.example\r\n" if ehlo else b""
    return head + f"MAIL FROM:<{sender}>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n".encode() + stuff(content) + b".\r\n"


# -- fake end-of-data markers and smuggling ---------------------------------------------------


@pytest.mark.parametrize("fake_end", FAKE_ENDS, ids=[repr(f)[2:-1] for f in FAKE_ENDS])
@pytest.mark.parametrize("eol", [b"\r\n", b"\n"], ids=["crlf", "lf"])
def test_fake_end_of_data_never_makes_a_second_message(server: MockSMTPServer, fake_end: bytes, eol: bytes) -> None:
    """A look-alike end of data followed by a smuggled MAIL/RCPT/DATA is all content: one message."""
    smuggled = eol.join(
        [
            f"MAIL FROM:<{SMUGGLED}>".encode(),
            b"RCPT TO:<victim@example.com>",
            b"DATA",
            b"Subject: smuggled",
            b"",
            b"evil",
            b"",
        ]
    )
    content = b"Subject: legit\r\n\r\nhello" + fake_end + smuggled
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<legit@example.com>") == 250
        assert c.code("RCPT TO:<b@example.com>") == 250
        assert c.code("DATA") == 354
        c.send(content + b"\r\n.\r\nQUIT\r\n")
        replies = c.replies_until_closed()
    assert [code for code, _ in replies] == [250, REPLY.BYE.code]
    (m,) = server.messages
    assert m.mail_from == "legit@example.com"
    assert m.rcpt_tos == ("b@example.com",)
    assert m.raw == (b"\r\n" + content + b"\r\n").replace(b"\r\n.", b"\r\n")[2:]  # RFC 5321 4.5.2
    assert_healthy(server, stored=1)
    assert all(msg.mail_from != SMUGGLED for msg in server.messages)


def test_bare_lf_and_cr_in_data_are_stored_verbatim_and_flagged(server: MockSMTPServer) -> None:
    """Bare LF and bare CR are never line terminators: stored as sent and flagged."""
    content = b"a\nb\rc\r\n.\n\r.\r\n"
    with RawClient(server.port) as c:
        code, _ = c.send_message("a@example.com", ["b@example.com"], stuff(content))
    assert code == 250
    (m,) = server.messages
    assert m.raw == content
    assert {"bare_lf", "bare_cr"} <= m.flags
    assert_healthy(server, stored=1)


@pytest.mark.parametrize("bad", [b"a\nb\r\n", b"a\rb\r\n", b"a\r\n\n.\n\r\n"])
def test_strict_mode_rejects_bare_line_endings_in_data(make_server: Any, bad: bytes) -> None:
    """In strict mode bare CR or LF in data gets 550 5.6.0 after the end of data; nothing stored."""
    server = make_server(strict=True)
    with RawClient(server.port) as c:
        code, texts = c.send_message("a@example.com", ["b@example.com"], bad)
        assert (code, texts[0].split()[0]) == (REPLY.BARE_LINE_ENDING.code, REPLY.BARE_LINE_ENDING.status)
        assert c.code("NOOP") == 250
    assert_healthy(server, stored=0)


def test_stuffed_dots_are_unstuffed(server: MockSMTPServer) -> None:
    """`..` at the start of a line is stored as `.`, on the first line too; dots elsewhere stay."""
    content = b".first\r\n.\r\n..\r\na.b..c\r\n...\r\n"
    with RawClient(server.port) as c:
        code, _ = c.send_message("a@example.com", ["b@example.com"], stuff(content))
    assert code == 250
    (m,) = server.messages
    assert m.raw == content
    assert_healthy(server, stored=1)


def test_a_leading_dot_is_removed_whatever_follows_it() -> None:
    """RFC 5321 4.5.2: a line's leading dot is removed before any character, not only before a
    second dot (aiosmtpd and Postfix do the same): `.foo` is stored as `foo`, `.` alone inside
    the message (a `\\r\\n.\\r` not ending data) loses its dot too, on the first line as well."""
    data = b".foo\r\nbar\r\n.baz\r\n..kept\r\n. space\r\n.\ttab\r\n"
    head = b"EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"
    out, raws = feed_engine([head, data + b".\r\n"])
    assert codes_in(out)[-1] == 250
    assert raws == [b"foo\r\nbar\r\nbaz\r\n.kept\r\n space\r\n\ttab\r\n"]


def test_an_unstuffed_leading_dot_is_flagged_on_the_message(server: MockSMTPServer) -> None:
    """A removed dot that was not doubled means the client forgot to dot-stuff: the message has
    the "unstuffed_dot" flag (and lists it in defects), so a test sees what a real server hides."""
    with RawClient(server.port) as c:
        assert c.send_message("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\n.oops\r\n")[0] == 250
        assert c.send_message("a@example.com", ["b@example.com"], b"Subject: y\r\n\r\n..fine\r\n", ehlo=False)[0] == 250
    forgot, stuffed = server.messages
    assert forgot.raw == b"Subject: x\r\n\r\noops\r\n"
    assert "unstuffed_dot" in forgot.flags
    assert "unstuffed_dot" in forgot.defects
    assert stuffed.raw == b"Subject: y\r\n\r\n.fine\r\n"
    assert "unstuffed_dot" not in stuffed.flags


def test_the_unstuffed_dot_flag_survives_pickling(server: MockSMTPServer) -> None:
    """The flag is part of the message, not of a cache: a pickled copy keeps it."""
    import pickle

    with RawClient(server.port) as c:
        assert c.send_message("a@example.com", ["b@example.com"], b".oops\r\n")[0] == 250
    (m,) = server.messages
    assert "unstuffed_dot" in pickle.loads(pickle.dumps(m)).flags


def test_bdat_content_is_never_unstuffed_or_flagged(server: MockSMTPServer) -> None:
    """BDAT chunks are not dot-stuffed: leading dots are stored as sent and raise no flag."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code("RCPT TO:<b@example.com>") == 250
        c.send(b"BDAT 13 LAST\r\n.foo\r\n..bar\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.raw == b".foo\r\n..bar\r\n"
    assert "unstuffed_dot" not in m.flags


def test_an_empty_message_is_stored_empty(server: MockSMTPServer) -> None:
    """DATA followed at once by `.` stores a message of zero octets."""
    with RawClient(server.port) as c:
        code, _ = c.send_message("a@example.com", ["b@example.com"], b"")
    assert code == 250
    (m,) = server.messages
    assert m.raw == b""
    assert_healthy(server, stored=1)


def test_a_message_without_final_crlf_is_stored_as_sent(server: MockSMTPServer) -> None:
    """Nothing is added: content is everything before CRLF.CRLF, its last CRLF included."""
    with RawClient(server.port) as c:
        code, _ = c.send_message("a@example.com", ["b@example.com"], b"no header, one line\r\n")
    assert code == 250
    assert server.messages[0].raw == b"no header, one line\r\n"


def test_two_transactions_in_one_segment_make_two_messages_in_order(server: MockSMTPServer) -> None:
    """Two pipelined transactions in one send() give two messages, in order, byte exact."""
    stream = transaction("one@example.com", b"first\r\n") + transaction("two@example.com", b"second\r\n", ehlo=False)
    with RawClient(server.port) as c:
        c.send(stream + b"QUIT\r\n")
        codes = [code for code, _ in c.replies_until_closed()]
    assert codes == [250, 250, 250, 354, 250, 250, 250, 354, 250, 221]
    assert [(m.mail_from, m.raw) for m in server.messages] == [
        ("one@example.com", b"first\r\n"),
        ("two@example.com", b"second\r\n"),
    ]
    assert_healthy(server, stored=2)


# -- segmentation: exact cut points, so fed to the engine (TCP may merge or split reads) -----


def test_end_of_data_split_at_every_position_ends_data_exactly_once() -> None:
    """CRLF.CRLF split into two reads at each byte position ends the data once."""
    for i in range(1, 5):
        head = b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nline"
        stream = head + b"\r\n.\r\n" + b"NOOP\r\n"
        cut = len(head) + i
        out, raws = feed_engine([stream[:cut], stream[cut:], b"QUIT\r\n"])
        assert codes_in(out) == [220, 250, 250, 250, 354, 250, 250, 221], f"split after octet {i} of CRLF.CRLF"
        assert raws == [b"line\r\n"]


def test_a_transaction_split_at_every_position_makes_one_exact_message() -> None:
    """A whole transaction split into two reads at every position: one message, exact."""
    content = b"..dot\r\n\r\n.x\r\n"
    stream = transaction("a@example.com", content)
    for cut in range(1, len(stream)):
        out, raws = feed_engine([stream[:cut], stream[cut:], b"QUIT\r\n"])
        assert codes_in(out) == [220, 250, 250, 250, 354, 250, 221], f"split at {cut}: {stream[:cut]!r}"
        assert raws == [content], f"split at {cut}"


contents = st.lists(
    st.sampled_from([b".", b"..", b"\r\n", b"\r", b"\n", b"x", b"\x00", b"\xff", b"MAIL FROM:<x@y.z>", b" "]),
    max_size=20,
).map(lambda parts: b"".join(parts) + b"\r\n")


@settings(max_examples=60, deadline=None, database=None)
@given(first=contents, second=contents, cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=6))
def test_pipelined_transactions_survive_any_segmentation(first: bytes, second: bytes, cuts: list[int]) -> None:
    """Two pipelined transactions with tricky content, cut into random reads: two exact
    messages, replies in order, whatever the cut points."""
    stream = transaction("one@example.com", first) + transaction("two@example.com", second, ehlo=False)
    points = sorted({c for c in cuts if c < len(stream)})
    segments = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    out, raws = feed_engine([*segments, b"QUIT\r\n"])
    assert codes_in(out) == [220, 250, 250, 250, 354, 250, 250, 250, 354, 250, 221]
    assert raws == [first, second]


# -- the same, exhaustively, without the network ----------------------------------------------


def test_every_pair_of_cut_points_in_two_pipelined_transactions() -> None:
    """Two pipelined transactions fed to the engine in three pieces, at every pair of nearby cut
    points (exact segmentation, no network): always two exact messages and the same replies."""
    content = b".a\r\n\r\n..\r\n"
    stream = transaction("a@x.example", content, ehlo=False) + transaction("b@x.example", b"\r\n", ehlo=False)
    stream = b"HELO c\r\n" + stream
    n = len(stream)
    # Every single cut, and every pair of cuts up to 8 octets apart (a marker in three pieces).
    cases = [[stream[:i], stream[i:j], stream[j:]] for i in range(1, n) for j in range(i, min(i + 9, n))]
    results = asyncio.run(feed_streams([[stream], *cases]))
    whole_out, whole_raws = results[0]
    assert codes_in(whole_out) == [220, 250, 250, 250, 354, 250, 250, 250, 354, 250]
    assert whole_raws == [content, b"\r\n"]
    for chunks, (out, raws) in zip(cases, results[1:], strict=True):
        assert raws == whole_raws, chunks
        assert [c for c, _ in parse_replies(out)] == codes_in(whole_out), chunks


@settings(max_examples=200, deadline=None, database=None)
@given(
    body=st.lists(
        st.sampled_from([b"a", b".", b"..", b"\r\n", b"\r\n.\r\n", b"\r\n.", b"\n", b"\r", b"x" * 40, b"RSET"]),
        max_size=16,
    ).map(b"".join)
)
def test_data_in_one_read_ends_up_as_if_it_came_octet_by_octet(body: bytes) -> None:
    """After 354 the whole data usually comes in one read, which the engine takes in one step
    unless a line in it begins with "."; replies and stored messages are exactly those of the
    same octets arriving one at a time (stuffing, early ends and what follows included)."""
    head = b"EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"
    data = body + b"\r\n.\r\n"
    octets = [data[i : i + 1] for i in range(len(data))]
    (whole_out, whole_raws), (octet_out, octet_raws) = asyncio.run(
        feed_streams([[head, data, b"QUIT\r\n"], [head, *octets, b"QUIT\r\n"]])
    )
    assert whole_raws == octet_raws
    assert [c for c, _ in parse_replies(whole_out)] == [c for c, _ in parse_replies(octet_out)]


@settings(max_examples=200, deadline=None, database=None)
@given(
    content=contents,
    slack=st.integers(min_value=-4, max_value=4),
    cuts=st.lists(st.integers(min_value=1, max_value=120), max_size=5),
)
def test_the_size_limit_counts_exactly_the_content_whatever_the_segmentation(
    content: bytes, slack: int, cuts: list[int]
) -> None:
    """Against a limit within a few octets of the message size, and any segmentation: 250 and
    the exact content when it fits, 552 and nothing stored when it does not."""
    limit = max(len(content) + slack, 1)
    stream = transaction("a@x.example", content, ehlo=True)
    points = sorted({len(stream) - c for c in cuts if c < len(stream)})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    out, raws = feed_engine(chunks, SMTPOptions(max_message_size=limit))
    if len(content) <= limit:
        assert (codes_in(out)[-1], raws) == (250, [content])
    else:
        assert (codes_in(out)[-1], raws) == (REPLY.MESSAGE_TOO_BIG.code, [])


# -- random input never crashes or stores what was not acknowledged --------------------------

tokens = st.sampled_from(
    [
        b"EHLO c\r\n",
        b"HELO c\r\n",
        b"MAIL FROM:<a@example.com>\r\n",
        b"MAIL FROM:<>\r\n",
        b"RCPT TO:<b@example.com>\r\n",
        b"DATA\r\n",
        b"RSET\r\n",
        b"NOOP\r\n",
        b"\r\n.\r\n",
        b".\r\n",
        b"..\r\n",
        b"\r\n",
        b"\n",
        b"\r",
        b".",
        b"\x00",
        b"\xff\xfe",
        b"x" * 700,
        b"SIZE=99999999999",
        b" ",
        b"<",
        b">",
        b":",
        b"@",
        b"MAIL",
        b"RCPT TO:<",
        b"BDAT 10\r\n",
        b"VRFY x\r\n",
    ]
)
# Whole transactions among the tokens, so that streams store (or refuse, or lose) messages: one
# token at a time, a stream almost never holds EHLO, MAIL, RCPT and DATA in that order.
OPENING = b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n"
transactions = (
    st.lists(tokens, max_size=8)
    .map(b"".join)
    .flatmap(
        lambda body: st.sampled_from(
            [
                OPENING + b"DATA\r\n" + body + b"\r\n.\r\n",
                OPENING + b"BDAT %d LAST\r\n" % len(body) + body,
            ]
        )
    )
)
streams = st.one_of(st.lists(st.one_of(tokens, transactions), max_size=40).map(b"".join), st.binary(max_size=2000))


@settings(max_examples=150, deadline=None, database=None)
@given(stream=streams)
def test_random_byte_streams_never_crash_or_store_unacknowledged(stream: bytes) -> None:
    """Whatever bytes a client sends, the session never hits an internal error, and the store
    holds exactly the messages acknowledged with 250 on the wire, in order."""
    with MockSMTPServer("127.0.0.1", 0, max_bad_commands=1000) as server:
        with RawClient(server.port) as c:
            c.try_send(stream)
            c.shutdown_write()
            replies = c.replies_until_closed()
        queued = [texts[0] for code, texts in replies if code == 250 and "queued as" in texts[0]]
        assert [m.id for m in server.messages] == [t.rsplit(" ", 1)[1] for t in queued]
        assert server.stats.errors == 0
        assert all(code != REPLY.LOCAL_ERROR.code for code, _ in replies)
        assert_healthy(server, stored=len(queued))
