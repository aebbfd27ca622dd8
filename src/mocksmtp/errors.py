"""The exceptions mocksmtp raises.

Every exception a user can see derives from :class:`MockSMTPError`::

    MockSMTPError
    ├── ConfigError (also ValueError)      an option has a value we cannot use
    ├── ServerStartError                    the server could not start (port in use, ...)
    ├── ServerStateError (also RuntimeError) a lifecycle method called at the wrong time

Messages say what happened, what was expected, and what to try.
"""

from __future__ import annotations

__all__ = ["ConfigError", "MockSMTPError", "ServerStartError", "ServerStateError"]


class MockSMTPError(Exception):
    """Base class of every exception raised by mocksmtp."""


class ConfigError(MockSMTPError, ValueError):
    """An option was given a value mocksmtp cannot use.

    >>> from mocksmtp import MockSMTPServer
    >>> MockSMTPServer(port=-1)
    Traceback (most recent call last):
    ...
    mocksmtp.errors.ConfigError: port must be between 0 and 65535, got -1
    """


class ServerStartError(MockSMTPError):
    """The server could not start; ``__cause__`` holds the underlying error.

    ``host`` and ``port`` say what was asked for.
    """

    def __init__(self, message: str, *, host: str, port: int) -> None:
        super().__init__(message)
        self.host = host
        self.port = port


class ServerStateError(MockSMTPError, RuntimeError):
    """A lifecycle method was called in a state that does not allow it.

    For example ``start()`` on a server that is already running, or on one that was stopped
    (create a new server instead: a stopped server cannot be restarted).
    """
