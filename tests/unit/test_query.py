"""parse_query: Mailpit's search syntax into a plain Query, errors naming their position."""

from __future__ import annotations

import doctest
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import mocksmtp.query
from mocksmtp.errors import ConfigError, MockSMTPError, QuerySyntaxError
from mocksmtp.query import (
    FIELDS,
    AddressTerm,
    DateTerm,
    FlagTerm,
    Query,
    SizeTerm,
    TagTerm,
    TextTerm,
    fold,
    parse_query,
)

UTC = timezone.utc


def term(text: str) -> object:
    """The one term ``text`` parses to."""
    (only,) = parse_query(text).terms
    return only


def test_the_empty_query_has_no_terms() -> None:
    """Nothing, or only spaces, is the query that matches everything."""
    assert parse_query("") == parse_query(" \t\n ") == Query()
    assert str(Query()) == ""


def test_bare_words_and_phrases_are_text_terms() -> None:
    """Words split on whitespace; a quoted phrase is one term, kept as typed."""
    assert parse_query('hello  "big   World" bye').terms == (
        TextTerm("text", "hello"),
        TextTerm("text", "big   World"),
        TextTerm("text", "bye"),
    )


@pytest.mark.parametrize("field", ["from", "to", "cc", "bcc", "reply-to", "addressed"])
def test_address_fields_decide_exact_or_substring(field: str) -> None:
    """A whole address is exact; a domain, a name or a part of an address is a substring."""
    assert term(f"{field}:Ann@Example.com") == AddressTerm(field, "Ann@Example.com", exact=True)  # type: ignore[arg-type]
    for value in ("example.com", "bob", "@example.com", "ann@"):
        assert term(f"{field}:{value}") == AddressTerm(field, value, exact=False)  # type: ignore[arg-type]
    assert term(f'{field}:"Ann Lee"') == AddressTerm(field, "Ann Lee", exact=False)  # type: ignore[arg-type]


def test_angle_brackets_around_an_address_or_message_id_are_dropped() -> None:
    """to:<a@example.com> is to:a@example.com, message-id:<x@y> is message-id:x@y, spaces
    around them do not make a whole address a substring."""
    assert term("to:<a@example.com>") == AddressTerm("to", "a@example.com", exact=True)
    assert term("message-id:<abc@host>") == TextTerm("message-id", "abc@host")
    assert term('to:" <a@example.com> "') == AddressTerm("to", "a@example.com", exact=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("subject:Welcome", TextTerm("subject", "Welcome")),
        ('subject:"your order"', TextTerm("subject", "your order")),
        ("subject:re:hello", TextTerm("subject", "re:hello")),
        ("message-id:abc@host", TextTerm("message-id", "abc@host")),
        ("tag:Beta", TagTerm("Beta")),
        ("is:read", FlagTerm("read")),
        ("is:unread", FlagTerm("unread")),
        ("is:tagged", FlagTerm("tagged")),
        ("has:attachment", FlagTerm("attachment")),
        ("has:attachments", FlagTerm("attachment")),
        ("has:inline", FlagTerm("inline")),
        ("has:inlines", FlagTerm("inline")),
        ("larger:100", SizeTerm("larger", 100)),
        ("larger:500K", SizeTerm("larger", 500 * 1024)),
        ("larger:2M", SizeTerm("larger", 2 * 1024**2)),
        ("smaller:1.5MB", SizeTerm("smaller", 1536 * 1024)),
        ("smaller:2kb", SizeTerm("smaller", 2048)),
        ('smaller:"1 G"', SizeTerm("smaller", 1024**3)),
        ("larger:0.1k", SizeTerm("larger", 102)),
        ("before:2024-05-01", DateTerm("before", datetime(2024, 5, 1, tzinfo=UTC))),
        ("after:2024-05-01", DateTerm("after", datetime(2024, 5, 1, tzinfo=UTC))),
    ],
)
def test_each_field_parses_to_its_term(text: str, expected: object) -> None:
    """Every field gives its term with the value read: sizes in bytes (1024-based), dates in UTC."""
    assert term(text) == expected


def test_every_field_is_covered_above() -> None:
    """The language has exactly the fields of Mailpit's search."""
    assert set(FIELDS) == {
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "addressed",
        "subject",
        "message-id",
        "tag",
        "is",
        "has",
        "larger",
        "smaller",
        "before",
        "after",
    }


@pytest.mark.parametrize(
    "text",
    [
        "to:a@b.c",
        "subject:x",
        "message-id:x",
        "tag:x",
        "is:read",
        "has:inline",
        "larger:1",
        "before:2024-01-01",
        "word",
        '"a phrase"',
    ],
)
@pytest.mark.parametrize("sign", ["-", "!"])
def test_minus_or_bang_negates_any_term(text: str, sign: str) -> None:
    """-term and !term are the term, negated."""
    plain = term(text)
    negated = term(sign + text)
    assert not plain.negated  # type: ignore[attr-defined]
    assert negated.negated  # type: ignore[attr-defined]
    assert negated == type(plain)(**{**_fields(plain), "negated": True})


