"""MIME part ids: a stable name for each part of a message, as Mailpit and enmime give them.

A part's id is its path in the MIME tree: the message's own body is ``"0"`` when it is not
multipart; the parts of a top-level multipart are ``"1"``, ``"2"``, ...; the parts of a
multipart inside part ``"1"`` are ``"1.1"``, ``"1.2"``, ... An attached message
(``message/rfc822``) is one part; its own parts get no ids. The ids depend only on the raw
bytes, so the same message has the same ids in every process (``/part/{id}`` relies on it).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import MIMEPart

__all__ = ["MessagePart", "numbered_leaves"]


@dataclasses.dataclass(frozen=True, slots=True)
class MessagePart:
    """One leaf of a message's MIME tree (a body, an attachment, an inline image, an attached
    message), as :attr:`mocksmtp.Message.parts` lists them.

    >>> MessagePart(id="2", content_type="application/pdf", filename="a.pdf", size=4,
    ...             disposition="attachment", content_id=None, content=b"%PDF").id
    '2'
    """

    id: str
    """The part's path in the MIME tree (``"0"``, ``"1"``, ``"1.2"``)."""
    content_type: str
    """The MIME type, lowercased, without parameters."""
    filename: str | None
    """The file name the sender gave, decoded; never build a path from it."""
    size: int
    """Length of the decoded content in octets."""
    disposition: str | None
    """``"inline"``, ``"attachment"`` or ``None`` when the part gives none."""
    content_id: str | None
    """``Content-ID`` without angle brackets."""
    content: bytes = dataclasses.field(repr=False, compare=False)
    """The decoded content (transfer encoding undone, charset not): what ``/part/{id}`` serves."""


def numbered_leaves(root: MIMEPart) -> list[tuple[str, MIMEPart]]:
    """The leaves of ``root``'s MIME tree in order, each with its id (see the module)."""
    if not root.is_multipart() or root.get_content_maintype() == "message":
        return [("0", root)]
    found: list[tuple[str, MIMEPart]] = []

    def walk(part: MIMEPart, prefix: str) -> None:
        for index, child in enumerate(part.iter_parts(), 1):
            id = f"{prefix}{index}"
            if child.is_multipart() and child.get_content_maintype() != "message":
                walk(child, f"{id}.")
            else:
                found.append((id, child))

    walk(root, "")
    return found
