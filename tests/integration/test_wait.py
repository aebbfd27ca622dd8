"""wait_for blocks on the store's condition (no sleeping, no polling); assertions explain
themselves with what arrived."""

from __future__ import annotations

import re
import smtplib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from tests.support import CountingStore

from mocksmtp import ConfigError, MemoryStore, MessageAssertionError, MockSMTPServer, SQLiteStore, WaitTimeout


def send(
    server: MockSMTPServer, to: str, subject: str, *, sender: str = "app@example.com", rcpt: list[str] | None = None
) -> None:
    with smtplib.SMTP(server.host, server.port) as client:
        client.sendmail(sender, rcpt or [to], f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nbody\r\n")


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any call to time.sleep fail the test."""

    def forbidden(seconds: float) -> None:
        raise AssertionError(f"time.sleep({seconds}) called while waiting")

    monkeypatch.setattr(time, "sleep", forbidden)


class RecordingEvent(threading.Event):
    """A threading.Event that records, for waits made on the main thread, whether each was
    woken by ``set()`` (True) or ran out of time (False)."""

    woken: ClassVar[list[bool]] = []

    def wait(self, timeout: float | None = None) -> bool:
        result = super().wait(timeout)
        if threading.current_thread() is threading.main_thread():
            RecordingEvent.woken.append(result)
        return result


@pytest.fixture
def recorded_wakes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The wake-ups of the test's own waits, True for each one a store event ended."""
    monkeypatch.setattr(RecordingEvent, "woken", [])
    monkeypatch.setattr(threading, "Event", RecordingEvent)
    return RecordingEvent.woken


@pytest.fixture(params=["memory", "sqlite"])
def counted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[MockSMTPServer, CountingStore]]:
    """A running server whose store (memory or SQLite) counts the calls made to it."""
    inner = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "mail.sqlite")
    store = CountingStore(inner)
    with MockSMTPServer("127.0.0.1", 0, store=store) as s:
        yield s, store
    inner.close()


def test_waiter_wakes_when_another_thread_sends(
    counted: tuple[MockSMTPServer, CountingStore], no_sleep: None, recorded_wakes: list[bool]
) -> None:
    """A blocked wait_for returns as soon as the message it waits for is stored, having read
    the store once before blocking and once after the wake-up."""
    server, store = counted

    def send_once_listed() -> None:
        store.listed.wait(10)
        send(server, "ann@example.com", "Hi")

    sender = threading.Thread(target=send_once_listed)
    sender.start()
    (message,) = server.wait_for(to="ann@example.com", timeout=30)
    sender.join(10)
    assert message.subject == "Hi"
    assert recorded_wakes  # it blocked
    assert all(recorded_wakes)  # and was woken by the store's events, never by the 30 s timeout
    assert store.calls["messages"] == 2  # blocked once, woken once: no polling loop


def test_a_wait_with_nothing_arriving_reads_the_store_a_handful_of_times(
    counted: tuple[MockSMTPServer, CountingStore], no_sleep: None
) -> None:
    """wait_for(timeout=0.5) with no mail blocks on the store's version: a few reads in all
    (one look, the report), not one per spin, on the memory and the SQLite store."""
    server, store = counted
    with pytest.raises(WaitTimeout):
        server.wait_for(to="ann@example.com", timeout=0.5)
    assert store.reads <= 5, store.calls


def test_waiting_for_a_count_wakes_on_the_last_one(server: MockSMTPServer, no_sleep: None) -> None:
    """wait_for(3) ignores non-matching mail and returns when the third match is stored."""

    def send_all() -> None:
        for i in range(3):
            send(server, "other@example.com", f"noise {i}")
            send(server, "ann@example.com", f"match {i}")

    sender = threading.Thread(target=send_all)
    sender.start()
    matched = server.wait_for(3, to="ann@example.com", timeout=30)
    sender.join(10)
    assert [m.subject for m in matched] == ["match 0", "match 1", "match 2"]


def test_messages_already_there_return_at_once(server: MockSMTPServer, no_sleep: None) -> None:
    """When enough mail is already stored, wait_for does not block at all."""
    send(server, "ann@example.com", "early")
    (message,) = server.wait_for(to="ann@example.com", timeout=0)
    assert message.subject == "early"


def test_clear_while_waiting_starts_over(counted: tuple[MockSMTPServer, CountingStore], no_sleep: None) -> None:
    """Messages cleared during a wait no longer count towards it."""
    server, store = counted
    send(server, "ann@example.com", "one")

    def later() -> None:
        store.listed.wait(10)
        server.reset()
        send(server, "ann@example.com", "two")
        send(server, "ann@example.com", "three")

    helper = threading.Thread(target=later)
    helper.start()
    result = server.wait_for(2, to="ann@example.com", timeout=30)
    helper.join(10)
    assert [m.subject for m in result] == ["two", "three"]


