"""Numbers a client sends (SIZE=, BDAT sizes) are bounded before they are converted."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mocksmtp.smtp.numbers import MAX_DIGITS, fits_in, parse_count


@given(value=st.integers(min_value=0, max_value=10**MAX_DIGITS - 1), zeros=st.integers(0, 5000))
def test_a_count_is_its_value_whatever_its_leading_zeros(value: int, zeros: int) -> None:
    """Up to MAX_DIGITS significant digits, a count parses to its value, as bytes or str."""
    text = "0" * zeros + str(value)
    assert parse_count(text) == parse_count(text.encode()) == value


def test_a_count_with_too_many_digits_or_not_digits_is_none() -> None:
    """Past MAX_DIGITS significant digits, or anything but ASCII digits, there is no count."""
    bads: list[bytes | str] = [
        b"1" * (MAX_DIGITS + 1),
        b"9" * 5000,
        b"",
        b"-1",
        b"+1",
        b"1 ",
        b"\xd9\xa1",
        "\u0661",
        "²",
    ]
    for bad in bads:
        assert parse_count(bad) is None, bad


def test_fits_in_compares_numbers_of_any_length_without_converting_them() -> None:
    """A SIZE of thousands of digits is over any limit; leading zeros never count."""
    assert fits_in("0" * 5000 + "1000", 1000)
    assert not fits_in("0" * 5000 + "1001", 1000)
    assert not fits_in("9" * 5000, 10**18)
