"""Fixtures shared by the test suite: real servers on 127.0.0.1 and a free port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mocksmtp import MockSMTPServer

pytest_plugins = ["pytester"]  # the plugin's own tests (tests/plugin) run pytest in pytest


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
