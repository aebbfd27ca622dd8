"""The real-world-shaped corpus in tests/data, sent over smtplib: every field parses right and
the raw bytes are still exactly what was sent."""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mocksmtp import Message, MockSMTPServer

DATA = Path(__file__).parent.parent / "data"


def send(server: MockSMTPServer, name: str, rcpt_tos: list[str]) -> Message:
    raw = (DATA / name).read_bytes()
    with smtplib.SMTP(server.host, server.port) as client:
        utf8 = not all(r.isascii() for r in rcpt_tos)
        client.sendmail("sender@example.com", rcpt_tos, raw, mail_options=["SMTPUTF8"] if utf8 else [])
    (message,) = server.messages
    assert message.raw == raw
    return message


def test_multipart_alternative_with_inline_image_and_attachments(server: MockSMTPServer) -> None:
    """Bodies, inline image, attachments, addresses and links of a shop notification."""
    m = send(
        server,
        "alternative-inline-image.eml",
        ["ann@example.com", "BOB@example.com", "accounts@example.com", "audit@example.com"],
    )
    assert m.subject == "Your order #1042 has shipped"
    assert m.from_ == "Orders@shop.example"
    assert m.addresses("from") == [("Example Shop", "Orders@shop.example")]
    assert m.to == ["ann@example.com", "bob@example.com"]
    assert m.addresses("to")[0].name == "Ann Smith"
    assert m.cc == ["accounts@example.com"]
    assert m.bcc == ["audit@example.com"]
    assert m.reply_to == ["support@shop.example"]
    assert m.date == datetime(2024, 6, 4, 9, 15, 1, tzinfo=timezone.utc)
    assert m.message_id == "<20240604091501.1042@shop.example>"
    assert m.headers["x-mailer"] == "ShopMailer 3.2"
    assert len(m.headers.get_all("Received")) == 1
    assert m.text is not None
    assert "https://shop.example/track?o=1042&k=ab12." in m.text
    assert m.html is not None
    assert m.html.startswith('<html><body><img src="cid:logo-1042@shop.example"')
    logo, invoice, items = m.attachments
    assert (logo.filename, logo.content_type, logo.content_id, logo.inline) == (
        "logo.png",
        "image/png",
        "logo-1042@shop.example",
        True,
    )
    assert logo.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert logo.size == len(logo.content)
    assert f"cid:{logo.content_id}" in m.html
    assert (invoice.filename, invoice.content_type, invoice.inline) == ("invoice-1042.pdf", "application/pdf", False)
    assert invoice.content.startswith(b"%PDF-1.4")
    assert items.content.decode() == "name,city\nJürgen,Zürich\n"
    assert m.links == ["https://shop.example/track?o=1042&k=ab12", "https://shop.example/unsubscribe"]
    assert m.defects == []


def test_rfc2047_and_rfc2231_encoded_subject_names_and_filenames(server: MockSMTPServer) -> None:
    """Encoded words in subject and names, and RFC 2231 (continued) file names, decode."""
    m = send(server, "encoded-words.eml", ["francoise@example.fr"])
    assert m.subject == "Résumé: 東京オフィスの会議 🎉 — agenda and minutes attached"
    assert m.addresses("from") == [("Björn Åström", "bjorn@example.se")]
    assert m.addresses("to") == [("Françoise", "francoise@example.fr")]
    assert m.date == datetime(2024, 6, 5, 14, 2, 33, tzinfo=timezone(timedelta(hours=9)))
    assert m.text == "Hej Françoise, se bilagorna. 会議は金曜日です。\n"
    assert [a.filename for a in m.attachments] == ["Résumé 東京.docx", "議事録.pdf", "über sehr lange Dateinamen ü.txt"]
    assert m.attachments[2].content == "über".encode()
    assert m.bcc == []


def test_legacy_charsets_decode_in_headers_and_bodies(server: MockSMTPServer) -> None:
    """ISO-2022-JP, windows-1252 and ISO-8859-1 headers and bodies come out as text."""
    m = send(server, "legacy-charsets.eml", ["kunden@example.de"])
    assert m.subject == "会議の件 / € Preisübersicht"
    assert m.addresses("from")[0].name == "Jürgen Müller"
    assert m.text == "Grüße aus München! Preis: 10 ¤"
    assert m.html == "<p>Grüße aus München! Preis: 10 €</p>"
    assert m.attachments == []


def test_nested_message_is_one_attachment(server: MockSMTPServer) -> None:
    """A forwarded message/rfc822 is one attachment whose content parses as a message."""
    m = send(server, "nested-rfc822.eml", ["dave@example.org"])
    assert m.text == "See the forwarded message below."
    (forwarded,) = m.attachments
    assert forwarded.content_type == "message/rfc822"
    inner = Message(id="inner", raw=forwarded.content, mail_from="", rcpt_tos=[])
    assert inner.subject == "Quarterly numbers"
    assert inner.from_ == "erin@example.org"
    assert inner.text == "Numbers attached."
    assert [a.filename for a in inner.attachments] == ["q2.csv"]


