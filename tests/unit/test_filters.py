"""MessageFilter: strings, regexes and callables; exact, case-insensitive addresses."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mocksmtp import ConfigError, Message, MessageFilter

RAW = (
    b"From: App <app@Example.com>\r\nTo: Ann <ann@example.com>, bob@example.com\r\n"
    b"Cc: carol@example.com\r\nSubject: Your code is 123456\r\nX-Tag: welcome\r\nX-Tag: beta\r\n"
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
    b"Hello Ann, your code is 123456.\r\n--b\r\nContent-Type: application/pdf\r\n"
    b'Content-Disposition: attachment; filename="report.pdf"\r\n\r\n%PDF\r\n--b--\r\n'
)
MESSAGE = Message(
    id="F-1",
    raw=RAW,
    mail_from="bounce@example.com",
    rcpt_tos=("ann@example.com", "bob@example.com", "carol@example.com", "dave@example.com"),
)


def matches(**filters: Any) -> bool:  # the tests' values, some of them wrong on purpose
    return MessageFilter(**filters)(MESSAGE)


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("to", "ann@example.com"),
        ("to", "ANN@EXAMPLE.COM"),
        ("to", "Ann <ann@example.com>"),
        ("cc", "carol@example.com"),
        ("bcc", "dave@example.com"),
        ("from_", "app@example.com"),
        ("recipient", "Dave@Example.com"),
        ("to", ["ann@example.com", "bob@example.com"]),
    ],
)
def test_address_filters_match_exactly_ignoring_case(name: str, address: object) -> None:
    """An address string matches a whole address in any case."""
    assert matches(**{name: address})


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("to", "nn@example.com"),
        ("to", "ann@example.co"),
        ("to", "example.com"),
        ("cc", "ann@example.com"),
        ("bcc", "ann@example.com"),
        ("from_", "pp@example.com"),
        ("recipient", "ave@example.com"),
        ("to", ["ann@example.com", "zed@example.com"]),
    ],
)
def test_address_filters_never_match_substrings(name: str, address: object) -> None:
    """a@example.com never matches ba@example.com, nor a domain alone."""
    assert not matches(**{name: address})


@given(st.from_regex(r"[a-z]{1,8}", fullmatch=True))
def test_address_prefix_never_matches(prefix: str) -> None:
    """Prefixing a present address with anything makes it a different address."""
    assert not matches(to=f"{prefix}ann@example.com")


def test_regex_and_callable_address_filters() -> None:
    """A regex is searched in each address; a callable gets each address."""
    assert matches(to=re.compile(r"^bob@"))
    assert not matches(to=re.compile(r"^dave@"))
    assert matches(recipient=lambda a: a.startswith("dave"))


def test_subject_and_contains() -> None:
    """subject and contains match substrings, regexes and callables."""
    assert matches(subject="code is")
    assert not matches(subject="Code is")
    assert matches(subject=re.compile(r"\d{6}$"))
    assert matches(contains="Hello Ann")
    assert matches(contains=re.compile(r"code is (\d+)"))
    assert not matches(contains="Goodbye")
    assert matches(contains=lambda body: "123456" in body)


def test_has_attachment() -> None:
    """True/False, an exact file name, a regex on names, or a callable on Attachment."""
    assert matches(has_attachment=True)
    assert not matches(has_attachment=False)
    assert matches(has_attachment="report.pdf")
    assert not matches(has_attachment="report")
    assert matches(has_attachment=re.compile(r"\.pdf$"))
    assert matches(has_attachment=lambda a: a.content_type == "application/pdf")


def test_header_filter_forms() -> None:
    """A name alone, a (name, value) pair against any value, or a dict of them."""
    assert matches(header="x-tag")
    assert not matches(header="X-Missing")
    assert matches(header=("X-Tag", "beta"))
    assert not matches(header=("X-Tag", "bet"))
    assert matches(header={"X-Tag": re.compile("^wel"), "Subject": lambda v: "123456" in v})


def test_all_filters_must_match_and_none_means_not_given() -> None:
    """Filters combine with AND; a None value is ignored."""
    assert matches(to="ann@example.com", subject="code", cc=None)
    assert not matches(to="ann@example.com", subject="nope")
    assert not MessageFilter()
    assert MessageFilter()(MESSAGE)


def test_where_gets_the_message() -> None:
    """where= receives the Message itself."""
    assert matches(where=lambda m: m.id == "F-1")


def test_misses_say_which_filter_failed_and_what_was_there() -> None:
    """misses() names each failing filter with what the message had."""
    f = MessageFilter(to="zed@example.com", subject="code", has_attachment="x.pdf")
    assert f.misses(MESSAGE) == [
        "to='zed@example.com': got ['ann@example.com', 'bob@example.com']",
        "has_attachment='x.pdf': got ['report.pdf']",
    ]


def test_describe_shows_regexes_and_callables_readably() -> None:
    """describe() renders the filters as keyword arguments."""

    def is_pdf(a: object) -> bool:
        return True

    f = MessageFilter(subject=re.compile("^Hi"), has_attachment=is_pdf)
    assert f.describe() == (
        "subject=re.compile('^Hi'), has_attachment=<test_describe_shows_regexes_and_callables_readably.<locals>.is_pdf>"
    )


def test_unknown_filter_names_the_valid_ones() -> None:
    """A misspelt filter is a ConfigError listing the valid names (and hints at from_)."""
    with pytest.raises(ConfigError, match=r"unknown filter\(s\) from \(did you mean from_\?\); valid filters"):
        MessageFilter(**{"from": "a@example.com"})  # type: ignore[arg-type]  # the misspelling under test


@pytest.mark.parametrize(
    "bad",
    [{"to": 3}, {"subject": 1.5}, {"header": 7}, {"where": "x"}, {"subject": re.compile(b"x")}, {"to": ["a@x", 1]}],
)
def test_bad_filter_values_are_config_errors(bad: dict[str, Any]) -> None:
    """A value of the wrong type is refused (ConfigError) when the filter is built."""
    with pytest.raises(ConfigError):
        MessageFilter(**bad)
