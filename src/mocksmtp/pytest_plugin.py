"""pytest fixtures for mocksmtp: ``mocksmtp``, ``mocksmtp_factory``, ``mocksmtp_options``.

Registered through the ``pytest11`` entry point when mocksmtp is installed; without
installing, load it with ``-p mocksmtp.pytest_plugin``. Fixtures only; the server classes are
imported when a fixture first runs, so tests that send no mail pay nothing for it.

Each pytest-xdist worker is a process with its own session server on its own free port, so
parallel runs never share a port or a mailbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mocksmtp import MockSMTPServer

__all__ = ["mocksmtp", "mocksmtp_factory", "mocksmtp_options"]


@pytest.fixture(scope="session")
def mocksmtp_options() -> dict[str, Any]:
    """Options of the shared ``mocksmtp`` server: ``{}`` unless you override this fixture.

    Keys are :class:`mocksmtp.MockSMTPServer` arguments (``host`` defaults to ``127.0.0.1``
    and ``port`` to ``0``, a free port), except ``max_messages`` and ``max_age``: the shared
    server never deletes a test's mail behind its back. Override it, session-scoped, in a
    ``conftest.py``::

        @pytest.fixture(scope="session")
        def mocksmtp_options():
            return {"max_message_size": 1_000_000, "hostname": "mail.test"}
    """
    return {}


def _start(options: dict[str, Any]) -> MockSMTPServer:
    from mocksmtp import MockSMTPServer

    options = dict(options)
    host = options.pop("host", "127.0.0.1")
    port = options.pop("port", 0)
    return MockSMTPServer(host, port, **options).start()


@pytest.fixture(scope="session")
def _mocksmtp_session(mocksmtp_options: dict[str, Any]) -> Iterator[MockSMTPServer]:
    """The session's shared server behind the ``mocksmtp`` fixture."""
    pruning = sorted({"max_messages", "max_age"} & set(mocksmtp_options))
    if pruning:
        from mocksmtp import ConfigError

        raise ConfigError(
            f"mocksmtp_options has {', '.join(pruning)}, but the mocksmtp fixture never "
            "deletes a test's mail behind its back (each test starts empty anyway); "
            "remove it, or start a server with it from mocksmtp_factory"
        )
    server = _start(mocksmtp_options)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mocksmtp(_mocksmtp_session: MockSMTPServer) -> MockSMTPServer:
    """A running SMTP server on 127.0.0.1 and a free port, with no message in it.

    One server serves the whole session (per xdist worker) and is reset before each test, so a
    test sees only its own mail: messages, the ``get_messages()`` cursor, statistics, injected
    faults and connections left open by an earlier test are all gone. Point the code under test at ``mocksmtp.host`` and
    ``mocksmtp.port``, then wait for, filter and assert on what arrives::

        def test_welcome_mail(mocksmtp):
            signup("ann@example.com", smtp_host=mocksmtp.host, smtp_port=mocksmtp.port)
            (mail,) = mocksmtp.wait_for(to="ann@example.com")
            assert mail.subject == "Welcome" and "ann" in mail.text
    """
    server = _mocksmtp_session
    if not server.is_running():  # a test stopped it: serve the next one (on a new port)
        server.start()
    _reset_for_test(server)
    return server


def _reset_for_test(server: MockSMTPServer) -> None:
    """Forget everything an earlier test left: connections (a transaction in progress must
    not deliver into this test), faults (one injected without ``with`` stays registered),
    then messages, the ``get_messages()`` cursor and the statistics."""
    server._drop_sessions(timeout=5)
    server.clear_faults()
    server.reset()


@pytest.fixture
def mocksmtp_factory() -> Iterator[Callable[..., MockSMTPServer]]:
    """Start extra servers for one test, with options; all are stopped when the test ends.

    Takes the arguments of :class:`mocksmtp.MockSMTPServer`, with ``host`` defaulting to
    ``127.0.0.1`` and ``port`` to ``0``::

        def test_two_relays(mocksmtp_factory):
            primary = mocksmtp_factory()
            tiny = mocksmtp_factory(max_message_size=1024)
            ...
    """
    started: list[MockSMTPServer] = []

    def factory(**options: Any) -> MockSMTPServer:
        server = _start(options)
        started.append(server)
        return server

    try:
        yield factory
    finally:
        for server in started:
            server.stop()
