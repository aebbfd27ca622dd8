"""Parsing a received message once: MIME structure, bodies, attachments, links, defects.

:func:`parse` never raises for bad input. It uses :mod:`email` with the modern
``email.policy.default``, in a parser that reads what real mail sends and ``email`` does not
(obsolete header syntax, unquoted parameter values with special characters) and keeps an
attached message's bytes as sent. Where that parser gives up or would take too long, it
falls back (headers only, a lenient decoder) and says so in :attr:`Parsed.defects`. Limits:
a message with more than :data:`MAX_PARTS` MIME boundary lines or nested more than
:data:`MAX_DEPTH` deep is parsed for its headers only (CPython needs about 14 s for 100,000
parts and raises ``RecursionError`` near 1,000 levels).
"""

from __future__ import annotations

import base64
import binascii
import email.feedparser
import email.policy
import io
import re
import types
from dataclasses import dataclass
from email import errors
from email.feedparser import FeedParser
from email.headerregistry import BaseHeader, ContentDispositionHeader, ContentTypeHeader, HeaderRegistry
from email.message import EmailMessage, MIMEPart
from html.parser import HTMLParser
from typing import Any

from .attachment import Attachment
from .headers import Headers
from .parts import MessagePart, numbered_leaves

__all__ = [
    "MAX_DEPTH",
    "MAX_PARTS",
    "POLICY",
    "Outline",
    "Parsed",
    "extract_links",
    "outline",
    "parse",
    "parse_headers",
]

MAX_PARTS = 1000
"""More boundary lines than this and only the headers are parsed."""
MAX_DEPTH = 100
"""More ``boundary=`` parameters than this and only the headers are parsed."""

_BOUNDARY_PARAM = re.compile(rb"boundary\s*=", re.IGNORECASE)

# A parameter value sent bare although it holds characters only a quoted string may hold:
# ``boundary=----=_NextPart_000_0012`` (Outlook, JavaMail), ``filename==?UTF-8?B?...?=``.
# email cuts such a value at the first special character; mainstream parsers read it up to
# the next ";", and so do we, by quoting it before email parses the header. Quoted strings
# are matched first so that nothing inside one is touched; comments and backslashes are left
# to email, and so are RFC 2231 ``name*=`` values.
_BARE_PARAMETER = re.compile(
    r"""
    "(?:[^"\\]|\\.)*"?
  | (;\s*[^\s;=*"()]+\s*=\s*)
    ( (?:=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=\s*)+
    | [^\s;"()\\]*[/@?:,\[\]<>=][^\s;"()\\]* )
    (?=\s*(?:;|$))
""",
    re.VERBOSE,
)


# What every such value starts with, found without the care for quoted strings: nearly every
# header has none, and this check costs a fraction of the rewrite (headers are read often).
_MAYBE_BARE = re.compile(r""";\s*[^\s;=*"()]+\s*=\s*[^\s;"()\\]*[/@?:,\[\]<>=]""")


def _quote_bare_parameters(value: str, kwds: dict[str, Any]) -> str:
    if _MAYBE_BARE.search(value) is None:
        return value
    quoted = _BARE_PARAMETER.sub(lambda m: m[0] if m[1] is None else f'{m[1]}"{m[2].strip()}"', value)
    if quoted != value:
        kwds["defects"].append(
            errors.InvalidHeaderDefect("parameter value with special characters is not quoted; read up to the next ';'")
        )
    return quoted


class _ContentTypeHeader(ContentTypeHeader):
    @classmethod
    def parse(cls, value: str, kwds: dict[str, Any]) -> None:
        super().parse(_quote_bare_parameters(value, kwds), kwds)


class _ContentDispositionHeader(ContentDispositionHeader):
    @classmethod
    def parse(cls, value: str, kwds: dict[str, Any]) -> None:
        super().parse(_quote_bare_parameters(value, kwds), kwds)


