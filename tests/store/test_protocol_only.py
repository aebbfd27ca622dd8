"""A store written from the MessageStore protocol alone (no subclassing, no mocksmtp store
code) works behind MockSMTPServer."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Callable, Iterable

import pytest

from mocksmtp import ConfigError, Message, MessageStore, MockSMTPServer
from mocksmtp.query import Query
from mocksmtp.query_match import matches, searchable
from mocksmtp.store import MessageAdded, MessagesDeleted, MessageState, MessagesUpdated, StoreCleared, StoreEvent
from mocksmtp.summary import Summary, summarize


class DictStore:
    """The smallest honest store: a dict in arrival order, a lock, a version, subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: dict[str, Message] = {}
        self._state: dict[str, MessageState] = {}
        self._subscribers: list[Callable[[StoreEvent], object]] = []
        self._version = 0
        self._next = 0

    @property
    def version(self) -> int:
        return self._version

    def _changed(self, make: Callable[[int], StoreEvent]) -> None:
        with self._lock:
            self._version += 1
            event = make(self._version)
        for callback in list(self._subscribers):
            callback(event)

    def new_id(self) -> str:
        with self._lock:
            self._next += 1
            return f"dict-{self._next:08d}"

    def add(self, message: Message) -> None:
        with self._lock:
            self._messages[message.id] = message
            self._state[message.id] = MessageState()
        self._changed(lambda v: MessageAdded(message, v))

    def get(self, id: str) -> Message | None:
        return self._messages.get(id)

    def count(self, query: Query | None = None) -> int:
        return len(self.messages(query))

    def messages(
        self,
        query: Query | None = None,
        *,
        newest_first: bool = False,
        offset: int = 0,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[Message]:
        with self._lock:
            order = list(self._messages)
            found = [
                m
                for m in self._messages.values()
                if query is None
                or matches(query, searchable(m, tags=self._state[m.id].tags, read=self._state[m.id].read))
            ]
        found = found[::-1] if newest_first else found
        if after is not None:
            if after not in order:
                raise ConfigError(f"no message {after!r}")
            cursor = order.index(after)
            found = [m for m in found if (order.index(m.id) < cursor) == newest_first and m.id != after]
        return found[offset : None if limit is None else offset + limit]

    def summaries(
        self,
        query: Query | None = None,
        *,
        newest_first: bool = True,
        offset: int = 0,
        limit: int | None = 50,
        after: str | None = None,
    ) -> list[Summary]:
        return [
            summarize(m, read=self._state[m.id].read, tags=self._state[m.id].tags)
            for m in self.messages(query, newest_first=newest_first, offset=offset, limit=limit, after=after)
        ]

    def state(self, id: str) -> MessageState | None:
        return self._state.get(id)

    def delete(self, ids: Iterable[str]) -> int:
        with self._lock:
            gone = tuple(id for id in ids if self._messages.pop(id, None) is not None)
        if gone:
            self._changed(lambda v: MessagesDeleted(gone, v))
        return len(gone)

    def delete_matching(self, query: Query) -> int:
        return self.delete([m.id for m in self.messages(query)])

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
        self._changed(StoreCleared)

    def mark_read(self, ids: Iterable[str], read: bool = True) -> int:
        found = tuple(id for id in ids if id in self._messages)
        for id in found:
            self._state[id] = MessageState(read, self._state[id].tags)
        self._changed(lambda v: MessagesUpdated(found, v))
        return len(found)

    def set_tags(self, ids: Iterable[str], tags: Iterable[str]) -> int:
        found = tuple(id for id in ids if id in self._messages)
        for id in found:
            self._state[id] = MessageState(self._state[id].read, tuple(sorted(set(tags))))
        self._changed(lambda v: MessagesUpdated(found, v))
        return len(found)

    def prune(self, *, max_messages: int | None = None, max_age: float | None = None) -> int:
        extra = max(len(self._messages) - max_messages, 0) if max_messages is not None else 0
        return self.delete(list(self._messages)[:extra])

    def subscribe(self, callback: Callable[[StoreEvent], object]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def close(self) -> None:
        pass


def send(server: MockSMTPServer, subject: str) -> None:
    with smtplib.SMTP(server.host, server.port) as client:
        client.sendmail(
            "app@example.com", ["ann@example.com"], f"To: ann@example.com\r\nSubject: {subject}\r\n\r\nbody\r\n"
        )


def test_a_store_from_the_protocol_alone_works_behind_the_server() -> None:
    """repr, messages, get_messages, get_message_count, wait_for (with filters and a query),
    filter, assert_sent and reset all work on a store that only implements the protocol."""
    store = DictStore()
    assert isinstance(store, MessageStore)
    with MockSMTPServer("127.0.0.1", 0, store=store) as server:
        assert server.store is store
        waiter = threading.Thread(target=lambda: send(server, "one"))
        waiter.start()
        (first,) = server.wait_for(to="ann@example.com", timeout=10)
        waiter.join(10)
        send(server, "two")
        assert repr(server).endswith("running messages=2>")
        assert [m.subject for m in server.messages] == ["one", "two"]
        assert first.id == "dict-00000001"
        assert server.get_message_count() == 2
        assert [m["id"] for m in server.get_messages()] == ["dict-00000001", "dict-00000002"]
        assert server.get_messages() == []
        (two,) = server.wait_for(query="subject:two", timeout=5)
        assert two.subject == "two"
        assert server.filter(query="-subject:two") == [first]
        server.assert_sent(2, to="ann@example.com")
        server.reset()
        assert server.messages == []
        assert server.get_message_count() == 0
        send(server, "three")
        assert [m["data"].splitlines()[1] for m in server.get_messages()] == ["Subject: three"]


def test_an_object_that_is_not_a_store_is_refused_with_what_it_lacks() -> None:
    """store= with something that lacks protocol members is a ConfigError naming them."""

    class Half:
        def new_id(self) -> str:
            return "x"

        def add(self, message: Message) -> None:
            pass

    with pytest.raises(ConfigError, match=r"Half lacks add|Half lacks clear, close, count"):
        MockSMTPServer("127.0.0.1", 0, store=Half())  # type: ignore[arg-type]


def test_a_store_without_summaries_is_refused_naming_them() -> None:
    """summaries is part of the protocol: a store that lacks only it is a ConfigError that
    names it (not an error listing nothing)."""
    members = {k: v for k, v in vars(DictStore).items() if k not in ("summaries", "__dict__", "__weakref__")}
    no_summaries = type("NoSummaries", (), members)
    with pytest.raises(ConfigError, match=r"NoSummaries lacks summaries$"):
        MockSMTPServer("127.0.0.1", 0, store=no_summaries())


def test_the_tag_counts_of_a_store_without_tag_counts_are_read_from_its_summaries() -> None:
    """tag_counts is optional: the HTTP API counts the tags of a store without it from the
    summaries of its tagged messages."""
    from mocksmtp.http.mailpit import all_tags
    from mocksmtp.store import SupportsTagCounts

    store = DictStore()
    assert not isinstance(store, SupportsTagCounts)
    ids = [store.new_id() for _ in range(3)]
    for id in ids:
        store.add(Message(id=id, raw=b"Subject: x\r\n\r\n", mail_from="", rcpt_tos=["a@b"]))
    store.set_tags(ids[:2], ["urgent", "Signup"])
    store.set_tags(ids[2:], ["urgent"])
    assert all_tags(store) == {"Signup": 2, "urgent": 3}