def _fields(t: object) -> dict[str, object]:
    import dataclasses

    return {f.name: getattr(t, f.name) for f in dataclasses.fields(t)}  # type: ignore[arg-type]


def test_only_the_first_sign_negates() -> None:
    """--x excludes the word -x, as in Mailpit."""
    assert term("--x") == TextTerm("text", "-x", negated=True)
    assert term("-!x") == TextTerm("text", "!x", negated=True)


def test_field_names_and_flag_values_ignore_case() -> None:
    """SUBJECT:, Is:Read and LARGER:2m read as their lowercase forms; values keep their case."""
    assert parse_query("SUBJECT:Hi Is:Read HAS:Attachment LARGER:2m From:Bob").terms == (
        TextTerm("subject", "Hi"),
        FlagTerm("read"),
        FlagTerm("attachment"),
        SizeTerm("larger", 2 * 1024**2),
        AddressTerm("from", "Bob", exact=False),
    )


def test_a_quoted_field_is_a_phrase() -> None:
    """ "to:bob" in quotes is text to search for, not a field."""
    assert term('"to:bob"') == TextTerm("text", "to:bob")
    assert term('"https://example.com/x"') == TextTerm("text", "https://example.com/x")


def test_words_with_colons_that_are_not_fields_are_text() -> None:
    """12:30 and a:1: the part before the colon is not a field name, so the word is text."""
    assert term("12:30") == TextTerm("text", "12:30")
    assert term("ünï:x") == TextTerm("text", "ünï:x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T09:30:00Z", datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
        ("2024-05-01T09:30+02:00", datetime(2024, 5, 1, 7, 30, tzinfo=UTC)),
        ('"2024-05-01 09:30:15.25 -0100"', datetime(2024, 5, 1, 10, 30, 15, 250000, tzinfo=UTC)),
        ("2024/5/1", datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024.05.01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("20240501", datetime(2024, 5, 1, tzinfo=UTC)),
        ("1714521600", datetime(2024, 5, 1, tzinfo=UTC)),
        ("1714521600250", datetime(2024, 5, 1, 0, 0, 0, 250000, tzinfo=UTC)),
        ('"1 May 2024"', datetime(2024, 5, 1, tzinfo=UTC)),
        ('"May 1st, 2024 9:30 pm"', datetime(2024, 5, 1, 21, 30, tzinfo=UTC)),
        ('"September 3 2024"', datetime(2024, 9, 3, tzinfo=UTC)),
        ('"Mon, 02 Jan 2006 15:04:05 -0700"', datetime(2006, 1, 2, 22, 4, 5, tzinfo=UTC)),
        ('"Tue, 11 Jul 2017 16:28:13 +0200 (CEST)"', datetime(2017, 7, 11, 14, 28, 13, tzinfo=UTC)),
    ],
)
def test_date_forms(text: str, expected: datetime) -> None:
    """ISO dates and times, YYYYMMDD, Unix seconds or milliseconds, and named months."""
    assert term(f"after:{text}") == DateTerm("after", expected)


def test_dates_without_a_zone_are_in_tz() -> None:
    """A date or time naming no zone is read in tz (a name or a tzinfo; UTC by default)."""
    paris = parse_query("after:2024-05-01 before:2024-05-01T12:00", tz="Europe/Paris").terms
    assert paris == (
        DateTerm("after", datetime(2024, 4, 30, 22, tzinfo=UTC)),
        DateTerm("before", datetime(2024, 5, 1, 10, tzinfo=UTC)),
    )
    minus_five = timezone(timedelta(hours=-5))
    assert term_in("after:2024-05-01", minus_five) == DateTerm("after", datetime(2024, 5, 1, 5, tzinfo=UTC))
    assert term_in("after:2024-05-01T00:00Z", minus_five) == DateTerm("after", datetime(2024, 5, 1, tzinfo=UTC))


def term_in(text: str, tz: timezone) -> object:
    (only,) = parse_query(text, tz=tz).terms
    return only


