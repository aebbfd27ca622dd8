"""Fixtures of the PostgreSQL tests; the session's throw-away cluster (``postgres_cluster``,
``postgres_url``) is in tests/conftest.py, since the store contract suite runs on it too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.pgcluster import Cluster


@pytest.fixture
def own_cluster(postgres_cluster: Cluster) -> Iterator[Cluster]:
    """A cluster of this test's own, which it may stop and start (or skip as the session's)."""
    cluster = Cluster(postgres_cluster.bin).start()
    try:
        yield cluster
    finally:
        cluster.destroy()
