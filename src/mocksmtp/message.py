"""A received message: the raw bytes as sent plus the SMTP envelope.

The raw bytes are the source of truth and are never rewritten; every other view (``data``,
protocol ``flags``, and the parsed fields) is derived from them lazily, once, on first use.
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, NoReturn

__all__ = ["Message"]

Peer = tuple[str, int]


class Message:
    """One accepted message, immutable.

    >>> m = Message(id="1", raw=b"Subject: hi\\r\\n\\r\\nbody\\r\\n", mail_from="a@example.com",
    ...             rcpt_tos=("b@example.com",))
    >>> m.size, m.data.splitlines()[0]
    (25, 'Subject: hi')
    """

    __slots__ = (
        "_cache",
        "auth_user",
        "helo",
        "id",
        "mail_from",
        "mail_options",
        "peer",
        "raw",
        "rcpt_tos",
        "received_at",
        "tls",
    )

    _cache: dict[str, Any]
    id: str
    """Identifier, unique within a server; the ``250 ... queued as <id>`` reply names it."""
    raw: bytes
    """The message exactly as sent, less the DATA framing (dot-stuffing and the final ``.``)."""
    mail_from: str
    """Envelope sender without angle brackets; ``""`` for the null sender ``<>``."""
    rcpt_tos: tuple[str, ...]
    """Accepted envelope recipients, in order, exactly as given (case preserved)."""
    mail_options: tuple[str, ...]
    """ESMTP parameters given with MAIL FROM, as sent (``("SIZE=1234", "BODY=8BITMIME")``)."""
    peer: Peer
    """Client address and port."""
    helo: str
    """The name the client gave in HELO or EHLO."""
    received_at: datetime
    """When the message was accepted (aware, UTC)."""
    tls: str | None
    """The TLS version when the message came over TLS, else ``None``."""
    auth_user: str | None
    """The authenticated user, else ``None``."""

    def __init__(
        self,
        *,
        id: str,
        raw: bytes,
        mail_from: str,
        rcpt_tos: Sequence[str],
        mail_options: Sequence[str] = (),
        peer: Peer = ("", 0),
        helo: str = "",
        received_at: datetime | None = None,
        tls: str | None = None,
        auth_user: str | None = None,
    ) -> None:
        s = object.__setattr__
        s(self, "id", id)
        s(self, "raw", raw)
        s(self, "mail_from", mail_from)
        s(self, "rcpt_tos", tuple(rcpt_tos))
        s(self, "mail_options", tuple(mail_options))
        s(self, "peer", peer)
        s(self, "helo", helo)
        s(self, "received_at", received_at or datetime.now(timezone.utc))
        s(self, "tls", tls)
        s(self, "auth_user", auth_user)
        s(self, "_cache", {})

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"Message is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"Message is immutable; cannot delete {name!r}")

    def __repr__(self) -> str:
        return (
            f"<Message id={self.id!r} from={self.mail_from!r} to={list(self.rcpt_tos)!r} "
            f"size={self.size}>"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self.id == other.id and self.raw == other.raw

    def __hash__(self) -> int:
        return hash((self.id, len(self.raw)))

    @property
    def size(self) -> int:
        """Size of :attr:`raw` in octets."""
        return len(self.raw)

    @property
    def data(self) -> str:
        """:attr:`raw` decoded as UTF-8 (undecodable bytes become U+FFFD); line endings kept."""
        try:
            return self._cache["data"]  # type: ignore[no-any-return]
        except KeyError:
            value = self._cache["data"] = self.raw.decode("utf-8", "replace")
            return value

    @property
    def flags(self) -> frozenset[str]:
        """Protocol-level oddities found in :attr:`raw`, computed once.

        ``"bare_lf"`` (an LF not preceded by CR), ``"bare_cr"`` (a CR not followed by LF),
        ``"long_line"`` (a line over 998 octets before its CRLF), ``"nul"`` (a NUL octet) and
        ``"8bit"`` (an octet over 127).
        """
        try:
            return self._cache["flags"]  # type: ignore[no-any-return]
        except KeyError:
            value = self._cache["flags"] = _protocol_flags(self.raw)
            return value

    def as_dict(self) -> dict[str, Any]:
        """The seed's dictionary: ``peer``, ``mail_from``, ``rcpt_tos``, ``data``, plus ``id``,
        ``raw``, ``received_at`` and ``mail_options``."""
        return {
            "peer": self.peer,
            "mail_from": self.mail_from,
            "rcpt_tos": list(self.rcpt_tos),
            "data": self.data,
            "id": self.id,
            "raw": self.raw,
            "received_at": self.received_at,
            "mail_options": list(self.mail_options),
        }


def _protocol_flags(raw: bytes) -> frozenset[str]:
    flags: set[str] = set()
    crlf = raw.count(b"\r\n")
    if raw.count(b"\n") != crlf:
        flags.add("bare_lf")
    if raw.count(b"\r") != crlf:
        flags.add("bare_cr")
    if len(raw) > 998 and max(map(len, raw.split(b"\r\n"))) > 998:
        flags.add("long_line")
    if b"\x00" in raw:
        flags.add("nul")
    if not raw.isascii():
        flags.add("8bit")
    return frozenset(flags)
