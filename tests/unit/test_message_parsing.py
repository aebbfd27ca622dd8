"""Parsed views of Message: lazy, tolerant, never raising, raw bytes untouched."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mocksmtp import Attachment, Headers, Message
from mocksmtp.parsing import MAX_PARTS

FIELDS = (
    "subject",
    "from_",
    "to",
    "cc",
    "reply_to",
    "bcc",
    "date",
    "message_id",
    "headers",
    "text",
    "html",
    "attachments",
    "links",
    "defects",
    "email",
)


def msg(raw: bytes, rcpt_tos: tuple[str, ...] = ()) -> Message:
    return Message(id="T-1", raw=raw, mail_from="s@example.com", rcpt_tos=rcpt_tos)


def read_all(m: Message) -> dict[str, object]:
    values = {name: getattr(m, name) for name in FIELDS}
    values["addresses"] = [m.addresses(f) for f in ("from", "to", "cc", "reply_to", "sender")]
    return values


def test_constructing_a_message_parses_nothing() -> None:
    """A new Message has an empty cache; parsing waits for the first parsed property."""
    m = msg(b"Subject: hi\r\n\r\nbody\r\n")
    assert m._cache == {}
    assert m.subject == "hi"
    assert "parsed" not in m._cache  # a header needs the header block only
    assert m.text == "body\n"
    assert "parsed" in m._cache


def test_parse_happens_once() -> None:
    """Every parsed property reads from the same single parse."""
    m = msg(b"Subject: hi\r\n\r\nbody\r\n")
    first = m.email
    assert m.email is first
    assert m.headers is m.headers


def test_message_stays_immutable_after_parsing() -> None:
    """Parsed views do not make a Message writable."""
    m = msg(b"Subject: hi\r\n\r\nbody\r\n")
    _ = m.subject, m.text  # the header and the full parse have run
    with pytest.raises(AttributeError, match="immutable"):
        m.raw = b"y"
    with pytest.raises(AttributeError, match="immutable"):  # not merely "property has no setter"
        m.subject = "x"  # type: ignore[misc]
    assert (m.raw, m.subject) == (b"Subject: hi\r\n\r\nbody\r\n", "hi")


def test_missing_headers_give_empty_values() -> None:
    """A message without headers has an empty subject and sender, no date, no lists."""
    m = msg(b"just a body\r\n", ("a@example.com",))
    assert (m.subject, m.from_, m.to, m.cc, m.date, m.message_id) == ("", "", [], [], None, None)
    assert m.bcc == ["a@example.com"]
    assert m.text == "just a body\n"
    assert m.html is None


def test_addresses_lowercase_the_domain_only() -> None:
    """Plain addresses keep the local part's case and lowercase the domain."""
    m = msg(b'To: Joe.Bloggs@Example.COM, "Smith, Ann" <ann@EXAMPLE.org>\r\n\r\n')
    assert m.to == ["Joe.Bloggs@example.com", "ann@example.org"]
    assert m.addresses("to")[1] == ("Smith, Ann", "ann@example.org")


def test_group_syntax_and_undisclosed_recipients() -> None:
    """Group members are listed; an empty group adds nothing."""
    m = msg(b"To: team: a@example.com, b@example.com;, undisclosed-recipients:;\r\n\r\n")
    assert m.to == ["a@example.com", "b@example.com"]


def test_malformed_address_header_falls_back_without_raising() -> None:
    """A header that crashes the modern parser is read by the lenient one."""
    m = msg(b"Cc: broken <<>>, @@, x@, ok@example.com\r\n\r\n")
    assert "ok@example.com" in m.cc


def test_bcc_compares_ignoring_case() -> None:
    """Envelope recipients shown in To or Cc, in any case, are not Bcc."""
    m = msg(
        b"To: Ann@Example.com\r\nCc: bob@example.com\r\n\r\n",
        ("ann@example.COM", "BOB@example.com", "carol@example.com"),
    )
    assert m.bcc == ["carol@example.com"]


def test_headers_are_case_insensitive_and_multivalued() -> None:
    """headers[] gives the first value, get_all every value, items_all the raw order."""
    m = msg(b"Received: one\r\nX-Tag: a\r\nreceived: two\r\nx-tag: b\r\n\r\n")
    h = m.headers
    assert isinstance(h, Headers)
    assert h["RECEIVED"] == "one"
    assert h.get_all("Received") == ["one", "two"]
    assert list(h) == ["Received", "X-Tag"]
    assert len(h) == 2
    assert h.items_all() == [("Received", "one"), ("X-Tag", "a"), ("received", "two"), ("x-tag", "b")]
    assert h.get("missing") is None
    assert h.get_all("missing") == []


