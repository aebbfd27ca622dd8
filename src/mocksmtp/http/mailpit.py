"""Mailpit's v1 JSON shapes, field for field, built from messages and the store.

The envelope of a list is snake_case, its items PascalCase (clients rely on both). Times are
RFC 3339 with milliseconds and ``+00:00`` (Python 3.10's ``fromisoformat`` reads that, not
``Z``). :func:`summaries` and :func:`summary` are the only places that build list items, so
they can be swapped for the store's own summaries.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..query import Query, parse_query
from .parts import message_parts

if TYPE_CHECKING:
    from ..headers import Address
    from ..message import Message
    from ..store import MessageState, MessageStore

__all__ = [
    "SNIPPET_LENGTH",
    "all_tags",
    "go_header_name",
    "headers",
    "message",
    "page",
    "rfc3339",
    "snippet",
    "summaries",
    "summary",
]

SNIPPET_LENGTH = 250
_UNREAD = parse_query("is:unread")
_TAGGED = parse_query("is:tagged")


def rfc3339(at: datetime) -> str:
    """``2026-12-05T12:00:01.312+00:00`` (a naive time is taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.isoformat(timespec="milliseconds")


def _address(a: Address) -> dict[str, str]:
    return {"Name": a.name, "Address": a.address}


def _addresses(m: Message, field: str) -> list[dict[str, str]]:
    return [_address(a) for a in m.addresses(field)]  # type: ignore[arg-type]


def _bcc(m: Message) -> list[dict[str, str]]:
    return [{"Name": "", "Address": r} for r in m.bcc]


def _from(m: Message) -> dict[str, str] | None:
    found = m.addresses("from")
    return _address(found[0]) if found else None


def _message_id(m: Message) -> str:
    return (m.message_id or "").strip().strip("<>").strip()


_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)


def snippet(m: Message) -> str:
    """The text body (or the HTML body's text) with spacing collapsed, up to 250 characters."""
    text = m.text
    if not text and m.html:
        text = html.unescape(_TAG.sub(" ", m.html))
    words = " ".join((text or "").split())
    return words if len(words) <= SNIPPET_LENGTH else words[:SNIPPET_LENGTH].rstrip() + "..."


def _heading(m: Message, state: MessageState | None) -> dict[str, Any]:
    """The fields a MessageSummary and a Message share, in Mailpit's order."""
    return {
        "ID": m.id,
        "MessageID": _message_id(m),
        "Read": bool(state and state.read),
        "From": _from(m),
        "To": _addresses(m, "to"),
        "Cc": _addresses(m, "cc"),
        "Bcc": _bcc(m),
        "ReplyTo": _addresses(m, "reply_to"),
    }


def summary(m: Message, state: MessageState | None) -> dict[str, Any]:
    """A MessageSummary: what a list shows of one message."""
    return {
        **_heading(m, state),
        "Subject": m.subject,
        "Created": rfc3339(m.received_at),
        "Username": m.auth_user or "",
        "Tags": list(state.tags) if state else [],
        "Size": m.size,
        "Attachments": len(m.attachments),
        "Snippet": snippet(m),
    }


def summaries(store: MessageStore, query: Query | None, *, start: int, limit: int) -> list[dict[str, Any]]:
    """The MessageSummary items of one page, newest first."""
    return [summary(m, store.state(m.id)) for m in store.messages(query, newest_first=True, offset=start, limit=limit)]


def all_tags(store: MessageStore) -> dict[str, int]:
    """Every tag in the mailbox with how many messages have it, by name."""
    counts: dict[str, int] = {}
    for m in store.messages(_TAGGED):
        state = store.state(m.id)
        for tag in state.tags if state else ():
            counts[tag] = counts.get(tag, 0) + 1
    return dict(sorted(counts.items()))


def page(store: MessageStore, query: Query | None, *, start: int, limit: int) -> dict[str, Any]:
    """A MessagesSummary: one page of summaries and the mailbox's counts."""
    items = summaries(store, query, start=start, limit=limit)
    unread = store.count(_UNREAD)
    if query is None or not query.terms:
        matching, matching_unread = store.count(), unread
    else:
        matching = store.count(query)
        matching_unread = store.count(Query(query.terms + _UNREAD.terms))
    return {
        "total": store.count(),
        "unread": unread,
        "count": len(items),
        "messages_count": matching,
        "messages_unread": matching_unread,
        "start": start,
        "tags": list(all_tags(store)),
        "messages": items,
    }


