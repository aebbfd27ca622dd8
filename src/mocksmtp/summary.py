"""What a list view shows of a message (an inbox row, the HTTP API's message list): a
:class:`Summary`, computed once per message from its headers and one decoded body.

Stores make summaries (:meth:`~mocksmtp.store.MessageStore.summaries`): the memory store with
:func:`summarize`, once per message, and the SQLite store from the columns it derived when it
indexed the message, without reading the raw message at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from .headers import Address

if TYPE_CHECKING:
    from .message import Message

__all__ = ["SNIPPET_LENGTH", "Summary", "snippet", "summarize"]

SNIPPET_LENGTH = 250
"""A snippet is at most this many characters (Mailpit's length)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Summary:
    """One message as a list view shows it: everything Mailpit's ``MessageSummary`` carries.

    Addresses are :class:`~mocksmtp.Address` pairs with their display names; ``bcc`` is the
    envelope recipients that appear in no ``To`` or ``Cc`` header (with no names).

    >>> from mocksmtp import Message
    >>> m = Message(id="01J", raw=b"From: Ann <ann@example.com>\\r\\nSubject: Hi\\r\\n\\r\\nHello there\\r\\n",
    ...             mail_from="app@example.com", rcpt_tos=["bob@example.com"])
    >>> s = summarize(m)
    >>> s.from_, s.bcc
    ((Address(name='Ann', address='ann@example.com'),), (Address(name='', address='bob@example.com'),))
    >>> s.subject, s.snippet, s.attachments
    ('Hi', 'Hello there', 0)
    """

    id: str
    """The store's id for the message (the one its ``250`` named)."""
    message_id: str
    """The ``Message-ID`` header without angle brackets; ``""`` when absent."""
    from_: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str
    """The decoded ``Subject``; ``""`` when absent."""
    date: datetime | None
    """The ``Date`` header (as :attr:`mocksmtp.Message.date`); ``None`` when absent or unreadable."""
    received_at: datetime
    """When the message was accepted (aware, UTC)."""
    size: int
    """The raw message's size in octets."""
    attachments: int
    """How many attachments there are, inline parts not counted."""
    inline: int
    """How many inline parts (images an HTML body shows) there are."""
    snippet: str
    """The start of the text body (or of the HTML body's visible text when there is no text
    body), white space collapsed, at most :data:`SNIPPET_LENGTH` characters."""
    read: bool
    tags: tuple[str, ...]
    """Sorted."""
    flags: frozenset[str]
    """The protocol flags found in the raw bytes (:attr:`mocksmtp.Message.flags`)."""
    mail_from: str
    """The envelope sender (Mailpit's ``ReturnPath``); ``""`` for ``<>``."""
    auth_user: str | None
    """The user the client authenticated as (Mailpit's ``Username``), else ``None``."""


def snippet(message: Message) -> str:
    """:attr:`Summary.snippet` of ``message`` (one body decoded, no attachment)."""
    from .query_match import _visible_text

    body = message._outline()
    text = body.text if body.text is not None else _visible_text(body.html or "")
    return " ".join(text.split())[:SNIPPET_LENGTH]


def summarize(message: Message, *, read: bool = False, tags: Iterable[str] = ()) -> Summary:
    """The :class:`Summary` of ``message`` with the state a store keeps beside it. Reads the
    header block, and one body for the snippet; never decodes an attachment."""
    m = message
    body = m._outline()
    return Summary(
        id=m.id,
        message_id=(m.message_id or "").strip("<>"),
        from_=tuple(m.addresses("from")),
        to=tuple(m.addresses("to")),
        cc=tuple(m.addresses("cc")),
        bcc=tuple(Address("", address) for address in m.bcc),
        reply_to=tuple(m.addresses("reply_to")),
        subject=m.subject,
        date=m.date,
        received_at=m.received_at,
        size=m.size,
        attachments=body.attachments,
        inline=body.inline,
        snippet=snippet(m),
        read=read,
        tags=tuple(sorted(tags)),
        flags=m.flags,
        mail_from=m.mail_from,
        auth_user=m.auth_user,
    )
