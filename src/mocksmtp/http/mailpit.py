"""Mailpit's v1 JSON shapes, field for field, built from messages and the store.

The envelope of a list is snake_case, its items PascalCase (clients rely on both). Times are
RFC 3339 with milliseconds and ``+00:00`` (Python 3.10's ``fromisoformat`` reads that, not
``Z``). List items are built from the store's summaries (:meth:`MessageStore.summaries`), so
a page of 50 never parses 50 whole messages.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..query import Query, parse_query
from ..store import SupportsTagCounts
from ..summary import summarize
from .parts import message_parts

if TYPE_CHECKING:
    from ..headers import Address
    from ..message import Message
    from ..store import MessageState, MessageStore
    from ..summary import Summary

__all__ = [
    "all_tags",
    "go_header_name",
    "headers",
    "message",
    "message_summary",
    "page",
    "rfc3339",
    "summary",
]

_UNREAD = parse_query("is:unread")
_TAGGED = parse_query("is:tagged")


def rfc3339(at: datetime) -> str:
    """``2026-12-05T12:00:01.312+00:00`` (a naive time is taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.isoformat(timespec="milliseconds")


def _address(a: Address) -> dict[str, str]:
    return {"Name": a.name, "Address": a.address}


def _heading(s: Summary) -> dict[str, Any]:
    """The fields a MessageSummary and a Message share, in Mailpit's order."""
    return {
        "ID": s.id,
        "MessageID": s.message_id,
        "Read": s.read,
        "From": _address(s.from_[0]) if s.from_ else None,
        "To": [_address(a) for a in s.to],
        "Cc": [_address(a) for a in s.cc],
        "Bcc": [_address(a) for a in s.bcc],
        "ReplyTo": [_address(a) for a in s.reply_to],
    }


def summary(s: Summary) -> dict[str, Any]:
    """A MessageSummary: what a list shows of one message, from the store's :class:`Summary`
    (no whole message is parsed for it)."""
    return {
        **_heading(s),
        "Subject": s.subject,
        "Created": rfc3339(s.received_at),
        "Username": s.auth_user or "",
        "Tags": list(s.tags),
        "Size": s.size,
        "Attachments": s.attachments,
        "Snippet": s.snippet,
    }


def _summarize(m: Message, state: MessageState | None) -> Summary:
    return summarize(m, read=bool(state and state.read), tags=state.tags if state else ())


def message_summary(m: Message, state: MessageState | None) -> dict[str, Any]:
    """The MessageSummary of a message in hand (a new one, a long poll's matches)."""
    return summary(_summarize(m, state))


def all_tags(store: MessageStore) -> dict[str, int]:
    """Every tag in the mailbox with how many messages have it, by name."""
    if isinstance(store, SupportsTagCounts):
        return store.tag_counts()
    counts: dict[str, int] = {}
    for s in store.summaries(_TAGGED, limit=None):
        for tag in s.tags:
            counts[tag] = counts.get(tag, 0) + 1
    return dict(sorted(counts.items()))


def page(store: MessageStore, query: Query | None, *, start: int, limit: int) -> dict[str, Any]:
    """A MessagesSummary: one page of summaries and the mailbox's counts."""
    items = [summary(s) for s in store.summaries(query, offset=start, limit=limit)]
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
        **_heading(_summarize(m, state)),
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