def test_an_unknown_tz_is_a_config_error() -> None:
    """tz must name a zone this machine knows."""
    with pytest.raises(ConfigError, match="Europe/Paris"):
        parse_query("x", tz="Mars/Olympus")


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ('to:bob subject:"unterminated', 15, "unterminated quote at position 15"),
        ("sbject:hello", 0, "unknown field `sbject:` at position 0: did you mean `subject:`?"),
        ("ok -frm:a", 4, "unknown field `frm:` at position 4: did you mean `from:`?"),
        ('sbject:"a b"', 0, "unknown field `sbject:` at position 0: did you mean `subject:`?"),
        ("https://example.com", 0, 'quote it: `"https://example.com"`'),
        ("larger:2X", 0, "bad size `larger:2X` at position 0"),
        ("a smaller:M", 2, "bad size `smaller:M`"),
        ("before:03/04/2024", 0, "bad date `before:03/04/2024` at position 0: write YYYY-MM-DD"),
        ("after:2024-02-30", 0, "bad date"),
        ('after:"1 Foo 2024"', 0, "bad date"),
        ("after:tomorrow", 0, "bad date"),
        ("is:new", 0, "unknown `is:new` at position 0: expected `is:read`, `is:unread`, `is:tagged`"),
        ("has:pdf", 0, "expected `has:attachment`, `has:inline`"),
        ("x to:", 5, "expected a value after `to:` at position 5"),
        ("to:<>", 3, "expected a value after `to:`"),
        ('foo"bar"', 3, "unexpected quote at position 3"),
        ('subject:a"b"', 9, "unexpected quote at position 9"),
        ('"a b"c', 5, "expected a space after the closing quote at position 5"),
        ('subject:"a b"c', 13, "expected a space after the closing quote"),
        ('x ""', 2, "empty quotes at position 2"),
        ('subject:"  "', 8, "empty quotes"),
        ("a - b", 2, "nothing to exclude after `-` at position 2"),
        ("!", 0, "nothing to exclude after `!`"),
    ],
)
def test_bad_syntax_names_the_position(text: str, position: int, message: str) -> None:
    """Each error says where (an index into the text) and what was expected there."""
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(text)
    assert caught.value.position == position
    assert message in str(caught.value)


def test_query_syntax_error_is_a_value_error_of_the_tree() -> None:
    """Callers may catch ValueError or MockSMTPError."""
    assert issubclass(QuerySyntaxError, ValueError)
    assert issubclass(QuerySyntaxError, MockSMTPError)


def test_terms_render_as_canonical_query_text() -> None:
    """str() gives lowercase fields, bytes, UTC times, and quotes where a value needs them."""
    query = parse_query('FROM:"Ann Lee" -"to:bob" !larger:1k after:"1 May 2024" --x 12:30 tag:"a b"')
    assert str(query) == ('from:"Ann Lee" -"to:bob" -larger:1024 after:2024-05-01T00:00:00Z -"-x" "12:30" tag:"a b"')


def test_queries_are_hashable_plain_data() -> None:
    """Equal texts give equal, hashable queries that refuse changes."""
    a, b = parse_query("to:a@b.c is:read"), parse_query("TO:a@b.c  IS:READ")
    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.terms = ()  # type: ignore[misc]


def test_fold_ignores_case_and_spacing() -> None:
    """fold is what text comparisons see."""
    assert fold("  Straße\n\tNOW  ") == "strasse now"


FIELD = st.sampled_from([*FIELDS, *(f.upper() for f in FIELDS)])
VALUE = st.one_of(
    st.from_regex(r'[^\s"]{1,12}', fullmatch=True),
    st.from_regex(r'"[^"]{1,12}"', fullmatch=True),
    st.sampled_from(
        [
            "a@example.com",
            "<B@Example.COM>",
            "read",
            "unread",
            "tagged",
            "attachment",
            "inline",
            "2M",
            "1.5kb",
            "100",
            "2024-05-01",
            '"2024-05-01 10:00 +02:00"',
            "1714521600",
            "<x@y>",
        ]
    ),
)
TERM = st.builds(
    lambda sign, field, value: f"{sign}{field}{value}",
    st.sampled_from(["", "-", "!"]),
    st.one_of(st.just(""), FIELD.map(lambda f: f + ":")),
    VALUE,
)
QUERY_TEXT = st.lists(TERM, max_size=6).flatmap(
    lambda terms: st.lists(st.sampled_from([" ", "  ", "\t", "\n"]), min_size=len(terms), max_size=len(terms)).map(
        lambda spaces: "".join(s + t for s, t in zip(spaces, terms, strict=True))
    )
)


@given(st.one_of(st.text(max_size=60), QUERY_TEXT))
@example('to:"<a b>" --x !"-" is:Tagged after:0001-01-01T00:00Z')
@example("after:9999-12-31T23:59:59.999999-01:00 larger:999999999999999999.999999999999999999g")
def test_parse_raises_only_syntax_errors_and_str_parses_back(text: str) -> None:
    """On any text, parse_query returns a Query or raises QuerySyntaxError at a real position,
    and str(query) parses to an equal Query."""
    try:
        query = parse_query(text, tz="Europe/Paris")
    except QuerySyntaxError as e:
        error = e
    else:
        assert parse_query(str(query)) == query
        assert str(parse_query(str(query))) == str(query)
        return
    assert 0 <= error.position <= len(text)
    assert f"position {error.position}" in str(error)


def test_module_examples_run() -> None:
    """The docstring examples of mocksmtp.query are true."""
    assert doctest.testmod(mocksmtp.query).failed == 0


DOC = Path(__file__).resolve().parents[2] / "docs" / "search.md"


def test_every_example_in_the_search_guide_parses() -> None:
    """Each query in the guide's example table is valid."""
    section = DOC.read_text(encoding="utf-8").split("## Examples")[1].split("\n## ")[0]
    examples = re.findall(r"^\| `([^`]+)` \|", section, re.MULTILINE)
    assert len(examples) >= 10
    for text in examples:
        parse_query(text)
