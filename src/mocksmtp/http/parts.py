"""MIME part ids numbered Mailpit's way, until :class:`~mocksmtp.Message` carries its own.

Mailpit (through enmime) numbers the children of the top multipart ``1``, ``2``, ... and the
children of a nested multipart ``1.1``, ``1.2``, ...; a message that is not multipart has one
part, ``0``. An attached message (``message/rfc822``) is one part: its own parts get no ids.
:func:`message_parts` is the only place that knows this, so it can be swapped for the part ids
of the message itself.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import Message as EmailPart

    from ..attachment import Attachment
    from ..message import Message

__all__ = ["Part", "find_part", "message_parts"]


@dataclasses.dataclass(frozen=True, slots=True)
class Part:
    """One attachment (inline or not) with the id Mailpit would give it."""

    id: str
    attachment: Attachment


def _leaves(part: EmailPart, prefix: str) -> list[tuple[str, EmailPart]]:
    """``(part id, part)`` for each leaf under ``part``, in order (as mocksmtp.parsing walks)."""
    found: list[tuple[str, EmailPart]] = []
    for number, child in enumerate(part.get_payload(), start=1):
        child_id = f"{prefix}.{number}" if prefix else str(number)
        if child.is_multipart() and child.get_content_maintype() != "message":
            found.extend(_leaves(child, child_id))
        else:
            found.append((child_id, child))
    return found


def message_parts(message: Message) -> list[Part]:
    """The message's attachments (``message.attachments``, in order) with their part ids."""
    attachments = message.attachments
    if not attachments:
        return []
    root = message.email
    if not root.is_multipart() or root.get_content_maintype() == "message":
        return [Part("0", a) for a in attachments]
    bodies = {id(p) for p in (root.get_body(("plain",)), root.get_body(("html",))) if p is not None}
    ids = [part_id for part_id, part in _leaves(root, "") if id(part) not in bodies]
    if len(ids) != len(attachments):  # a tree the parser read differently: number in order
        ids = [str(n) for n in range(1, len(attachments) + 1)]
    return [Part(part_id, a) for part_id, a in zip(ids, attachments, strict=True)]


def find_part(message: Message, part_id: str) -> Part | None:
    """The attachment with id ``part_id``, or ``None``."""
    return next((p for p in message_parts(message) if p.id == part_id), None)
