"""The ``mocksmtp`` command's arguments: the parser, and what its values become (server
options, AUTH users, durations, faults). :mod:`mocksmtp.cli` runs the program."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import Any, NoReturn

from ._version import __version__
from .errors import ConfigError
from .smtp.faults import STAGES

__all__ = [
    "HTTP_PORT",
    "OPTION_NAMES",
    "Parser",
    "build_parser",
    "options_of",
    "parse_auth",
    "parse_duration",
    "parse_fault",
    "ui_users",
]

HTTP_PORT = 8025
"""The port ``mocksmtp`` serves HTTP on by default (Mailpit's)."""

# The server options the command line sets, by their Python names (--max-message-size is max_message_size).
OPTION_NAMES = (
    "hostname",
    "max_message_size",
    "max_pending_data",
    "max_recipients",
    "max_connections",
    "idle_timeout",
    "strict",
    "tls",
    "require_tls",
    "certfile",
    "keyfile",
    "require_auth",
    "max_auth_failures",
    "max_age",
    "database",
    "http_port",
    "http_host",
    "api_cors",
    "ui_auth",
)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage dump before them), status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="mocksmtp",
        description="Run an SMTP server that captures mail instead of delivering it, and print "
        "each message as it arrives. Ctrl+C (or SIGTERM) prints statistics and stops.",
        epilog="Two more commands move mail between a database and files: `mocksmtp export --database "
        "PATH --format eml|mbox|maildir DEST [--query Q]` and `mocksmtp import --database PATH "
        "SOURCE...` (see `mocksmtp export --help`, `mocksmtp import --help`).",
    )
    parser.add_argument("--host", default="localhost", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=1025, help="port to listen on, 0 for a free one (default: %(default)s)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log the SMTP dialogue (passwords are never shown)"
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="do not print a line per message or refusal (statistics are still printed)",
    )
    parser.add_argument(
        "--stats-interval",
        type=float,
        default=60.0,
        metavar="S",
        help="print statistics every S seconds, 0 to turn off (default: %(default)s)",
    )
    storage = parser.add_argument_group("keeping mail")
    storage.add_argument(
        "--database",
        metavar="PATH|URL",
        help="keep messages in this SQLite file, across restarts, or in the PostgreSQL database of a "
        "postgresql:// URL, which several mocksmtp nodes may share (default: in memory, gone when the program ends)",
    )
    storage.add_argument(
        "--max",
        dest="max_messages",
        type=int,
        metavar="N",
        help="keep at most N messages, deleting the oldest (default: no limit)",
    )
    storage.add_argument(
        "--max-age",
        type=parse_duration,
        metavar="AGE",
        help="delete messages older than AGE: seconds, or a number with s, m, h, d or w, as in 7d (default: no limit)",
    )
    web = parser.add_argument_group("web API (Mailpit's, with pip install 'mocksmtp[web]')")
    web.add_argument(
        "--http-port",
        type=int,
        metavar="N",
        help=f"serve HTTP on port N, 0 for a free one (default: {HTTP_PORT} when the web extra is installed)",
    )
    web.add_argument(
        "--http-host", metavar="HOST", help="address to serve HTTP on (default: 127.0.0.1, this machine only)"
    )
    web.add_argument("--no-http", action="store_true", help="serve no HTTP, only SMTP")
    web.add_argument(
        "--api-cors",
        metavar="ORIGIN",
        help="let web pages from ORIGIN (http://localhost:3000; comma-separated, or *) change things, with CORS",
    )
    web.add_argument(
        "--ui-auth",
        action="append",
        metavar="USER:PASSWORD",
        help="ask for this user and password (basic auth) on every route but /livez and /readyz; repeat for more",
    )
    web.add_argument("--ui-auth-file", metavar="PATH", help="the same, one USER:PASSWORD a line, from a file")
    limits = parser.add_argument_group("limits and policies")
    limits.add_argument("--hostname", help="name in the greeting and EHLO reply (default: localhost)")
    limits.add_argument(
        "--max-message-size",
        type=int,
        metavar="OCTETS",
        help="largest message accepted, advertised in SIZE; 0 for no limit (default: 32 MiB)",
    )
    limits.add_argument(
        "--max-pending-data",
        type=int,
        metavar="OCTETS",
        help="message data in flight across all sessions before a new DATA or BDAT gets "
        "452 4.3.1; 0 for no limit (default: 512 MiB)",
    )
    limits.add_argument("--max-recipients", type=int, metavar="N", help="recipients per message (default: 1000)")
    limits.add_argument("--max-connections", type=int, metavar="N", help="simultaneous connections (default: 1000)")
    limits.add_argument(
        "--idle-timeout", type=float, metavar="S", help="seconds without a command before 421 and close (default: 300)"
    )
    limits.add_argument(
        "--strict",
        action="store_true",
        default=None,
        help="reject bare CR/LF and lines over 1000 octets instead of flagging them",
    )
    security = parser.add_argument_group("TLS, AUTH and injected faults")
    security.add_argument(
        "--tls",
        choices=("starttls", "implicit"),
        help="offer STARTTLS, or speak TLS from the first byte (needs certfile, "
        "or pip install 'mocksmtp[tls]' for a throw-away certificate)",
    )
    security.add_argument(
        "--require-tls",
        action="store_true",
        default=None,
        help="530 to everything but EHLO/NOOP/STARTTLS/QUIT before STARTTLS",
    )
    security.add_argument("--certfile", metavar="PEM", help="certificate chain for --tls")
    security.add_argument("--keyfile", metavar="PEM", help="private key for --certfile")
    security.add_argument(
        "--ca-file",
        metavar="PATH",
        help="with --tls, write the certificate clients trust to verify the server "
        "(the throw-away CA, or the certificates of --certfile) to PATH",
    )
    security.add_argument(
        "--auth",
        action="append",
        metavar="any|USER:PASSWORD",
        help="offer AUTH: 'any' accepts any credentials; USER:PASSWORD (repeatable) accepts those users only",
    )
    security.add_argument(
        "--require-auth", action="store_true", default=None, help="530 to MAIL until the client has authenticated"
    )
    security.add_argument(
        "--max-auth-failures",
        type=int,
        metavar="N",
        help="535s a connection may get; one more is followed by 421 and close; 0 for no limit (default: 3)",
    )
    security.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="STAGE:CODE[:PERCENT]",
        type=parse_fault,
        help="inject a fault at a stage (connect, helo, auth, mail, rcpt, data, "
        "message) with a reply code, in PERCENT%% of commands (default 100); "
        "repeatable",
    )
    parser.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="event loop: uvloop is faster (pip install 'mocksmtp[uvloop]'); "
        "auto (the default) uses it when it is installed",
    )
    parser.add_argument("--uvloop", dest="loop", action="store_const", const="uvloop", help="the same as --loop uvloop")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def options_of(args: argparse.Namespace) -> dict[str, Any]:
    options = {name: getattr(args, name) for name in OPTION_NAMES if getattr(args, name) is not None}
    if args.auth:
        options["auth"] = parse_auth(args.auth)
    if args.ui_auth or args.ui_auth_file:
        options["ui_auth"] = ui_users(args.ui_auth or [], args.ui_auth_file)
    return options