def test_date_with_garbage_is_none() -> None:
    """An unreadable Date header gives None, not an exception."""
    assert msg(b"Date: not a date at all\r\n\r\n").date is None


def test_html_only_message() -> None:
    """An HTML-only message has html and no text."""
    m = msg(b"Content-Type: text/html; charset=utf-8\r\n\r\n<a href='https://x.example/a?b=1&amp;c=2'>x</a>\r\n")
    assert m.text is None
    assert m.html == "<a href='https://x.example/a?b=1&amp;c=2'>x</a>\n"
    assert m.links == ["https://x.example/a?b=1&c=2"]


def test_links_come_from_text_and_html_once_each() -> None:
    """Links are deduplicated, in order, without trailing punctuation, http(s) only."""
    raw = (
        b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
        b"Go to https://a.example/x. Or (https://b.example/y), ftp://c.example\r\n--b\r\n"
        b'Content-Type: text/html\r\n\r\n<a href="https://a.example/x">a</a> <a href="mailto:m@x">m</a>'
        b' <a href="https://d.example/z">d</a>\r\n--b--\r\n'
    )
    assert msg(raw).links == ["https://a.example/x", "https://b.example/y", "https://d.example/z"]


def test_unknown_charset_is_a_defect_not_an_error() -> None:
    """A body in an unknown charset decodes as UTF-8 with replacement and says so."""
    m = msg(b"Content-Type: text/plain; charset=x-bogus\r\n\r\nh\xc3\xa9llo\r\n")
    assert m.text == "héllo\n"
    assert any("unknown charset 'x-bogus'" in d for d in m.defects)


def test_protocol_flags_are_defects() -> None:
    """Bare LF and NUL found on the wire are listed in defects."""
    m = msg(b"Subject: x\nbody\x00\r\n")
    assert {"bare_lf", "nul"} <= set(m.defects)


def test_multipart_without_boundary_is_shown_as_text() -> None:
    """A multipart that declares no boundary keeps its body readable as text."""
    m = msg(b"Content-Type: multipart/mixed\r\n\r\nhello\r\n")
    assert m.text == "hello\n"
    assert "NoBoundaryInMultipartDefect" in m.defects


def test_too_many_parts_parses_headers_only() -> None:
    """Past MAX_PARTS boundary lines only the headers are parsed (no part is built), and it is said."""
    n = 100_000
    raw = (
        b"Subject: many\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" * n
        + b"--b--\r\n"
    )
    m = msg(raw)
    assert m.subject == "many"
    assert m.attachments == []
    assert m.text is None
    assert any(f"limit {MAX_PARTS}" in d for d in m.defects)
    assert m.raw is raw


def test_deep_nesting_never_raises_recursion_error() -> None:
    """1000 nested multiparts are refused politely instead of exhausting the stack."""
    raw = b"Content-Type: text/plain\r\n\r\nx\r\n"
    for i in range(1000):
        raw = b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) + raw + b"\r\n--b%d--\r\n" % i
    m = msg(b"Subject: deep\r\n" + raw)
    values = read_all(m)
    assert values["subject"] == "deep"
    assert any("headers only" in d for d in m.defects)


def test_hostile_attachment_names_are_kept_and_made_safe() -> None:
    """Traversal, NUL and CRLF in a file name are kept as given; safe_filename is harmless."""
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b'--b\r\nContent-Disposition: attachment; filename="../../etc/passwd"\r\n\r\nx\r\n'
        b"--b\r\nContent-Disposition: attachment; filename*=utf-8''a%00%0D%0Ab.txt\r\n\r\ny\r\n--b--\r\n"
    )
    traversal, control = msg(raw).attachments
    assert traversal.filename == "../../etc/passwd"
    assert traversal.safe_filename == "passwd"
    assert control.filename == "a\x00\r\nb.txt"
    assert control.safe_filename == "ab.txt"
    assert "\\x00" in repr(control)


