"""AUTH exchanges through the engine with exact segmentation: whether a login succeeds, and
every reply, never depends on how TCP cut the client's bytes; long responses (RFC 4954 §4)."""

from __future__ import annotations

import asyncio
import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import codes_in, feed_engine, feed_streams

from mocksmtp import SMTPOptions

USERS = {"alice": "correct horse", "long": "p" * 9000}
OPTIONS = SMTPOptions(auth=USERS, require_auth=True)  # no 250 to MAIL without a login
SEND = b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n"


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data)


# Whole client streams (everything after the greeting), PLAIN and LOGIN, right and wrong,
# short and long, with the initial response and without: CRAM-MD5's challenge is random.
EXCHANGES = {
    "plain-initial": b"EHLO c\r\nAUTH PLAIN " + _b64(b"\0alice\0correct horse") + b"\r\n",
    "plain-after-334": b"EHLO c\r\nAUTH PLAIN\r\n" + _b64(b"\0alice\0correct horse") + b"\r\n",
    "login": b"EHLO c\r\nAUTH LOGIN\r\n" + _b64(b"alice") + b"\r\n" + _b64(b"correct horse") + b"\r\n",
    "login-initial": b"EHLO c\r\nauth login " + _b64(b"alice") + b"\n" + _b64(b"correct horse") + b"\n",
    "wrong-then-right": b"EHLO c\r\nAUTH PLAIN "
    + _b64(b"\0alice\0wrong")
    + b"\r\nAUTH PLAIN "
    + _b64(b"\0alice\0correct horse")
    + b"\r\n",
    "cancelled": b"EHLO c\r\nAUTH LOGIN\r\n*\r\nAUTH PLAIN " + _b64(b"\0alice\0correct horse") + b"\r\n",
    "long-initial": b"EHLO c\r\nAUTH PLAIN " + _b64(b"\0long\0" + b"p" * 9000) + b"\r\n",
    "long-continuation": b"EHLO c\r\nAUTH LOGIN\r\n" + _b64(b"long") + b"\r\n" + _b64(b"p" * 9000) + b"\r\n",
}


def _same(result: tuple[bytes, list[bytes]]) -> tuple[bytes, list[bytes]]:
    """A session's output and messages, with the message id (new in each store) masked."""
    out, raws = result
    return re.sub(rb"queued as \S+", b"queued as <id>", out), raws


def _splits(stream: bytes) -> list[list[bytes]]:
    """The stream whole, byte by byte, and cut at every CR, LF and space, and next to them."""
    cases = [[stream], [stream[i : i + 1] for i in range(len(stream))]]
    for i, octet in enumerate(stream):
        if octet in b"\r\n ":
            cases += [[stream[:cut], stream[cut:]] for cut in (i, i + 1) if 0 < cut < len(stream)]
    return cases


@pytest.mark.parametrize("name", EXCHANGES)
def test_an_auth_exchange_gets_the_same_replies_however_it_is_segmented(name: str) -> None:
    """Whole, byte by byte, or cut at each line ending and space: the same replies, and the
    message after it is stored (a login that succeeds whole succeeds cut anywhere)."""
    stream = EXCHANGES[name] + SEND + b"QUIT\r\n"
    cases = _splits(stream)
    if len(stream) > 2000:  # byte by byte through 12 KB is slow and says nothing more
        cases = [cases[0], *cases[2:]]
    results = [_same(r) for r in asyncio.run(feed_streams(cases, OPTIONS))]
    whole = results[0]
    assert codes_in(whole[0])[-5:] == [250, 250, 354, 250, 221], whole[0]
    assert len(whole[1]) == 1
    for chunks, result in zip(cases, results, strict=True):
        assert result == whole, f"cut into {[len(c) for c in chunks]}: {result[0]!r}"


@settings(max_examples=150, deadline=None, database=None)
@given(name=st.sampled_from(sorted(EXCHANGES)), data=st.data())
def test_an_auth_exchange_cut_anywhere_gets_the_same_replies(name: str, data: st.DataObject) -> None:
    """The same at any set of cut points."""
    stream = EXCHANGES[name] + SEND + b"QUIT\r\n"
    # Cut points inside this stream: drawn up to 12,400 for every stream, most fell past the
    # end of the short ones, and two examples in three were not cut at all.
    cuts = data.draw(st.lists(st.integers(min_value=1, max_value=len(stream) - 1), min_size=1, max_size=8))
    points = sorted(set(cuts))
    segments = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert _same(feed_engine(segments, OPTIONS)) == _same(feed_engine([stream], OPTIONS))


def test_an_initial_response_of_12288_octets_is_accepted() -> None:
    """RFC 4954 §4: AUTH with an initial response of 12,288 octets (the most a client may send)
    is read and checked, not refused as an over-long line."""
    password = b"x" * (12288 * 3 // 4 - len(b"\0alice\0"))
    response = _b64(b"\0alice\0" + password)
    assert len(response) == 12288
    out, _ = feed_engine(
        [b"EHLO c\r\nAUTH PLAIN " + response + b"\r\nQUIT\r\n"], SMTPOptions(auth={"alice": password.decode()})
    )
    assert codes_in(out) == [220, 250, 235, 221]


def test_a_continuation_line_of_12288_octets_is_accepted() -> None:
    """A response line of 12,288 octets after a 334 is read and checked too."""
    password = b"x" * (12288 * 3 // 4)
    response = _b64(password)
    assert len(response) == 12288
    stream = b"EHLO c\r\nAUTH LOGIN " + _b64(b"alice") + b"\r\n" + response + b"\r\nQUIT\r\n"
    for chunks in ([stream], [stream[i : i + 1000] for i in range(0, len(stream), 1000)]):
        out, _ = feed_engine(chunks, SMTPOptions(auth={"alice": password.decode()}))
        assert codes_in(out) == [220, 250, 334, 235, 221]


def test_a_response_past_12288_octets_is_refused_and_the_session_continues() -> None:
    """A longer response ends the exchange with 500 (memory stays bounded); NOOP still works."""
    stream = b"EHLO c\r\nAUTH LOGIN\r\n" + b"A" * 20000 + b"\r\nNOOP\r\n"
    for chunks in ([stream], [stream[i : i + 700] for i in range(0, len(stream), 700)]):
        out, _ = feed_engine(chunks, OPTIONS)
        assert codes_in(out) == [220, 250, 334, 500, 250]
