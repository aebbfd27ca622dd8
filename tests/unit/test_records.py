"""A message as a JSON record and back: nothing of the message or its envelope is lost."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from mocksmtp import Message, MockSMTPError
from mocksmtp.message import _new_message
from mocksmtp.records import from_record, record


def test_round_trip_keeps_bytes_envelope_time_and_engine_flags() -> None:
    """Every field survives JSON, including the flags only the engine saw and the microseconds."""
    raw = b"Subject: caf\xc3\xa9\r\nTo: b@example.com\r\n\r\nline\nbare\x00\r\n"
    m = _new_message(
        "01ABC", raw, "", ("b@example.com", "C@example.com"), ("SIZE=40",), ("::1", 2525), "box", "TLSv1.3", "ann",
        frozenset({"unstuffed_dot"}),
    )  # fmt: skip
    again = from_record(json.loads(json.dumps(record(m))))
    assert again == m
    fields = ("id", "raw", "mail_from", "rcpt_tos", "mail_options", "peer", "helo", "received_at", "tls", "auth_user")
    assert [getattr(again, f) for f in fields] == [getattr(m, f) for f in fields]
    assert again.flags == m.flags == {"unstuffed_dot", "bare_lf", "nul", "8bit"}
    assert again.subject == "café"


def test_received_at_is_exact() -> None:
    """The arrival time keeps its microseconds and its zone (UTC)."""
    at = datetime(2026, 12, 6, 1, 2, 3, 456789, tzinfo=timezone.utc)
    m = Message(id="1", raw=b"x", mail_from="a@x.org", rcpt_tos=["b@x.org"], received_at=at)
    assert from_record(record(m)).received_at == at


@pytest.mark.parametrize(
    "broken",
    [{}, {"id": "1"}, {**record(Message(id="1", raw=b"x", mail_from="", rcpt_tos=())), "raw": "not base64!"}],
)
def test_a_record_that_is_not_one_is_an_error(broken: dict[str, object]) -> None:
    """Anything else is a MockSMTPError saying so, not a KeyError."""
    with pytest.raises(MockSMTPError, match="not a message record"):
        from_record(broken)
