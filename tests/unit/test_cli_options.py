"""The command line's TLS, AUTH and fault options, parsed without starting a server."""

from __future__ import annotations

import argparse

import pytest

from mocksmtp import ConfigError
from mocksmtp.cli_args import build_parser, options_of, parse_auth, parse_fault


def test_fault_option_parses_stage_code_and_percent() -> None:
    """--fault STAGE:CODE[:PERCENT] becomes (stage, code, probability)."""
    assert parse_fault("rcpt:451") == ("rcpt", 451, 1.0)
    assert parse_fault("MAIL:421:25") == ("mail", 421, 0.25)


@pytest.mark.parametrize(
    "value", ["rcpt", "rcpt:abc", "rcpt:451:0", "rcpt:451:101", "a:1:2:3", "bogus:451", "rcpt:250"]
)
def test_bad_fault_option_is_a_usage_error(value: str) -> None:
    """A malformed --fault value is rejected with an example of the right form."""
    with pytest.raises(argparse.ArgumentTypeError):
        parse_fault(value)


def test_auth_option_any_or_users() -> None:
    """--auth any, or repeated USER:PASSWORD (passwords may contain colons)."""
    assert parse_auth(["any"]) == "any"
    assert parse_auth(["alice:pw", "bob:a:b"]) == {"alice": "pw", "bob": "a:b"}
    with pytest.raises(ConfigError):
        parse_auth(["nopassword"])


def test_options_from_command_line() -> None:
    """The TLS, AUTH and limit flags turn into server options; absent ones are left out."""
    args = build_parser().parse_args(
        [
            "--tls",
            "starttls",
            "--require-tls",
            "--auth",
            "alice:pw",
            "--require-auth",
            "--max-recipients",
            "5",
            "--fault",
            "rcpt:451:50",
            "--fault",
            "connect:421",
        ]
    )
    assert options_of(args) == {
        "tls": "starttls",
        "require_tls": True,
        "auth": {"alice": "pw"},
        "require_auth": True,
        "max_recipients": 5,
    }
    assert args.fault == [("rcpt", 451, 0.5), ("connect", 421, 1.0)]
    assert options_of(build_parser().parse_args([])) == {}


def test_max_auth_failures_option() -> None:
    """--max-auth-failures N becomes the max_auth_failures option."""
    args = build_parser().parse_args(["--auth", "any", "--max-auth-failures", "5"])
    assert options_of(args) == {"auth": "any", "max_auth_failures": 5}


def test_max_pending_data_option() -> None:
    """--max-pending-data OCTETS becomes the max_pending_data option (0: no limit)."""
    assert options_of(build_parser().parse_args(["--max-pending-data", "0"])) == {"max_pending_data": 0}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str | None, str]:
    """main(argv): its exit status and what it wrote to stderr."""
    import io

    from mocksmtp.cli import main

    try:
        status: int | str | None = main(argv, out=io.StringIO())
    except SystemExit as e:
        status = e.code
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--auth", "auth=alice:s3cret"], "mocksmtp: error: --auth takes 'any' or USER:PASSWORD"),
        (["--auth", "alice"], "mocksmtp: error: --auth takes 'any' or USER:PASSWORD"),
        (["--fault", "rcpt"], "mocksmtp: error: argument --fault: expected STAGE:CODE[:PERCENT]"),
        (["--fault", "bogus:451"], "mocksmtp: error: argument --fault: STAGE must be one of connect, helo"),
        (["--port", "x"], "mocksmtp: error: argument --port: invalid int value: 'x'"),
        (["--idle-timeout", "0"], "mocksmtp: error: --idle-timeout must be a positive number"),
        (["--nope"], "mocksmtp: error: unrecognized arguments: --nope"),
    ],
)
def test_command_line_mistakes_are_one_line_naming_the_option(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad word on the command line is one line (no usage dump) naming the option and what to
    write, and exit status 2; a password is never echoed."""
    status, err = run(["--host", "127.0.0.1", "--port", "0", *argv], capsys)
    assert status == 2
    assert err.startswith(expected), err
    assert err.count("\n") == 1, err
    assert "usage:" not in err
    assert "s3cret" not in err


def test_a_message_line_reads_obsolete_header_syntax_and_escapes_control_characters() -> None:
    """The line printed per message has the subject as the parser reads it (``Subject :`` is a
    Subject) and no control character reaches the terminal."""
    from mocksmtp import Message
    from mocksmtp.cli import describe

    m = Message(
        id="X-1",
        raw=b"Subject   : Hello\x1b[31m\r\nTo: a@example.com\r\n\r\nbody\r\n",
        mail_from="app@example.com",
        rcpt_tos=("a@example.com",),
    )
    line = describe(m)
    assert '"Hello' in line
    assert "\x1b" not in line
    assert line.startswith("X-1  from <app@example.com>  to <a@example.com>  ")
