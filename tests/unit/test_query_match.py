"""Matching a Query against a SearchRecord or a Message: every operator, its negation, the
exact-address rule."""

from __future__ import annotations

import dataclasses
import doctest
from datetime import datetime, timezone

import pytest

import mocksmtp.query_match
from mocksmtp import Message
from mocksmtp.query import parse_query
from mocksmtp.query_match import SearchRecord, matches, searchable

UTC = timezone.utc

RECORD = SearchRecord(
    subject="Your order #42 has shipped",
    from_=(("Ann Lee", "ann@example.com"),),
    to=(("", "A@Example.com"), ("Bob Stone", "bob@example.org")),
    cc=(("Carol", "carol@example.net"),),
    bcc=(("", "dave@example.com"),),
    reply_to=(("Support", "help@example.com"),),
    message_id="order-42@shop.example",
    text="Hello Ann,\n\nyour   parcel is on\nits way.",
    tags=frozenset({"Shop", "beta"}),
    read=True,
    attachments=1,
    inline=0,
    size=2048,
    received_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
)


def hits(text: str, record: SearchRecord = RECORD) -> bool:
    return matches(parse_query(text), record)


def test_the_empty_query_matches_everything() -> None:
    """No terms, no conditions."""
    assert hits("")
    assert hits("", SearchRecord())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # a whole address: exact, ignoring case, in the field named
        ("to:a@example.com", True),
        ("to:A@EXAMPLE.COM", True),
        ("to:ba@example.com", False),
        ("to:a@example.co", False),
        ("from:ann@example.com", True),
        ("from:nn@example.com", False),
        ("cc:carol@example.net", True),
        ("bcc:dave@example.com", True),
        ("reply-to:help@example.com", True),
        ("to:carol@example.net", False),
        ("cc:a@example.com", False),
        # anything else: a substring of an address or a display name
        ("to:example.com", True),
        ("to:bob", True),
        ("to:STONE", True),
        ("to:@example.org", True),
        ("to:ann", False),
        ('from:"Ann Lee"', True),
        ('from:"ann  lee"', True),
        ("from:lee", True),
        ("cc:carol", True),
        ("bcc:dave", True),
        ("reply-to:support", True),
        ("reply-to:bob", False),
        # addressed: any of from, to, cc, bcc, reply-to
        ("addressed:dave@example.com", True),
        ("addressed:help@example.com", True),
        ("addressed:ann@example.com", True),
        ("addressed:support", True),
        ("addressed:zed", False),
        ("addressed:nn@example.com", False),
    ],
)
def test_address_terms(query: str, expected: bool) -> None:
    """to:a@example.com matches A@Example.com and never ba@example.com; partial values are substrings."""
    assert hits(query) is expected
    assert hits("-" + query) is not expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # bare words and phrases: subject, addresses, names, text; case and spacing ignored
        ("shipped", True),
        ("ORDER", True),
        ("parcel", True),
        ('"your parcel is on its way"', True),
        ("bob@example.org", True),
        ("Stone", True),
        ("Support", True),
        ("dave", True),
        ("missing", False),
        ('"hello bob"', False),
        # subject: and message-id: are substrings of those only
        ("subject:order", True),
        ('subject:"#42 HAS"', True),
        ("subject:parcel", False),
        ("message-id:order-42", True),
        ("message-id:ORDER-42@shop.example", True),
        ("message-id:x@y", False),
        # tags: a whole tag name, ignoring case
        ("tag:shop", True),
        ("tag:BETA", True),
        ("tag:sho", False),
        ("is:tagged", True),
        # flags
        ("is:read", True),
        ("is:unread", False),
        ("has:attachment", True),
        ("has:inline", False),
        # sizes: strictly larger / smaller
        ("larger:2047", True),
        ("larger:2048", False),
        ("larger:1K", True),
        ("larger:2K", False),
        ("smaller:2049", True),
        ("smaller:2048", False),
        ("smaller:2K", False),
        ("smaller:1M", True),
        # dates: after is from that instant on, before is strictly earlier
        ("after:2024-05-01", True),
        ("after:2024-05-01T12:00Z", True),
        ("after:2024-05-01T12:00:00.000001Z", False),
        ("before:2024-05-02", True),
        ("before:2024-05-01T12:00Z", False),
        ("before:2024-05-01", False),
    ],
)
def test_each_operator_and_its_negation(query: str, expected: bool) -> None:
    """Each term matches as documented, and its negation is exactly the opposite."""
    assert hits(query) is expected
    assert hits("!" + query) is not expected


def test_every_term_must_match() -> None:
    """Terms combine with AND; a negated term excludes."""
    assert hits("to:bob is:read larger:1K -tag:nope")
    assert not hits("to:bob is:unread")
    assert not hits("to:bob -shipped")


