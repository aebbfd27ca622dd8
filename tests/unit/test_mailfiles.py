"""Mail on disk (mocksmtp.store.mailfiles): mboxrd quoting and splitting undone exactly, mbox
From lines, Maildir flags, the envelope read from headers, and the command line's progress bar."""

from __future__ import annotations

import io
from datetime import datetime, timezone

from hypothesis import example, given
from hypothesis import strategies as st

from mocksmtp.cli_transfer import ProgressBar
from mocksmtp.store.mailfiles import (
    envelope_from_headers,
    from_line,
    maildir_read_flag,
    mbox_quote,
    mbox_unquote,
    parse_from_line,
    scan_mbox,
)

# Bytes rich in what mbox files trip over: From lines, quoting, both line endings, no newline.
PIECES = st.sampled_from(
    [b"From ", b">From ", b">>From ", b">", b"From", b"\r\n", b"\n", b"\r", b"x", b"\xff", b" ", b"Subject: s", b""]
)
RAW = st.lists(PIECES, max_size=30).map(b"".join)


def build_mbox(raws: list[bytes]) -> bytes:
    """An mbox as the module docstring says it is written: each message followed by a newline."""
    return b"".join(from_line("a@example.com", 0) + mbox_quote(raw) + b"\n" for raw in raws)


@given(RAW)
@example(b"From me\n>From you\n>>From them")
def test_unquote_undoes_quote(raw: bytes) -> None:
    """Quoting From lines the mboxrd way is undone exactly, whatever the line endings."""
    assert mbox_unquote(mbox_quote(raw)) == raw
    assert b"\nFrom " not in mbox_quote(raw)
    assert not mbox_quote(raw).startswith(b"From ")


@given(st.lists(RAW, min_size=1, max_size=6))
@example([b"no final newline", b"", b"ends\r\n", b"ends\n\n", b"bare cr\r"])
def test_an_mbox_splits_back_into_the_raw_messages(raws: list[bytes]) -> None:
    """Messages written one after another come back byte for byte, with or without a final
    newline, empty ones included."""
    data = build_mbox(raws)
    assert [mbox_unquote(data[e.start : e.end]) for e in scan_mbox(data)] == raws


def test_an_mbox_of_other_programs_is_read_as_they_read_it() -> None:
    """A blank line after each message (Postfix, Python's mailbox) separates; a CRLF file's
    separator is CRLF."""
    data = (
        b"From a Sat Jan  1 00:00:00 2000\nSubject: 1\n\nbody\n\n"
        b"From b Sat Jan  1 00:00:00 2000\nSubject: 2\n\nlast\n\n"
    )
    assert [data[e.start : e.end] for e in scan_mbox(data)] == [b"Subject: 1\n\nbody\n", b"Subject: 2\n\nlast\n"]
    crlf = data.replace(b"\n", b"\r\n")
    entries = list(scan_mbox(crlf))
    assert [crlf[e.start : e.end] for e in entries] == [b"Subject: 1\r\n\r\nbody\r\n", b"Subject: 2\r\n\r\nlast\r\n"]
    assert entries[1].from_line == b"From b Sat Jan  1 00:00:00 2000"


def test_from_lines_carry_the_sender_and_the_arrival_time() -> None:
    """The null sender is MAILER-DAEMON; the time is asctime in UTC, read back to the second."""
    when = datetime(2026, 12, 5, 12, 35, 46, tzinfo=timezone.utc).timestamp()
    assert from_line("", when) == b"From MAILER-DAEMON Sat Dec  5 12:35:46 2026\n"
    assert parse_from_line(from_line("", when)[:-1]) == ("", when)
    assert parse_from_line(b"From app@example.com Sat Dec  5 12:35:46 2026 remote from x") == ("app@example.com", when)
    assert parse_from_line(b"From app@example.com Sat, 05 Dec 2026 12:35:46 +0000") == ("app@example.com", when)
    assert parse_from_line(b"From app@example.com someday") == ("app@example.com", None)


def test_maildir_names_say_whether_a_message_was_seen() -> None:
    """The S flag after :2, means read; other flags and names without info do not."""
    assert maildir_read_flag("1733.abc.host:2,S")
    assert maildir_read_flag("1733.abc.host:2,FRS")
    assert not maildir_read_flag("1733.abc.host:2,F")
    assert not maildir_read_flag("1733.abc.host")


def test_the_envelope_of_mail_without_one_comes_from_its_headers() -> None:
    """Sender: the mbox line, else Return-Path, else From. Recipients: X-Original-To, else
    Delivered-To, else To, Cc and Bcc. Arrival: the given time, else Date."""
    raw = (
        b"Return-Path: <bounce@example.com>\r\nFrom: Ann <ann@example.com>\r\n"
        b"To: b@example.com, c@example.com\r\nCc: d@example.com\r\nBcc: e@example.com, b@example.com\r\n"
        b"Date: Sat, 05 Dec 2026 12:35:46 +0000\r\n\r\nhi\r\n"
    )
    envelope = envelope_from_headers(raw, mail_from=None, received=None)
    assert envelope.mail_from == "bounce@example.com"
    assert envelope.rcpt_tos == ("b@example.com", "c@example.com", "d@example.com", "e@example.com")
    assert envelope.received == datetime(2026, 12, 5, 12, 35, 46, tzinfo=timezone.utc).timestamp()
    no_return_path = raw.replace(b"Return-Path: <bounce@example.com>\r\n", b"")
    assert envelope_from_headers(no_return_path, mail_from=None, received=1.0).mail_from == "ann@example.com"
    assert envelope_from_headers(raw, mail_from="", received=1.0).mail_from == ""
    delivered = b"Delivered-To: x@example.com\r\nDelivered-To: y@example.com\r\n" + raw
    assert envelope_from_headers(delivered, mail_from=None, received=1.0).rcpt_tos == ("x@example.com",)
    original = b"X-Original-To: <o@example.com>\r\n" + delivered
    assert envelope_from_headers(original, mail_from=None, received=1.0).rcpt_tos == ("o@example.com",)


def test_the_progress_bar_draws_at_most_ten_times_a_second() -> None:
    """On the fake clock: the first and last frames always, others only 0.1 s apart; clear()
    erases the line."""
    now = [0.0]
    stream = io.StringIO()
    bar = ProgressBar("exporting", stream, clock=lambda: now[0])
    bar(0, 1000)
    for done in range(1, 1000):
        now[0] += 0.001  # 1,000 messages a second: about one frame in a hundred calls
        bar(done, 1000)
    bar(1000, 1000)
    frames = stream.getvalue().split("\r")[1:]
    assert 10 <= len(frames) <= 12, len(frames)
    assert frames[-1].startswith("exporting [########################] 1,000/1,000  100%")
    assert "msg/s" in frames[-1]
    bar.clear()
    assert stream.getvalue().endswith("\r\x1b[K")
