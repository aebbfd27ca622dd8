"""The stores every contract test runs on. A new store joins by adding its name to STORES and
a branch to ``make_store``; "postgres" runs on the session's throw-away cluster (skipped,
saying why, where there is no PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mocksmtp import MemoryStore, MessageStore, SQLiteStore

STORES = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], MessageStore]]:
    """Makes empty stores of one kind (each call a new one); all closed after the test."""
    made: list[MessageStore] = []

    def make() -> MessageStore:
        store: MessageStore
        if request.param == "postgres":
            from mocksmtp.store.postgres import PostgresStore

            store = PostgresStore(request.getfixturevalue("postgres_cluster").database())
        elif request.param == "memory":
            store = MemoryStore()
        else:
            store = SQLiteStore(tmp_path / f"store-{len(made)}.sqlite")
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(make_store: Callable[[], MessageStore]) -> MessageStore:
    """An empty store of each kind."""
    return make_store()
