"""mocksmtp: an SMTP server that captures mail, for testing software that sends email.

>>> from mocksmtp import MockSMTPServer
>>> with MockSMTPServer(port=0) as server:
...     server.is_running()
True
"""

from ._version import __version__
from .config import Credentials, SMTPOptions
from .errors import ConfigError, MockSMTPError, ServerStartError, ServerStateError
from .message import Message
from .server import MockSMTPServer, ServerState
from .smtp.faults import Fault
from .smtp.replies import REPLY, Reply
from .store import MemoryStore, MessageStore

__all__ = [
    "REPLY",
    "ConfigError",
    "Credentials",
    "Fault",
    "MemoryStore",
    "Message",
    "MessageStore",
    "MockSMTPError",
    "MockSMTPServer",
    "Reply",
    "SMTPOptions",
    "ServerStartError",
    "ServerState",
    "ServerStateError",
    "__version__",
]
