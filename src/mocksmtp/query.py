"""The search language (Mailpit's syntax), parsed into a plain :class:`Query`.

A query is terms separated by spaces; a message matches when it matches every term, and the
empty query matches everything. A term is a bare word or a ``"quoted phrase"`` (searched, as
a substring ignoring case, in the subject, the addresses and display names, and the body), or
``field:value`` with ``field`` one of :data:`FIELDS` (names in any case, ``subject:"a b"`` for a
value with spaces). A leading ``-`` or ``!`` negates any term. See ``docs/search.md``.

:func:`parse_query` does all the reading: address terms know whether they are a whole address
(matched exactly) or a substring, sizes are bytes and dates aware UTC datetimes, so a store
only evaluates a :class:`Query` (:func:`mocksmtp.query_match.matches`) or compiles it (to SQL).

>>> q = parse_query('to:Ann@Example.com subject:"your order" -has:attachment larger:1.5K')
>>> q.terms[0]
AddressTerm(field='to', value='Ann@Example.com', exact=True, negated=False)
>>> str(q)
'to:Ann@Example.com subject:"your order" -has:attachment larger:1536'
"""

from __future__ import annotations

import dataclasses
import functools
import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import ClassVar, Literal, Union

from .errors import ConfigError, QuerySyntaxError

__all__ = [
    "ADDRESS_FIELDS",
    "FIELDS",
    "AddressField",
    "AddressTerm",
    "DateTerm",
    "Flag",
    "FlagTerm",
    "Query",
    "SizeTerm",
    "TagTerm",
    "Term",
    "TextTerm",
    "fold",
    "parse_query",
]

AddressField = Literal["from", "to", "cc", "bcc", "reply-to", "addressed"]
Flag = Literal["read", "unread", "tagged", "attachment", "inline"]

ADDRESS_FIELDS: tuple[AddressField, ...] = ("from", "to", "cc", "bcc", "reply-to", "addressed")
FIELDS = (*ADDRESS_FIELDS, "subject", "message-id", "tag", "is", "has", "larger", "smaller", "before", "after")
"""Every field name a term may start with (followed by ``:``)."""

_FLAGS: dict[str, dict[str, Flag]] = {
    "is": {"read": "read", "unread": "unread", "tagged": "tagged"},
    "has": {"attachment": "attachment", "attachments": "attachment", "inline": "inline", "inlines": "inline"},
}
_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)


def fold(text: str) -> str:
    """``text`` as searches compare it: case folded, each run of whitespace one space."""
    return " ".join(text.split()).casefold()


# -- the terms -------------------------------------------------------------------------------


def _quoted(value: str, *, bare: bool) -> str:
    if bare and value and not any(c.isspace() or c == '"' for c in value):
        return value
    return f'"{value}"'


@dataclasses.dataclass(frozen=True, slots=True)
class TextTerm:
    """A substring of some text, ignoring case and spacing: a bare word or phrase
    (``field == "text"``: subject, addresses, names and body), ``subject:`` or ``message-id:``
    (angle brackets not included)."""

    field: Literal["text", "subject", "message-id"]
    value: str
    negated: bool = False

    def __str__(self) -> str:
        if self.field == "text":  # a bare word must not read as negated or as a field
            bare = not self.value.startswith(("-", "!")) and ":" not in self.value
            return "-" * self.negated + _quoted(self.value, bare=bare)
        return f"{'-' * self.negated}{self.field}:{_quoted(self.value, bare=True)}"


@dataclasses.dataclass(frozen=True, slots=True)
class AddressTerm:
    """``from:``, ``to:``, ``cc:``, ``bcc:``, ``reply-to:`` or ``addressed:`` (any of them).

    ``exact`` when the value is a whole address (``local@domain``): it matches that address,
    ignoring case, and nothing else; otherwise a substring of an address or display name.
    """

    field: AddressField
    value: str
    exact: bool
    negated: bool = False

    def __str__(self) -> str:
        return f"{'-' * self.negated}{self.field}:{_quoted(self.value, bare=True)}"


