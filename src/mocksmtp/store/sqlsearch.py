"""What :class:`~mocksmtp.store.sqlite.SQLiteStore` searches: the columns it derives from a
message (its *index*), and a :class:`~mocksmtp.query.Query` compiled to SQL over them.

The index is read through the same searchable view the memory store matches
(:func:`mocksmtp.query_match.searchable`), and text is folded by the same
:func:`~mocksmtp.query.fold`, so both stores answer a query alike. Substrings are ``instr()``
over folded text: no ``LIKE`` patterns, so nothing to escape.

Indexing parses the message, which costs far more than storing it; the store therefore
commits the raw message at once (ack means stored) and indexes afterwards, off the engine's
thread (see :class:`Indexer`); a search first indexes whatever is still pending.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..query import AddressTerm, DateTerm, FlagTerm, Query, SizeTerm, TagTerm, Term, TextTerm, fold

if TYPE_CHECKING:
    from ..message import Message
    from ..query_match import Searchable

__all__ = [
    "INDEX_COLUMNS",
    "POSTGRES",
    "SQLITE",
    "Common",
    "Dialect",
    "IndexRow",
    "Indexer",
    "index_rows",
    "trigrams",
    "where",
]

logger = logging.getLogger("mocksmtp.store")

INDEX_COLUMNS = (
    "subject",
    "date",
    "date_text",
    "message_id",
    "attachments",
    "inline",
    "snippet",
    "flags",
    "subject_fold",
    "message_id_fold",
)
"""The columns of ``messages`` that indexing fills (``indexed`` says whether it has); the
folded text bare words search goes to the ``texts`` table, apart, so that listing and
searching the other columns never reads it."""

IndexRow = tuple[int, tuple[Any, ...], list[tuple[Any, ...]], str]
"""What indexing one message gives: its ``seq``, the values of :data:`INDEX_COLUMNS`, its
``addresses`` rows (without ``seq``) and its folded text."""

_FIELDS: dict[str, tuple[str, ...]] = {
    "from": ("from",),
    "to": ("to",),
    "cc": ("cc",),
    "bcc": ("bcc",),
    "reply-to": ("reply-to",),
    "addressed": ("from", "to", "cc", "bcc", "reply-to"),
}
_EMPTY = ("", None, None, "", 0, 0, "", "", "", "")


def index_rows(m: Message) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], str]:
    """The values of :data:`INDEX_COLUMNS` for ``m``, its ``addresses`` rows (without
    ``seq``) and its folded text. A message that cannot be parsed is indexed with empty
    fields."""
    from ..query_match import searchable

    try:
        return _index(m, searchable(m))
    except Exception:  # parsing is best-effort; the raw message is what matters
        logger.debug("could not index message %s", m.id, exc_info=True)
        return _EMPTY, [], ""


def _index(m: Message, r: Searchable) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], str]:
    from ..summary import snippet

    pairs: list[tuple[Any, ...]] = []
    for field, found in (("from", r.from_), ("to", r.to), ("cc", r.cc), ("bcc", r.bcc), ("reply-to", r.reply_to)):
        pairs += [
            (field, i, name, address, address.casefold(), fold(name), fold(address))
            for i, (name, address) in enumerate(found)
        ]
    words = [
        fold(r.subject),
        fold(r.text),
        *(p for (*_, name_fold, address_fold) in pairs for p in (name_fold, address_fold)),
    ]
    date = m.date
    row = (
        r.subject,
        date.timestamp() if date is not None else None,
        date.isoformat() if date is not None else None,
        r.message_id,
        r.attachments,
        r.inline,
        snippet(m),
        " ".join(sorted(m.flags)),
        fold(r.subject),
        fold(r.message_id),
    )
    return row, pairs, "\n".join(words)


class Indexer:
    """Indexes the messages a store added, in a daemon thread, when the store has been quiet
    for :attr:`QUIET` seconds (so indexing never competes with a burst of mail), or at once
    when a search needs it (:meth:`catch_up`, in the searching thread). The thread ends when
    nothing is pending; the next add starts another.

    ``pending`` reads a batch of ``(seq, message)`` not indexed yet; ``write`` stores their
    index rows. Only one batch is indexed at a time, so no message is indexed twice.
    """

    QUIET = 0.05
    BATCH = 200

    def __init__(
        self, pending: Callable[[int], list[tuple[int, Message]]], write: Callable[[list[IndexRow]], None]
    ) -> None:
        self._pending = pending
        self._write = write
        self._lock = threading.Lock()  # one batch at a time
        self._threads = threading.Lock()  # starting and ending the thread
        self._wake = threading.Event()  # set by each add: something may be pending
        self._halt = threading.Event()  # set by stop()
        self._stopped = False
        self._last_add = 0.0
        self._thread: threading.Thread | None = None

    def added(self) -> None:
        """A message was added: index it once the store is quiet."""
        self._last_add = time.monotonic()
        with self._threads:
            self._wake.set()
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, name="mocksmtp.store indexer", daemon=True)
                self._thread.start()

    def catch_up(self) -> None:
        """Index everything pending now (before a search)."""
        while self._batch():
            pass

    def stop(self) -> None:
        self._stopped = True
        self._halt.set()
        with self._threads:
            self._wake.set()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    def _batch(self) -> bool:
        """Index one batch; False when nothing was pending."""
        with self._lock:
            if self._stopped:
                return False
            batch = self._pending(self.BATCH)
            if not batch:
                return False
            self._write([(seq, *index_rows(message)) for seq, message in batch])
            return True

    def _run(self) -> None:
        """Index while messages are pending, each batch after a lull; end when none are (the
        next add starts a thread again), so an idle store holds no thread."""
        while True:
            with self._threads:
                if self._stopped or not self._wake.is_set():
                    self._thread = None
                    return
                self._wake.clear()
            while not self._stopped:
                quiet_for = time.monotonic() - self._last_add
                if quiet_for < self.QUIET:
                    self._halt.wait(self.QUIET - quiet_for)  # until the lull, or stop()
                    continue
                try:
                    if not self._batch():
                        break
                except Exception:  # a closed store, a full disk: a search will try again
                    logger.debug("background indexing stopped", exc_info=True)
                    break


# -- queries to SQL --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between SQLite's SQL and PostgreSQL's in a compiled search (parameters are
    ``?`` in both: the PostgreSQL store turns them into ``%s``)."""

    true: str
    """A condition every row meets."""
    instr: str
    """The function giving the 1-based position of a substring, 0 when it is absent."""
    text_key: str
    """The column of ``texts`` that holds the message's ``seq``."""