class _HeaderRegistry(HeaderRegistry):
    """email's registry with the two headers above, building each header class once (email
    builds a new class with ``type()`` on every header it reads)."""

    def __init__(self) -> None:
        self._classes: dict[type[Any], type[BaseHeader]] = {}
        super().__init__()
        self.map_to_type("content-type", _ContentTypeHeader)
        self.map_to_type("content-disposition", _ContentDispositionHeader)

    def map_to_type(self, name: str, cls: type[Any]) -> None:
        self._classes.clear()
        super().map_to_type(name, cls)

    def __getitem__(self, name: str) -> type[BaseHeader]:
        cls = self.registry.get(name.lower(), self.default_class)
        try:
            return self._classes[cls]
        except KeyError:
            return self._classes.setdefault(cls, super().__getitem__(name))


POLICY = email.policy.default.clone(header_factory=_HeaderRegistry())
"""``email.policy.default``, reading ``Content-Type`` and ``Content-Disposition`` parameters
the way mainstream mail readers do; every parse and header decode here uses it."""

# RFC 5322 §4.5.3 (obs-optional) allows white space between a field name and its colon
# (``Subject     : Hello``). email's header pattern does not, so it takes such a line for the
# first line of the body and loses it and every header after it. _Parser reads header lines
# with this pattern instead (email's own, plus that one case) and drops the white space.
_HEADER_LINE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ]|[\041-\071\073-\176]+[\t ]+:)")
_OBSOLETE_NAME = re.compile(r"([\041-\071\073-\176]+)[\t ]+:")
_LINE_END = re.compile(r"(\r\n|\r|\n)\Z")


def _reading_headers_with(pattern: re.Pattern[str], parsegen: Any) -> Any:
    """``FeedParser._parsegen`` with ``pattern`` for the module-level ``headerRE`` it reads:
    a copy of the function with other globals, leaving the ``email`` package itself as it is."""
    if "headerRE" not in parsegen.__code__.co_names:  # pragma: no cover - a future email
        return parsegen
    namespace = {**vars(email.feedparser), "headerRE": pattern}
    return types.FunctionType(
        parsegen.__code__, namespace, parsegen.__name__, parsegen.__defaults__, parsegen.__closure__
    )


class _Parser(FeedParser):
    """email's feed parser, reading obsolete header syntax, that also notes the lines each
    (sub)message spans, so that an attached message's content is its bytes as sent rather
    than the parsed tree serialised again (:meth:`body`).

    The whole input is handed over at once, as lines; ``_new_message`` and ``_pop_message``
    (called where each part starts and ends) note the index of the next unread line: a few
    dictionary writes per part, nothing per line.
    """

    _parsegen = _reading_headers_with(_HEADER_LINE, FeedParser._parsegen)  # type: ignore[attr-defined]

    def __init__(self, *, headers_only: bool = False) -> None:
        super().__init__(policy=POLICY)
        self._all: list[str] = []
        self._starts: dict[int, int] = {}
        self._ends: dict[int, tuple[int, bool]] = {}
        if headers_only:
            self._set_headersonly()  # type: ignore[attr-defined]

    def parse(self, raw: bytes) -> EmailMessage:
        """Parse ``raw`` (once per parser); bytes map to characters one to one."""
        self._all = io.StringIO(raw.decode("ascii", "surrogateescape"), newline="").readlines()
        self._input.pushlines(self._all)  # type: ignore[attr-defined]
        return self.close()  # type: ignore[return-value]

    def _next_line(self) -> int:
        # The unread lines are the last ones handed over (email puts back only the line it
        # has just read), so their count says where the parser is. One exception: a "From "
        # line ending a header block is put back after the blank line that follows it, so a
        # message starting there (only in a message/* part with such a header) begins one
        # line early, at that blank line.
        return len(self._all) - len(self._input._lines)  # type: ignore[attr-defined]

    def _new_message(self) -> None:
        super()._new_message()  # type: ignore[misc]
        self._starts[id(self._cur)] = self._next_line()  # type: ignore[attr-defined]

    def _pop_message(self) -> Any:
        message = super()._pop_message()  # type: ignore[misc]
        enclosed = self._cur is not None  # type: ignore[attr-defined]
        self._ends[id(message)] = (self._next_line(), enclosed)
        return message

    def _parse_headers(self, lines: list[str]) -> None:
        joined = "".join(lines)
        if " :" in joined or "\t:" in joined:
            lines = [self._obsolete_name(line) for line in lines]
        super()._parse_headers(lines)  # type: ignore[misc]

    def _obsolete_name(self, line: str) -> str:
        found = _OBSOLETE_NAME.match(line)
        if found is None:
            return line
        defect = errors.ObsoleteHeaderDefect(f"white space before the colon of {found[1]!r}")
        self.policy.handle_defect(self._cur, defect)  # type: ignore[attr-defined]
        return f"{found[1]}:{line[found.end() :]}"

    def body(self, part: MIMEPart) -> str | None:
        """The body of a ``message/*`` part of this parse as sent (transfer encoding not
        undone): from its enclosed message's first line to the part's end, less the line
        ending that belongs to the boundary after it. ``None`` for a part it did not parse."""
        payload = part.get_payload()
        if not isinstance(payload, list) or not payload:
            return None
        start = self._starts.get(id(payload[0]))
        span = self._ends.get(id(part))
        if start is None or span is None:
            return None
        end, enclosed = span
        text = "".join(self._all[start:end])
        if enclosed and (line_end := _LINE_END.search(text)):  # RFC 2046 §5.1.1
            text = text[: line_end.start()]
        return text


