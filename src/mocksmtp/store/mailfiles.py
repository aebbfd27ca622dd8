"""Mail on disk: mboxrd, Maildir and ``.eml`` files, byte for byte, and what an envelope is
when a file has none. Used by :mod:`mocksmtp.store.transfer`; no store here, only bytes.

Every writer keeps a message's raw bytes exactly (CRLF, bare LF, 8-bit, no final newline), so
the standard library's :mod:`mailbox` is not used: it rewrites CRLF to LF and quotes ``From ``
lines the mboxo way, which cannot be undone.

**mboxrd, as written here.** Each message is a ``From SENDER DATE`` line (``MAILER-DAEMON``
for the null sender, the arrival time in UTC as ``asctime``), then its raw bytes with every
line that starts with ``>*From `` given one more ``>``, then one ``\\n`` (the blank line that
ends a message, when the message ended with a newline). A reader takes a message as everything
between its ``From`` line and the ``\\n`` before the next one (or the last ``\\n`` of the file)
and removes one ``>`` from every line starting ``>+From ``: exactly the inverse, whether or not
the message ended with a newline. The same reader reads the mbox files of other programs as
they do (Python's :mod:`mailbox`, Postfix, mutt: a blank line after each message).
"""

from __future__ import annotations

import calendar
import dataclasses
import email.utils
import hashlib
import json
import mmap
import os
import re
import socket
import time
from collections.abc import Iterator, Sequence
from datetime import timezone
from pathlib import Path

from ..errors import TransferError
from ..message import Message

__all__ = [
    "Envelope",
    "EnvelopeIndex",
    "MboxEntry",
    "envelope_from_headers",
    "envelope_record",
    "from_line",
    "looks_like_mail",
    "maildir_name",
    "maildir_read_flag",
    "mbox_quote",
    "mbox_unquote",
    "parse_from_line",
    "scan_mbox",
]

_QUOTE = re.compile(rb"^(>*From )", re.MULTILINE)
_UNQUOTE = re.compile(rb"^>(>*From )", re.MULTILINE)
_HEADER_START = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")
NULL_SENDER = "MAILER-DAEMON"
"""What an mbox ``From`` line says for the null sender ``<>`` (as Postfix writes it)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Envelope:
    """What an imported message's envelope and state are (see ``docs/storage.md``)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    received: float | None = None  # seconds since the epoch; None: when it is imported
    mail_options: tuple[str, ...] = ()
    helo: str = ""
    tls: str | None = None
    auth_user: str | None = None
    read: bool = False
    tags: tuple[str, ...] = ()


# -- mboxrd ------------------------------------------------------------------------------------


def mbox_quote(raw: bytes) -> bytes:
    """``raw`` with one more ``>`` before every line that starts with ``>*From ``."""
    return _QUOTE.sub(rb">\1", raw) if b"From " in raw else raw


def mbox_unquote(body: bytes) -> bytes:
    """The inverse of :func:`mbox_quote`: one ``>`` less before every line ``>+From ``."""
    return _UNQUOTE.sub(rb"\1", body) if b">From " in body else body


def from_line(mail_from: str, received: float) -> bytes:
    """``From app@example.com Sat Dec  5 12:35:46 2026\\n`` (spaces in the sender become ``_``)."""
    sender = "".join("_" if c.isspace() else c for c in mail_from) or NULL_SENDER
    return f"From {sender} {time.asctime(time.gmtime(received))}\n".encode("utf-8", "surrogateescape")


def parse_from_line(line: bytes) -> tuple[str, float | None]:
    """The sender (``""`` for ``MAILER-DAEMON``) and the time (``None`` when unreadable) of a
    ``From `` line, without its line ending."""
    text = line[5:].decode("utf-8", "replace").strip()
    sender, _, rest = text.partition(" ")
    rest = rest.strip()
    when = _asctime(rest.split()[:5])  # then whatever follows it ("remote from ...")
    if when is None and rest:
        try:
            parsed = email.utils.parsedate_to_datetime(rest)
            when = (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            when = None
    return ("" if sender == NULL_SENDER else sender), when


_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}


def _asctime(words: list[str]) -> float | None:
    """``["Sat", "Dec", "5", "12:35:46", "2026"]`` as seconds since the epoch (UTC), else None."""
    try:
        _, month, day, clock, year = words
        hour, minute, second = map(int, clock.split(":"))
        return float(calendar.timegm((int(year), _MONTHS[month.lower()], int(day), hour, minute, second)))
    except (ValueError, KeyError, OverflowError):
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class MboxEntry:
    """One message of an mbox file: its ``From`` line and where its (quoted) bytes are."""

    from_line: bytes  # without the line ending
    start: int
    end: int


def scan_mbox(data: bytes | mmap.mmap) -> Iterator[MboxEntry]:
    """The messages of an mbox file's bytes, in order (``data`` starts with ``From ``)."""
    position = 0
    size = len(data)
    while position < size:
        eol = data.find(b"\n", position)
        line_end = size if eol < 0 else eol
        start = size if eol < 0 else eol + 1
        crlf = line_end > position and data[line_end - 1 : line_end] == b"\r"
        line = bytes(data[position : line_end - 1 if crlf else line_end])
        following = data.find(b"\nFrom ", line_end if eol >= 0 else size)
        if following < 0:  # the last message: without the file's last line ending
            next_start = size
            end = size - 1 if data[size - 1 : size] == b"\n" else size
        else:
            end, next_start = following, following + 1
        if crlf and end > start and data[end - 1 : end] == b"\r":  # a CRLF file: "\r\n" separates
            end -= 1
        yield MboxEntry(line, start, max(end, start))
        position = next_start


