"""MAIL and RCPT arguments: the one-regex fast way agrees with the full parse, always."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mocksmtp.smtp.address import (
    SIMPLE_FROM,
    SIMPLE_TO,
    PathError,
    parse_path_argument,
    validate_path,
)
from mocksmtp.smtp.replies import REPLY

# Octets that matter to paths, so random arguments often come close to valid ones.
_ALPHABET = b"aZ09.-_+@<>: \"\\[]!#$%&'*/=?^`{|}~\x00\x7f\xc3\xa9"
# Mostly what a dot-atom and a host name are made of (with the dots and hyphens they may not
# start or end with), so that the fast regex often matches and the full parse is held to it:
# from the whole alphabet alone it matched 2 arguments in 600.
_NEAR = [b"a", b"Z", b"0", b"9", b".", b"-", b"_", b"+", b"'", b"example", b"com", b".", b"-"]
_args = st.one_of(
    st.lists(st.sampled_from(_NEAR), min_size=1, max_size=8).map(b"".join),
    st.lists(st.sampled_from([bytes([c]) for c in _ALPHABET]), max_size=30).map(b"".join),
)


def full_parse(arg: bytes, keyword: bytes) -> tuple[str, list[str]] | None:
    """What the engine accepts by the long way (no SMTPUTF8), or None when it refuses."""
    try:
        path, params = parse_path_argument(arg, keyword, REPLY.MAIL_SYNTAX)
        return validate_path(path, utf8=False, bad=REPLY.BAD_SENDER), params
    except PathError:
        return None


@pytest.mark.parametrize(("pattern", "keyword"), [(SIMPLE_FROM, b"FROM:"), (SIMPLE_TO, b"TO:")])
@settings(max_examples=300)
@given(local=_args, domain=_args)
@example(local=b"a.b+c", domain=b"example.com")
@example(local=b"a..b", domain=b"example.com")
@example(local=b"a", domain=b"-example.com")
@example(local=b'"a b"', domain=b"example.com")
def test_a_fast_match_is_exactly_what_the_full_parse_accepts(
    pattern: object, keyword: bytes, local: bytes, domain: bytes
) -> None:
    """Whenever the fast regex matches, the full parse accepts the same address and no
    parameters; where it does not match, the full parse decides (and may still accept)."""
    import re

    assert isinstance(pattern, re.Pattern)
    for arg in (
        keyword + b"<" + local + b"@" + domain + b">",
        keyword.lower() + b" <" + local + b"@" + domain + b">",
        keyword + b"<" + local + b"@" + domain + b"> SIZE=1",
    ):
        fast = pattern.fullmatch(arg)
        if fast is not None:
            assert full_parse(arg, keyword) == (fast[1].decode("ascii"), [])


@pytest.mark.parametrize(
    "arg",
    [b"FROM:<a@example.com>", b"from:<First.Last+tag@sub.example.org>", b"FROM: <x@y>", b"From:<o'brien@example.com>"],
)
def test_the_common_forms_take_the_fast_way(arg: bytes) -> None:
    """Plain addresses, any case of the keyword, a space after the colon."""
    match = SIMPLE_FROM.fullmatch(arg)
    assert match is not None
    assert full_parse(arg, b"FROM:") == (match[1].decode(), [])


@pytest.mark.parametrize(
    "arg",
    [
        b"FROM:<>",
        b"FROM:<a@b> SIZE=10",
        b'FROM:<"a b"@c>',
        b"FROM:<@r.example:a@b>",
        b"FROM:<a@[127.0.0.1]>",
        b"FROM:a@b",
        b"FROM:<a@b>x",
        b"FROM:<a\xc3\xa9@b>",
    ],
)
def test_everything_else_takes_the_full_parse(arg: bytes) -> None:
    """The null path, parameters, quoting, routes, literals, bare paths, junk, UTF-8."""
    assert SIMPLE_FROM.fullmatch(arg) is None
