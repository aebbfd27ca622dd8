"""Where accepted messages are kept: the :class:`MessageStore` protocol and its stores.

:class:`MemoryStore` (the default) keeps messages in memory; :class:`SQLiteStore` keeps them in
a file across restarts (``sqlite3`` is imported only when one is made); :class:`PostgresStore`
in a PostgreSQL database that several nodes share (the ``[postgres]`` extra). Both announce changes
through :attr:`~MessageStore.version` and typed events (:class:`MessageAdded`,
:class:`MessagesDeleted`, :class:`StoreCleared`, :class:`MessagesUpdated`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import (
    AddDone,
    MessageAdded,
    MessagesDeleted,
    MessageState,
    MessageStore,
    MessagesUpdated,
    StoreCleared,
    StoreEvent,
    SupportsAddLater,
    SupportsTagCounts,
)
from .memory import MemoryStore

if TYPE_CHECKING:
    from .postgres import PostgresStore
    from .sqlite import SQLiteStore

__all__ = [
    "AddDone",
    "MemoryStore",
    "MessageAdded",
    "MessageState",
    "MessageStore",
    "MessagesDeleted",
    "MessagesUpdated",
    "PostgresStore",
    "SQLiteStore",
    "StoreCleared",
    "StoreEvent",
    "SupportsAddLater",
    "SupportsTagCounts",
]


def __getattr__(name: str) -> Any:
    if name == "SQLiteStore":  # sqlite3 loads only for a store that uses it
        from .sqlite import SQLiteStore

        return SQLiteStore
    if name == "PostgresStore":  # psycopg loads only for a store that uses it
        from .postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module 'mocksmtp.store' has no attribute {name!r}")