def _attachment(part_id: str, a: Any) -> dict[str, Any]:
    content = a.content
    return {
        "PartID": part_id,
        "FileName": a.filename or "",
        "ContentType": a.content_type,
        "ContentID": a.content_id or "",
        "Size": len(content),
        "Checksums": {
            "MD5": hashlib.md5(content).hexdigest(),
            "SHA1": hashlib.sha1(content).hexdigest(),
            "SHA256": hashlib.sha256(content).hexdigest(),
        },
    }


def _list_unsubscribe(m: Message) -> dict[str, Any]:
    value = m.headers.get("list-unsubscribe", "")
    links = re.findall(r"<([^>]*)>", value)
    return {"Header": value, "HeaderPost": m.headers.get("list-unsubscribe-post", ""), "Links": links, "Errors": ""}


def message(m: Message, state: MessageState | None) -> dict[str, Any]:
    """A Message: everything about one message (``Read`` too, for older clients)."""
    inline: list[dict[str, Any]] = []
    attached: list[dict[str, Any]] = []
    for part in message_parts(m):
        (inline if part.attachment.inline else attached).append(_attachment(part.id, part.attachment))
    date = m.date or m.received_at
    return {
        **_heading(m, state),
        "ReturnPath": m.mail_from,
        "Subject": m.subject,
        "ListUnsubscribe": _list_unsubscribe(m),
        "Date": rfc3339(date),
        "Tags": list(state.tags) if state else [],
        "Username": m.auth_user or "",
        "Text": m.text or "",
        "HTML": m.html or "",
        "Size": m.size,
        "Inline": inline,
        "Attachments": attached,
    }


_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


def go_header_name(name: str) -> str:
    """A header name as Go's ``textproto`` spells it: ``message-ID`` -> ``Message-Id``."""
    if not _TOKEN.fullmatch(name):
        return name
    return "-".join(word[:1].upper() + word[1:].lower() for word in name.split("-"))


def headers(m: Message) -> dict[str, list[str]]:
    """``{"Header-Name": ["value", ...]}``: names spelt as Go does, sorted; values as sent
    (encoded words kept), unfolded, repeats in order."""
    found: dict[str, list[str]] = {}
    for name, _ in m.headers.items_all():
        key = go_header_name(name)
        if key in found:
            continue
        found[key] = [
            " ".join(line.strip() for line in value.splitlines()).strip() for value in m.headers.get_raw(name)
        ]
    return dict(sorted(found.items()))


def info(
    store: MessageStore, *, stats: dict[str, Any], database: str, database_size: int, uptime: float, deleted: int
) -> dict[str, Any]:
    """An AppInformation."""
    return {
        "Version": __version__,
        "LatestVersion": "",
        "Database": database,
        "DatabaseSize": database_size,
        "Messages": store.count(),
        "Unread": store.count(_UNREAD),
        "Tags": all_tags(store),
        "RuntimeStats": {
            "Uptime": int(uptime),
            "Memory": 0,
            "MessagesDeleted": deleted,
            "SMTPAccepted": stats.get("messages", 0),
            "SMTPAcceptedSize": stats.get("bytes", 0),
            "SMTPRejected": stats.get("rejected_commands", 0),
            "SMTPIgnored": 0,
        },
    }


WEBUI: dict[str, Any] = {
    "Label": "",
    "ChaosEnabled": False,
    "DuplicatesIgnored": False,
    "HideDeleteAllButton": False,
    "SpamAssassin": False,
    "MessageRelay": {
        "Enabled": False,
        "SMTPServer": "",
        "AllowedRecipients": "",
        "BlockedRecipients": "",
        "OverrideFrom": "",
        "PreserveMessageIDs": False,
        "ReturnPath": "",
    },
}
"""The WebUIConfiguration: no relay, no chaos (yet), no label."""
