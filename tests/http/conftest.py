"""Servers with HTTP on 127.0.0.1 and free ports, and a way to send them mail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("starlette", reason="the [web] extra is not installed")

from mocksmtp import MockSMTPServer


@pytest.fixture
def web() -> Iterator[MockSMTPServer]:
    """A running server with SMTP and HTTP on 127.0.0.1, each on a free port."""
    with MockSMTPServer("127.0.0.1", 0, http_port=0) as server:
        yield server