def test_broken_boundary_keeps_what_can_be_read(server: MockSMTPServer) -> None:
    """A missing closing boundary and bad base64 are defects, not errors; the rest is read."""
    m = send(server, "broken-boundary.eml", ["qa@example.net"])
    assert m.subject == "Broken boundary"
    assert m.text is not None
    assert m.text.startswith("The closing boundary of this message is missing,")
    assert "--abcdef" in m.text  # a longer boundary is not ours
    (data,) = m.attachments
    assert data.filename == "data.bin"
    assert data.content.startswith(b"\x00\x01\x02\x03\x04\x05")
    assert "CloseBoundaryNotFoundDefect" in m.defects
    assert any("Base64" in d for d in m.defects)


def test_undeclared_8bit_is_read_as_utf8_and_flagged(server: MockSMTPServer) -> None:
    """Raw UTF-8 without MIME headers decodes as UTF-8 everywhere, and is flagged."""
    m = send(server, "undeclared-8bit.eml", ["naïve@example.com"])
    assert m.subject == "Café crème, déjà vu"
    assert m.addresses("from") == [("Zoë Ångström", "zoe@example.com")]
    assert m.to == ["naïve@example.com"]
    assert m.bcc == []
    assert m.text == "Bonjour! Café crème à 3 €.\nVisit http://example.com/menu?item=crème.\n"
    assert m.links == ["http://example.com/menu?item=crème"]
    assert "8bit" in m.defects
    assert any("without a charset" in d for d in m.defects)


def test_obsolete_white_space_before_the_colon_keeps_every_header(server: MockSMTPServer) -> None:
    """ "Subject     : Hello" (RFC 5322 obs-optional) is the header Subject, in parts too, and
    every header after it is kept; the obsolete syntax is a defect."""
    m = send(server, "obsolete-header-syntax.eml", ["modern@example.org"])
    assert m.subject == "Hello"
    assert m.addresses("from") == [("Old Mailer", "old@example.net")]
    assert m.date == datetime(2000, 1, 3, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert m.to == ["modern@example.org"]
    assert m.message_id == "<y2k.1@example.net>"
    assert list(m.headers) == [
        "Received",
        "From",
        "Date",
        "Subject",
        "To",
        "Message-ID",
        "X-Mailer",
        "MIME-Version",
        "Content-Type",
    ]
    assert m.text == "Happy new year."
    (notes,) = m.attachments
    assert (notes.filename, notes.content, notes.disposition) == ("notes.txt", b"No bugs today.", "attachment")
    assert "ObsoleteHeaderDefect" in m.defects


def test_base64_decoding_stops_at_the_padding(server: MockSMTPServer) -> None:
    """Base64 that goes on after its padding decodes up to the padding, in a text body and in
    an attachment, and the defect says so."""
    m = send(server, "base64-after-padding.eml", ["qa@example.com"])
    assert m.text == "Hello, world!"
    (scan,) = m.attachments
    assert scan.content == b"ABCD"
    assert "mocksmtp: base64 data after the padding; decoded up to the padding" in m.defects


def test_an_attached_message_is_its_bytes_as_sent(server: MockSMTPServer) -> None:
    """A message/rfc822 attachment's content is exactly the enclosed bytes that were sent (its
    spacing, folding and 8-bit headers untouched), also when it was sent base64-encoded."""
    m = send(server, "forwarded-as-sent.eml", ["dave@example.org"])
    raw = (DATA / "forwarded-as-sent.eml").read_bytes()
    start = raw.index(b"Date:  Thu")
    enclosed = raw[start : raw.index(b"\r\n--outer", start)]
    as_sent, base64_encoded = m.attachments
    assert (as_sent.content_type, base64_encoded.content_type) == ("message/rfc822", "message/rfc822")
    assert as_sent.content == enclosed
    assert base64_encoded.content == enclosed
    inner = Message(id="inner", raw=as_sent.content, mail_from="", rcpt_tos=[])
    assert inner.subject.startswith("Café numbers")
    assert inner.text == "Numbers attached.  Trailing spaces stay.  \n.\n"


def test_unquoted_parameters_with_special_characters(server: MockSMTPServer) -> None:
    """Outlook's unquoted "boundary=----=_NextPart_..." and unquoted encoded-word file names
    ("filename==?UTF-8?B?...?=", "name==?utf-8?Q?...?=") are read like mainstream readers do."""
    m = send(server, "outlook-nextpart.eml", ["bob@example.org"])
    assert m.text == "Hi Bob, the report is attached.\n"
    assert m.html is not None
    assert m.html.startswith('<html><body><p>Hi Bob, the <a href="https://intranet.example.com/q2">')
    assert m.links == ["https://intranet.example.com/q2"]
    report, figures = m.attachments
    assert (report.filename, report.content_type, report.content) == ("Résumé Q2.pdf", "application/pdf", b"%PDF-1.4\n")
    assert (figures.filename, figures.content_type, figures.content) == ("Zahlen übersicht.csv", "text/csv", b"a,b\r\n")
    assert m.defects == []


@pytest.mark.parametrize("path", sorted(DATA.glob("*.eml")), ids=lambda p: p.name)
def test_corpus_as_dict_keeps_the_seed_keys(server: MockSMTPServer, path: Path) -> None:
    """Every corpus message still gives the seed's dictionary, with data decoded from raw."""
    m = send(server, path.name, ["someone@example.com"])
    d = m.as_dict()
    assert {"peer", "mail_from", "rcpt_tos", "data"} <= set(d)
    assert d["data"] == path.read_bytes().decode("utf-8", "replace")
