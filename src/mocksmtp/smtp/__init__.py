"""The SMTP engine: an ``asyncio.Protocol`` state machine, its replies and its listener."""

from .replies import REPLY, Reply

__all__ = ["REPLY", "Reply"]
