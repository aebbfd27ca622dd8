"""Message: immutable, raw bytes as the source of truth, cheap protocol flags."""

from __future__ import annotations

import pytest

from mocksmtp import Message


def msg(raw: bytes) -> Message:
    return Message(id="1", raw=raw, mail_from="a@example.com", rcpt_tos=["b@example.com"])


def test_is_immutable() -> None:
    """Setting or deleting an attribute raises AttributeError."""
    m = msg(b"x")
    with pytest.raises(AttributeError, match="immutable"):
        m.raw = b"y"
    with pytest.raises(AttributeError, match="immutable"):
        del m.mail_from


@pytest.mark.parametrize(
    ("raw", "flags"),
    [
        (b"a\r\nb\r\n", set()),
        (b"a\nb\r\n", {"bare_lf"}),
        (b"a\rb\r\n", {"bare_cr"}),
        (b"x" * 998 + b"\r\n", set()),
        (b"x" * 999 + b"\r\n", {"long_line"}),
        (b"a\x00b\r\n", {"nul"}),
        (b"caf\xc3\xa9\r\n", {"8bit"}),
    ],
)
def test_flags_name_protocol_oddities(raw: bytes, flags: set[str]) -> None:
    """flags reports bare LF, bare CR, lines over 998 octets, NUL and 8-bit octets."""
    assert msg(raw).flags == flags


def test_data_decodes_without_losing_line_endings() -> None:
    """data is raw as text: CRLF kept, undecodable bytes replaced, raw untouched."""
    m = msg(b"Subject: x\r\n\r\n\xff\r\n")
    assert m.data == "Subject: x\r\n\r\n\ufffd\r\n"
    assert m.raw == b"Subject: x\r\n\r\n\xff\r\n"
    assert m.size == 17


def test_the_engine_s_constructor_makes_the_same_immutable_message() -> None:
    """_new_message (the engine's fast way) gives what Message(...) gives, just as sealed."""
    from mocksmtp.message import _new_message

    fields = {
        "id": "X-1",
        "raw": b"Subject: hi\r\n\r\nbody\r\n",
        "mail_from": "a@example.com",
        "rcpt_tos": ("b@example.com",),
        "mail_options": ("SIZE=20",),
        "peer": ("127.0.0.1", 9),
        "helo": "client",
        "tls": "TLSv1.3",
        "auth_user": "alice",
    }
    fast = _new_message(**fields)  # type: ignore[arg-type]
    slow = Message(**fields)  # type: ignore[arg-type]
    assert type(fast) is Message
    for name in (
        "id",
        "raw",
        "mail_from",
        "rcpt_tos",
        "mail_options",
        "peer",
        "helo",
        "tls",
        "auth_user",
        "subject",
        "text",
    ):
        assert getattr(fast, name) == getattr(slow, name), name
    assert fast.received_at.tzinfo is not None
    with pytest.raises(AttributeError, match="immutable"):
        fast.raw = b"y"


def test_received_at_is_the_moment_of_acceptance_made_a_datetime_on_first_read() -> None:
    """The engine notes time.time() (cheap); received_at turns it into an aware UTC datetime
    the first time it is read, and returns that same object ever after."""
    import time
    from datetime import datetime, timezone

    from mocksmtp.message import _new_message

    before = datetime.now(timezone.utc)
    m = _new_message("1", b"x", "a@example.com", ("b@example.com",), (), ("127.0.0.1", 1), "c", None, None)
    after = datetime.fromtimestamp(time.time(), timezone.utc)
    first = m.received_at
    assert first.tzinfo is timezone.utc
    assert before <= first <= after
    assert m.received_at is first
    given = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert Message(id="2", raw=b"x", mail_from="", rcpt_tos=["b@c"], received_at=given).received_at is given


def test_copies_are_the_message_and_pickling_round_trips() -> None:
    """copy and deepcopy return the (immutable) message itself; pickle rebuilds an equal one
    with the same envelope and time, whose parsed views work."""
    import copy
    import pickle

    m = Message(
        id="X-7",
        raw=b"Subject: kept\r\n\r\nbody\r\n",
        mail_from="a@example.com",
        rcpt_tos=["b@example.com"],
        mail_options=["SIZE=20"],
        peer=("::1", 25),
        helo="client",
        tls="TLSv1.3",
        auth_user="alice",
    )
    assert m.subject == "kept"  # a parsed view is cached before the copies
    assert copy.copy(m) is m
    assert copy.deepcopy([m])[0] is m
    back = pickle.loads(pickle.dumps(m))
    assert back == m
    assert back is not m
    for name in (
        "mail_from",
        "rcpt_tos",
        "mail_options",
        "peer",
        "helo",
        "received_at",
        "tls",
        "auth_user",
        "subject",
        "text",
    ):
        assert getattr(back, name) == getattr(m, name), name