@dataclass(frozen=True, slots=True)
class Parsed:
    """Everything derived from one parse of a message's raw bytes."""

    email: EmailMessage
    headers: Headers
    text: str | None
    html: str | None
    attachments: tuple[Attachment, ...]
    defects: tuple[str, ...]
    parts: tuple[MessagePart, ...] = ()


def parse(raw: bytes) -> Parsed:
    """Parse ``raw`` tolerantly; never raises for malformed content."""
    notes: list[str] = []
    msg, parser = _parse_tree(raw, notes)
    headers = Headers(list(msg.raw_items()))
    text = html_body = None
    attachments: list[Attachment] = []
    parts: list[MessagePart] = []
    if not notes:  # the full MIME tree is available
        try:
            text, html_body, attachments, parts = _bodies(msg, parser, notes)
        except Exception as e:  # a parser bug on odd input must not cost the message
            notes.append(f"mocksmtp: could not read the body ({type(e).__name__}: {e})")
    defects = _mime_defects(msg) + notes
    return Parsed(msg, headers, text, html_body, tuple(attachments), tuple(defects), tuple(parts))


@dataclass(frozen=True, slots=True)
class Outline:
    """What a list view needs of a body: the text body (the HTML body only when there is no
    text body), and how many attachments and inline parts there are."""

    text: str | None = None
    html: str | None = None
    attachments: int = 0
    inline: int = 0


def outline(raw: bytes) -> Outline:
    """The :class:`Outline` of ``raw``: its MIME tree is read, one body is decoded, and no
    attachment is (a list view of a message with a 20 MB attachment decodes none of it).
    Agrees with :func:`parse` (``attachments`` counts what is not :attr:`Attachment.inline`).
    Never raises for malformed content."""
    notes: list[str] = []
    msg, _ = _parse_tree(raw, notes)
    if notes:
        return Outline()
    try:
        if msg.get_content_maintype() == "multipart" and not msg.is_multipart():
            return Outline(text=_decode_text(msg, notes))
        text_part, html_part = msg.get_body(("plain",)), msg.get_body(("html",))
        inline = attachments = 0
        for part in _leaves(msg):
            if part is not text_part and part is not html_part:
                disposition, cid = _disposition_and_cid(part)
                shown = disposition == "inline" if disposition is not None else cid is not None
                inline += shown
                attachments += not shown
        text = _decode_text(text_part, notes) if text_part is not None else None
        html = _decode_text(html_part, notes) if text is None and html_part is not None else None
        return Outline(text, html, attachments, inline)
    except Exception:  # as parse(): odd input costs the outline, never the message
        return Outline()


# The end of the header block: a line ending, then an empty line. Line endings are email's own
# (CRLF, CR or LF; a CR followed by LF is always one CRLF), so the block is what email reads.
_HEADER_BLOCK_END = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


