"""A received message: the raw bytes as sent plus the SMTP envelope.

The raw bytes are the source of truth and are never rewritten; every other view (``data``,
protocol ``flags``, and the parsed fields) is derived from them lazily, once, on first use.
Constructing a message parses nothing. Nothing here does I/O, and no property raises for
malformed content: what the parser could not read is listed in :attr:`Message.defects`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, NoReturn

if TYPE_CHECKING:
    from email.message import EmailMessage

    from .attachment import Attachment
    from .headers import Address, Headers
    from .parsing import Outline, Parsed
    from .parts import MessagePart

__all__ = ["Message"]

AddressField = Literal["from", "to", "cc", "reply_to", "sender"]

Peer = tuple[str, int]
_NO_FLAGS: frozenset[str] = frozenset()


class _MessageSlots:
    """Where a :class:`Message` keeps its fields (see :func:`_new_message`)."""

    __slots__ = (
        "_cache",
        "_engine_flags",
        "_received",
        "auth_user",
        "helo",
        "id",
        "mail_from",
        "mail_options",
        "peer",
        "raw",
        "rcpt_tos",
        "tls",
    )


class Message(_MessageSlots):
    """One accepted message, immutable: the envelope, the raw bytes, and parsed views.

    >>> m = Message(id="1", raw=b"Subject: hi\\r\\nTo: B@Example.COM\\r\\n\\r\\nbody\\r\\n",
    ...             mail_from="a@example.com", rcpt_tos=("b@example.com", "c@example.com"))
    >>> m.size, m.subject, m.to, m.bcc, m.text
    (40, 'hi', ['B@example.com'], ['c@example.com'], 'body\\n')
    """

    __slots__ = ()

    _cache: dict[str, Any]
    _engine_flags: frozenset[str]  # flags the engine saw and raw cannot show
    _received: float | datetime  # time.time() until received_at is first read
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
        s(self, "_received", received_at or time.time())
        s(self, "tls", tls)
        s(self, "auth_user", auth_user)
        s(self, "_cache", {})
        s(self, "_engine_flags", _NO_FLAGS)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"Message is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"Message is immutable; cannot delete {name!r}")

    def __repr__(self) -> str:
        return f"<Message id={self.id!r} from={self.mail_from!r} to={list(self.rcpt_tos)!r} size={self.size}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self.id == other.id and self.raw == other.raw

    def __hash__(self) -> int:
        return hash((self.id, len(self.raw)))

    # Immutable, so a copy may be the message itself; pickling rebuilds it from its fields
    # (the default way sets each slot, which __setattr__ refuses). Parsed views are not
    # carried over: they are computed again from raw when read.
    def __copy__(self) -> Message:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Message:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _unpickle,
            (
                self.id,
                self.raw,
                self.mail_from,
                self.rcpt_tos,
                self.mail_options,
                self.peer,
                self.helo,
                self.received_at,
                self.tls,
                self.auth_user,
                self._engine_flags,
            ),
        )

    @property
    def received_at(self) -> datetime:
        """When the message was accepted (aware, UTC)."""
        at = self._received
        if isinstance(at, float):
            at = datetime.fromtimestamp(at, timezone.utc)
            object.__setattr__(self, "_received", at)
        return at

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
        ``"long_line"`` (a line over 998 octets before its CRLF), ``"nul"`` (a NUL octet),
        ``"8bit"`` (an octet over 127), and from the engine ``"unstuffed_dot"`` (a data line
        began with a dot that was not doubled: the client forgot to dot-stuff, and the dot was
        removed as RFC 5321 4.5.2 says, so ``raw`` cannot show it).
        """
        try:
            return self._cache["flags"]  # type: ignore[no-any-return]
        except KeyError:
            value = self._cache["flags"] = _protocol_flags(self.raw) | self._engine_flags
            return value

    # -- parsed views (one parse on first use; see mocksmtp.parsing) ---------------------------

    def _parsed(self) -> Parsed:
        try:
            return self._cache["parsed"]  # type: ignore[no-any-return]
        except KeyError:
            from .parsing import parse  # the email package loads only when someone reads

            return self._cache.setdefault("parsed", parse(self.raw))  # type: ignore[no-any-return]

    def _cached(self, key: str, compute: Any) -> Any:
        try:
            return self._cache[key]
        except KeyError:
            return self._cache.setdefault(key, compute())

    @property
    def email(self) -> EmailMessage:
        """The parsed :class:`email.message.EmailMessage` (``email.policy.default``); do not
        modify it. For a message too large or too broken to parse, its headers only."""
        return self._parsed().email

    @property
    def headers(self) -> Headers:
        """Top-level headers, case-insensitive and multi-valued, decoded on access:
        ``m.headers["X-Mailer"]``, ``m.headers.get_all("Received")``. Reading them never reads
        the body: until something needs the full parse, only the header block is parsed."""
        cache = self._cache
        parsed = cache.get("parsed")
        if parsed is not None:
            return parsed.headers  # type: ignore[no-any-return]
        try:
            return cache["headers"]  # type: ignore[no-any-return]
        except KeyError:
            from .parsing import parse_headers  # the email package loads only when someone reads

            return cache.setdefault("headers", parse_headers(self.raw))  # type: ignore[no-any-return]

    @property
    def subject(self) -> str:
        """The decoded ``Subject`` (RFC 2047 undone, unfolded); ``""`` when absent."""
        return self.headers.get("subject", "")

    def addresses(self, field: AddressField = "to") -> list[Address]:
        """The ``(name, address)`` pairs of an address header, display names decoded.

        ``field`` is ``"from"``, ``"to"``, ``"cc"``, ``"reply_to"`` or ``"sender"``; group
        members are included; addresses are plain, with the domain lowercased.

        >>> m = Message(id="1", raw=b"To: =?utf-8?q?J=C3=B6rg?= <joerg@Example.com>\\r\\n\\r\\n",
        ...             mail_from="", rcpt_tos=[])
        >>> m.addresses("to")
        [Address(name='Jörg', address='joerg@example.com')]
        """
        from .headers import parse_addresses  # parsing code loads when a message is first read

        name = field.replace("_", "-")
        found: list[Address] = self._cached(
            f"addresses:{name}", lambda: parse_addresses(name, self.headers.get_raw(name))[0]
        )
        return found

    @property
    def from_(self) -> str:
        """The plain address of the (first) ``From`` mailbox; ``""`` when absent."""
        found = self.addresses("from")
        return found[0].address if found else ""

    @property
    def to(self) -> list[str]:
        """Plain addresses in ``To``, domain lowercased (``addresses("to")`` has the names)."""
        return [a.address for a in self.addresses("to")]

    @property
    def cc(self) -> list[str]:
        """Plain addresses in ``Cc``, domain lowercased."""
        return [a.address for a in self.addresses("cc")]

    @property
    def reply_to(self) -> list[str]:
        """Plain addresses in ``Reply-To``, domain lowercased."""
        return [a.address for a in self.addresses("reply_to")]

    @property
    def bcc(self) -> list[str]:
        """Envelope recipients that appear in neither ``To`` nor ``Cc`` (compared ignoring
        case), as given in RCPT TO."""
        shown = {a.casefold() for a in (*self.to, *self.cc)}
        return [r for r in self.rcpt_tos if r.casefold() not in shown]

    @property
    def date(self) -> datetime | None:
        """The ``Date`` header as a datetime (naive when it names no zone); ``None`` when
        absent or unreadable."""

        def compute() -> datetime | None:
            import email.utils

            value = self.headers.get("date")
            if not value:
                return None
            try:
                return email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError, OverflowError):
                return None

        return self._cached("date", compute)  # type: ignore[no-any-return]

    @property
    def message_id(self) -> str | None:
        """The ``Message-ID`` header as sent, angle brackets kept (as in ``In-Reply-To``)."""
        value = self.headers.get("message-id")
        return value.strip() if value else None

    @property
    def text(self) -> str | None:
        """The plain-text body, decoded, with ``\\n`` line endings; ``None`` when there is none."""
        return self._parsed().text

    @property
    def html(self) -> str | None:
        """The HTML body, decoded, with ``\\n`` line endings; ``None`` when there is none."""
        return self._parsed().html

    @property
    def attachments(self) -> list[Attachment]:
        """Every part that is not the text or HTML body, in order, inline images included
        (an attached message is one attachment of type ``message/rfc822`` whose content is
        the enclosed message's bytes as sent)."""
        return list(self._parsed().attachments)

    @property
    def parts(self) -> list[MessagePart]:
        """Every leaf of the MIME tree (bodies, attachments, inline images, attached messages)
        in order, each with its part id (``"0"``, ``"1"``, ``"1.2"``: see
        :mod:`mocksmtp.parts`), content type, file name, decoded size and disposition. The
        ids depend only on :attr:`raw`: the same in every process.

        >>> m = Message(id="1", raw=b"Content-Type: text/plain\\r\\n\\r\\nhi\\r\\n", mail_from="", rcpt_tos=[])
        >>> [(p.id, p.content_type, p.size) for p in m.parts], m.part("0")
        ([('0', 'text/plain', 4)], b'hi\\r\\n')
        """
        return list(self._parsed().parts)

    def part(self, id: str) -> bytes:
        """The decoded content (transfer encoding undone) of the part with this id; raises
        ``KeyError`` naming the ids there are when there is no such part."""
        parts = self._parsed().parts
        for p in parts:
            if p.id == id:
                return p.content
        raise KeyError(f"message {self.id} has no MIME part {id!r}; its parts are {[p.id for p in parts]!r}")

    def _outline(self) -> Outline:
        """The body as a list view needs it (see :func:`mocksmtp.parsing.outline`): from the
        full parse when there is one, else from a parse that decodes one body and no attachment."""
        from .parsing import Outline, outline

        parsed = self._cache.get("parsed")
        if parsed is None:
            return self._cached("outline", lambda: outline(self.raw))  # type: ignore[no-any-return]
        inline = sum(a.inline for a in parsed.attachments)
        return Outline(
            parsed.text, parsed.html if parsed.text is None else None, len(parsed.attachments) - inline, inline
        )

    @property
    def links(self) -> list[str]:
        """``http(s)`` URLs in the text and HTML bodies, each once, in order of appearance."""

        def compute() -> list[str]:
            from .parsing import extract_links

            return extract_links(self.text, self.html)

        return list(self._cached("links", compute))

    @property
    def defects(self) -> list[str]:
        """What is wrong with this message: MIME defect names from the parser
        (``"StartBoundaryNotFoundDefect"``), the protocol :attr:`flags` (``"bare_lf"``), and
        ``"mocksmtp: ..."`` notes where parsing fell back (unknown charset, too many parts)."""
        return [*self._parsed().defects, *sorted(self.flags)]

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


