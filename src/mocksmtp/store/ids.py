"""Message ids: ULIDs, unique across processes and machines and sorted by arrival.

An id is 26 characters of Crockford base32 (``01JEB7Q3ZC5T0W8N2XKQ4M6R9A``): 48 bits of
milliseconds since the epoch, then 80 random bits. Within one millisecond a process
increments the random part instead of drawing a new one, so the ids one process makes are
strictly increasing (and sort as text in the order they were made); two processes or machines
collide only if they draw the same 80 random bits in the same millisecond. Short enough to read
in a log line, and the same ids a later PostgreSQL store can share between nodes.

>>> a, b = new_id(), new_id()
>>> len(a), a < b
(26, True)
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["id_time", "new_id"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits -> 2 characters
_VALUES = {c: i for i, c in enumerate(_CROCKFORD)}
_RANDOM_MAX = (1 << 80) - 1


def _encode(value: int, chars: int) -> str:
    """``value`` as ``chars`` (even) characters of Crockford base32."""
    return "".join(_PAIRS[(value >> shift) & 1023] for shift in range(5 * chars - 10, -1, -10))


class _Generator:
    """The process's id source: the last (millisecond, random) pair and the text of their
    slowly changing parts, behind a lock (ids are made on the event loop's thread and, in
    tests, on others). Encoding only the last 20 bits per id keeps :func:`new_id` cheap."""

    __slots__ = ("high", "high_text", "lock", "ms", "ms_text", "random")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms = self.random = 0
        self.high, self.ms_text, self.high_text = -1, "", ""

    def after_fork(self) -> None:
        """A forked child must not continue its parent's sequence in the same millisecond."""
        self.__init__()  # type: ignore[misc]


# One per process, on purpose: ids are monotonic within the process, whatever store makes them.
_GENERATOR = _Generator()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_GENERATOR.after_fork)


def new_id() -> str:
    """A new ULID, greater than every id this process made before."""
    ms = time.time_ns() // 1_000_000
    g = _GENERATOR
    with g.lock:
        if ms > g.ms:
            g.ms, g.random, g.ms_text = ms, int.from_bytes(os.urandom(10), "big"), _encode(ms, 10)
        elif g.random < _RANDOM_MAX:  # the same millisecond (or the clock stepped back)
            g.random += 1
        else:  # 2**80 ids in one millisecond: borrow the next one
            g.ms, g.random = g.ms + 1, 0
            g.ms_text = _encode(g.ms, 10)
        r = g.random
        if r >> 20 != g.high:
            g.high = r >> 20
            g.high_text = _encode(g.high, 12)
        return g.ms_text + g.high_text + _PAIRS[(r >> 10) & 1023] + _PAIRS[r & 1023]


def id_time(id: str) -> float | None:
    """The time (seconds since the epoch) a ULID was made, or ``None`` for another kind of id."""
    if len(id) != 26:
        return None
    try:
        ms = 0
        for c in id[:10].upper():
            ms = ms * 32 + _VALUES[c]
    except KeyError:
        return None
    return ms / 1000
