"""Evaluating a :class:`~mocksmtp.query.Query` against a message, in Python.

A store that keeps :class:`~mocksmtp.Message` objects matches them through :func:`searchable`;
one that keeps columns builds a :class:`SearchRecord`; both are :class:`Searchable`, which is
everything a query reads. (A SQL store compiles the same :class:`~mocksmtp.query.Query` instead.)

>>> from mocksmtp.query import parse_query
>>> record = SearchRecord(subject="Your order", to=(("Ann Lee", "ann@example.com"),), size=2048)
>>> matches(parse_query('to:ANN@example.com "your ORDER" larger:1K'), record)
True
>>> matches(parse_query("to:nn@example.com"), record), matches(parse_query("to:nn@"), record)
(False, True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .query import AddressField, AddressTerm, FlagTerm, Query, SizeTerm, TagTerm, Term, TextTerm, fold

if TYPE_CHECKING:
    from .message import Message

__all__ = ["Pair", "SearchRecord", "Searchable", "matches", "searchable"]

T = TypeVar("T")

Pair = tuple[str, str]
"""A mailbox as ``(display name, address)``; the name is ``""`` when there is none."""


class Searchable(Protocol):
    """What matching a query reads from a message: addresses are ``(name, address)`` pairs,
    ``message_id`` has no angle brackets, ``received_at`` is aware."""

    @property
    def subject(self) -> str: ...
    @property
    def from_(self) -> Sequence[Pair]: ...
    @property
    def to(self) -> Sequence[Pair]: ...
    @property
    def cc(self) -> Sequence[Pair]: ...
    @property
    def bcc(self) -> Sequence[Pair]: ...
    @property
    def reply_to(self) -> Sequence[Pair]: ...
    @property
    def message_id(self) -> str: ...
    @property
    def text(self) -> str:
        """The body text bare words search, besides the subject and the addresses."""

    @property
    def tags(self) -> Collection[str]: ...
    @property
    def read(self) -> bool: ...
    @property
    def attachments(self) -> int:
        """How many attachments that are not inline."""

    @property
    def inline(self) -> int:
        """How many inline parts (images an HTML body shows)."""

    @property
    def size(self) -> int: ...
    @property
    def received_at(self) -> datetime: ...


@dataclasses.dataclass(frozen=True, slots=True)
class SearchRecord:
    """A :class:`Searchable` as plain data (a store can build one from its columns)."""

    subject: str = ""
    from_: tuple[Pair, ...] = ()
    to: tuple[Pair, ...] = ()
    cc: tuple[Pair, ...] = ()
    bcc: tuple[Pair, ...] = ()
    reply_to: tuple[Pair, ...] = ()
    message_id: str = ""
    text: str = ""
    tags: frozenset[str] = frozenset()
    read: bool = False
    attachments: int = 0
    inline: int = 0
    size: int = 0
    received_at: datetime = datetime(1970, 1, 1, tzinfo=timezone.utc)


def matches(query: Query, record: Searchable) -> bool:
    """True when ``record`` matches every term of ``query`` (always, for the empty query).

    Text compares as :func:`~mocksmtp.query.fold` leaves it (case folded, spacing collapsed);
    a bare word or phrase searches the subject, every address and display name, and ``text``.
    """
    words: list[str] = []  # the folded full text, made once per record and only if needed
    return all(_matches(term, record, words) != term.negated for term in query.terms)


def _pairs(record: Searchable, field: AddressField) -> Sequence[Pair]:
    if field == "addressed":
        return [*record.to, *record.from_, *record.cc, *record.bcc, *record.reply_to]
    return {"from": record.from_, "to": record.to, "cc": record.cc, "bcc": record.bcc, "reply-to": record.reply_to}[
        field
    ]


def _matches(term: Term, record: Searchable, words: list[str]) -> bool:
    """Whether ``record`` matches ``term``, leaving its negation aside."""
    if isinstance(term, AddressTerm):
        pairs = _pairs(record, term.field)
        if term.exact:
            wanted = term.value.casefold()
            return any(address.casefold() == wanted for _, address in pairs)
        needle = fold(term.value)
        return any(needle in fold(name) or needle in fold(address) for name, address in pairs)
    if isinstance(term, TextTerm):
        if term.field == "subject":
            return fold(term.value) in fold(record.subject)
        if term.field == "message-id":
            return fold(term.value) in fold(record.message_id)
        if not words:
            pairs = _pairs(record, "addressed")
            words.extend(fold(h) for h in (record.subject, record.text, *(p for pair in pairs for p in pair)))
        needle = fold(term.value)
        return any(needle in h for h in words)
    if isinstance(term, TagTerm):
        return term.value.casefold() in {t.casefold() for t in record.tags}
    if isinstance(term, FlagTerm):
        flag = term.value
        if flag in ("read", "unread"):
            return record.read == (flag == "read")
        if flag == "tagged":
            return bool(record.tags)
        return (record.attachments if flag == "attachment" else record.inline) > 0
    if isinstance(term, SizeTerm):
        return record.size > term.value if term.field == "larger" else record.size < term.value
    return record.received_at >= term.value if term.field == "after" else record.received_at < term.value


# -- messages --------------------------------------------------------------------------------


class _MessageRecord:
    """A :class:`Searchable` view of a :class:`~mocksmtp.Message`; each field is read from the
    message once, so a store that keeps the view pays for the HTML body's text only once."""

    __slots__ = ("_cache", "message", "read", "tags")

    def __init__(self, message: Message, tags: Collection[str], read: bool) -> None:
        self.message, self.tags, self.read = message, tags, read
        self._cache: dict[str, Any] = {}

    def _once(self, key: str, compute: Callable[[], T]) -> T:
        try:
            return self._cache[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._cache[key] = compute()
            return value

    @property
    def subject(self) -> str:
        return self.message.subject

    @property
    def from_(self) -> list[Pair]:
        return self._once("from", lambda: list(self.message.addresses("from")))

    @property
    def to(self) -> list[Pair]:
        return self._once("to", lambda: list(self.message.addresses("to")))

    @property
    def cc(self) -> list[Pair]:
        return self._once("cc", lambda: list(self.message.addresses("cc")))

    @property
    def reply_to(self) -> list[Pair]:
        return self._once("reply-to", lambda: list(self.message.addresses("reply_to")))

    @property
    def bcc(self) -> list[Pair]:
        return self._once("bcc", lambda: [("", address) for address in self.message.bcc])

    @property
    def size(self) -> int:
        return self.message.size

    @property
    def received_at(self) -> datetime:
        return self.message.received_at

    @property
    def message_id(self) -> str:
        return self._once("message-id", lambda: (self.message.message_id or "").strip("<>"))

    @property
    def attachments(self) -> int:
        return self._once("attachments", lambda: sum(not a.inline for a in self.message.attachments))

    @property
    def inline(self) -> int:
        return self._once("inline", lambda: sum(a.inline for a in self.message.attachments))

    @property
    def text(self) -> str:
        def compute() -> str:
            m = self.message
            parts = [m.text or "", _visible_text(m.html or ""), *(a.filename or "" for a in m.attachments)]
            return "\n".join(p for p in parts if p)

        return self._once("text", compute)


def searchable(message: Message, *, tags: Collection[str] = (), read: bool = False) -> Searchable:
    """``message`` as a :class:`Searchable`: bare words search its text body, the visible text
    of its HTML body and its attachments' file names; envelope recipients in neither ``To`` nor
    ``Cc`` are its Bcc; ``tags`` and ``read`` are what a store keeps beside it.

    Fields are read from the message on first use and kept: keep the view to search a message
    again cheaply."""
    return _MessageRecord(message, tags, read)


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("script", "style") and self.hidden > 0

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(data)


def _visible_text(html: str) -> str:
    """The text an HTML body shows: tags, scripts and styles removed, entities decoded."""
    if not html:
        return ""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return " ".join(parser.chunks)