def test_attachment_equality_and_inline_rules() -> None:
    """Attachments compare by value; inline comes from the disposition, else a Content-ID."""
    a = Attachment(filename="a.png", content_type="image/png", content=b"x", content_id="a@x")
    assert a == Attachment(filename="a.png", content_type="image/png", content=b"x", content_id="a@x")
    assert a.inline
    assert not Attachment(
        filename=None, content_type="image/png", content=b"", content_id="a", disposition="attachment"
    ).inline
    assert Attachment(filename=".hidden", content_type="x/y", content=b"").safe_filename == "hidden"
    with pytest.raises(AttributeError):
        a.filename = "b"


def test_header_registry_crash_on_subject_falls_back_to_raw() -> None:
    """A header value the registry cannot parse is returned unfolded, as sent."""
    m = msg(b"Subject: =?utf-8?q?unterminated\r\n  continued\r\n\r\n")
    assert "unterminated" in m.subject


def test_white_space_before_the_colon_is_only_read_in_header_names() -> None:
    """An obsolete "Name   :" names the header (even "From :", which is no envelope line),
    while a colon after white space in a value or in the body stays as sent."""
    m = msg(b"From     : a@example.com\r\nSubject: Re : spaced\r\nX-Y\t:\tz\r\n\r\nNote : body\r\n")
    assert m.from_ == "a@example.com"
    assert m.email.get_unixfrom() is None
    assert m.headers.items_all() == [("From", "a@example.com"), ("Subject", "Re : spaced"), ("X-Y", "z")]
    assert m.text == "Note : body\n"
    assert m.defects.count("ObsoleteHeaderDefect") == 2


def test_a_message_without_obsolete_headers_has_no_such_defect() -> None:
    """A value containing " :" is not mistaken for obsolete syntax."""
    assert msg(b"Subject: Re : x\r\nTo: a@example.com\r\n\r\nbody\r\n").defects == []


@pytest.mark.parametrize(
    ("encoded", "decoded", "after_padding"),
    [
        (b"QUJDRA==\r\nRUZH", b"ABCD", True),
        (b"QUJDRA=\r\nRUZH", b"ABCD", True),
        (b"QUJD\r\nREVG\r\n!!", b"ABCDEF", False),
        (b"QUJDREVGRw", b"ABCDEFG", False),
        (b"QUJDR", b"ABC", False),
        (b"QUJDRA==\r\n==\r\n", b"ABCD", False),
    ],
)
def test_invalid_base64_is_decoded_up_to_the_padding(encoded: bytes, decoded: bytes, after_padding: bool) -> None:
    """Characters outside the alphabet are skipped, a lone last character is dropped, and
    decoding stops at the padding; data after the padding is noted in defects."""
    m = msg(b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + encoded + b"\r\n")
    (part,) = m.attachments
    assert part.content == decoded
    assert any("Base64" in d for d in m.defects)
    assert ("mocksmtp: base64 data after the padding; decoded up to the padding" in m.defects) is after_padding


def test_valid_base64_has_no_defect() -> None:
    """Well-formed base64 decodes with nothing to report."""
    m = msg(b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJDRA==\r\n")
    assert (m.text, m.defects) == ("ABCD", [])


ENCLOSED = b"From:x@example.com\r\nSubject:  two  spaces\r\n\r\nbody\nbare LF\r\n"


def wrapped(inner: bytes, *, closing: bytes = b"\r\n--b--\r\n", cte: bytes = b"") -> bytes:
    return (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n" + cte + b"\r\n" + inner + closing
    )


@pytest.mark.parametrize(
    ("raw", "content"),
    [
        (wrapped(ENCLOSED), ENCLOSED),
        (wrapped(ENCLOSED, closing=b"\r\n"), ENCLOSED),
        (wrapped(ENCLOSED, closing=b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nlast\r\n--b--\r\n"), ENCLOSED),
        (
            wrapped(
                b"From:x@example.com\r\n\r\nb=C3=A9=\r\nf\r\n", cte=b"Content-Transfer-Encoding: quoted-printable\r\n"
            ),
            b"From:x@example.com\r\n\r\nb\xc3\xa9f\r\n",
        ),
        (b"Content-Type: message/rfc822\r\n\r\n" + ENCLOSED, ENCLOSED),
        (wrapped(b""), b""),
    ],
    ids=["as sent", "no closing boundary", "another part after", "quoted-printable", "whole message", "empty"],
)
def test_an_attached_message_is_the_enclosed_bytes(raw: bytes, content: bytes) -> None:
    """A message/rfc822 part's content is its body as sent, less the line ending that belongs
    to the next boundary, with any transfer encoding undone: also when last, unterminated,
    quoted-printable, empty, or the whole message."""
    attached = [a for a in msg(raw).attachments if a.content_type == "message/rfc822"]
    assert [a.content for a in attached] == [content]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"Subject: x\r\n",
                b"Content-Type: multipart/mixed; boundary=c\r\n",
                b"Content-Type: message/rfc822\r\n",
                b"--c\r\n",
                b"--c--\r\n",
                b"\r\n",
                b"\n",
                b"\r",
                b"line",
                b"From x\r\n",
                b" folded\r\n",
                b"\xff",
                b"Content-Transfer-Encoding: base64\r\n",
                b"X  : y\r\n",
                b".\r\n",
            ]
        ),
        max_size=30,
    ).map(b"".join)
)
def test_an_attached_message_keeps_whatever_bytes_it_has(inner: bytes) -> None:
    """Whatever the enclosed message holds (nested parts, odd line endings, 8-bit, broken
    syntax), the attachment's content is exactly those bytes."""
    (attached,) = msg(wrapped(inner)).attachments
    assert attached.content == inner


