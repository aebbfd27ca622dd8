"""The ``mocksmtp`` command: serve SMTP, print each message as it arrives, and statistics."""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import logging
import queue
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from ._version import __version__
from .errors import ConfigError, ServerStartError
from .message import Message
from .server import MockSMTPServer

__all__ = ["main"]

_STOP = object()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mocksmtp",
        description="Run an SMTP server that captures mail instead of delivering it, and print "
                    "each message as it arrives. Ctrl+C (or SIGTERM) prints statistics and stops.",
    )
    parser.add_argument("--host", default="localhost",
                        help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=1025,
                        help="port to listen on, 0 for a free one (default: %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log the SMTP dialogue (passwords are never shown)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="do not print a line per message (statistics are still printed)")
    parser.add_argument("--stats-interval", type=float, default=60.0, metavar="S",
                        help="print statistics every S seconds, 0 to turn off (default: %(default)s)")
    limits = parser.add_argument_group("limits and policies")
    limits.add_argument("--hostname", help="name in the greeting and EHLO reply (default: localhost)")
    limits.add_argument("--max-message-size", type=int, metavar="OCTETS",
                        help="largest message accepted, advertised in SIZE; 0 for no limit (default: 32 MiB)")
    limits.add_argument("--max-recipients", type=int, metavar="N", help="recipients per message (default: 1000)")
    limits.add_argument("--max-connections", type=int, metavar="N",
                        help="simultaneous connections (default: 1000)")
    limits.add_argument("--idle-timeout", type=float, metavar="S",
                        help="seconds without a command before 421 and close (default: 300)")
    limits.add_argument("--strict", action="store_true", default=None,
                        help="reject bare CR/LF and lines over 1000 octets instead of flagging them")
    security = parser.add_argument_group("TLS, AUTH and injected faults")
    security.add_argument("--tls", choices=("starttls", "implicit"),
                          help="offer STARTTLS, or speak TLS from the first byte (needs certfile, "
                               "or pip install 'mocksmtp[tls]' for a throw-away certificate)")
    security.add_argument("--require-tls", action="store_true", default=None,
                          help="530 to everything but EHLO/NOOP/STARTTLS/QUIT before STARTTLS")
    security.add_argument("--certfile", metavar="PEM", help="certificate chain for --tls")
    security.add_argument("--keyfile", metavar="PEM", help="private key for --certfile")
    security.add_argument("--ca-file", metavar="PATH",
                          help="with --tls, write the certificate clients trust to verify the server "
                               "(the throw-away CA, or the certificates of --certfile) to PATH")
    security.add_argument("--auth", action="append", metavar="any|USER:PASSWORD",
                          help="offer AUTH: 'any' accepts any credentials; USER:PASSWORD "
                               "(repeatable) accepts those users only")
    security.add_argument("--require-auth", action="store_true", default=None,
                          help="530 to MAIL until the client has authenticated")
    security.add_argument("--max-auth-failures", type=int, metavar="N",
                          help="535s a connection may get; one more is followed by 421 and close; "
                               "0 for no limit (default: 3)")
    security.add_argument("--fault", action="append", default=[], metavar="STAGE:CODE[:PERCENT]",
                          type=parse_fault,
                          help="inject a fault at a stage (connect, helo, auth, mail, rcpt, data, "
                               "message) with a reply code, in PERCENT%% of commands (default 100); "
                               "repeatable")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                        help="event loop: uvloop is faster (pip install 'mocksmtp[uvloop]'); "
                             "auto (the default) uses it when it is installed")
    parser.add_argument("--uvloop", dest="loop", action="store_const", const="uvloop",
                        help="the same as --loop uvloop")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _options(args: argparse.Namespace) -> dict[str, Any]:
    names = ("hostname", "max_message_size", "max_recipients", "max_connections", "idle_timeout", "strict",
             "tls", "require_tls", "certfile", "keyfile", "require_auth", "max_auth_failures")
    options = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if args.auth:
        options["auth"] = parse_auth(args.auth)
    return options


