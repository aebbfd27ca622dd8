"""Parsing the arguments of MAIL FROM and RCPT TO (RFC 5321 4.1.2, RFC 6531).

:func:`parse_path_argument` turns ``b"FROM:<a@example.com> SIZE=10"`` into the path exactly as
given (``"a@example.com"``) and its ESMTP parameters, or raises :class:`PathError` carrying the
reply to send. Addresses are validated, never rewritten: case, quoting, source routes and
address literals are kept as the client sent them.
"""

from __future__ import annotations

import re

from .replies import REPLY, Reply

__all__ = ["SIMPLE_FROM", "SIMPLE_TO", "PathError", "parse_params", "parse_path_argument", "validate_path"]


class PathError(Exception):
    """The argument cannot be accepted; ``reply`` says why, on the wire."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(str(reply))
        self.reply = reply


_ATEXT = r"A-Za-z0-9!#$%&'*+\-/=?^_`{|}~"


def _mailbox_re(utf8: bool) -> re.Pattern[str]:
    def c(chars: str) -> str:
        # With utf8 every non-ASCII character joins the class. Written as an alternative with
        # [^\x00-\x7f]: a range up to U+10FFFF inside the class takes re ~0.2 s to compile.
        return rf"(?:[{chars}]|[^\x00-\x7f])" if utf8 else f"[{chars}]"

    atom = f"{c(_ATEXT)}+"
    dot_string = rf"{atom}(?:\.{atom})*"
    qtext = c(r"\x20\x21\x23-\x5b\x5d-\x7e")
    quoted = rf'"(?:{qtext}|\\[\x20-\x7e])*"'
    let_dig, ldh = c("A-Za-z0-9"), c(r"A-Za-z0-9\-")
    label = rf"{let_dig}(?:{ldh}*{let_dig})?"
    domain = rf"{label}(?:\.{label})*"
    literal = (
        r"\[(?:IPv6:[0-9A-Fa-f:.]+|[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
        r"|[A-Za-z0-9\-]*[A-Za-z0-9]:[\x21-\x5a\x5e-\x7e]+)\]"
    )
    route = rf"(?:@{domain}(?:,@{domain})*:)?"
    return re.compile(rf"{route}(?:{dot_string}|{quoted})@(?:{domain}|{literal})")


_MAILBOX_ASCII = _mailbox_re(utf8=False)
_MAILBOX_UTF8 = _mailbox_re(utf8=True)
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


# What nearly every client sends: ``FROM:<local@domain>`` with an ASCII dot-atom and a host
# name, no parameters. One match of these accepts it exactly as parse_path_argument followed by
# validate_path would (their results are equal: the tests compare them); anything else, valid
# or not, takes that longer way and gets its precise reply.
def _simple(keyword: str) -> re.Pattern[bytes]:
    atom = f"[{_ATEXT}]+"
    label = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    return re.compile(rf"(?i:{keyword}) *<({atom}(?:\.{atom})*@{label}(?:\.{label})*)>".encode())


SIMPLE_FROM = _simple("FROM:")
SIMPLE_TO = _simple("TO:")
_PARAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*(?:=[\x21-\x3c\x3e-\x7e]+)?")


def parse_path_argument(arg: bytes, keyword: bytes, syntax: Reply) -> tuple[bytes, list[str]]:
    """Split ``KEYWORD:<path> params`` into the raw path bytes and the parameter tokens.

    ``keyword`` is ``b"FROM:"`` or ``b"TO:"`` (matched without regard to case; spaces after the
    colon are tolerated). Angle brackets are required to balance; a bare path is accepted.
    """
    n = len(keyword)
    if arg[:n].upper() != keyword:
        raise PathError(syntax)
    rest = arg[n:].lstrip(b" ")
    if rest.startswith(b"<"):
        end = _closing_bracket(rest)
        if end < 0:
            raise PathError(syntax)
        path = rest[1:end]
        tail = rest[end + 1 :]
        if tail and not tail.startswith(b" "):
            raise PathError(syntax)
    else:
        path, _, tail = rest.partition(b" ")
        if not path or b">" in path or b"<" in path:
            raise PathError(syntax)
    return path, parse_params(tail)


def _closing_bracket(rest: bytes) -> int:
    """Index of the ``>`` that closes the path opened at ``rest[0]``, or -1."""
    if b'"' not in rest:  # no quoted local part (nearly always): the first ">" closes it
        end = rest.find(b">", 1)
        return -1 if end < 0 or rest.find(b"<", 1, end) >= 0 else end
    quoted = False
    i, n = 1, len(rest)
    while i < n:
        c = rest[i]
        if quoted:
            if c == 0x5C:  # backslash escapes the next octet
                i += 1
            elif c == 0x22:
                quoted = False
        elif c == 0x22:
            quoted = True
        elif c == 0x3E:
            return i
        elif c == 0x3C:
            return -1
        i += 1
    return -1


def parse_params(tail: bytes) -> list[str]:
    """ESMTP parameters as the tokens sent (``["SIZE=10", "SMTPUTF8"]``); 501 if malformed."""
    tokens = tail.split()
    if not tokens:
        return []
    try:
        params = [t.decode("ascii") for t in tokens]
    except UnicodeDecodeError:
        raise PathError(REPLY.BAD_PARAMETER_VALUE) from None
    for p in params:
        if not _PARAM.fullmatch(p):
            raise PathError(REPLY.BAD_PARAMETER_VALUE)
    return params


def validate_path(
    path: bytes, *, utf8: bool, bad: Reply, allow_empty: bool = False, allow_postmaster: bool = False
) -> str:
    """Check a path and return it decoded, exactly as given.

    Raises :class:`PathError` with ``bad`` for malformed paths, control characters and invalid
    UTF-8, and with ``553 5.6.7`` for a non-ASCII address without SMTPUTF8.
    """
    if not path:
        if allow_empty:
            return ""
        raise PathError(bad)
    if _CONTROL.search(path):
        raise PathError(bad)
    try:
        text = path.decode("utf-8")
    except UnicodeDecodeError:
        raise PathError(bad) from None
    ascii_only = text.isascii()
    if not ascii_only and not utf8:
        raise PathError(REPLY.NON_ASCII_ADDRESS)
    if allow_postmaster and text.lower() == "postmaster":
        return text
    pattern = _MAILBOX_ASCII if ascii_only else _MAILBOX_UTF8
    if not pattern.fullmatch(text):
        raise PathError(bad)
    return text
