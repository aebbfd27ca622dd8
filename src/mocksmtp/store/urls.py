"""Telling a PostgreSQL URL from a SQLite path, and printing one without its password."""

from __future__ import annotations

import re

__all__ = ["is_url", "redact"]


def is_url(database: str) -> bool:
    """Whether ``database`` names a PostgreSQL server rather than a SQLite file.

    >>> is_url("postgresql://mail@db/mail"), is_url("mail.sqlite")
    (True, False)
    """
    return database.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """``url`` without its password, to print or log.

    >>> redact("postgresql://mail:secret@db/mail")
    'postgresql://mail:***@db/mail'
    """
    return re.sub(r"^(postgres(?:ql)?://[^:/@]*):[^@]*@", r"\1:***@", url)
