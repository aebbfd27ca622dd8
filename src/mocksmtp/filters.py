"""Message filters: the keyword arguments of ``filter``, ``wait_for`` and ``assert_sent``.

Each filter takes a string, a compiled regular expression or a callable:

==================  ============================================  =================================
filter              a string matches                              a regex / callable gets
==================  ============================================  =================================
``to``, ``cc``,     one of the addresses, exactly, ignoring case  each plain address
``bcc``, ``from_``  (``a@x.org`` never matches ``ba@x.org``);
                    a list of strings: every one of them
``recipient``       an envelope recipient (RCPT TO), likewise     each envelope recipient
``subject``         a substring of the subject                    the subject
``contains``        a substring of the text or HTML body          the text and the HTML body
``has_attachment``  an attachment's file name, exactly;           the file name / each
                    ``True``/``False``: any / no attachment       :class:`~mocksmtp.Attachment`
``header``          ``"Name"``: present; ``("Name", value)``:     each value of that header
                    a value equal to it; a dict: all of them
``where``           -                                             the :class:`~mocksmtp.Message`
``query``           the search language of ``docs/search.md``     -
                    (``'to:a@x.org subject:"your order"'``)
==================  ============================================  =================================

A message matches when every given filter matches; ``None`` means "not given". A regex is
used with ``search``; a callable returns a truth value. A server hands ``query`` to its store
(which may search it in SQL, and knows the read flags and tags); a filter used on its own
matches it in Python, as for a message never read nor tagged.

>>> f = MessageFilter(to="b@example.com", subject="Welcome")
>>> f
MessageFilter(to='b@example.com', subject='Welcome')
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, Union

from .errors import ConfigError
from .headers import normalize_address

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

    from .attachment import Attachment
    from .message import Message
    from .query import Query

__all__ = ["FILTER_NAMES", "FilterArgs", "Matcher", "MessageFilter"]

Matcher = Union[str, "re.Pattern[str]", Callable[[Any], object]]
"""What a filter accepts: a string, a compiled regex, or a callable."""

TextMatcher = Union[str, "re.Pattern[str]", Callable[[str], object]]
AddressMatcher = Union[str, Sequence[str], "re.Pattern[str]", Callable[[str], object]]


class FilterArgs(TypedDict, total=False):
    """The keyword arguments of ``filter``, ``wait_for``, ``assert_sent``,
    ``assert_nothing_sent`` and :class:`MessageFilter`, for type checkers: a misspelt filter
    is an error before the test runs. ``None`` means "not given"."""

    to: AddressMatcher | None
    cc: AddressMatcher | None
    bcc: AddressMatcher | None
    from_: AddressMatcher | None
    recipient: AddressMatcher | None
    subject: TextMatcher | None
    contains: TextMatcher | None
    has_attachment: bool | str | re.Pattern[str] | Callable[[Attachment], object] | None
    header: str | tuple[str, TextMatcher] | Mapping[str, TextMatcher | None] | None
    where: Callable[[Message], object] | None
    query: str | None


FILTER_NAMES = (
    "to",
    "cc",
    "bcc",
    "from_",
    "recipient",
    "subject",
    "contains",
    "has_attachment",
    "header",
    "where",
    "query",
)

# A check returns None when the message matches, else a short account of what it had.
Check = Callable[["Message"], "str | None"]


class MessageFilter:
    """All the given filters at once: ``f(message)`` is True when every one matches, and
    :meth:`misses` says which ones a message failed and why."""

    __slots__ = ("_checks", "_given", "query")

    def __init__(self, **filters: Unpack[FilterArgs]) -> None:
        unknown = sorted(set(filters) - set(FILTER_NAMES))
        if unknown:
            from .config import closest

            hint = " (did you mean from_?)" if "from" in unknown else closest(unknown, FILTER_NAMES)
            raise ConfigError(
                f"unknown filter(s) {', '.join(unknown)}{hint}; valid filters are {', '.join(FILTER_NAMES)}"
            )
        given: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
        text = given.get("query")
        self.query: Query | None = None
        """The parsed ``query``, for the store to search (``None`` when not given)."""
        if text is not None:
            if not isinstance(text, str):
                raise ConfigError(
                    f"query= takes the text of a search, such as 'to:a@example.com is:unread', got {text!r}"
                )
            from .query import parse_query

            self.query = parse_query(text)
        self._checks: list[tuple[str, Check]] = [
            (name, _BUILDERS[name](value)) for name, value in given.items() if name != "query"
        ]
        self._given = given  # last: repr() tells a filter that is not fully built

    def __repr__(self) -> str:
        try:
            return f"MessageFilter({self.describe()})"
        except Exception:  # half built (its __init__ failed or has not run): repr never raises
            return "<MessageFilter (incomplete)>"

    def __bool__(self) -> bool:
        """False when no filter is given (every message matches)."""
        return bool(getattr(self, "_given", None))

    def describe(self) -> str:
        """The filters as keyword arguments: ``to='a@example.com', subject='Hi'``."""
        return ", ".join(f"{name}={_show(value)}" for name, value in self._given.items())

    def __call__(self, message: Message, *, in_query: bool | None = None) -> bool:
        """Whether ``message`` matches every filter. ``in_query`` is whether it matches
        ``query``, as the store found; ``None``: match it here."""
        if self.query is not None and not self._in_query(message, in_query):
            return False
        return all(check(message) is None for _, check in self._checks)

    def _in_query(self, message: Message, in_query: bool | None) -> bool:
        if in_query is not None or self.query is None:
            return in_query is not False
        from .query_match import matches, searchable

        return matches(self.query, searchable(message))

    def misses(self, message: Message, *, in_query: bool | None = None) -> list[str]:
        """One line per filter ``message`` fails: ``"to='a@x.org': got ['b@x.org']"``."""
        found = []
        if self.query is not None and not self._in_query(message, in_query):
            found.append(f"query={_show(self._given['query'])}: did not match")
        for name, check in self._checks:
            got = check(message)
            if got is not None:
                found.append(f"{name}={_show(self._given[name])}: {got}")
        return found


def _show(value: object) -> str:
    if isinstance(value, re.Pattern):
        return f"re.compile({value.pattern!r})"
    if callable(value) and not isinstance(value, type):
        return f"<{getattr(value, '__qualname__', type(value).__name__)}>"
    return repr(value)


def _clip(text: str | None, limit: int = 60) -> str:
    if text is None:
        return "none"
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _string_test(value: object, what: str, *, exact: bool = False) -> Callable[[str], bool]:
    if isinstance(value, str):
        return (lambda s: s == value) if exact else (lambda s: value in s)
    if isinstance(value, re.Pattern):
        if not isinstance(value.pattern, str):
            raise ConfigError(f"{what}= needs a str pattern, got bytes pattern {value.pattern!r}")
        return lambda s: value.search(s) is not None
    if callable(value):
        return lambda s: bool(value(s))
    raise ConfigError(f"{what}= takes a string, a compiled regex or a callable, got {value!r}")


def _normalized(address: str) -> str:
    if "<" in address:  # "Name <a@x.org>" given: use the address
        import email.utils

        address = email.utils.parseaddr(address)[1] or address
    return normalize_address(address).casefold()


def _address_check(name: str, addresses: Callable[[Message], list[str]]) -> Callable[[object], Check]:
    def build(value: object) -> Check:
        if isinstance(value, str) or (
            isinstance(value, Iterable) and not isinstance(value, (re.Pattern, Mapping)) and not callable(value)
        ):
            wanted = [value] if isinstance(value, str) else list(value)
            if not all(isinstance(w, str) for w in wanted):
                raise ConfigError(f"{name}= takes addresses as strings, got {value!r}")
            keys = [_normalized(w) for w in wanted]

            def exact(m: Message) -> str | None:
                have = {a.casefold() for a in addresses(m)}
                return None if all(k in have for k in keys) else f"got {addresses(m)!r}"

            return exact
        test = _string_test(value, name)

        def matched(m: Message) -> str | None:
            got = addresses(m)
            return None if any(test(a) for a in got) else f"got {got!r}"

        return matched

    return build


def _text_check(name: str, field: Callable[[Message], str]) -> Callable[[object], Check]:
    def build(value: object) -> Check:
        test = _string_test(value, name)

        def check(m: Message) -> str | None:
            got = field(m)
            return None if test(got) else f"got {_clip(got)}"

        return check

    return build


def _contains(value: object) -> Check:
    test = _string_test(value, "contains")

    def check(m: Message) -> str | None:
        bodies = [b for b in (m.text, m.html) if b is not None]
        if any(test(b) for b in bodies):
            return None
        return "no body" if not bodies else f"not in the body (text {_clip(m.text, 40)})"

    return check


def _has_attachment(value: object) -> Check:
    def names(m: Message) -> str:
        return f"got {[a.filename for a in m.attachments]!r}" if m.attachments else "got none"

    if isinstance(value, bool):
        return lambda m: None if bool(m.attachments) == value else names(m)
    if callable(value) and not isinstance(value, re.Pattern):
        return lambda m: None if any(value(a) for a in m.attachments) else names(m)
    test = _string_test(value, "has_attachment", exact=True)
    return lambda m: None if any(test(a.filename or "") for a in m.attachments) else names(m)


def _header(value: object) -> Check:
    if isinstance(value, str):
        pairs: list[tuple[str, object]] = [(value, None)]
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        pairs = [value]
    elif isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        pairs = list(value.items())
    else:
        raise ConfigError(f"header= takes a name, a (name, value) pair or a dict, got {value!r}")
    tests = [(n, None if v is None else _string_test(v, "header", exact=True)) for n, v in pairs]

    def check(m: Message) -> str | None:
        for header, test in tests:
            values = m.headers.get_all(header)
            if not values:
                return f"no {header} header"
            if test is not None and not any(test(v.strip()) for v in values):
                return f"got {header}: {values!r}"
        return None

    return check


def _where(value: object) -> Check:
    if not callable(value):
        raise ConfigError(f"where= takes a callable receiving the Message, got {value!r}")
    return lambda m: None if value(m) else "returned false"


_BUILDERS: dict[str, Callable[[Any], Check]] = {
    "to": _address_check("to", lambda m: m.to),
    "cc": _address_check("cc", lambda m: m.cc),
    "bcc": _address_check("bcc", lambda m: m.bcc),
    "from_": _address_check("from_", lambda m: [m.from_] if m.from_ else []),
    "recipient": _address_check("recipient", lambda m: list(m.rcpt_tos)),
    "subject": _text_check("subject", lambda m: m.subject),
    "contains": _contains,
    "has_attachment": _has_attachment,
    "header": _header,
    "where": _where,
}
