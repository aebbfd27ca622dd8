"""Server options: one frozen dataclass, validated once, read by the engine.

Nothing here reads the environment; the command line and the pytest plugin turn their inputs
into :class:`SMTPOptions`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

__all__ = ["DEFAULT_HOSTNAME", "SMTPOptions"]

DEFAULT_HOSTNAME = "localhost"
MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SMTPOptions:
    """Limits and policies of the SMTP engine (defaults from ``smtp-behaviour.md``).

    >>> SMTPOptions(max_message_size=1024).max_message_size
    1024
    """

    hostname: str = DEFAULT_HOSTNAME
    """Name used in the greeting and the EHLO reply. Never looked up."""
    max_message_size: int = 32 * MiB
    """Largest message accepted, in octets; advertised in ``SIZE``. 0 means no limit."""
    max_recipients: int = 1000
    """Recipients accepted per transaction; the next one gets ``452 4.5.3``."""
    max_connections: int = 1000
    """Simultaneous connections; the next one gets ``421 4.7.0`` and is closed."""
    max_command_length: int = 512
    """Longest command line in octets, CRLF included (RFC 5321 4.5.3.1.4)."""
    max_bad_commands: int = 10
    """Unrecognised or malformed commands before the session is closed with ``421 4.7.0``."""
    idle_timeout: float = 300.0
    """Seconds without a complete command before ``421 4.4.2`` and close."""
    min_data_rate: int = 1024
    """During DATA, octets per second a client must keep up once ``idle_timeout`` has passed."""
    strict: bool = False
    """Reject (instead of storing and flagging) bare CR/LF and lines over 1000 octets in data."""
    backlog: int = 1024
    """Listen backlog: large, so hundreds of simultaneous connects never wait on SYN retries."""

    def __post_init__(self) -> None:
        if not self.hostname or any(c.isspace() for c in self.hostname):
            raise ConfigError(f"hostname must be a non-empty name without spaces, got {self.hostname!r}")
        for name in ("max_message_size", "max_recipients", "max_connections", "max_bad_commands",
                     "max_command_length", "backlog", "min_data_rate"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
        if self.max_recipients < 1 or self.max_connections < 1 or self.backlog < 1:
            raise ConfigError("max_recipients, max_connections and backlog must be at least 1")
        if self.max_command_length < 512:
            raise ConfigError(
                f"max_command_length must be at least 512 (RFC 5321), got {self.max_command_length}"
            )
        if not isinstance(self.idle_timeout, (int, float)) or self.idle_timeout <= 0:
            raise ConfigError(f"idle_timeout must be a positive number of seconds, got {self.idle_timeout!r}")

    @classmethod
    def from_kwargs(cls, options: dict[str, Any]) -> SMTPOptions:
        """Build options from keyword arguments, naming any unknown one and the valid ones."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"unknown option(s) {', '.join(unknown)}; valid options are {', '.join(sorted(known))}"
            )
        return cls(**options)
