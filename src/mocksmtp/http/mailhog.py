"""MailHog's v2 JSON (its real response shape, which its own swagger file gets wrong) and its
search, for the clients written for MailHog.

A MailHog message is the envelope as paths (``{Relays, Mailbox, Domain, Params}``), the
content split into headers as sent (names spelt by the sender, values not RFC 2047-decoded:
clients decode them) and body, the top-level MIME parts when there are several, and the raw
SMTP transaction. Bodies are the raw text (transfer encodings not undone), as MailHog gives.
"""

from __future__ import annotations

import email.message
import re
from typing import TYPE_CHECKING, Any

from .mailpit import rfc3339

if TYPE_CHECKING:
    from ..message import Message
    from ..store import MessageStore

__all__ = ["KINDS", "MAX_LIMIT", "matches", "message", "page"]

KINDS = ("from", "to", "containing")
"""The kinds of search MailHog knows."""

MAX_LIMIT = 250
"""The largest page MailHog serves."""

_BLANK_LINE = re.compile(r"\r?\n\r?\n")


def _path(address: str) -> dict[str, Any]:
    mailbox, _, domain = address.rpartition("@") if "@" in address else (address, "", "")
    return {"Relays": None, "Mailbox": mailbox, "Domain": domain, "Params": ""}


def _split(text: str) -> tuple[str, str]:
    """``(header block, body)`` of a message or part."""
    found = _BLANK_LINE.search(text)
    if found is None:
        return text, ""
    return text[: found.start()], text[found.end() :]


def _headers(block: str) -> dict[str, list[str]]:
    """Header lines as sent, continuation lines joined; names as the sender spelt them (the
    first spelling of each, compared without case)."""
    found: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    last: str | None = None
    for line in block.splitlines():
        if line[:1] in (" ", "\t") and last is not None:
            found[last][-1] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            continue
        key = names.setdefault(name.strip().lower(), name.strip())
        found.setdefault(key, []).append(value.strip())
        last = key
    return found


def _content(text: str) -> dict[str, Any]:
    block, body = _split(text)
    return {"Headers": _headers(block), "Body": body, "Size": len(text), "MIME": None}


def _boundary(m: Message) -> str | None:
    """The boundary of a multipart message, read from its headers alone (a list of 50 MailHog
    messages parses no MIME tree)."""
    found = m.headers.get_raw("content-type")
    if not found:
        return None
    header = email.message.Message()
    header["Content-Type"] = found[0]
    return header.get_boundary() if header.get_content_maintype() == "multipart" else None


def _parts(m: Message, body: str) -> dict[str, Any] | None:
    """``{"Parts": [...]}``: the top-level parts of a multipart message, else ``None``."""
    boundary = _boundary(m)
    if not boundary:
        return None
    pieces = body.split("--" + boundary)
    parts = []
    for piece in pieces[1:]:
        if piece.startswith("--"):  # the closing delimiter
            break
        parts.append(_content(piece.strip("\r\n")))
    return {"Parts": parts} if parts else None


def message(m: Message) -> dict[str, Any]:
    """One message in MailHog's shape."""
    text = m.raw.decode("utf-8", "replace")
    block, body = _split(text)
    mime = _parts(m, body)
    return {
        "ID": m.id,
        "From": _path(m.mail_from),
        "To": [_path(r) for r in m.rcpt_tos],
        "Content": {"Headers": _headers(block), "Body": body, "Size": m.size, "MIME": mime},
        "Created": rfc3339(m.received_at),
        "MIME": mime,
        "Raw": {"From": m.mail_from, "To": list(m.rcpt_tos), "Data": text, "Helo": m.helo},
    }


def matches(m: Message, kind: str, query: str) -> bool:
    """MailHog's search: a lower-cased substring of the envelope sender or a From header
    (``from``), an envelope recipient or a To header (``to``), the body or any header value
    (``containing``)."""
    needle = query.lower()
    text = m.raw.decode("utf-8", "replace")
    block, body = _split(text)
    headers = _headers(block)
    lowered = {name.lower(): values for name, values in headers.items()}
    if kind == "from":
        return needle in m.mail_from.lower() or any(needle in v.lower() for v in lowered.get("from", []))
    if kind == "to":
        return any(needle in r.lower() for r in m.rcpt_tos) or any(needle in v.lower() for v in lowered.get("to", []))
    return needle in body.lower() or any(needle in v.lower() for vs in headers.values() for v in vs)


def page(store: MessageStore, *, start: int, limit: int, kind: str | None = None, query: str = "") -> dict[str, Any]:
    """``{"total", "count", "start", "items"}``, newest first; with ``kind``, only the matches
    (``total`` then counts the matches)."""
    if kind is None:
        total = store.count()
        found = store.messages(newest_first=True, offset=start, limit=limit)
    else:
        every = [m for m in store.messages(newest_first=True) if matches(m, kind, query)]
        total, found = len(every), every[start : start + limit]
    return {"total": total, "count": len(found), "start": start, "items": [message(m) for m in found]}
