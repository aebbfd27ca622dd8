"""Fixtures shared by the test suite: real servers on 127.0.0.1 and a free port, and pytester
runs of the plugin (tests/plugin, tests/docs) with mocksmtp importable from this tree."""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.pgcluster import Cluster, find_bin

import mocksmtp
from mocksmtp import MockSMTPServer

pytest_plugins = ["pytester"]  # the plugin's tests run pytest in pytest

SRC = Path(mocksmtp.__file__).resolve().parent.parent


@pytest.fixture
def server() -> Iterator[MockSMTPServer]:
    """A running server with default options on 127.0.0.1 and a free port."""
    with MockSMTPServer("127.0.0.1", 0) as s:
        yield s


@pytest.fixture
def make_server() -> Iterator[Callable[..., MockSMTPServer]]:
    """Start servers with options (``make_server(max_recipients=5)``); all stopped afterwards."""
    started: list[MockSMTPServer] = []

    def make(**options: Any) -> MockSMTPServer:
        s = MockSMTPServer("127.0.0.1", 0, **options).start()
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


def plugin_installed() -> bool:
    """Whether a pytest11 entry point already loads mocksmtp.pytest_plugin."""
    return any(ep.value == "mocksmtp.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11"))


@pytest.fixture
def plugin_args() -> list[str]:
    """``-p mocksmtp.pytest_plugin`` unless the entry point is installed (never twice)."""
    return [] if plugin_installed() else ["-p", "mocksmtp.pytest_plugin"]


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester whose subprocesses (and xdist workers) import mocksmtp from this tree."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
    # pytest-benchmark, where installed, warns (an error here) whenever xdist is around
    pytester.makeini("[pytest]\nfilterwarnings = error\naddopts = -p no:benchmark\n")
    return pytester


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A throw-away PostgreSQL cluster for the whole session (tests/pgcluster.py), or a skip
    saying why there is none (a failure instead with ``MOCKSMTP_REQUIRE_POSTGRES=1``; skipped
    on purpose with ``MOCKSMTP_SKIP_POSTGRES=1``)."""
    required = os.environ.get("MOCKSMTP_REQUIRE_POSTGRES") == "1"
    bin = find_bin()
    reason = ""
    if os.environ.get("MOCKSMTP_SKIP_POSTGRES") == "1":
        pytest.skip("MOCKSMTP_SKIP_POSTGRES=1 (CI runs the PostgreSQL tests on one Python)")
    if bin is None:
        reason = "no PostgreSQL server binaries (apt install postgresql, or set MOCKSMTP_PG_BIN)"
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError as e:
            reason = f"psycopg cannot be imported ({e}): pip install 'mocksmtp[postgres]'"
    if reason:
        if required:
            pytest.fail(f"MOCKSMTP_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    assert bin is not None
    cluster = Cluster(bin).start()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> str:
    """The URL of a new, empty database on the session's PostgreSQL cluster."""
    return postgres_cluster.database()