def parse_headers(raw: bytes) -> Headers:
    """The top-level headers of ``raw`` without reading its body: what :func:`parse` gives as
    ``Parsed.headers``, for the cost of the header block alone (a list view or a ``to=``
    filter on a 30 MB message reads a few hundred octets). Never raises for malformed input.

    >>> parse_headers(b"Subject : Hi\r\nTo: a@example.com\r\n\r\n" + b"x" * 10**6)["subject"]
    'Hi'
    """
    if raw[:1] in (b"\r", b"\n"):  # an empty line first: no headers at all
        return Headers([])
    end = _HEADER_BLOCK_END.search(raw)
    head = raw if end is None else raw[: end.end()]
    try:
        return Headers(list(_Parser(headers_only=True).parse(head).raw_items()))
    except Exception:  # an email bug on odd input: the full parse says what went wrong
        return parse(raw).headers


def _parse_tree(raw: bytes, notes: list[str]) -> tuple[EmailMessage, _Parser]:
    parts = raw.count(b"\n--")
    depth = len(_BOUNDARY_PARAM.findall(raw)) if parts else 0
    if parts > MAX_PARTS:
        notes.append(f"mocksmtp: {parts} MIME boundary lines (limit {MAX_PARTS}); parsed the headers only")
    elif depth > MAX_DEPTH:
        notes.append(f"mocksmtp: {depth} multipart containers (limit {MAX_DEPTH}); parsed the headers only")
    else:
        parser = _Parser()
        try:
            return parser.parse(raw), parser
        except (Exception, RecursionError) as e:
            notes.append(f"mocksmtp: MIME parsing failed ({type(e).__name__}); parsed the headers only")
    parser = _Parser(headers_only=True)
    return parser.parse(raw), parser


def _mime_defects(msg: EmailMessage) -> list[str]:
    found: list[str] = []
    try:
        for part in msg.walk():
            found.extend(type(d).__name__ for d in part.defects)
    except Exception:  # pragma: no cover - walk over a tree the parser built
        pass
    return found


def _bodies(
    msg: EmailMessage, parser: _Parser, notes: list[str]
) -> tuple[str | None, str | None, list[Attachment], list[MessagePart]]:
    if msg.get_content_maintype() == "multipart" and not msg.is_multipart():
        # multipart without a usable boundary: the parser kept the body as one string
        notes.append("mocksmtp: multipart body without parts; shown as text")
        body = _payload(msg, notes)
        return _decode_text(msg, notes), None, [], [MessagePart("0", "text/plain", None, len(body), None, None, body)]
    text_part = msg.get_body(("plain",))
    html_part = msg.get_body(("html",))
    text = _decode_text(text_part, notes) if text_part is not None else None
    html_text = _decode_text(html_part, notes) if html_part is not None else None
    attachments: list[Attachment] = []
    parts: list[MessagePart] = []
    for id, part in numbered_leaves(msg):
        if part is text_part or part is html_part:
            body = _payload(part, notes)
            disposition, cid = _disposition_and_cid(part)
            parts.append(MessagePart(id, part.get_content_type(), _filename(part), len(body), disposition, cid, body))
        else:
            a = _attachment(part, parser, notes, id)
            attachments.append(a)
            parts.append(MessagePart(id, a.content_type, a.filename, a.size, a.disposition, a.content_id, a.content))
    return text, html_text, attachments, parts


def _leaves(part: MIMEPart) -> list[MIMEPart]:
    """The non-multipart parts in order; an attached ``message/rfc822`` counts as one leaf."""
    if part.get_content_maintype() == "message" and part.is_multipart():
        return [part]
    if not part.is_multipart():
        return [part]
    leaves: list[MIMEPart] = []
    for child in part.iter_parts():
        leaves.extend(_leaves(child))
    return leaves


