"""The stores every contract test runs on. A new store (PostgreSQL, later) joins by adding
its name to STORES and a branch to ``make_store``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mocksmtp import MemoryStore, MessageStore, SQLiteStore

STORES = ["memory", "sqlite"]


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], MessageStore]]:
    """Makes empty stores of one kind (each call a new one); all closed after the test."""
    made: list[MessageStore] = []

    def make() -> MessageStore:
        store: MessageStore
        store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / f"store-{len(made)}.sqlite")
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(make_store: Callable[[], MessageStore]) -> MessageStore:
    """An empty store of each kind."""
    return make_store()