def line_number(data: bytes | mmap.mmap, offset: int) -> int:
    """The 1-based line number of ``offset`` in ``data``."""
    return bytes(data[:offset]).count(b"\n") + 1


# -- envelope records (beside the mail) ----------------------------------------------------------


def envelope_record(message: Message, *, read: bool, tags: Sequence[str]) -> bytes:
    """The envelope line written beside a message (see the module's docstring)."""
    return (
        json.dumps(
            {
                "v": 1,
                "sha256": hashlib.sha256(message.raw).hexdigest(),
                "id": message.id,
                "mail_from": message.mail_from,
                "rcpt_tos": list(message.rcpt_tos),
                "mail_options": list(message.mail_options),
                "received": message.received_at.timestamp(),
                "helo": message.helo,
                "tls": message.tls,
                "auth_user": message.auth_user,
                "read": read,
                "tags": list(tags),
            },
            ensure_ascii=False,
        ).encode("utf-8", "surrogateescape")
        + b"\n"
    )


class EnvelopeIndex:
    """The envelope records found beside the sources, by the SHA-256 of the message bytes."""

    def __init__(self) -> None:
        self.by_digest: dict[str, list[Envelope]] = {}
        self.loaded: set[Path] = set()

    def load(self, path: Path) -> None:
        path = path.resolve()
        if path in self.loaded or not path.is_file():
            return
        self.loaded.add(path)
        for number, line in enumerate(read_file(path).splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                envelope = Envelope(
                    str(r["mail_from"]),
                    tuple(map(str, r["rcpt_tos"])),
                    float(r["received"]),
                    tuple(map(str, r.get("mail_options", ()))),
                    str(r.get("helo", "")),
                    r.get("tls"),
                    r.get("auth_user"),
                    bool(r.get("read")),
                    tuple(map(str, r.get("tags", ()))),
                )
                self.by_digest.setdefault(str(r["sha256"]), []).append(envelope)
            except (ValueError, KeyError, TypeError, AttributeError):
                raise TransferError(
                    f"{path} line {number} is not an envelope record mocksmtp wrote: repair "
                    "or delete that file (then envelopes come from the mail's headers)",
                    path=str(path),
                ) from None

    def knows(self, raw: bytes) -> bool:
        return bool(self.by_digest) and hashlib.sha256(raw).hexdigest() in self.by_digest

    def take(self, raw: bytes) -> Envelope | None:
        """The next record for these bytes (the last one again once all were taken)."""
        if not self.by_digest:
            return None
        found = self.by_digest.get(hashlib.sha256(raw).hexdigest())
        if not found:
            return None
        return found.pop(0) if len(found) > 1 else found[0]


# -- Maildir -----------------------------------------------------------------------------------


def maildir_name(received: float, id: str) -> str:
    """A unique Maildir file name that sorts by arrival: ``<seconds>.<id>.<host>``."""
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072") or "localhost"
    return f"{int(received)}.{id}.{host}"


def maildir_read_flag(name: str) -> bool:
    """Whether a Maildir file name says the message was seen (``:2,S``, ``:2,RS``, ...)."""
    info = name.rpartition(":2,")
    return bool(info[1]) and "S" in info[2]


# -- what a file without an envelope says -------------------------------------------------------


def looks_like_mail(raw: bytes) -> bool:
    """Whether ``raw`` starts with a header field (``Name:``), as a message file does."""
    return _HEADER_START.match(raw) is not None


def envelope_from_headers(raw: bytes, *, mail_from: str | None, received: float | None) -> Envelope:
    """The envelope of a message that came without one (see ``docs/storage.md``).

    The sender is ``mail_from`` (from an mbox ``From`` line) when given, else ``Return-Path``,
    else the ``From`` address. The recipients are the first ``X-Original-To``, else the first
    ``Delivered-To``, else every address in ``To``, ``Cc`` and ``Bcc`` (each once, in order).
    The arrival time is ``received`` when given, else the ``Date`` header, else ``None``.
    """
    from ..headers import parse_addresses

    message = Message(id="", raw=raw, mail_from="", rcpt_tos=())
    headers = message.headers
    if mail_from is None:
        return_path = headers.get("return-path", "").strip()
        mail_from = return_path.strip("<>").strip() if return_path else message.from_
    rcpt_tos: list[str] = []
    for name in ("x-original-to", "delivered-to"):
        found = [v.strip().strip("<>").strip() for v in headers.get_all(name)]
        if found and found[0]:
            rcpt_tos = [found[0]]
            break
    else:
        bcc = [a.address for a in parse_addresses("bcc", headers.get_raw("bcc"))[0]]
        rcpt_tos = list(dict.fromkeys([*message.to, *message.cc, *bcc]))
    if received is None and message.date is not None:
        date = message.date
        received = (date if date.tzinfo else date.replace(tzinfo=timezone.utc)).timestamp()
    return Envelope(mail_from, tuple(rcpt_tos), received)


def read_file(path: Path) -> bytes:
    """A file's bytes; a :class:`~mocksmtp.TransferError` naming it when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as e:
        raise TransferError(f"cannot read {path}: {e.strerror or e}", path=str(path)) from e


def modified(path: Path) -> float | None:
    """A file's modification time, or ``None``."""
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None
