"""Numbers a client sends (``SIZE=``, ``BDAT`` chunk sizes), bounded before they are converted.

``int()`` of a string of thousands of digits is slow and, past ``sys.get_int_max_str_digits()``,
raises; a client may send one in any command line a raised ``max_command_length`` allows. Every
such number goes through :func:`parse_count` or :func:`fits_in` instead.
"""

from __future__ import annotations

__all__ = ["MAX_DIGITS", "fits_in", "parse_count"]

MAX_DIGITS = 18
"""Significant digits a count may have: 10**18 octets is no message size."""


def parse_count(digits: bytes | str) -> int | None:
    """The value of an ASCII decimal number of at most :data:`MAX_DIGITS` significant digits
    (leading zeros are free), else ``None``.

    >>> parse_count(b"0042"), parse_count(b"1" * 19), parse_count(b"-1")
    (42, None, None)
    """
    if not digits.isdigit() or not digits.isascii():
        return None
    significant = digits.lstrip(b"0") if isinstance(digits, bytes) else digits.lstrip("0")
    if len(significant) > MAX_DIGITS:
        return None
    return int(significant or 0)


def fits_in(digits: str, limit: int) -> bool:
    """Whether the decimal number ``digits`` (ASCII digits, checked by the caller) is at most
    ``limit``, however many digits it has.

    >>> fits_in("0" * 5000 + "7", 10), fits_in("9" * 5000, 10)
    (True, False)
    """
    value = parse_count(digits)
    return value is not None and value <= limit