def test_unquoted_parameter_values_with_special_characters_are_read_whole() -> None:
    """Bare "boundary=----=_Part" and "filename==?utf-8?q?...?=" values run to the next ";",
    quoted values and RFC 2231 names are read as before, and headers show the same."""
    raw = (
        b"Content-Type: multipart/mixed; boundary=----=_Part_1;\r\n charset=us-ascii\r\n\r\n"
        b"------=_Part_1\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
        b"------=_Part_1\r\nContent-Type: text/plain; name==?utf-8?q?caf=C3=A9?= =?utf-8?q?.txt?=\r\n\r\na\r\n"
        b'------=_Part_1\r\nContent-Disposition: attachment; filename="a; b=c=d"\r\n\r\nb\r\n'
        b"------=_Part_1\r\nContent-Disposition: attachment; filename*=utf-8''x%3Dy.txt\r\n\r\nc\r\n"
        b"------=_Part_1\r\nContent-Disposition: attachment; filename=dir/a,b.txt; size=1\r\n\r\nd\r\n"
        b"------=_Part_1--\r\n"
    )
    m = msg(raw)
    assert m.text == "body"
    assert [a.filename for a in m.attachments] == ["café.txt", "a; b=c=d", "x=y.txt", "dir/a,b.txt"]
    assert m.headers["content-type"] == 'multipart/mixed; boundary="----=_Part_1"; charset="us-ascii"'
    assert m.email.get_boundary() == "----=_Part_1"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_no_parsed_property_raises_on_arbitrary_bytes(raw: bytes) -> None:
    """Whatever the bytes, every parsed view returns a value."""
    read_all(msg(raw, ("a@example.com",)))


MIME_PIECES = st.sampled_from(
    [
        b"Content-Type: multipart/mixed; boundary=b\r\n",
        b"Content-Type: text/html; charset=x\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"Content-Disposition: attachment; filename*=utf-8''%FF%00\r\n",
        b'To: a@b, <<>>, "x\r\n',
        b"Subject: =?utf-8?b?w6k=?= =?bogus?q?x?=\r\n",
        b"Content-Type: message/rfc822\r\n",
        b"\r\n",
        b"--b\r\n",
        b"--b--\r\n",
        b"=E9=\r\n",
        b"!!@@##\r\n",
        b"\xff\xfe\r\n",
        b"\n",
        b"\r",
        b'<a href="http://x.example/\xe9">',
        b"Content-ID: <\x00>\r\n",
        b"Subject  : x\r\n",
        b"From : y\r\n",
        b"QUJDRA==\r\nRUZH\r\n",
        b"Content-Type: multipart/mixed; boundary==_b=\r\n",
        b"--=_b=\r\n",
        b"Content-Disposition: attachment; filename==?utf-8?q?x=?=\r\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(MIME_PIECES, max_size=40).map(b"".join))
def test_no_parsed_property_raises_on_mime_shaped_garbage(raw: bytes) -> None:
    """MIME-shaped garbage (boundaries, encodings, bad params) never makes a view raise."""
    m = msg(raw)
    values = read_all(m)
    assert m.raw == raw
    assert isinstance(values["defects"], list)
