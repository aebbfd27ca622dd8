"""mocksmtp: an SMTP server that captures mail, for testing software that sends email.

>>> from mocksmtp import MockSMTPServer
>>> with MockSMTPServer(port=0) as server:
...     server.is_running()
True
"""

from ._version import __version__
from .aio import AsyncMockSMTPServer
from .attachment import Attachment
from .config import Credentials, SMTPOptions
from .errors import (
    ConfigError,
    MessageAssertionError,
    MockSMTPError,
    ServerStartError,
    ServerStateError,
    WaitTimeout,
)
from .facade import ServerState
from .filters import MessageFilter
from .headers import Address, Headers
from .message import Message
from .server import MockSMTPServer
from .smtp.faults import Fault
from .smtp.replies import REPLY, Reply
from .store import MemoryStore, MessageStore

__all__ = [
    "REPLY",
    "Address",
    "AsyncMockSMTPServer",
    "Attachment",
    "ConfigError",
    "Credentials",
    "Fault",
    "Headers",
    "MemoryStore",
    "Message",
    "MessageAssertionError",
    "MessageFilter",
    "MessageStore",
    "MockSMTPError",
    "MockSMTPServer",
    "Reply",
    "SMTPOptions",
    "ServerStartError",
    "ServerState",
    "ServerStateError",
    "WaitTimeout",
    "__version__",
]
