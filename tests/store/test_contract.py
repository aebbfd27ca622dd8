"""The store contract: every MessageStore implementation passes these tests (see conftest)."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from mocksmtp import ConfigError, Message, MessageStore, StoreError
from mocksmtp.message import _unpickle
from mocksmtp.query import parse_query
from mocksmtp.store import (
    MessageAdded,
    MessagesDeleted,
    MessageState,
    MessagesUpdated,
    StoreCleared,
    StoreEvent,
    SupportsAddLater,
)


def make(
    store: MessageStore,
    subject: str = "hi",
    *,
    raw: bytes | None = None,
    received_at: datetime | None = None,
    mail_from: str = "app@example.com",
    rcpt_tos: tuple[str, ...] = ("ann@example.com",),
) -> Message:
    body = raw if raw is not None else f"Subject: {subject}\r\n\r\nbody\r\n".encode()
    message = Message(id=store.new_id(), raw=body, mail_from=mail_from, rcpt_tos=rcpt_tos, received_at=received_at)
    store.add(message)
    return message


def subjects(messages: list[Message]) -> list[str]:
    return [m.subject for m in messages]


def test_implements_the_protocol(store: MessageStore) -> None:
    """Every store is a MessageStore (runtime check of the protocol's members)."""
    assert isinstance(store, MessageStore)


def test_added_messages_are_read_back_in_arrival_order(store: MessageStore) -> None:
    """add() then messages(), get() and count() see every message at once, oldest first."""
    first, second = make(store, "one"), make(store, "two")
    assert store.messages() == [first, second]
    assert store.get(second.id) == second
    assert store.get("no-such-id") is None
    assert store.count() == 2


def test_add_later_says_stored_once_the_message_is_readable(store: MessageStore) -> None:
    """add_later() calls done(None) exactly once per message, in the order given, each when
    the message is readable, the version has moved and subscribers were told."""
    assert isinstance(store, SupportsAddLater)
    told: list[str] = []
    store.subscribe(lambda event: told.append(event.message.id) if isinstance(event, MessageAdded) else None)
    answers: queue.Queue[tuple[str, BaseException | None, bool, int, bool]] = queue.Queue()
    sent = [
        Message(id=store.new_id(), raw=f"Subject: {i}\r\n\r\n".encode(), mail_from="", rcpt_tos=["a@x.org"])
        for i in range(5)
    ]

    def answer(m: Message) -> Callable[[BaseException | None], None]:
        return lambda error: answers.put((m.id, error, store.get(m.id) == m, store.version, m.id in told))

    for m in sent:
        store.add_later(m, answer(m))
    got = [answers.get(timeout=10) for _ in sent]
    assert [(id, error, readable, was_told) for id, error, readable, _, was_told in got] == [
        (m.id, None, True, True) for m in sent
    ]
    assert all(version >= n for n, (*_, version, _) in enumerate(got, 1))
    assert store.messages() == sent
    assert answers.empty()


def test_add_later_after_close_says_why_not(store: MessageStore) -> None:
    """add_later() on a closed store that cannot take it calls done(error) and stores
    nothing; one that still can (memory) stores it."""
    store.close()
    answers: queue.Queue[BaseException | None] = queue.Queue()
    m = Message(id=store.new_id(), raw=b"Subject: late\r\n\r\n", mail_from="", rcpt_tos=["a@x.org"])
    assert isinstance(store, SupportsAddLater)
    store.add_later(m, answers.put)
    error = answers.get(timeout=10)
    if error is not None:
        assert isinstance(error, StoreError)
        assert "was closed" in str(error)
    else:
        assert store.get(m.id) == m


def test_ids_are_unique_and_sort_by_arrival(store: MessageStore) -> None:
    """new_id() never repeats and its ids sort in the order they were made."""
    ids = [store.new_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert ids == sorted(ids)


def test_raw_bytes_and_envelope_come_back_exactly(store: MessageStore) -> None:
    """Raw bytes (NUL, 8-bit, bare LF), the null sender, recipients in order, parameters,
    peer, HELO, TLS, user and arrival time are kept exactly."""
    raw = b"Subject: \xff\x00odd\n\r\n..\r\nline\r"
    at = datetime(2024, 5, 1, 9, 30, 15, 250000, tzinfo=timezone.utc)
    m = Message(
        id=store.new_id(),
        raw=raw,
        mail_from="",
        rcpt_tos=["B@x.org", "a@x.org"],
        mail_options=["SIZE=10", "BODY=8BITMIME"],
        peer=("127.0.0.1", 4242),
        helo="client.test",
        received_at=at,
        tls="TLSv1.3",
        auth_user="ann",
    )
    store.add(m)
    (back,) = store.messages()
    assert (back.id, back.raw, back.mail_from, back.rcpt_tos, back.mail_options) == (
        m.id,
        raw,
        "",
        ("B@x.org", "a@x.org"),
        ("SIZE=10", "BODY=8BITMIME"),
    )
    assert (back.peer, back.helo, back.tls, back.auth_user, back.received_at) == (
        ("127.0.0.1", 4242),
        "client.test",
        "TLSv1.3",
        "ann",
        at,
    )


def test_what_the_engine_saw_comes_back_with_the_message(store: MessageStore) -> None:
    """An engine flag the raw bytes cannot show (a line of one unstuffed dot) is kept."""
    raw = b"Subject: dot\r\n\r\noops\r\n"
    at = datetime(2024, 5, 1, tzinfo=timezone.utc)
    flags = frozenset({"unstuffed_dot"})
    m = _unpickle(store.new_id(), raw, "a@x.org", ("b@x.org",), (), ("::1", 25), "h", at, None, None, flags)
    store.add(m)
    plain = make(store, "plain")
    assert ["unstuffed_dot" in found.flags for found in store.messages()] == [True, False]
    assert "unstuffed_dot" in (store.get(m.id) or plain).flags


def test_pages_newest_or_oldest_first_with_offset_and_limit(store: MessageStore) -> None:
    """A page skips ``offset`` messages and holds at most ``limit``, in either order."""
    for i in range(5):
        make(store, f"m{i}")
    assert subjects(store.messages(offset=1, limit=2)) == ["m1", "m2"]
    assert subjects(store.messages(newest_first=True, limit=2)) == ["m4", "m3"]
    assert subjects(store.messages(newest_first=True, offset=4, limit=10)) == ["m0"]
    assert store.messages(offset=5) == []
    assert subjects(store.messages(parse_query("-subject:m2"), newest_first=True, offset=1, limit=2)) == ["m3", "m1"]
    with pytest.raises(ConfigError, match="offset must be an integer of at least 0"):
        store.messages(offset=-1)
    with pytest.raises(ConfigError, match="limit must be None or an integer"):
        store.messages(limit=-1)


def test_delete_by_ids_and_by_query(store: MessageStore) -> None:
    """delete() removes the given ids (skipping unknown ones), delete_matching() what a
    query finds; each returns how many went."""
    a, b, c, d = (make(store, s) for s in ("keep", "drop", "report", "report again"))
    assert store.delete([b.id, "unknown"]) == 1
    assert store.delete_matching(parse_query("subject:report")) == 2
    assert store.messages() == [a]
    assert store.delete([b.id]) == 0
    assert store.get(c.id) is None
    assert store.get(d.id) is None


def test_clear_deletes_everything(store: MessageStore) -> None:
    """clear() leaves an empty store that keeps working."""
    make(store)
    make(store)
    store.clear()
    assert store.count() == 0
    assert store.messages() == []
    fresh = make(store)
    assert store.messages() == [fresh]


def test_read_flags_and_tags_are_kept_and_searchable(store: MessageStore) -> None:
    """mark_read() and set_tags() change state(), and is:read, is:unread, is:tagged and tag:
    see it; set_tags replaces the tags."""
    a, b = make(store, "a"), make(store, "b")
    assert store.state(a.id) == MessageState(read=False, tags=())
    assert store.mark_read([a.id, "unknown"]) == 1
    assert store.set_tags([b.id], ["Signup", "urgent", "urgent"]) == 1
    assert store.state(a.id) == MessageState(read=True, tags=())
    assert store.state(b.id) == MessageState(read=False, tags=("Signup", "urgent"))
    assert store.state("unknown") is None
    assert subjects(store.messages(parse_query("is:read"))) == ["a"]
    assert subjects(store.messages(parse_query("is:unread"))) == ["b"]
    assert subjects(store.messages(parse_query("tag:signup"))) == ["b"]
    assert subjects(store.messages(parse_query("is:tagged"))) == ["b"]
    store.set_tags([b.id], ["other"])
    assert store.count(parse_query("tag:signup")) == 0
    store.mark_read([a.id], read=False)
    assert store.count(parse_query("is:read")) == 0
    with pytest.raises(ConfigError, match="tags must be a list"):
        store.set_tags([a.id], "urgent")
    with pytest.raises(ConfigError, match="without spaces"):
        store.set_tags([a.id], ["two words"])


def test_prune_deletes_the_oldest_beyond_the_limits(store: MessageStore) -> None:
    """prune(max_messages=) keeps the newest N; prune(max_age=) deletes what is older; both
    return how many went, and without limits nothing goes."""
    now = datetime.now(timezone.utc)
    old = make(store, "old", received_at=now - timedelta(days=8))
    for i in range(4):
        make(store, f"new{i}")
    assert store.prune() == 0
    assert store.prune(max_age=7 * 86400) == 1
    assert store.get(old.id) is None
    assert store.prune(max_messages=2) == 2
    assert subjects(store.messages()) == ["new2", "new3"]


def test_version_moves_with_every_change_and_never_with_a_read(store: MessageStore) -> None:
    """Each add, delete, clear, mark_read, set_tags and prune that changes something raises
    the version; reads and changes that change nothing leave it."""
    seen = [store.version]

    def moved() -> bool:
        seen.append(store.version)
        return seen[-1] > seen[-2]

    a = make(store)
    assert moved()
    store.messages(), store.count(), store.get(a.id), store.state(a.id)
    assert not moved()
    store.mark_read([a.id])
    assert moved()
    store.set_tags([a.id], ["x"])
    assert moved()
    store.delete(["unknown"])
    assert not moved()
    make(store)
    store.prune(max_messages=1)
    assert moved()
    store.delete_matching(parse_query(""))
    assert moved()
    store.clear()
    assert moved()


def test_subscribers_receive_typed_events_in_order(store: MessageStore) -> None:
    """Subscribers get MessageAdded, MessagesUpdated, MessagesDeleted (pruned or not) and
    StoreCleared, each with the version after the change; unsubscribed, nothing more."""
    events: list[StoreEvent] = []
    unsubscribe = store.subscribe(events.append)
    a, b = make(store), make(store)
    store.mark_read([a.id])
    store.set_tags([b.id], ["t"])
    store.delete([a.id])
    store.prune(max_messages=0)
    make(store)
    store.clear()
    unsubscribe()
    make(store)
    kinds = [type(e) for e in events]
    assert kinds == [
        MessageAdded,
        MessageAdded,
        MessagesUpdated,
        MessagesUpdated,
        MessagesDeleted,
        MessagesDeleted,
        MessageAdded,
        StoreCleared,
    ]
    assert events[0] == MessageAdded(a, events[0].version)
    assert events[4] == MessagesDeleted((a.id,), events[4].version, pruned=False)
    assert isinstance(events[5], MessagesDeleted)
    assert events[5].ids == (b.id,)
    assert events[5].pruned
    versions = [e.version for e in events]
    assert versions == sorted(set(versions))


def test_a_failing_subscriber_is_logged_and_the_change_stays(
    store: MessageStore, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception in a subscriber is logged; the message is stored all the same."""

    def broken(event: StoreEvent) -> None:
        raise RuntimeError("boom")

    store.subscribe(broken)
    with caplog.at_level(logging.ERROR, logger="mocksmtp.store"):
        m = make(store)
    assert store.messages() == [m]
    assert "subscriber" in caplog.text


# -- the search language, through each store ---------------------------------------------------

CORPUS = [
    (
        b"From: Ann Lee <ann@example.com>\r\nTo: Bob <bob@example.com>\r\nCc: ops@example.org\r\n"
        b"Reply-To: help@example.com\r\nSubject: Your order has shipped\r\nMessage-ID: <order-42@shop.example>\r\n"
        b"\r\nTracking number 1Z999.\r\n",
        ("bob@example.com", "hidden@example.net"),
    ),
    (
        b"From: noreply@example.com\r\nTo: ba@example.com\r\nSubject: Reset your password\r\n"
        b"Content-Type: text/html\r\n\r\n<p>Click <b>here</b> &amp; reset</p><script>secret()</script>\r\n",
        ("ba@example.com",),
    ),
    (
        b"From: Carl <carl@example.org>\r\nTo: a@example.com\r\nSubject: Invoice\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=invoice.pdf\r\n\r\n"
        b"%PDF\r\n--b--\r\n",
        ("a@example.com",),
    ),
    (
        b"From: news@example.org\r\nTo: A@Example.com\r\nSubject: Newsletter\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/related; boundary=r\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n"
        b"<img src=cid:logo>\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\n"
        b"Content-Disposition: inline\r\n\r\nPNG\r\n--r--\r\n" + b"x" * 2000 + b"\r\n",
        ("A@Example.com",),
    ),
]
SUBJECTS = ["Your order has shipped", "Reset your password", "Invoice", "Newsletter"]

SEARCHES = [
    ("", SUBJECTS),
    ("shipped", ["Your order has shipped"]),
    ('"YOUR password"', ["Reset your password"]),
    ("tracking", ["Your order has shipped"]),
    ("here", ["Reset your password"]),  # the visible text of an HTML body
    ("secret", []),  # never a script's
    ('"here & reset"', ["Reset your password"]),
    ("invoice.pdf", ["Invoice"]),  # attachment file names
    ("pdf", ["Invoice"]),  # three characters: the shortest a trigram index finds
    ("1z", ["Your order has shipped"]),  # shorter: read in full
    ('"number 1Z9"', ["Your order has shipped"]),
    ("shipped-", []),
    ("-shipped", ["Reset your password", "Invoice", "Newsletter"]),
    ("!shipped", ["Reset your password", "Invoice", "Newsletter"]),
    ("to:a@example.com", ["Invoice", "Newsletter"]),  # exact, ignoring case
    ("to:ba@example.com", ["Reset your password"]),  # never a@example.com's
    ("to:example.com", ["Your order has shipped", "Reset your password", "Invoice", "Newsletter"]),
    ("to:bob", ["Your order has shipped"]),
    ("-to:a@example.com", ["Your order has shipped", "Reset your password"]),
    ('from:"Ann Lee"', ["Your order has shipped"]),
    ("from:noreply@example.com", ["Reset your password"]),
    ("from:oreply@example.com", []),
    ("cc:ops@example.org", ["Your order has shipped"]),
    ("bcc:hidden@example.net", ["Your order has shipped"]),
    ("bcc:hidden", ["Your order has shipped"]),
    ("reply-to:help@example.com", ["Your order has shipped"]),
    ("addressed:carl@example.org", ["Invoice"]),
    ("addressed:example.org", ["Your order has shipped", "Invoice", "Newsletter"]),
    ("subject:your", ["Your order has shipped", "Reset your password"]),
    ('subject:"order has"', ["Your order has shipped"]),
    ("message-id:<order-42@shop.example>", ["Your order has shipped"]),
    ("message-id:order-42", ["Your order has shipped"]),
    ("has:attachment", ["Invoice"]),
    ("has:inline", ["Newsletter"]),
    ("larger:1K", ["Newsletter"]),
    ("smaller:1K", ["Your order has shipped", "Reset your password", "Invoice"]),
    ("after:2024-05-02", ["Invoice", "Newsletter"]),
    ("before:2024-05-02", ["Your order has shipped", "Reset your password"]),
    ("after:2024-05-01T12:00Z before:2024-05-02T12:00Z", ["Reset your password", "Invoice"]),
    ("is:unread", SUBJECTS),
    ("is:read", []),
    ("is:tagged", []),
    ("tag:x", []),
    ("to:example.com subject:your -has:attachment", ["Your order has shipped", "Reset your password"]),
]


@pytest.mark.parametrize(("text", "expected"), SEARCHES, ids=[q or "(empty)" for q, _ in SEARCHES])
def test_search_operators(store: MessageStore, text: str, expected: list[str]) -> None:
    """Every operator of the search language finds the same messages in every store,
    whole addresses exactly (``to:a@example.com`` never finds ``ba@example.com``)."""
    start = datetime(2024, 5, 1, 0, 0, tzinfo=timezone.utc)
    for i, (raw, rcpts) in enumerate(CORPUS):
        store.add(
            Message(
                id=store.new_id(),
                raw=raw,
                mail_from="app@example.com",
                rcpt_tos=rcpts,
                received_at=start + timedelta(hours=12 * i),
            )
        )
    query = parse_query(text)
    assert subjects(store.messages(query)) == expected
    assert store.count(query) == len(expected)


# -- summaries and cursors -----------------------------------------------------------------------

RICH = (
    b"From: =?utf-8?q?J=C3=B6rg?= <joerg@Example.com>\r\nTo: Ann Lee <ann@example.com>, bob@example.com\r\n"
    b"Cc: Ops <ops@example.org>\r\nReply-To: help@example.com\r\nSubject: =?utf-8?q?Caf=C3=A9?= menu\r\n"
    b"Date: Wed, 01 May 2024 09:30:00 +0200\r\nMessage-ID: <menu-1@cafe.example>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/related; boundary=r\r\n\r\n"
    b"--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Today:\r\n  <b>soup</b></p><style>p{}</style>"
    b"\xc3\xa9\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\n\r\nPNG\r\n--r--\r\n--b\r\n"
    b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=menu.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--b--\r\n"
)


def test_a_summary_carries_what_a_list_view_shows(store: MessageStore) -> None:
    """summaries() gives each message's addresses with display names (Bcc from the envelope),
    decoded subject, Date with its offset, arrival time, size, attachment and inline counts,
    a snippet of the visible text, read flag, tags, protocol flags, sender and user."""
    from mocksmtp import Address
    from mocksmtp.summary import Summary

    at = datetime(2024, 5, 1, 7, 31, tzinfo=timezone.utc)
    m = Message(
        id=store.new_id(),
        raw=RICH,
        mail_from="bounce@example.com",
        rcpt_tos=["ann@example.com", "BOB@example.com", "secret@example.net"],
        received_at=at,
        auth_user="app",
    )
    store.add(m)
    store.mark_read([m.id])
    store.set_tags([m.id], ["menu", "daily"])
    assert store.summaries() == [
        Summary(
            id=m.id,
            message_id="menu-1@cafe.example",
            from_=(Address("Jörg", "joerg@example.com"),),
            to=(Address("Ann Lee", "ann@example.com"), Address("", "bob@example.com")),
            cc=(Address("Ops", "ops@example.org"),),
            bcc=(Address("", "secret@example.net"),),
            reply_to=(Address("", "help@example.com"),),
            subject="Café menu",
            date=datetime(2024, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=2))),
            received_at=at,
            size=len(RICH),
            attachments=1,
            inline=1,
            snippet="Today: soup é",
            read=True,
            tags=("daily", "menu"),
            flags=frozenset({"8bit"}),
            mail_from="bounce@example.com",
            auth_user="app",
        )
    ]


def test_summaries_page_like_messages_newest_first_by_default(store: MessageStore) -> None:
    """summaries() holds the same page as messages(), newest first and 50 at most unless
    asked otherwise, and follows read and tag changes."""
    made = [make(store, f"m{i}") for i in range(55)]
    assert [s.subject for s in store.summaries()] == [f"m{i}" for i in range(54, 4, -1)]
    assert [s.id for s in store.summaries(newest_first=False, offset=2, limit=3)] == [m.id for m in made[2:5]]
    assert [s.subject for s in store.summaries(parse_query("subject:m5"), limit=None)] == [
        "m54",
        "m53",
        "m52",
        "m51",
        "m50",
        "m5",
    ]
    assert store.summaries(limit=1)[0].read is False
    store.mark_read([made[-1].id])
    store.set_tags([made[-1].id], ["seen"])
    (latest,) = store.summaries(limit=1)
    assert (latest.read, latest.tags) == (True, ("seen",))
    assert store.summaries(parse_query("is:read"), limit=5) == [latest]


def test_a_summary_is_the_messages_own_for_every_body_shape(store: MessageStore) -> None:
    """Each store's summary equals summarize() of the message: plain, HTML only, attachments,
    inline parts, no body at all, and a message that is not MIME at all."""
    from mocksmtp.summary import summarize

    raws = [raw for raw, _ in CORPUS] + [RICH, b"", b"no header block at all", b"Subject: x\r\n\r\n" + b"word " * 200]
    made = [make(store, raw=raw) for raw in raws]
    assert store.summaries(newest_first=False, limit=None) == [summarize(m) for m in made]
    assert len(store.summaries(limit=None)[0].snippet) == 250


def test_pages_continue_after_a_message_while_mail_arrives(store: MessageStore) -> None:
    """after= (the last id of a page) continues in either order, with or without a query,
    neither skipping nor repeating a message when mail arrives or others are deleted; an
    unknown id is a ConfigError."""
    made = [make(store, f"m{i}") for i in range(6)]
    first = store.summaries(limit=2)
    assert [s.subject for s in first] == ["m5", "m4"]
    make(store, "new")
    store.delete([made[3].id])
    assert [s.subject for s in store.summaries(limit=2, after=first[-1].id)] == ["m2", "m1"]
    assert subjects(store.messages(limit=2, after=made[1].id)) == ["m2", "m4"]
    assert subjects(store.messages(after=made[5].id)) == ["new"]
    assert subjects(store.messages(parse_query("-subject:m2"), newest_first=True, after=made[4].id)) == ["m1", "m0"]
    assert subjects(store.messages(parse_query("subject:m0"), after=made[2].id)) == []
    assert subjects(store.messages(newest_first=True, offset=1, after=made[4].id)) == ["m1", "m0"]
    with pytest.raises(ConfigError, match=r"after='gone' names no stored message"):
        store.summaries(after="gone")
    with pytest.raises(ConfigError, match="names no stored message"):
        store.messages(after=made[3].id)


def test_ids_do_not_follow_a_seeded_random_module() -> None:
    """random.seed() in a test does not make the ids' random part repeat: two processes that
    seed alike in the same millisecond still draw different ids."""
    import random

    from mocksmtp.store.ids import _GENERATOR, new_id

    random.seed(1)
    _GENERATOR.after_fork()  # a fresh sequence, as in a new process
    first = new_id()
    random.seed(1)
    _GENERATOR.after_fork()
    assert new_id()[10:] != first[10:]
