"""An attachment of a received message: a MIME part that is not the text or HTML body."""

from __future__ import annotations

import unicodedata
from typing import NoReturn

__all__ = ["Attachment"]


class Attachment:
    """One attachment (inline images included), immutable.

    ``filename`` is the name as the sender gave it, decoded (RFC 2231 and RFC 2047) and
    otherwise untouched, so it may be ``../../etc/passwd`` or hold control characters: never
    build a path from it; :attr:`safe_filename` is a display-safe version.

    >>> a = Attachment(filename="../r\\u00e9sum\\u00e9\\r\\n.pdf", content_type="application/pdf",
    ...                content=b"%PDF")
    >>> a.size, a.safe_filename, a.inline
    (4, 'résumé.pdf', False)
    """

    __slots__ = ("content", "content_id", "content_type", "disposition", "filename", "part_id")

    filename: str | None
    """The file name given by ``Content-Disposition`` or the ``name`` of ``Content-Type``."""
    content_type: str
    """The MIME type, lowercased, without parameters (``image/png``)."""
    content: bytes
    """The decoded content (base64 and quoted-printable undone); for an attached message
    (``message/rfc822``), the enclosed message's bytes exactly as sent."""
    content_id: str | None
    """``Content-ID`` without angle brackets, as used in ``cid:`` URLs (``logo@app``)."""
    disposition: str | None
    """``"inline"``, ``"attachment"`` or ``None`` when the part gives none."""
    part_id: str | None
    """The part's MIME part id (``"2"``, ``"1.2"``: see :mod:`mocksmtp.parts`), the same in
    every process for the same raw bytes; ``None`` for an attachment not read from a message.
    Not compared by ``==``."""

    def __init__(
        self,
        *,
        filename: str | None,
        content_type: str,
        content: bytes,
        content_id: str | None = None,
        disposition: str | None = None,
        part_id: str | None = None,
    ) -> None:
        s = object.__setattr__
        s(self, "filename", filename)
        s(self, "content_type", content_type)
        s(self, "content", content)
        s(self, "content_id", content_id)
        s(self, "disposition", disposition)
        s(self, "part_id", part_id)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"Attachment is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"Attachment is immutable; cannot delete {name!r}")

    def __repr__(self) -> str:
        inline = " inline" if self.inline else ""
        return f"<Attachment {self.filename!r} {self.content_type} {self.size} bytes{inline}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Attachment):
            return NotImplemented
        return (self.filename, self.content_type, self.content, self.content_id, self.disposition) == (
            other.filename,
            other.content_type,
            other.content,
            other.content_id,
            other.disposition,
        )

    def __hash__(self) -> int:
        return hash((self.filename, self.content_type, len(self.content)))

    @property
    def size(self) -> int:
        """Length of the decoded :attr:`content` in octets."""
        return len(self.content)

    @property
    def inline(self) -> bool:
        """True for parts meant to be shown in the body: ``Content-Disposition: inline``, or
        no disposition but a ``Content-ID`` (an image an HTML body refers to)."""
        if self.disposition is not None:
            return self.disposition == "inline"
        return self.content_id is not None

    @property
    def safe_filename(self) -> str | None:
        """:attr:`filename` reduced to something safe to show or log: its last path component,
        without control characters or leading dots. ``None`` when there is no usable name."""
        if self.filename is None:
            return None
        name = self.filename.replace("\\", "/").rsplit("/", 1)[-1]
        name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
        return name or None
