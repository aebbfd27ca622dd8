"""CHUNKING and BINARYMIME (RFC 3030): ``BDAT <size> [LAST]`` followed by exactly ``size`` octets.

Chunk octets are taken as they are: no dot-stuffing, no end marker, any byte values. The
octets of a chunk are always read, even when the chunk is refused (no MAIL or RCPT, an earlier
chunk failed, the size limit was passed), so they are never taken for commands. The size limit
is enforced while reading: once passed, further octets are discarded and the chunk gets
``552``; the transaction is then failed, later chunks are read and answered ``503``, and the
``LAST`` chunk (or RSET) ends it. The message goes into the store before the final ``250``.

A ``"data"`` fault fires once per transaction, on its first chunk, after the chunk is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .numbers import parse_count
from .replies import REPLY, Reply

if TYPE_CHECKING:
    from .session_io import SessionIO

__all__ = ["ChunkReader", "cmd_bdat"]


def cmd_bdat(proto: SessionIO, arg: bytes) -> None:
    """``BDAT size [LAST]``: read the chunk, then answer for it."""
    parts = arg.split()
    size = parse_count(parts[0]) if parts else None
    if size is None or len(parts) > 2 or (len(parts) == 2 and parts[1].upper() != b"LAST"):
        # Without a size we cannot tell where the chunk ends: whatever follows could be read as
        # commands (a smuggling path), so the session ends here.
        proto.close_with(REPLY.BDAT_SYNTAX)
        return
    env = proto.envelope
    error: Reply | None = None
    if env.mail_from is None:
        error = REPLY.NEED_MAIL
    elif not env.rcpt_tos:
        error = REPLY.NEED_RCPT
    elif env.chunks_failed:
        error = REPLY.BDAT_AFTER_FAILURE
    elif proto.budget_full():
        error = REPLY.INSUFFICIENT_STORAGE
    reader = ChunkReader(proto, size, last=len(parts) == 2, error=error)
    if error is None and env.chunks is None:
        env.chunks = bytearray()
    proto.data_started = proto.last_activity
    proto.data_bytes = 0
    proto.reader = reader.feed
    if reader.remaining == 0:
        reader.feed(b"")


class ChunkReader:
    """Consumes the octets of one chunk from the input, then replies for it."""

    __slots__ = ("error", "last", "proto", "remaining", "size")

    def __init__(self, proto: SessionIO, size: int, *, last: bool, error: Reply | None) -> None:
        self.proto = proto
        self.size = size
        self.remaining = size
        self.last = last
        self.error = error

    def feed(self, data: bytes) -> bytes:
        """Take what belongs to the chunk; return what follows it (commands)."""
        proto = self.proto
        take = min(self.remaining, len(data))
        if take:
            self.remaining -= take
            proto.data_bytes += take
            proto.last_activity = proto.loop.time()
            chunks = proto.envelope.chunks
            if self.error is None and chunks is not None:
                limit = proto.ctx.options.max_message_size
                if limit and len(chunks) + take > limit:
                    self._discard(REPLY.MESSAGE_TOO_BIG)
                else:
                    chunks += data[:take] if take < len(data) else data
                    proto.hold_data(take)
                    if proto.budget_exceeded():
                        self._discard(REPLY.INSUFFICIENT_STORAGE)
        if self.remaining:
            return b""
        proto.reader = None
        self._done()
        return data[take:] if take < len(data) else b""

    def _discard(self, error: Reply) -> None:
        """Refuse the chunk with ``error`` at its end; what was received is dropped now."""
        self.error = error
        self.proto.envelope.chunks = bytearray()
        self.proto.release_data()

    def _done(self) -> None:
        proto = self.proto
        env = proto.envelope
        if self.error is not None:
            if self.error is REPLY.MESSAGE_TOO_BIG or self.error is REPLY.INSUFFICIENT_STORAGE:
                proto.ctx.stats.rejected_messages += 1
            self._fail(self.error)
            return
        first = env.chunk_count == 0
        env.chunk_count += 1
        if (
            first
            and proto.ctx.faults.armed
            and proto.fault("data", proto.envelope_subjects(), self._accept, self._failed_by_fault)
        ):
            return
        self._accept()

    def _accept(self) -> None:
        proto = self.proto
        env = proto.envelope
        if not self.last:
            proto.send(REPLY.CHUNK_OK.with_text(f"{self.size} octets received").line)
            return
        raw = bytes(env.chunks) if env.chunks is not None else b""
        proto.deliver(raw, binary=env.binarymime)

    def _failed_by_fault(self) -> None:
        self.proto.ctx.stats.rejected_messages += self.last
        self._end_failed()

    def _fail(self, reply: Reply) -> None:
        proto = self.proto
        proto.reply(reply)
        if proto.envelope.mail_from is not None and proto.envelope.rcpt_tos:
            self._end_failed()

    def _end_failed(self) -> None:
        proto = self.proto
        env = proto.envelope
        env.chunks_failed = True
        env.chunks = None
        proto.release_data()
        if self.last:
            proto.end_transaction(None)
