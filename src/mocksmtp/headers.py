"""Header views of a parsed message: :class:`Headers` and :class:`Address`.

Values are decoded (RFC 2047 encoded words, raw UTF-8) on first access, one header at a time,
so a message with 100,000 headers costs only what is read. Nothing here raises on bad input:
a header the modern parser cannot read is returned as it was sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

__all__ = ["Address", "Headers", "decode_header", "parse_addresses"]


def _policy() -> Any:
    """The parser's policy (:data:`mocksmtp.parsing.POLICY`), imported on first use so
    ``import mocksmtp`` stays cheap."""
    from .parsing import POLICY

    return POLICY


class Address(NamedTuple):
    """A mailbox from an address header: display name and plain address.

    The domain is lowercased, the local part kept as sent.

    >>> name, address = Address("Jörg", "Joerg@example.com")
    >>> str(Address("Jörg", "Joerg@example.com"))
    'Jörg <Joerg@example.com>'
    """

    name: str
    address: str

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


def normalize_address(address: str) -> str:
    """``Joe@Example.COM`` -> ``Joe@example.com``: only the domain is case-insensitive."""
    local, at, domain = address.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if at else address.strip()


def _text(value: str) -> str:
    """Undo the parser's surrogate escapes: raw 8-bit header bytes are read as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def decode_header(name: str, value: str) -> str:
    """The decoded, unfolded text of one raw header value; the raw value if it cannot be read."""
    value = _text(value)
    try:
        return str(_policy().header_fetch_parse(name, value))
    except Exception:  # the header registry has raised IndexError and friends on odd input
        return _unfold(value)


def parse_addresses(name: str, values: list[str]) -> tuple[list[Address], bool]:
    """Every mailbox in ``values`` (the raw values of one address header), group members
    included; the flag is False when the modern parser failed and the lenient one was used."""
    result: list[Address] = []
    ok = True
    for value in values:
        value = _text(value)
        try:
            header = _policy().header_fetch_parse(name, value)
            mailboxes = [(a.display_name, a.addr_spec) for a in header.addresses]
        except Exception:
            import email.utils

            ok = False
            mailboxes = email.utils.getaddresses([_unfold(value)])
        result.extend(Address(n, normalize_address(a)) for n, a in mailboxes if a and "@" in a)
    return result, ok


def _unfold(value: str) -> str:
    return "".join(value.splitlines())


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued view of a message's top-level headers.

    ``headers["subject"]`` is the first value (``KeyError`` when absent), :meth:`get_all`
    every value in order, :meth:`items_all` every ``(name, value)`` pair as sent.

    >>> h = Headers([("Received", "a"), ("Subject", "=?utf-8?q?caf=C3=A9?="), ("received", "b")])
    >>> h["SUBJECT"], h.get_all("Received"), len(h), "subject" in h
    ('café', ['a', 'b'], 2, True)
    """

    __slots__ = ("_decoded", "_index", "_raw")

    def __init__(self, raw_items: list[tuple[str, str]]) -> None:
        self._raw = raw_items
        self._index: dict[str, list[int]] = {}
        for i, (name, _) in enumerate(raw_items):
            self._index.setdefault(name.lower(), []).append(i)
        self._decoded: dict[int, str] = {}

    def _value(self, i: int) -> str:
        try:
            return self._decoded[i]
        except KeyError:
            name, raw = self._raw[i]
            value = self._decoded[i] = decode_header(name, raw)
            return value

    def __getitem__(self, name: str) -> str:
        positions = self._index.get(name.lower()) if isinstance(name, str) else None
        if not positions:
            raise KeyError(name)
        return self._value(positions[0])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        """Each distinct header name once, spelled as at its first occurrence."""
        return (self._raw[positions[0]][0] for positions in self._index.values())

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"<Headers {list(self)!r}>"

    def get_all(self, name: str) -> list[str]:
        """Every value of header ``name``, in order; ``[]`` when absent."""
        return [self._value(i) for i in self._index.get(name.lower(), ())]

    def get_raw(self, name: str) -> list[str]:
        """Every value of header ``name`` as sent (encoded words and folding kept)."""
        return [self._raw[i][1] for i in self._index.get(name.lower(), ())]

    def items_all(self) -> list[tuple[str, str]]:
        """Every ``(name, decoded value)`` pair, in the order sent, repeats included."""
        return [(name, self._value(i)) for i, (name, _) in enumerate(self._raw)]
