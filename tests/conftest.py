"""Fixtures shared by the test suite: real servers on 127.0.0.1 and a free port, and pytester
runs of the plugin (tests/plugin, tests/docs) with mocksmtp importable from this tree."""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

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