SQLITE = Dialect(true="1", instr="instr", text_key="rowid")
POSTGRES = Dialect(true="TRUE", instr="strpos", text_key="seq")


def trigrams(needle: str) -> str:
    """An FTS5 query for the messages whose text has every trigram ``needle`` needs (at least
    three characters): one in three, and the last, enough to be selective without making
    SQLite merge a list of messages per character. A superset of the messages that hold the
    needle: :func:`where` reads each to check. The tokenizer folds case the same way on both
    sides, so it never misses one.

    >>> trigrams('quetzal')
    '"que" AND "tza" AND "zal"'
    """
    starts = sorted({*range(0, len(needle) - 2, 3), len(needle) - 3})
    return " AND ".join('"' + needle[i : i + 3].replace('"', '""') + '"' for i in starts)


Common = Callable[[str, str], bool]
"""``common(table, match)``: whether many messages of ``table`` (``texts`` or ``subjects``)
match the FTS5 query ``match``."""


def where(
    query: Query | None, *, fts: bool = False, common: Common | None = None, dialect: Dialect = SQLITE
) -> tuple[str, list[Any]]:
    """A ``WHERE`` condition over ``messages m`` in ``dialect`` and its parameters (``fts``: the
    ``texts`` and ``subjects`` tables are FTS5 trigram indexes, SQLite only).

    A word's candidates from the trigram index are listed in full before the page is read,
    which is quick for a rare word and slow for a common one (tens of thousands of them),
    whose page a scan in page order fills after a few hundred messages. Give ``common`` (for a
    page with a limit) and a word it calls common is looked for by that scan instead."""
    if query is None or not query.terms:
        return dialect.true, []
    parts, params = [], []
    for term in query.terms:
        sql, more = _term(term, fts, common, dialect)
        parts.append(f"NOT ({sql})" if term.negated else f"({sql})")
        params += more
    return " AND ".join(parts), params


def _term(term: Term, fts: bool, common: Common | None, dialect: Dialect) -> tuple[str, list[Any]]:
    instr = dialect.instr
    if isinstance(term, AddressTerm):
        fields = _FIELDS[term.field]
        marks = ", ".join("?" * len(fields))
        inside = f"SELECT 1 FROM addresses a WHERE a.seq = m.seq AND a.field IN ({marks})"
        if term.exact:  # through the index on address_exact, however few messages match
            return (
                f"m.seq IN (SELECT a.seq FROM addresses a WHERE a.address_exact = ? AND a.field IN ({marks}))",
                [term.value.casefold(), *fields],
            )
        needle = fold(term.value)
        return (
            f"EXISTS ({inside} AND ({instr}(a.name_fold, ?) > 0 OR {instr}(a.address_fold, ?) > 0))",
            [*fields, needle, needle],
        )
    if isinstance(term, TextTerm):
        if term.field == "text":
            needle = fold(term.value)
            found = f"EXISTS (SELECT 1 FROM texts x WHERE x.{dialect.text_key} = m.seq AND {instr}(x.text_fold, ?) > 0)"
            if fts and len(needle) >= 3 and not (common and common("texts", trigrams(needle))):
                # the few messages holding all of its trigrams, then each read
                return f"m.seq IN (SELECT rowid FROM texts WHERE texts MATCH ?) AND {found}", [trigrams(needle), needle]
            return found, [needle]
        if (
            term.field == "subject"
            and fts
            and len(needle := fold(term.value)) >= 3
            and not (common and common("subjects", trigrams(needle)))
        ):
            return (
                "m.seq IN (SELECT rowid FROM subjects WHERE subjects MATCH ?) AND instr(m.subject_fold, ?) > 0",
                [trigrams(needle), needle],
            )
        column = "m.subject_fold" if term.field == "subject" else "m.message_id_fold"
        return f"{instr}({column}, ?) > 0", [fold(term.value)]
    if isinstance(term, TagTerm):
        return "EXISTS (SELECT 1 FROM tags t WHERE t.seq = m.seq AND t.tag_fold = ?)", [term.value.casefold()]
    if isinstance(term, FlagTerm):
        return {
            "read": ("m.read = 1", []),
            "unread": ("m.read = 0", []),
            "tagged": ("EXISTS (SELECT 1 FROM tags t WHERE t.seq = m.seq)", []),
            "attachment": ("m.attachments > 0", []),
            "inline": ("m.inline > 0", []),
        }[term.value]
    if isinstance(term, SizeTerm):
        return ("m.size > ?" if term.field == "larger" else "m.size < ?"), [term.value]
    if isinstance(term, DateTerm):
        return ("m.received >= ?" if term.field == "after" else "m.received < ?"), [term.value.timestamp()]
    raise TypeError(f"not a search term: {term!r}")  # pragma: no cover (Term is a closed union)
