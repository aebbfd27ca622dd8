"""DATA (RFC 5321 §4.5.2): message data up to ``<CRLF>.<CRLF>``, dot-unstuffed.

The reader is shaped like the BDAT one (:mod:`.chunking`): :func:`cmd_data` answers ``354`` and
makes a :class:`DataReader` the session's current reader; the session hands it every read and
it returns what follows the end of data (pipelined commands). At the end the message goes to
the session's one delivery point, which stores it before the ``250``.

Only ``<CRLF>.<CRLF>`` ends data. A leading dot is removed from every line whatever follows it
(``..`` becomes ``.``, ``.foo`` becomes ``foo``), as aiosmtpd and Postfix do; a removed dot that
was not followed by another one means the client forgot to dot-stuff, and the message gets the
``"unstuffed_dot"`` flag. Each read is scanned once: the work is linear in the octets received,
however many lines begin with a dot and however the data is split into reads.

Data over ``max_message_size`` (or past the server's ``max_pending_data``) is discarded as it
arrives, keeping only the octets that may begin the end marker, and refused after the real end
of data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .replies import REPLY, Reply

if TYPE_CHECKING:
    from .session_io import SessionIO

__all__ = ["DataReader", "cmd_data"]

DOT_LINE = b"\r\n."
"""A line that begins with a dot (the first line too: the reader's buffer starts with a CRLF)."""
END = b"\r\n.\r\n"
"""The end of data. The CRLF before the dot belongs to the message."""
_TAIL = 4  # octets kept while data is discarded: what may begin an end marker ("\r\n.\r")
UNSTUFFED_DOT = frozenset({"unstuffed_dot"})
_NO_FLAGS: frozenset[str] = frozenset()


def cmd_data(proto: SessionIO, arg: bytes) -> None:
    """``DATA``: with MAIL and RCPT accepted, ``354`` and read the message."""
    env = proto.envelope
    if arg.strip():
        proto.reply(REPLY.NO_ARGUMENTS)
    elif env.mail_from is None:
        proto.reply(REPLY.NEED_MAIL)
    elif not env.rcpt_tos:
        proto.reply(REPLY.NEED_RCPT)
    elif env.chunks is not None or env.chunks_failed or env.binarymime:
        proto.reply(REPLY.DATA_AFTER_BDAT)
    elif proto.ctx.pending_data and proto.budget_full():  # (no call while nothing is in flight)
        proto.reply(REPLY.INSUFFICIENT_STORAGE)
    elif proto.ctx.faults.armed and proto.fault("data", proto.envelope_subjects(), lambda: _start(proto)):
        pass
    else:
        DataReader(proto)


def _start(proto: SessionIO) -> None:
    """What DATA does when an injected delay is over."""
    DataReader(proto)


class DataReader:
    """Consumes message data from the input; at the end, delivers it and returns what follows.

    Made by :func:`cmd_data`, it answers ``354`` and becomes the session's reader at once.
    """

    __slots__ = ("buf", "dots", "proto", "refusal", "scan", "unstuffed")

    def __init__(self, proto: SessionIO) -> None:
        self.proto = proto
        self.buf = bytearray(b"\r\n")  # a virtual CRLF, so that a first-line dot is found too
        self.scan = 0  # where the next look for DOT_LINE starts
        self.dots = 0  # lines that began with a dot, so far (each loses it)
        self.unstuffed = False  # a removed dot was not followed by another
        self.refusal: Reply | None = None  # set once the data is being discarded
        proto.reader = self.feed
        proto.in_data = True
        proto.data_started = proto.last_activity
        proto.data_bytes = 0
        proto.send(REPLY.START_DATA.line)

    def feed(self, data: bytes) -> bytes:
        """Take message data; at ``<CRLF>.<CRLF>`` deliver the message and return what follows."""
        proto = self.proto
        buf = self.buf
        proto.last_activity = proto.clock()
        if len(buf) == 2 and data[-5:] == END:
            # The usual case: the whole message in one read, right after the 354. Unless a line
            # begins with a dot (stuffed, or an earlier end), the message is this read less
            # the final ".\r\n": one copy, one scan, nothing held.
            raw = bytes(data[:-3])
            if raw[:1] != b"." and raw.find(DOT_LINE) < 0:
                proto.data_bytes = len(data)
                proto.reader = None  # (what _end does; nothing was held)
                proto.in_data = False
                proto.deliver(raw)
                return b""
        n = len(data)
        proto.data_bytes += n
        buf += data
        if self.refusal is None:
            proto.hold_data(n)
        # One pass over what has not been looked at yet finds the end, counts the lines that
        # begin with a dot and notes whether one of them was not stuffed.
        pos = self.scan
        end = -1
        while True:
            i = buf.find(DOT_LINE, pos)
            if i < 0:
                pos = max(pos, len(buf) - 2)  # a CRLF may be split between two reads
                break
            if i + 5 > len(buf):  # what follows the dot has not arrived yet
                pos = i
                break
            after = buf[i + 3]
            if after == 0x0D and buf[i + 4] == 0x0A:
                end = i
                break
            self.dots += 1
            if after != 0x2E:
                self.unstuffed = True
            pos = i + 3
        self.scan = pos
        if end < 0:
            if self.refusal is not None:
                del buf[:-_TAIL]
                self.scan = 0
            else:
                self._check_size()
            return b""
        rest = bytes(buf[end + 5 :])
        self._end()
        if self.refusal is not None:
            proto.deliver(b"", refusal=self.refusal)
            return rest
        del buf[end + 2 :]  # the CRLF before the final dot is the message's
        if self.dots:  # every DOT_LINE in buf is a line that loses its dot
            buf = buf.replace(DOT_LINE, b"\r\n")
        with memoryview(buf) as view:
            message = bytes(view[2:])
        proto.deliver(message, flags=UNSTUFFED_DOT if self.unstuffed else _NO_FLAGS)
        return rest

    def _check_size(self) -> None:
        """Start discarding once the content is surely over the size limit, or the server's
        data in flight is over its budget."""
        proto = self.proto
        buf = self.buf
        limit = proto.ctx.options.max_message_size
        # The content so far is at least len(buf) less the virtual CRLF (2), the removed dots
        # and the ".\r" that may begin the end marker (2).
        if limit and len(buf) - 4 - self.dots > limit:
            self.refusal = REPLY.MESSAGE_TOO_BIG
        elif proto.budget_exceeded():
            self.refusal = REPLY.INSUFFICIENT_STORAGE
        else:
            return
        proto.release_data()
        del buf[:-_TAIL]
        self.scan = 0

    def _end(self) -> None:
        proto = self.proto
        proto.reader = None
        proto.in_data = False
        if proto.held:
            proto.release_data()
