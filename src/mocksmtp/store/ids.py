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
import random
import threading
import time

__all__ = ["id_time", "new_id"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits -> 2 characters
_VALUES = {c: i for i, c in enumerate(_CROCKFORD)}
_RANDOM_MAX = (1 << 80) - 1
# The random part comes from a generator of our own (a test's random.seed() cannot make two
# processes draw alike), seeded from os.urandom at start and again in a forked child: a system
# call per millisecond (os.urandom) cost more than the rest of new_id.
_RNG = random.Random()
_random_bits = _RNG.getrandbits


def _encode(value: int, chars: int) -> str:
    """``value`` as ``chars`` (even) characters of Crockford base32."""
    return "".join(_PAIRS[(value >> shift) & 1023] for shift in range(5 * chars - 10, -1, -10))


def _encode_ms(ms: int) -> str:
    """:func:`_encode` of a millisecond count in 10 characters, spelled out: at a few thousand
    messages a second every id starts a new millisecond, and a generator per id showed."""
    p = _PAIRS
    return p[(ms >> 40) & 1023] + p[(ms >> 30) & 1023] + p[(ms >> 20) & 1023] + p[(ms >> 10) & 1023] + p[ms & 1023]


def _encode_high(high: int) -> str:
    """:func:`_encode` of the random part's top 60 bits in 12 characters, spelled out."""
    p = _PAIRS
    return (
        p[(high >> 50) & 1023]
        + p[(high >> 40) & 1023]
        + p[(high >> 30) & 1023]
        + p[(high >> 20) & 1023]
        + p[(high >> 10) & 1023]
        + p[high & 1023]
    )


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
        _RNG.seed()


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
            g.ms, g.random, g.ms_text = ms, _random_bits(80), _encode_ms(ms)
        elif g.random < _RANDOM_MAX:  # the same millisecond (or the clock stepped back)
            g.random += 1
        else:  # 2**80 ids in one millisecond: borrow the next one
            g.ms, g.random = g.ms + 1, 0
            g.ms_text = _encode_ms(g.ms)
        r = g.random
        if r >> 20 != g.high:
            g.high = r >> 20
            g.high_text = _encode_high(g.high)
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