@dataclasses.dataclass(frozen=True, slots=True)
class TagTerm:
    """``tag:name``: a tag with exactly that name, ignoring case."""

    field: ClassVar[Literal["tag"]] = "tag"
    value: str
    negated: bool = False

    def __str__(self) -> str:
        return f"{'-' * self.negated}tag:{_quoted(self.value, bare=True)}"


@dataclasses.dataclass(frozen=True, slots=True)
class FlagTerm:
    """``is:read``, ``is:unread``, ``is:tagged``, ``has:attachment`` or ``has:inline``."""

    value: Flag
    negated: bool = False

    @property
    def field(self) -> Literal["is", "has"]:
        return "has" if self.value in ("attachment", "inline") else "is"

    def __str__(self) -> str:
        return f"{'-' * self.negated}{self.field}:{self.value}"


@dataclasses.dataclass(frozen=True, slots=True)
class SizeTerm:
    """``larger:`` (size > value) or ``smaller:`` (size < value), the value in bytes."""

    field: Literal["larger", "smaller"]
    value: int
    negated: bool = False

    def __str__(self) -> str:
        return f"{'-' * self.negated}{self.field}:{self.value}"


@dataclasses.dataclass(frozen=True, slots=True)
class DateTerm:
    """``after:`` (received at or after) or ``before:`` (strictly before); an aware UTC time."""

    field: Literal["before", "after"]
    value: datetime
    negated: bool = False

    def __str__(self) -> str:
        v = self.value.astimezone(_UTC)
        fraction = f".{v.microsecond:06d}" if v.microsecond else ""
        return (
            f"{'-' * self.negated}{self.field}:{v.year:04d}-{v.month:02d}-{v.day:02d}"
            f"T{v.hour:02d}:{v.minute:02d}:{v.second:02d}{fraction}Z"
        )


Term = Union[TextTerm, AddressTerm, TagTerm, FlagTerm, SizeTerm, DateTerm]  # noqa: UP007 (3.10 runtime)