def ui_users(values: Sequence[str], path: str | None) -> dict[str, str]:
    """The users of ``--ui-auth USER:PASSWORD`` (each) and ``--ui-auth-file PATH`` (one a line;
    blank lines and ``#`` comments skipped), by name."""
    lines = [("--ui-auth", value) for value in values]
    if path is not None:
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"--ui-auth-file: cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
        found = [line.strip() for line in text.splitlines()]
        lines += [
            (f"--ui-auth-file {path} line {n}", line) for n, line in enumerate(found, 1) if line[:1] not in ("", "#")
        ]
    users: dict[str, str] = {}
    for where, line in lines:
        user, sep, password = line.partition(":")
        if not (user and sep and password):  # the password is never echoed
            raise ConfigError(f"{where} takes USER:PASSWORD, as in ann:s3cret; got {user!r}{'...' if sep else ''}")
        users[user] = password
    if not users:
        raise ConfigError(f"--ui-auth-file {path} names no user: write USER:PASSWORD lines")
    return users


def parse_auth(values: Sequence[str]) -> str | dict[str, str]:
    """``["any"]`` -> ``"any"``; ``["alice:pw", "bob:pw2"]`` -> a mapping of user to password."""
    if list(values) == ["any"]:
        return "any"
    users: dict[str, str] = {}
    for value in values:
        user, sep, password = value.partition(":")
        if not sep or not user or "=" in user:  # the password is never echoed
            raise ConfigError(
                f"--auth takes 'any' or USER:PASSWORD (repeat it for more users), as in "
                f"--auth alice:secret; got {user!r}{'...' if sep else ''}"
            )
        users[user] = password
    return users


_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?) ?(s|m|h|d|w)?", re.IGNORECASE)
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: str) -> float:
    """``"90"`` -> 90.0, ``"15m"`` -> 900.0, ``"7d"`` -> 604800.0 (seconds)."""
    m = _DURATION.fullmatch(value.strip())
    if m is None or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a duration above 0: seconds, or a number with s, m, h, d or w (30m, 7d), got {value!r}"
        )
    return float(m.group(1)) * _SECONDS[(m.group(2) or "").lower()]


def parse_fault(value: str) -> tuple[str, int, float]:
    """``"rcpt:451:25"`` -> ``("rcpt", 451, 0.25)``: stage, reply code and probability."""
    parts = value.split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        stage, code = parts[0].lower(), int(parts[1])
        percent = float(parts[2]) if len(parts) == 3 else 100.0
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected STAGE:CODE[:PERCENT] such as rcpt:451 or mail:421:10, got {value!r}"
        ) from None
    if stage not in STAGES:
        raise argparse.ArgumentTypeError(f"STAGE must be one of {', '.join(STAGES)}, got {value!r}")
    if not 400 <= code <= 599:
        raise argparse.ArgumentTypeError(f"CODE must be a 4xx or 5xx reply code such as 451, got {value!r}")
    if not 0 < percent <= 100:
        raise argparse.ArgumentTypeError(f"PERCENT must be in (0, 100], got {value!r}")
    return stage, code, percent / 100