def test_timeout_text_lists_what_arrived_and_why_it_missed(server: MockSMTPServer) -> None:
    """WaitTimeout is an AssertionError naming each message, its time and the filter it missed."""
    send(server, "alice@example.com", "Welcome")
    send(server, "bob@example.com", "Reset your password")
    with pytest.raises(WaitTimeout) as caught:
        server.wait_for(to="bob@example.com", subject="Welcome", timeout=0.05)
    text = str(caught.value)
    assert isinstance(caught.value, AssertionError)
    assert text.startswith(
        "waited 0.05 s for 1 message matching to='bob@example.com', subject='Welcome'; "
        "none matched.\n2 messages arrived:\n"
    )
    assert re.search(
        r"  1\. \d\d:\d\d:\d\d\.\d{3} UTC from app@example.com to \['alice@example.com'\] 'Welcome'\n"
        r"     missed to='bob@example.com': got \['alice@example.com'\]\n",
        text,
    )
    assert "  2. " in text
    assert "missed subject='Welcome': got 'Reset your password'" in text
    assert len(caught.value.messages) == 2
    assert caught.value.matched == []


def test_timeout_with_nothing_arrived_says_so(server: MockSMTPServer) -> None:
    """With an empty store the timeout text says no message arrived."""
    with pytest.raises(WaitTimeout, match=r"(?s)waited 0 s for 2 messages; none matched\.\nNo message arrived\."):
        server.wait_for(2, timeout=0)


def test_long_reports_show_the_newest_messages(server: MockSMTPServer) -> None:
    """Past 20 messages the report lists the newest and counts the rest."""
    for i in range(22):
        send(server, "ann@example.com", f"n{i}")
    with pytest.raises(WaitTimeout) as caught:
        server.wait_for(to="zed@example.com", timeout=0)
    text = str(caught.value)
    assert "... 2 older not shown" in text
    assert "  3. " in text
    assert "  22. " in text
    assert "  1. " not in text


def test_bad_arguments_are_refused(server: MockSMTPServer) -> None:
    """count below 1, a negative timeout or an unknown filter raise at once."""
    with pytest.raises(ConfigError, match="count"):
        server.wait_for(0)
    with pytest.raises(ConfigError, match="timeout"):
        server.wait_for(timeout=-1)
    with pytest.raises(ConfigError, match="unknown filter"):
        server.wait_for(too="a@example.com")  # type: ignore[call-arg]  # the misspelling under test


def test_filter_returns_matching_messages_in_order(server: MockSMTPServer) -> None:
    """server.filter applies the filters to every kept message."""
    send(server, "ann@example.com", "a")
    send(server, "bob@example.com", "b")
    send(server, "ann@example.com", "c")
    assert [m.subject for m in server.filter(to="ann@example.com")] == ["a", "c"]
    assert len(server.filter()) == 3


def test_assert_sent_at_least_one_or_exactly(server: MockSMTPServer) -> None:
    """assert_sent() wants at least one match; assert_sent(n) exactly n; both return them."""
    send(server, "ann@example.com", "a")
    send(server, "ann@example.com", "b")
    assert len(server.assert_sent(to="ann@example.com")) == 2
    assert len(server.assert_sent(2, to="ann@example.com")) == 2
    with pytest.raises(MessageAssertionError) as caught:
        server.assert_sent(1, to="ann@example.com")
    assert str(caught.value).startswith(
        "expected 1 message matching to='ann@example.com'; 2 matched.\n2 messages arrived:\n"
    )
    assert "     matched" in str(caught.value)
    with pytest.raises(AssertionError, match="expected at least 1 message matching subject='z'; none matched"):
        server.assert_sent(subject="z")
    server.assert_sent(0, subject="z")


def test_assert_nothing_sent(server: MockSMTPServer) -> None:
    """assert_nothing_sent passes with no match and lists the offending mail otherwise."""
    server.assert_nothing_sent()
    send(server, "ann@example.com", "oops", rcpt=["ann@example.com", "admin@example.com"])
    server.assert_nothing_sent(to="admin@example.com")
    with pytest.raises(MessageAssertionError) as caught:
        server.assert_nothing_sent(recipient="admin@example.com")
    text = str(caught.value)
    assert text.startswith("expected no message matching recipient='admin@example.com'; 1 matched.\n")
    assert "bcc ['admin@example.com'] 'oops'" in text