def _decode_text(part: MIMEPart, notes: list[str]) -> str:
    """A text part as ``str`` with ``\\n`` line endings, whatever its declared charset."""
    data = _payload(part, notes)
    charset = part.get_content_charset()
    if charset in (None, "us-ascii", "ascii") and not data.isascii():
        try:
            value = data.decode("utf-8")
            notes.append("mocksmtp: 8-bit text without a charset; decoded as UTF-8")
        except UnicodeDecodeError:
            value = data.decode("cp1252", "replace")
            notes.append("mocksmtp: 8-bit text without a charset; decoded as cp1252")
    else:
        try:
            value = data.decode(charset or "ascii", "replace")
        except LookupError:
            notes.append(f"mocksmtp: unknown charset {charset!r}; decoded as UTF-8")
            value = data.decode("utf-8", "replace")
    return value.replace("\r\n", "\n")


def _payload(part: MIMEPart, notes: list[str]) -> bytes:
    """The decoded payload; after a base64 defect, decoded again by :func:`_decode_base64`
    (``email`` hands back the encoded text when it cannot decode)."""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    if any("Base64" in type(d).__name__ for d in part.defects):
        encoded = part.get_payload(decode=False)
        if isinstance(encoded, str):
            data = _decode_base64(encoded, notes)
    return data


_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]+")


def _decode_base64(encoded: str, notes: list[str]) -> bytes:
    """Lenient base64, as mainstream decoders read it: characters outside the alphabet are
    skipped, decoding stops at the padding (what follows it is noted and ignored), and a last
    lone character, which cannot make a byte, is dropped."""
    data, _, rest = _NOT_BASE64.sub(b"", encoded.encode("ascii", "surrogateescape")).partition(b"=")
    if rest.strip(b"="):
        notes.append("mocksmtp: base64 data after the padding; decoded up to the padding")
    data = data[: len(data) - (len(data) % 4 == 1)]
    return base64.b64decode(data + b"=" * (-len(data) % 4))


def _enclosed(part: MIMEPart, parser: _Parser, notes: list[str]) -> bytes:
    """The content of a ``message/*`` part: its body exactly as sent, transfer encoding (which
    RFC 2046 forbids there, but mailers use) undone."""
    body = parser.body(part)
    if body is None:  # pragma: no cover - every message/* part of a parse has a recorded span
        notes.append("mocksmtp: could not find the bytes of an attached message")
        return b""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding in ("base64", "quoted-printable"):
        notes.append(f"mocksmtp: {part.get_content_type()} part in {encoding}; decoded")
        if encoding == "base64":
            return _decode_base64(body, notes)
        return binascii.a2b_qp(body.encode("ascii", "surrogateescape"))
    return body.encode("ascii", "surrogateescape")


def _filename(part: MIMEPart) -> str | None:
    try:
        return part.get_filename()
    except Exception:
        return None


def _disposition_and_cid(part: MIMEPart) -> tuple[str | None, str | None]:
    content_id = part.get("Content-ID")
    cid = str(content_id).strip().strip("<>").strip() if content_id is not None else None
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    return disposition, cid or None


def _attachment(part: MIMEPart, parser: _Parser, notes: list[str], part_id: str | None = None) -> Attachment:
    content = _enclosed(part, parser, notes) if part.is_multipart() else _payload(part, notes)
    disposition, cid = _disposition_and_cid(part)
    return Attachment(
        filename=_filename(part),
        content_type=part.get_content_type(),
        content=content,
        content_id=cid,
        disposition=disposition,
        part_id=part_id,
    )


_URL = re.compile(r"""https?://[^\s<>"'`{}|\\^\[\]]+""", re.IGNORECASE)
_TRAILING = ".,;:!?)'\""


def extract_links(text: str | None, html_body: str | None) -> list[str]:
    """``http``/``https`` URLs in the text body and in the HTML body's ``href``s and text,
    each once, in order of appearance (text first)."""
    found: dict[str, None] = {}
    for url in _URL.findall(text or ""):
        found.setdefault(url.rstrip(_TRAILING))
    if html_body:
        collector = _LinkCollector()
        try:
            collector.feed(html_body)
            collector.close()
        except Exception:  # pragma: no cover - HTMLParser is lenient
            pass
        for url in collector.urls:
            found.setdefault(url)
    return list(found)


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "href" and value and value.strip().lower().startswith(("http://", "https://")):
                self.urls.append(value.strip())

    def handle_data(self, data: str) -> None:
        self.urls.extend(url.rstrip(_TRAILING) for url in _URL.findall(data))