def parse_auth(values: Sequence[str]) -> str | dict[str, str]:
    """``["any"]`` -> ``"any"``; ``["alice:pw", "bob:pw2"]`` -> a mapping of user to password."""
    if list(values) == ["any"]:
        return "any"
    users: dict[str, str] = {}
    for value in values:
        user, sep, password = value.partition(":")
        if not sep or not user:
            raise ConfigError(f"--auth takes 'any' or USER:PASSWORD, got {value.partition(':')[0]!r}...")
        users[user] = password
    return users


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
            f"expected STAGE:CODE[:PERCENT] such as rcpt:451 or mail:421:10, got {value!r}") from None
    if not 0 < percent <= 100:
        raise argparse.ArgumentTypeError(f"PERCENT must be in (0, 100], got {value!r}")
    return stage, code, percent / 100


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (0, or 2 for a usage or start error)."""
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.ca_file and not args.tls:
        parser.error("--ca-file needs --tls: without TLS there is no certificate to trust")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        logging.getLogger("mocksmtp").setLevel(logging.WARNING)
    loop = _choose_loop(parser, args.loop)
    logging.getLogger("mocksmtp").info("event loop: %s", loop)
    arrivals: queue.SimpleQueue[object] = queue.SimpleQueue()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        arrivals.put(_STOP)

    # Before the port opens: a Ctrl+C from then on is a clean stop, never a traceback.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server = MockSMTPServer(args.host, args.port, args.verbose, **_options(args))
        for stage, code, probability in args.fault:
            server.inject_fault(stage, code=code, probability=probability)
        server.start()
    except ConfigError as e:
        _restore(previous)
        parser.error(str(e))
    except ServerStartError as e:
        _restore(previous)
        print(f"mocksmtp: error: {e}", file=sys.stderr)
        return 2

    if args.ca_file:
        try:
            ca_file = Path(args.ca_file).resolve()
            ca_file.write_text(server.ca_pem, encoding="ascii")
        except OSError as e:
            server.stop()
            _restore(previous)
            print(f"mocksmtp: error: cannot write --ca-file {args.ca_file}: {e.strerror or e}", file=sys.stderr)
            return 2
        print(f"mocksmtp: wrote the CA certificate to {ca_file} (clients trust it to verify --tls)",
              file=out, flush=True)

    # Printing happens in this thread, not in the engine's.
    unsubscribe: Callable[[], None] = _nothing if args.quiet else server.store.subscribe(arrivals.put)
    started = time.monotonic()
    print(f"mocksmtp: listening on {server.host}:{server.port} (Ctrl+C to stop)", file=out, flush=True)
    try:
        interval = args.stats_interval if args.stats_interval > 0 else None
        next_stats = started + interval if interval else None
        while True:
            timeout = max(next_stats - time.monotonic(), 0.0) if next_stats else None
            try:
                item = arrivals.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is _STOP:
                break
            if isinstance(item, Message):
                print(describe(item), file=out, flush=True)
            if next_stats and interval and time.monotonic() >= next_stats:
                print(f"mocksmtp: {statistics(server, started)}", file=out, flush=True)
                next_stats += interval
    finally:
        unsubscribe()
        server.stop()
        _restore(previous)
    print(f"mocksmtp: stopped after {statistics(server, started)}", file=out, flush=True)
    return 0


def _choose_loop(parser: argparse.ArgumentParser, choice: str) -> str:
    """Make the server's loop (created with asyncio.new_event_loop()) uvloop's when asked, or
    for ``auto`` when it is installed; return the name of the loop that will serve."""
    if choice == "asyncio":
        return "asyncio"
    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        if choice == "auto":
            return "asyncio"
        parser.error("--loop uvloop needs uvloop, which is not installed: pip install 'mocksmtp[uvloop]'")
    import asyncio

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def _restore(handlers: dict[signal.Signals, Any]) -> None:
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def _nothing() -> None:
    pass


def statistics(server: MockSMTPServer, started: float) -> str:
    s = server.stats
    return (f"{time.monotonic() - started:.1f} s: {s.connections} connections, {s.messages} messages, "
            f"{s.bytes} bytes, {s.rejected_commands} rejected commands, {s.errors} errors")


_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.default)


def describe(message: Message) -> str:
    """One line for a message: id, sender, recipients, subject, size; control characters escaped."""
    try:
        subject = str(_HEADERS.parsebytes(message.raw).get("subject", ""))
    except Exception:  # a header we cannot decode must not stop the program
        subject = ""
    to = ", ".join(f"<{r}>" for r in message.rcpt_tos)
    line = f'{message.id}  from <{message.mail_from}>  to {to}  "{subject}"  {message.size} bytes'
    return "".join(c if c.isprintable() else "?" for c in line)
