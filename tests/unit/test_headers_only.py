"""Reading a message's headers parses its header block only, and agrees with the full parse."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mocksmtp import Message, parsing
from mocksmtp.parsing import parse, parse_headers

DATA = Path(__file__).resolve().parent.parent / "data"


def msg(raw: bytes) -> Message:
    return Message(id="T-1", raw=raw, mail_from="s@example.com", rcpt_tos=("a@example.com",))


@pytest.mark.parametrize("path", sorted(DATA.glob("*.eml")), ids=lambda p: p.name)
def test_headers_only_agree_with_the_full_parse_on_every_fixture(path: Path) -> None:
    """For each .eml fixture, the header-block parse gives exactly the full parse's headers."""
    raw = path.read_bytes()
    assert parse_headers(raw).items_all() == parse(raw).headers.items_all()


def test_subject_and_addresses_never_parse_the_body(monkeypatch: pytest.MonkeyPatch) -> None:
    """subject, from_, to, date and message_id come from the header block: the full parse (and
    the decoding of a large attachment) waits until a body is read."""
    raw = (
        b"From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: big\r\n"
        b"Message-ID: <1@example.com>\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b"QUJD\r\n" * 200_000
        + b"--b--\r\n"
    )

    def forbidden(raw: bytes) -> object:
        raise AssertionError("the full parse ran")

    monkeypatch.setattr(parsing, "parse", forbidden)
    m = msg(raw)
    assert (m.subject, m.from_, m.to, m.message_id) == (
        "big",
        "ann@example.com",
        ["bob@example.com"],
        "<1@example.com>",
    )
    assert m.date is not None
    monkeypatch.undo()
    assert len(m.attachments[0].content) == 600_000  # the body is still there for who reads it
    assert m.headers.items_all() == parse(raw).headers.items_all()


def test_a_message_with_no_header_block_end_or_no_headers() -> None:
    """Headers with no blank line after them, and a message starting with a blank line."""
    assert parse_headers(b"Subject: only headers\r\nTo: a@example.com").items_all() == [
        ("Subject", "only headers"),
        ("To", "a@example.com"),
    ]
    assert parse_headers(b"\r\nSubject: this is body\r\n").items_all() == []
    assert parse_headers(b"").items_all() == []


LINE_ENDS = st.sampled_from(["\r\n", "\n", "\r", "\r\r\n", "\n\r"])
HEADER_LINES = st.one_of(
    st.builds(
        lambda n, v: f"{n}: {v}",
        st.sampled_from(["Subject", "To", "From", "X-A", "Received"]),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
    ),
    st.builds(lambda n, v: f"{n}  : {v}", st.sampled_from(["Subject", "Cc"]), st.text("ab =?", max_size=8)),
    st.text(" \tab:", max_size=6),  # continuation lines, odd lines, empty lines
    st.just("From sender@example.com Sat Dec  5 10:00:00 2026"),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(HEADER_LINES, LINE_ENDS), max_size=8), st.binary(max_size=40))
def test_headers_only_agree_with_the_full_parse(lines: list[tuple[str, str]], body: bytes) -> None:
    """Whatever the header lines and line endings, both parses read the same headers."""
    raw = "".join(text + end for text, end in lines).encode("utf-8") + body
    assert parse_headers(raw).items_all() == parse(raw).headers.items_all()
