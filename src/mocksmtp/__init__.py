"""mocksmtp: an SMTP server that captures mail, for testing software that sends email.

>>> from mocksmtp import MockSMTPServer
>>> with MockSMTPServer(port=0) as server:
...     server.is_running()
True

The names below load on first use (PEP 562): the pytest plugin, which every pytest run of a
project with mocksmtp installed imports, costs almost nothing until a test asks for a server.
"""

import importlib as _importlib
import typing as _typing

from ._version import __version__

if _typing.TYPE_CHECKING:
    from .aio import AsyncMockSMTPServer
    from .attachment import Attachment
    from .config import Credentials, ServerOptions, SMTPOptions
    from .errors import (
        ConfigError,
        MessageAssertionError,
        MockSMTPError,
        RemoteError,
        ServerStartError,
        ServerStateError,
        StoreError,
        TransferError,
        WaitTimeout,
    )
    from .facade import ServerState
    from .filters import FilterArgs, MessageFilter
    from .headers import Address, Headers
    from .message import Message
    from .parts import MessagePart
    from .remote import RemoteFault, RemoteServer, connect
    from .server import MockSMTPServer
    from .smtp.faults import Fault
    from .smtp.replies import REPLY, Reply
    from .store import MemoryStore, MessageStore, SQLiteStore
    from .summary import Summary

_WHERE = {
    "AsyncMockSMTPServer": ".aio",
    "Attachment": ".attachment",
    "Credentials": ".config",
    "SMTPOptions": ".config",
    "ServerOptions": ".config",
    "ConfigError": ".errors",
    "MessageAssertionError": ".errors",
    "MockSMTPError": ".errors",
    "RemoteError": ".errors",
    "ServerStartError": ".errors",
    "ServerStateError": ".errors",
    "StoreError": ".errors",
    "TransferError": ".errors",
    "WaitTimeout": ".errors",
    "ServerState": ".facade",
    "FilterArgs": ".filters",
    "MessageFilter": ".filters",
    "Address": ".headers",
    "Headers": ".headers",
    "Message": ".message",
    "MessagePart": ".parts",
    "MockSMTPServer": ".server",
    "RemoteFault": ".remote",
    "RemoteServer": ".remote",
    "connect": ".remote",
    "Fault": ".smtp.faults",
    "REPLY": ".smtp.replies",
    "Reply": ".smtp.replies",
    "MemoryStore": ".store",
    "MessageStore": ".store",
    "SQLiteStore": ".store",
    "Summary": ".summary",
}

__all__ = [
    "REPLY",
    "Address",
    "AsyncMockSMTPServer",
    "Attachment",
    "ConfigError",
    "Credentials",
    "Fault",
    "FilterArgs",
    "Headers",
    "MemoryStore",
    "Message",
    "MessageAssertionError",
    "MessageFilter",
    "MessagePart",
    "MessageStore",
    "MockSMTPError",
    "MockSMTPServer",
    "RemoteError",
    "RemoteFault",
    "RemoteServer",
    "Reply",
    "SMTPOptions",
    "SQLiteStore",
    "ServerOptions",
    "ServerStartError",
    "ServerState",
    "ServerStateError",
    "StoreError",
    "Summary",
    "TransferError",
    "WaitTimeout",
    "__version__",
    "connect",
]


def __getattr__(name: str) -> _typing.Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'mocksmtp' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