def test_untagged_unread_records_without_parts() -> None:
    """The flags read the record: no tags, unread, no attachments, an inline part."""
    record = dataclasses.replace(RECORD, tags=frozenset(), read=False, attachments=0, inline=2)
    assert hits("is:unread has:inline -is:tagged -has:attachment -is:read", record)
    assert not hits("tag:shop", record)


def test_after_and_before_the_same_instant_split_time() -> None:
    """after:X and before:X never both match, and one always does."""
    for at in ("2024-05-01T11:59:59Z", "2024-05-01T12:00:00Z", "2024-05-01T12:00:01Z"):
        assert hits(f"after:{at}") is not hits(f"before:{at}")


def test_tz_moves_a_date_only_value() -> None:
    """after:2024-05-01 in Pacific/Auckland (UTC+12) starts on 30 April, 12:00 UTC."""
    record = dataclasses.replace(RECORD, received_at=datetime(2024, 4, 30, 13, 0, tzinfo=UTC))
    assert matches(parse_query("after:2024-05-01", tz="Pacific/Auckland"), record)
    assert not matches(parse_query("after:2024-05-01"), record)


RAW = (
    b"From: Ann Lee <Ann@Example.COM>\r\n"
    b"To: a@example.com, Bob Stone <bob@example.org>\r\n"
    b"Cc: =?utf-8?q?J=C3=B6rg?= <joerg@example.net>\r\n"
    b"Reply-To: Support <help@example.com>\r\n"
    b"Subject: Your invoice\r\n"
    b"Message-ID: <inv-7@billing.example>\r\n"
    b"Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
    b"--outer\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n"
    b"--alt\r\nContent-Type: text/plain\r\n\r\nPlain words here.\r\n"
    b"--alt\r\nContent-Type: text/html\r\n\r\n<html><head><style>.secretstyle{}</style></head>"
    b"<body><p>Rich&nbsp;<b>text</b> &amp; more</p><script>hiddenscript()</script></body></html>\r\n"
    b"--alt--\r\n"
    b"--outer\r\nContent-Type: application/pdf\r\n"
    b'Content-Disposition: attachment; filename="invoice-7.pdf"\r\n\r\n%PDF\r\n'
    b"--outer\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n\r\nPNG\r\n"
    b"--outer--\r\n"
)
MESSAGE = Message(
    id="Q-1",
    raw=RAW,
    mail_from="bounce@example.com",
    rcpt_tos=("A@example.com", "bob@example.org", "joerg@example.net", "Hidden@Example.com"),
    received_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from:ann@example.com", True),
        ('from:"Ann Lee"', True),
        ("to:A@EXAMPLE.COM", True),
        ("to:ba@example.com", False),
        ("to:bob", True),
        ("cc:jörg", True),
        ("cc:joerg@example.net", True),
        ("reply-to:help@example.com", True),
        ("bcc:hidden@example.com", True),
        ("bcc:bob@example.org", False),
        ("bcc:a@example.com", False),
        ("addressed:hidden", True),
        ("subject:invoice", True),
        ("message-id:inv-7@billing.example", True),
        ("message-id:<inv-7", True),
        ("words", True),
        ('"rich text & more"', True),
        ("invoice-7.pdf", True),
        ("hiddenscript", False),
        ("secretstyle", False),
        ("jörg", True),
        ("has:attachment", True),
        ("has:inline", True),
        ("is:unread", True),
        ("is:tagged", False),
        (f"larger:{len(RAW) - 1}", True),
        (f"smaller:{len(RAW)}", False),
        ("after:2024-05-01T12:00Z", True),
        ("before:2024-05-01T12:00Z", False),
    ],
)
def test_messages_match_through_the_adapter(query: str, expected: bool) -> None:
    """A Message is searched by its headers, its text, the visible text of its HTML, its file
    names; envelope recipients in neither To nor Cc are its Bcc."""
    assert matches(parse_query(query), searchable(MESSAGE)) is expected


def test_the_adapter_reads_tags_and_read_from_the_store() -> None:
    """tags and read are not in the message: the caller gives them."""
    record = searchable(MESSAGE, tags=["Invoices"], read=True)
    assert matches(parse_query("tag:invoices is:tagged is:read"), record)
    assert (record.attachments, record.inline) == (1, 1)
    assert record.message_id == "inv-7@billing.example"


def test_a_message_with_only_html_is_searched_by_its_visible_text() -> None:
    """Tags are not words; entities are decoded."""
    message = Message(
        id="H", raw=b"Content-Type: text/html\r\n\r\n<p class=lead>Caf&eacute; open</p>\r\n", mail_from="", rcpt_tos=[]
    )
    assert matches(parse_query('"café open"'), searchable(message))
    assert not matches(parse_query("lead"), searchable(message))


def test_module_examples_run() -> None:
    """The docstring examples of mocksmtp.query_match are true."""
    assert doctest.testmod(mocksmtp.query_match).failed == 0