@dataclasses.dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: a message matches when it matches every term (none: everything).

    ``str(query)`` is query text that parses back to an equal :class:`Query`.
    """

    terms: tuple[Term, ...] = ()

    def __str__(self) -> str:
        return " ".join(map(str, self.terms))


# -- parsing ---------------------------------------------------------------------------------

_FIELD_LIKE = re.compile(r"[A-Za-z][A-Za-z-]*:")
_ADDRESS = re.compile(r'[^\s@<>"]+@[^\s@<>"]+')
_ENDS = re.compile(r"^[\s<>]+|[\s<>]+$")  # around an address or a Message-ID


def parse_query(text: str, *, tz: tzinfo | str | None = None) -> Query:
    """Parse ``text`` in the search language; raise :class:`~mocksmtp.errors.QuerySyntaxError`
    (a ``ValueError``) naming the position of anything it cannot read.

    ``tz`` is the zone of ``before:``/``after:`` values that name none (``2024-05-01`` is
    midnight there): a :class:`~datetime.tzinfo`, an IANA name, or ``None`` for UTC.

    >>> parse_query('!from:"Ann Lee" is:unread').terms
    (AddressTerm(field='from', value='Ann Lee', exact=False, negated=True), FlagTerm(value='unread', negated=False))
    """
    zone = _zone(tz)
    terms: list[Term] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i == n:
            return Query(tuple(terms))
        term, i = _term(text, i, zone)
        terms.append(term)


def _zone(tz: tzinfo | str | None) -> tzinfo:
    if tz is None:
        return _UTC
    if isinstance(tz, tzinfo):
        return tz
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(tz)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError) as e:
        raise ConfigError(
            f"tz={tz!r} is not a time zone this machine knows; give an IANA name "
            "such as 'Europe/Paris', a datetime.tzinfo, or None for UTC"
        ) from e


def _term(text: str, start: int, zone: tzinfo) -> tuple[Term, int]:
    """The term at ``start`` (not a space) and the position just after it."""
    i, n = start, len(text)
    negated = text[i] in "-!"
    if negated:
        i += 1
        if i == n or text[i].isspace():
            raise QuerySyntaxError(
                f"nothing to exclude after `{text[start]}` at position {start}: write the "
                f'term right after it (`-word`), or quote it (`"{text[start]}"`) to '
                "search for the character",
                start,
            )
    if text[i] == '"':
        value, end = _phrase(text, i)
        return TextTerm("text", value, negated), end
    j = i
    while j < n and not text[j].isspace() and text[j] != '"':
        j += 1
    word = text[i:j]
    field_match = _FIELD_LIKE.match(word)
    quoted = j < n and text[j] == '"'
    if quoted and not (field_match and field_match.end() == len(word)):
        raise QuerySyntaxError(
            f'unexpected quote at position {j}: quote a whole phrase (`"a b"`) or a field\'s value (`subject:"a b"`)', j
        )
    if not field_match:
        return TextTerm("text", word, negated), j
    name = field_match.group()[:-1]
    if name.lower() not in FIELDS:
        import difflib

        close = difflib.get_close_matches(name.lower(), FIELDS, n=1)
        hint = f"did you mean `{close[0]}:`?" if close else f"fields are {', '.join(f'`{f}:`' for f in FIELDS)}"
        literal = "" if quoted else f' (to search for the text, quote it: `"{word}"`)'
        raise QuerySyntaxError(f"unknown field `{name}:` at position {i}: {hint}{literal}", i)
    value_at = i + len(name) + 1
    if quoted:
        value, end = _phrase(text, j)
        return _field_term(name, value, negated, i, j, zone), end
    if value_at == j:
        raise QuerySyntaxError(f"expected a value after `{name}:` at position {value_at}", value_at)
    return _field_term(name, text[value_at:j], negated, i, value_at, zone), j


def _phrase(text: str, start: int) -> tuple[str, int]:
    """The quoted text starting at ``start`` (a quote) and the position after its end."""
    end = text.find('"', start + 1)
    if end < 0:
        raise QuerySyntaxError(f'unterminated quote at position {start}: add the closing `"`', start)
    if end + 1 < len(text) and not text[end + 1].isspace():
        raise QuerySyntaxError(f"expected a space after the closing quote at position {end + 1}", end + 1)
    value = text[start + 1 : end]
    if not value.strip():
        raise QuerySyntaxError(f"empty quotes at position {start}: put the text to search between them", start)
    return value, end + 1


def _field_term(name: str, value: str, negated: bool, start: int, value_at: int, zone: tzinfo) -> Term:
    field = name.lower()
    if field in ADDRESS_FIELDS or field == "message-id":
        value = _ENDS.sub("", value)  # to:<a@example.com> is to:a@example.com
        if not value:
            raise QuerySyntaxError(f"expected a value after `{name}:` at position {value_at}", value_at)
        if field == "message-id":
            return TextTerm("message-id", value, negated)
        exact = _ADDRESS.fullmatch(value) is not None
        return AddressTerm(field, value, exact, negated)  # type: ignore[arg-type]
    if field == "subject":
        return TextTerm("subject", value, negated)
    if field == "tag":
        return TagTerm(value, negated)
    if field in _FLAGS:
        flag = _FLAGS[field].get(value.lower())
        if flag is None:
            choices = ", ".join(f"`{field}:{v}`" for v in dict.fromkeys(_FLAGS[field].values()))
            raise QuerySyntaxError(f"unknown `{name}:{value}` at position {start}: expected {choices}", start)
        return FlagTerm(flag, negated)
    if field in ("larger", "smaller"):
        size = _size(value)
        if size is None:
            raise QuerySyntaxError(
                f"bad size `{name}:{value}` at position {start}: write bytes or "
                "a number with K, M or G (`larger:500K`, `smaller:1.5M`)",
                start,
            )
        return SizeTerm(field, size, negated)  # type: ignore[arg-type]
    at = _date(value, zone)
    if at is None:
        raise QuerySyntaxError(
            f"bad date `{name}:{value}` at position {start}: write YYYY-MM-DD, an "
            'ISO 8601 time (`2024-05-01T09:30Z`) or `"1 May 2024"`',
            start,
        )
    return DateTerm(field, at, negated)  # type: ignore[arg-type]


_SIZE = re.compile(r"([0-9]{1,18})(?:\.([0-9]{1,18}))? ?(b|k|kb|m|mb|g|gb)?", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}


def _size(value: str) -> int | None:
    """Bytes from ``100``, ``500K``, ``1.5MB``, ``2g`` (1024-based, as Mailpit); else None."""
    m = _SIZE.fullmatch(value)
    if m is None:
        return None
    whole, fraction, unit = m.group(1), m.group(2) or "", (m.group(3) or "").lower()
    scale: int = 10 ** len(fraction)  # (int ** int is typed Any: the exponent may be negative)
    return (int(whole) * scale + int(fraction or 0)) * _UNITS[unit] // scale  # exact, rounded down


_TIME = r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
_ZONE = r"(?P<z>z|utc|gmt|[+-]\d{2}(?::?\d{2})?)"
_NUMERIC_DATE = rf"(?P<y>\d{{4}})(?P<sep>[-/.]?)(?P<mo>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}})(?:(?:t| +){_TIME})? *{_ZONE}?"
_NAMED_DATE = (  # [Mon, ]1 May 2024 | May 1[,] 2024, then [09:30[:00] [pm]] [zone]
    r"(?:(?P<wd>[a-z]{3,9}),? +)?(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)? +(?P<m1>[a-z]{3,9})\.?"
    r"|(?P<m2>[a-z]{3,9})\.? +(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?)"
    rf" +(?P<y>\d{{4}})(?:,? +{_TIME} *(?P<ap>am|pm)?)? *{_ZONE}?(?: *\(.*\))?"
)


@functools.cache
def _date_pattern(pattern: str) -> re.Pattern[str]:
    """Compiled on first use: most queries have no date."""
    return re.compile(pattern, re.IGNORECASE | re.ASCII)


_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _named(name: str, names: tuple[str, ...]) -> int | None:
    """The index of the name ``name`` spells or abbreviates (3 letters at least, "sept")."""
    name = name.lower()
    for index, full in enumerate(names):
        if full.startswith(name) or (full == "september" and name == "sept"):
            return index
    return None


def _date(value: str, zone: tzinfo) -> datetime | None:
    """An aware UTC datetime from the date forms of the search language; else None."""
    value = value.strip()
    try:
        if value.isascii() and value.isdigit() and len(value) in (10, 13):  # Unix time, s or ms
            return _EPOCH + timedelta(milliseconds=int(value) * (1 if len(value) == 13 else 1000))
        if m := _date_pattern(_NUMERIC_DATE).fullmatch(value):
            if not m["sep"] and len(m["mo"] + m["d"]) != 4:
                return None  # YYYYMMDD: two digits each
            month, day = int(m["mo"]), int(m["d"])
        elif m := _date_pattern(_NAMED_DATE).fullmatch(value):
            found = _named(m["m1"] or m["m2"], _MONTHS)
            if found is None or (m["wd"] and _named(m["wd"], _DAYS) is None):
                return None
            month, day = found + 1, int(m["d1"] or m["d2"])
        else:
            return None
        hour, minute, second = int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0)
        if m.groupdict().get("ap"):
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if m["ap"].lower() == "pm" else 0)
        micro = int(((m["f"] or "") + "000000")[:6])
        at = datetime(int(m["y"]), month, day, hour, minute, second, micro, tzinfo=_offset(m["z"]) or zone)
        return at.astimezone(_UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text.lower() in ("z", "utc", "gmt"):
        return _UTC
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    if minutes >= 24 * 60:
        raise ValueError(text)
    return timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))
