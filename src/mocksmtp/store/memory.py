"""The default store: every message in memory, until it is deleted or the process ends.

Thread-safe: the SMTP engine adds from its event-loop thread while tests read, wait and clear
from theirs. Queries are matched in Python (:mod:`mocksmtp.query_match`), each message's
searchable view computed on first search and kept.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..query import FlagTerm
from .base import (
    AddDone,
    ChangeFeed,
    MessageAdded,
    MessagesDeleted,
    MessageState,
    MessagesUpdated,
    StoreCleared,
    Subscriber,
    check_page,
    check_tags,
    unknown_cursor,
)
from .ids import new_id

if TYPE_CHECKING:
    from ..message import Message
    from ..query import Query
    from ..query_match import Searchable
    from ..summary import Summary

__all__ = ["MemoryStore"]


class _Entry:
    """A kept message, its place in arrival order, its state, and its searchable view and
    summary once something needed them."""

    __slots__ = ("message", "read", "record", "seq", "summary", "tags")

    def __init__(self, message: Message, seq: int) -> None:
        self.message = message
        self.seq = seq
        self.read = False
        self.tags: tuple[str, ...] = ()
        self.record: Searchable | None = None
        self.summary: Summary | None = None

    def summarize(self) -> Summary:
        """The summary, computed on first use and kept (state changes only update it)."""
        s = self.summary
        read, tags = self.read, self.tags
        if s is None:
            from ..summary import summarize

            s = self.summary = summarize(self.message, read=read, tags=tags)
        elif s.read != read or s.tags != tags:
            s = self.summary = dataclasses.replace(s, read=read, tags=tags)
        return s


class MemoryStore:
    """Keeps every accepted message in memory until it is deleted.

    >>> from mocksmtp import Message
    >>> store = MemoryStore()
    >>> store.add(Message(id=store.new_id(), raw=b"Subject: hi\\r\\n\\r\\n", mail_from="", rcpt_tos=["a@b"]))
    >>> store.count(), store.version, store.messages()[0].subject
    (1, 1, 'hi')
    """

    __slots__ = ("_by_id", "_entries", "_feed", "_lock", "_seq", "_tag_counts", "_unread")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._entries: list[_Entry] = []
        self._by_id: dict[str, _Entry] = {}
        self._feed = ChangeFeed()
        # kept up to date under the lock by every change, so that the counts a list page
        # shows (is:unread, each tag's) cost nothing however many messages are kept
        self._unread = 0
        self._tag_counts: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"<MemoryStore messages={len(self._entries)}>"

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def version(self) -> int:
        return self._feed.version

    def new_id(self) -> str:
        """A ULID (see :mod:`mocksmtp.store.ids`): unique, and sorted by arrival."""
        return new_id()

    def add(self, message: Message) -> None:
        with self._lock:
            entry = _Entry(message, next(self._seq))
            self._entries.append(entry)
            self._by_id[message.id] = entry
            self._unread += 1
            version = self._feed.bump()
        if self._feed.active:
            self._feed.publish(MessageAdded(message, version))

    def add_later(self, message: Message, done: AddDone) -> None:
        """:meth:`add`, then ``done(None)`` before returning: memory never makes anyone wait."""
        try:
            self.add(message)  # (a subclass's own add() counts: the engine calls only this)
        except Exception as e:
            done(e)
            return
        done(None)

    def get(self, id: str) -> Message | None:
        entry = self._by_id.get(id)
        return entry.message if entry is not None else None

    def state(self, id: str) -> MessageState | None:
        with self._lock:
            entry = self._by_id.get(id)
            return None if entry is None else MessageState(entry.read, entry.tags)

    def _matching(self, query: Query | None) -> list[_Entry]:
        if query is None or not query.terms:
            with self._lock:
                return list(self._entries)
        from ..query_match import matches, searchable  # load with the first search

        with self._lock:  # views are made under the lock (cheap: their fields are lazy) ...
            for e in self._entries:
                if e.record is None:
                    e.record = searchable(e.message, tags=e.tags, read=e.read)
            pairs = [(e, e.record) for e in self._entries]
        return [e for e, record in pairs if record is not None and matches(query, record)]  # ... outside it

    def count(self, query: Query | None = None) -> int:
        if query is None or not query.terms:
            return len(self._entries)
        if len(query.terms) == 1 and isinstance(term := query.terms[0], FlagTerm) and term.value in ("read", "unread"):
            with self._lock:  # is:unread, is:read and their negations, from the counter
                unread, total = self._unread, len(self._entries)
            return unread if (term.value == "unread") != term.negated else total - unread
        return len(self._matching(query))

    def tag_counts(self) -> dict[str, int]:
        """Every tag with how many messages have it, by name (:class:`~.base.SupportsTagCounts`)."""
        with self._lock:
            return dict(sorted(self._tag_counts.items()))

    def _forget(self, entry: _Entry) -> None:
        """Take ``entry``'s state out of the counts (under the lock)."""
        self._unread -= not entry.read
        self._tag_counts.subtract(entry.tags)
        for tag in entry.tags:
            if self._tag_counts[tag] <= 0:
                del self._tag_counts[tag]

    def _count_in(self, entry: _Entry) -> None:
        """Put ``entry``'s state into the counts (under the lock)."""
        self._unread += not entry.read
        self._tag_counts.update(entry.tags)

    def messages(
        self,
        query: Query | None = None,
        *,
        newest_first: bool = False,
        offset: int = 0,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[Message]:
        return [e.message for e in self._page(query, newest_first, offset, limit, after)]

    def summaries(
        self,
        query: Query | None = None,
        *,
        newest_first: bool = True,
        offset: int = 0,
        limit: int | None = 50,
        after: str | None = None,
    ) -> list[Summary]:
        """Summaries are computed on first use, one message at a time, and kept."""
        return [e.summarize() for e in self._page(query, newest_first, offset, limit, after)]

    def _page(
        self, query: Query | None, newest_first: bool, offset: int, limit: int | None, after: str | None
    ) -> list[_Entry]:
        check_page(offset, limit)
        cursor = None
        if after is not None:
            found = self._by_id.get(after)
            if found is None:
                raise unknown_cursor(after)
            cursor = found.seq
        entries = self._matching(query)  # in arrival order, so in order of seq
        if cursor is not None:
            cut = bisect.bisect_left(entries, cursor, key=lambda e: e.seq)
            if newest_first:
                entries = entries[:cut]
            else:
                entries = entries[cut + (cut < len(entries) and entries[cut].seq == cursor) :]
        if newest_first:
            entries.reverse()
        end = None if limit is None else offset + limit
        return entries[offset:end]

    def _remove(self, doomed: list[_Entry], *, pruned: bool = False) -> int:
        """Delete ``doomed`` (entries read outside the lock; those gone meanwhile are skipped)."""
        if not doomed:
            return 0
        with self._lock:
            gone = {e.message.id for e in doomed if self._by_id.get(e.message.id) is e}
            if not gone:
                return 0
            k = len(gone)
            if all(e.message.id in gone for e in self._entries[:k]):
                del self._entries[:k]  # the oldest (retention): no new list
            else:
                self._entries = [e for e in self._entries if e.message.id not in gone]
            for id in gone:
                self._forget(self._by_id.pop(id))
            version = self._feed.bump()
        ids = tuple(e.message.id for e in doomed if e.message.id in gone)
        self._feed.publish(MessagesDeleted(ids, version, pruned))
        return len(ids)

    def delete(self, ids: Iterable[str]) -> int:
        wanted = set(ids)
        with self._lock:
            doomed = [e for e in self._entries if e.message.id in wanted]
        return self._remove(doomed)

    def delete_matching(self, query: Query) -> int:
        return self._remove(self._matching(query))

    def clear(self) -> None:
        with self._lock:
            self._entries = []
            self._by_id = {}
            self._unread = 0
            self._tag_counts.clear()
            version = self._feed.bump()
        self._feed.publish(StoreCleared(version))

    def _update(self, ids: Iterable[str], change: Callable[[_Entry], None]) -> int:
        with self._lock:
            entries = [self._by_id[id] for id in dict.fromkeys(ids) if id in self._by_id]
            for entry in entries:
                self._forget(entry)
                change(entry)
                self._count_in(entry)
                entry.record = None  # its view holds the old state
            if not entries:
                return 0
            version = self._feed.bump()
        self._feed.publish(MessagesUpdated(tuple(e.message.id for e in entries), version))
        return len(entries)

    def mark_read(self, ids: Iterable[str], read: bool = True) -> int:
        def change(entry: _Entry) -> None:
            entry.read = bool(read)

        return self._update(ids, change)

    def set_tags(self, ids: Iterable[str], tags: Iterable[str]) -> int:
        new = check_tags(tags)

        def change(entry: _Entry) -> None:
            entry.tags = new

        return self._update(ids, change)

    def prune(self, *, max_messages: int | None = None, max_age: float | None = None) -> int:
        with self._lock:
            entries = self._entries
            cut = max(len(entries) - max_messages, 0) if max_messages is not None else 0
            if max_age is not None:
                oldest = time.time() - max_age
                while cut < len(entries) and entries[cut].message.received_at.timestamp() < oldest:
                    cut += 1
            doomed = entries[:cut]
        return self._remove(doomed, pruned=True)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        return self._feed.subscribe(callback)

    def close(self) -> None:
        """Nothing to release; the messages stay readable."""
