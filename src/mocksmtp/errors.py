"""The exceptions mocksmtp raises.

Every exception a user can see derives from :class:`MockSMTPError`::

    MockSMTPError
    ├── ConfigError (also ValueError)      an option has a value we cannot use
    ├── QuerySyntaxError (also ValueError) a search query we cannot read (.position says where)
    ├── ServerStartError                    the server could not start (port in use, ...)
    ├── ServerStateError (also RuntimeError) a lifecycle method called at the wrong time
    ├── StoreError                          a store cannot be opened or used (a corrupt file, ...)
    ├── TransferError                       an import or export failed (a missing file, not mail, ...)
    ├── RemoteError (also ConnectionError)  mocksmtp.connect(url): the server is unreachable or failed
    └── MessageAssertionError (also AssertionError)  assert_sent / assert_nothing_sent failed
        └── WaitTimeout                              wait_for timed out

The assertion errors list what did arrive (from, to, subject, time) and which filter each
message missed.

Messages say what happened, what was expected, and what to try.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .message import Message

__all__ = [
    "ConfigError",
    "MessageAssertionError",
    "MockSMTPError",
    "QuerySyntaxError",
    "RemoteError",
    "ServerStartError",
    "ServerStateError",
    "StoreError",
    "TransferError",
    "WaitTimeout",
]


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


class QuerySyntaxError(MockSMTPError, ValueError):
    """A search query (see ``docs/search.md``) has something that cannot be read.

    ``position`` is the index in the query text where it is (0 for the first character); the
    message names it and what was expected there.

    >>> from mocksmtp.query import parse_query
    >>> parse_query('to:bob subject:"unterminated')
    Traceback (most recent call last):
    ...
    mocksmtp.errors.QuerySyntaxError: unterminated quote at position 15: add the closing `"`
    """

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


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

    For example ``start()`` on a server that is already running (a stopped server may be
    started again).
    """


class StoreError(MockSMTPError):
    """A store cannot be opened or used: a corrupt file, a database written by a newer
    mocksmtp, a path that cannot be written. The message is one line saying what to try.

    ``path`` is the file concerned, when there is one. ``unavailable`` is true when the store
    is a database server that cannot be reached right now (down, restarting, the network):
    the SMTP client then gets ``421`` and an HTTP client ``503``, and the next request tries
    again.
    """

    def __init__(self, message: str, *, path: str | None = None, unavailable: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.unavailable = unavailable


class TransferError(MockSMTPError):
    """Messages could not be imported or exported: a source that is missing, unreadable or
    not mail, a corrupt mbox, a destination that cannot be written. The message is one line
    naming the file and saying what to try; ``path`` is that file.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class RemoteError(MockSMTPError, ConnectionError):
    """A server reached with :func:`mocksmtp.connect` could not be reached, or answered with an
    error that is not the caller's (a 5xx, an API it lacks). The message is one line naming the
    URL and saying what to try; ``url`` is the server's, ``status`` the HTTP status if any.
    """

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class MessageAssertionError(MockSMTPError, AssertionError):
    """An assertion about received messages failed (``assert_sent``, ``assert_nothing_sent``).

    ``messages`` holds every message there was, ``matched`` those that matched the filters.
    """

    def __init__(self, text: str, *, messages: Sequence[Message] = (), matched: Sequence[Message] = ()) -> None:
        super().__init__(text)
        self.messages = list(messages)
        self.matched = list(matched)


class WaitTimeout(MessageAssertionError):
    """``wait_for`` gave up: fewer matching messages than asked for arrived in time.

    A subclass of :class:`AssertionError`, so a test fails (rather than errors) with a text that
    lists what did arrive and which filter each message missed::

        mocksmtp.errors.WaitTimeout: waited 5.0 s for 1 message matching to='bob@example.com';
        none matched. 1 message arrived:
          1. 12:00:01.312 UTC from app@example.com to ['alice@example.com'] 'Welcome'
             missed to='bob@example.com': got ['alice@example.com']
    """
