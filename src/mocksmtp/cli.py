"""The ``mocksmtp`` command: serve SMTP, print each message as it arrives, and statistics."""

from __future__ import annotations

import argparse
import contextlib
import logging
import queue
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from .cli_args import HTTP_PORT, OPTION_NAMES, build_parser, options_of
from .errors import ConfigError, ServerStartError, StoreError
from .message import Message
from .server import MockSMTPServer
from .smtp.replies import REPLY
from .store import MessageAdded
from .store.urls import is_url, redact

if TYPE_CHECKING:
    from .config import SMTPOptions

__all__ = ["main"]

_STOP = object()
# The longest the main thread blocks on its queue at once. CPython runs a Python signal handler
# only between bytecodes: a Ctrl+C that lands after the thread released the GIL but before its
# wait began interrupts nothing, and an unbounded wait would never see it (a CI run hung so).
_SIGNAL_CHECK = 0.5


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (0, or 2 for a usage or start error).
    ``mocksmtp export ...`` and ``mocksmtp import ...`` run :mod:`mocksmtp.cli_transfer`.

    The first Ctrl+C (or SIGTERM) stops gracefully: sessions in DATA may finish, and what they
    deliver is still printed. A second one drops every connection and stops at once.
    """
    out = out or sys.stdout
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] in (["export"], ["import"]):  # mocksmtp export ... / mocksmtp import ...
        from .cli_transfer import run

        return run(words, out=out)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.ca_file and not args.tls:
        parser.error("--ca-file needs --tls: without TLS there is no certificate to trust")
    loop = _choose_loop(parser, args.loop)
    arrivals: queue.SimpleQueue[object] = queue.SimpleQueue()
    signals: list[int] = []
    running: list[MockSMTPServer] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        signals.append(signum)
        if len(signals) == 1:
            arrivals.put(_STOP)
        elif running:  # again: stop at once (takes no lock; stop() may be running)
            running[0]._drop_sessions()

    # Before the port opens: a Ctrl+C from then on is a clean stop, never a traceback.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        options = options_of(args)
        http_port, http_note = _http(args)
        if http_port is not None:
            options["http_port"] = http_port
            options["http_host"] = args.http_host or "127.0.0.1"
        server = MockSMTPServer(args.host, args.port, args.verbose, max_messages=args.max_messages, **options)
        for stage, code, probability in args.fault:
            server.inject_fault(stage, code=code, probability=probability, node_only=True)  # this node's setting
    except ConfigError as e:
        _restore(previous)
        return _config_error(parser, e)
    except StoreError as e:
        _restore(previous)
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 2
    with _logging(server.options, verbose=args.verbose, quiet=args.quiet, show=arrivals.put):
        logging.getLogger("mocksmtp").info("event loop: %s", loop)
        try:
            server.start()
        except ServerStartError as e:
            _restore(previous)
            print(f"mocksmtp: error: {e}", file=sys.stderr)
            return 2
        if args.ca_file and not _write_ca_file(server, args.ca_file, out):
            server.stop()
            _restore(previous)
            return 2
        running.append(server)
        # Messages are printed in this thread, not in the engine's, until after the stop.
        unsubscribe = (
            _nothing
            if args.quiet
            else server.store.subscribe(
                lambda event: arrivals.put(event.message) if isinstance(event, MessageAdded) else None
            )
        )
        try:
            _serve(server, args, arrivals, out, http_note)
        finally:
            _stop(server, arrivals, out, unsubscribe)
            _restore(previous)
    stats = statistics(server, server_started(server))
    how = "stopped at once (second Ctrl+C)" if len(signals) > 1 else "stopped"
    print(f"mocksmtp: {how} after {stats}", file=out, flush=True)
    server.store.close()
    return 0


def _write_ca_file(server: MockSMTPServer, path: str, out: TextIO) -> bool:
    """Write the CA that clients trust to ``path`` and say where; a one-line error if it cannot."""
    try:
        ca_file = Path(path).resolve()
        ca_file.write_text(server.ca_pem, encoding="ascii")
    except OSError as e:
        print(f"mocksmtp: error: cannot write --ca-file {path}: {e.strerror or e}", file=sys.stderr)
        return False
    print(f"mocksmtp: wrote the CA certificate to {ca_file} (clients trust it to verify --tls)", file=out, flush=True)
    return True


def server_started(server: MockSMTPServer) -> float:
    """When ``server`` started, on the ``time.monotonic`` clock."""
    return server._started_monotonic


def _http(args: argparse.Namespace) -> tuple[int | None, str]:
    """The HTTP port to serve (``None``: none), and a line to print when it is not served
    for want of the web extra. Asked for explicitly without the extra: a ConfigError."""
    from .http import INSTALL, available

    if args.no_http:
        if args.http_port is not None or args.http_host is not None:
            raise ConfigError("--no-http cannot go with --http-port or --http-host; give one or the other")
        return None, ""
    if args.http_port is None and args.http_host is None and not available():
        return None, f"mocksmtp: no web UI or API (Mailpit's, on port {HTTP_PORT}): {INSTALL} to serve them"
    return (HTTP_PORT if args.http_port is None else args.http_port), ""


def _serve(
    server: MockSMTPServer,
    args: argparse.Namespace,
    arrivals: queue.SimpleQueue[object],
    out: TextIO,
    http_note: str = "",
) -> None:
    """Print what arrives (in this thread, not the engine's) until a stop is requested."""
    started = server_started(server)
    print(f"mocksmtp: listening on {server.host}:{server.port} (Ctrl+C to stop)", file=out, flush=True)
    if server.http_url:
        print(f"mocksmtp: web UI and API on {server.http_url}", file=out, flush=True)
    elif http_note:
        print(http_note, file=out, flush=True)
    if args.database:
        kept = server.store.count()
        where = redact(args.database) if is_url(args.database) else Path(args.database).resolve()
        print(
            f"mocksmtp: keeping mail in {where} ({_count(kept, 'message')} there already)",
            file=out,
            flush=True,
        )
    interval = args.stats_interval if args.stats_interval > 0 else None
    next_stats = started + interval if interval else None
    while True:
        timeout = min(max(next_stats - time.monotonic(), 0.0), _SIGNAL_CHECK) if next_stats else _SIGNAL_CHECK
        try:
            item = arrivals.get(timeout=timeout)
        except queue.Empty:
            item = None
        if item is _STOP:
            return
        _show(item, out)
        if next_stats and interval and time.monotonic() >= next_stats:
            print(f"mocksmtp: statistics after {statistics(server, started)}", file=out, flush=True)
            next_stats += interval


def _stop(
    server: MockSMTPServer, arrivals: queue.SimpleQueue[object], out: TextIO, unsubscribe: Callable[[], None]
) -> None:
    """Stop gracefully, then print what arrived meanwhile (a message finished while stopping)."""
    print("mocksmtp: stopping; sessions in DATA may finish (Ctrl+C again to stop at once)", file=out, flush=True)
    try:
        server.stop()
    finally:
        unsubscribe()
        while True:
            try:
                item = arrivals.get_nowait()
            except queue.Empty:
                break
            _show(item, out)


def _show(item: object, out: TextIO) -> None:
    if isinstance(item, Message):
        print(describe(item), file=out, flush=True)
    elif isinstance(item, str):
        print(item, file=out, flush=True)


def _config_error(parser: argparse.ArgumentParser, error: ConfigError) -> int:
    """One line naming the command-line option (``--max-recipients``, not ``max_recipients``)."""
    names = "|".join(sorted(OPTION_NAMES, key=len, reverse=True))
    text = re.sub(rf"\b({names})\b", lambda m: "--" + m.group(1).replace("_", "-"), str(error))
    text = re.sub(r"\bmax_messages\b", "--max", text)
    print(f"{parser.prog}: error: {text}", file=sys.stderr)
    return 2


@contextlib.contextmanager
def _logging(options: SMTPOptions, *, verbose: bool, quiet: bool, show: Callable[[str], None]) -> Iterator[None]:
    """Log mocksmtp (only) to stderr, at DEBUG with ``verbose``; refusals and injected faults
    become lines on stdout (through ``show``) unless ``quiet``. Nothing printed on stdout is
    logged again, and other libraries' debug output (asyncio's) stays off. Restored on exit."""
    package = logging.getLogger("mocksmtp")
    refusals = logging.getLogger("mocksmtp.smtp.refusals")
    saved = package.level, package.propagate, refusals.level, refusals.propagate
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    stderr.addFilter(lambda record: not _on_stdout(record, quiet))
    events = _EventHandler(options, show)
    package.addHandler(stderr)
    package.setLevel(logging.DEBUG if verbose else logging.WARNING)
    package.propagate = False
    if not quiet:
        refusals.addHandler(events)
        refusals.setLevel(logging.INFO)
        refusals.propagate = False
    try:
        yield
    finally:
        package.removeHandler(stderr)
        refusals.removeHandler(events)
        package.setLevel(saved[0])
        refusals.setLevel(saved[2])
        package.propagate, refusals.propagate = saved[1], saved[3]


# The engine's own lines for news that stdout shows (a message, a refusal at connect or idle).
_SHOWN = ("message %s from", "refusing %s: %d connections", "%s too slow in DATA", "%s idle for %ss")


def _on_stdout(record: logging.LogRecord, quiet: bool) -> bool:
    """Whether the command line prints this record's news on stdout already."""
    if getattr(record, "mocksmtp_event", None) in ("listening", "stopped"):
        return True
    return (
        not quiet and record.name == "mocksmtp.smtp" and isinstance(record.msg, str) and record.msg.startswith(_SHOWN)
    )


class _EventHandler(logging.Handler):
    """Turns the engine's refusal and fault records into lines for stdout."""

    def __init__(self, options: SMTPOptions, show: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.options = options
        self.show = show

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = describe_event(record, self.options)
        except Exception:
            self.handleError(record)
            return
        if line is not None:
            self.show(_printable(line))


# Which option a refusal comes from, named in its line.
_LIMITS = {
    REPLY.MESSAGE_TOO_BIG: "max_message_size",
    REPLY.INSUFFICIENT_STORAGE: "max_pending_data",
    REPLY.TOO_MANY_AUTH_FAILURES: "max_auth_failures",
    REPLY.TOO_MANY_RECIPIENTS: "max_recipients",
    REPLY.TOO_MANY_CONNECTIONS: "max_connections",
    REPLY.TOO_MANY_ERRORS: "max_bad_commands",
    REPLY.LINE_TOO_LONG: "max_command_length",
    REPLY.IDLE_TIMEOUT: "idle_timeout",
    REPLY.DATA_TOO_SLOW: "min_data_rate",
    REPLY.DATA_LINE_TOO_LONG: "strict",
    REPLY.BARE_LINE_ENDING: "strict",
}


def describe_event(record: logging.LogRecord, options: SMTPOptions) -> str | None:
    """A line for a refusal or an injected fault logged by the engine, else ``None``:
    ``refused <app@x> -> <a@x>: 552 5.3.4 Message size exceeds fixed limit (max_message_size 1048576)``,
    ``injected fault rcpt 451 for <a@x>``."""
    fault = getattr(record, "smtp_fault", None)
    if fault is not None:
        subjects: tuple[str, ...] = getattr(record, "smtp_subjects", ())
        what = "disconnect" if fault.disconnect else str(fault.reply.code) if fault.reply else "delay"
        if fault.delay:
            what += f" after {fault.delay:g} s" if what != "delay" else f" {fault.delay:g} s"
        return f"injected fault {fault.stage} {what}{_subjects(fault.stage, subjects)}"
    reply = getattr(record, "smtp_reply", None)
    if reply is None:
        return None
    mail_from = getattr(record, "smtp_mail_from", None)
    if mail_from is not None:
        rcpts: tuple[str, ...] = getattr(record, "smtp_rcpt_tos", ())
        who = f"<{mail_from}>" + (" -> " + ", ".join(f"<{r}>" for r in rcpts) if rcpts else "")
    else:
        who = str(getattr(record, "smtp_peer", "?"))
    limit = _LIMITS.get(reply)
    if limit == "strict":
        why = " (strict)"
    elif limit is not None:
        why = f" ({limit} {getattr(options, limit)})"
    else:
        why = ""
    return f"refused {who}: {reply}{why}"


def _subjects(stage: str, subjects: tuple[str, ...]) -> str:
    if not subjects:
        return ""
    if stage == "connect":
        return f" for [{subjects[0]}]"
    if stage in ("helo", "auth"):
        return f" for {subjects[0]}"
    if stage in ("data", "message"):
        sender, *rcpts = subjects
        return f" for <{sender}> -> " + ", ".join(f"<{r}>" for r in rcpts)
    return f" for <{subjects[0]}>"


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
    """``12.0 s: 1 connection, 2 messages, 512 bytes, 0 rejected commands, 0 errors``."""
    s = server.stats
    pruned = f", {server.pruned} pruned by retention" if server.retention else ""
    return (
        f"{time.monotonic() - started:.1f} s: {_count(s.connections, 'connection')}, "
        f"{_count(s.messages, 'message')}, {_count(s.bytes, 'byte')}, "
        f"{_count(s.rejected_commands, 'rejected command')}, {_count(s.errors, 'error')}{pruned}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _printable(line: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in line)


def describe(message: Message) -> str:
    """One line for a message: id, sender, recipients, subject, size; control characters escaped."""
    subject = message.subject  # the header block only, never the body; never raises
    to = ", ".join(f"<{r}>" for r in message.rcpt_tos)
    line = f'{message.id}  from <{message.mail_from}>  to {to}  "{subject}"  {_count(message.size, "byte")}'
    return _printable(line)