def _unpickle(
    id: str,
    raw: bytes,
    mail_from: str,
    rcpt_tos: tuple[str, ...],
    mail_options: tuple[str, ...],
    peer: Peer,
    helo: str,
    received_at: datetime,
    tls: str | None,
    auth_user: str | None,
    engine_flags: frozenset[str] = frozenset(),
) -> Message:
    m = Message(
        id=id,
        raw=raw,
        mail_from=mail_from,
        rcpt_tos=rcpt_tos,
        mail_options=mail_options,
        peer=peer,
        helo=helo,
        received_at=received_at,
        tls=tls,
        auth_user=auth_user,
    )
    object.__setattr__(m, "_engine_flags", engine_flags)
    return m


class _UnsealedMessage(_MessageSlots):
    """A :class:`Message` under construction: same fields, plain assignment."""

    __slots__ = ()


def _new_message(
    id: str,
    raw: bytes,
    mail_from: str,
    rcpt_tos: tuple[str, ...],
    mail_options: tuple[str, ...],
    peer: Peer,
    helo: str,
    tls: str | None,
    auth_user: str | None,
    flags: frozenset[str] = frozenset(),
) -> Message:
    """The engine's way to make a :class:`Message`: once per accepted message, so it counts.

    ``Message.__init__`` must go through ``object.__setattr__`` for every field (its own
    ``__setattr__`` refuses); this fills an unsealed twin with plain assignments and then
    makes it a ``Message`` (same slots, so ``__class__`` may change): about 1 µs instead of 6.
    """
    m: Any = _UnsealedMessage()  # typed fields are Message's; this is only ever one
    m.id = id
    m.raw = raw
    m.mail_from = mail_from
    m.rcpt_tos = rcpt_tos
    m.mail_options = mail_options
    m.peer = peer
    m.helo = helo
    m._received = time.time()  # a datetime only when asked for: most never are
    m.tls = tls
    m.auth_user = auth_user
    m._cache = {}
    m._engine_flags = flags  # what raw cannot show (see Message.flags)
    m.__class__ = Message
    return m  # type: ignore[no-any-return]


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
