"""``mocksmtp export`` and ``mocksmtp import``: move mail between a SQLite database and
``.eml`` files, mbox files and Maildirs (see :mod:`mocksmtp.store.transfer`).

One summary line on stdout; a progress bar on stderr when it is a terminal; one-line errors,
status 2 for a mistake in the command, 1 when the work failed, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .cli_args import Parser
from .errors import ConfigError, QuerySyntaxError, StoreError, TransferError

if TYPE_CHECKING:
    from .store import MessageStore

__all__ = ["COMMANDS", "ProgressBar", "run"]

COMMANDS = ("export", "import")


class ProgressBar:
    """Draws ``exporting [#####.....] 1,234/10,000  12%  3,456 msg/s`` in place on a terminal,
    at most every ``interval`` seconds (and at the start and the end); :meth:`clear` erases it.

    Used as the ``progress`` callback of :func:`~mocksmtp.store.transfer.export_messages`.
    """

    WIDTH = 24

    def __init__(
        self, verb: str, stream: TextIO, *, interval: float = 0.1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.verb = verb
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self.started = self.last = clock()
        self.drawn = False
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        self.done = done
        now = self.clock()
        if self.drawn and done < total and now - self.last < self.interval:
            return
        self.last = now
        self.stream.write("\r" + self.line(done, total, now - self.started) + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def line(self, done: int, total: int, elapsed: float) -> str:
        """The text of the bar after ``done`` of ``total`` messages in ``elapsed`` seconds."""
        share = done / total if total else 1.0
        filled = round(share * self.WIDTH)
        rate = f"  {done / elapsed:,.0f} msg/s" if elapsed > 0 and done else ""
        return f"{self.verb} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done:,}/{total:,}  {share:4.0%}{rate}"

    def clear(self) -> None:
        """Erase the bar (its line is left empty for what is printed next)."""
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


def build_parser(command: str) -> argparse.ArgumentParser:
    if command == "export":
        parser = Parser(
            prog="mocksmtp export",
            description="Write the messages of a mocksmtp database to .eml files in a folder, "
            "an mbox file or a Maildir, byte for byte, oldest first.",
        )
        parser.add_argument(
            "--database",
            metavar="PATH|URL",
            required=True,
            help="the SQLite file (or postgresql:// URL) `mocksmtp --database` kept mail in",
        )
        parser.add_argument(
            "--format",
            choices=("eml", "mbox", "maildir"),
            default="eml",
            help="one .eml file per message in DEST (the default), the mbox file DEST, or the Maildir DEST",
        )
        parser.add_argument(
            "--query",
            metavar="Q",
            help="only the messages matching this search, as in 'to:ann@example.com after:2026-01-01' (docs/search.md)",
        )
        parser.add_argument("dest", metavar="DEST", help="where to write (made if missing)")
    else:
        parser = Parser(
            prog="mocksmtp import",
            description="Add messages to a mocksmtp database (made if missing): each SOURCE "
            "is an mbox file, a Maildir, a folder searched for .eml files, or "
            "one message file.",
        )
        parser.add_argument(
            "--database",
            metavar="PATH|URL",
            required=True,
            help="the SQLite file (or postgresql:// URL) to add the messages to",
        )
        parser.add_argument("sources", metavar="SOURCE", nargs="+", help="files and folders to import")
    return parser


def run(argv: Sequence[str], *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run ``mocksmtp export ...`` or ``mocksmtp import ...`` (``argv[0]`` is the command);
    return the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    command, *rest = argv
    parser = build_parser(command)
    args = parser.parse_args(rest)
    prog = parser.prog

    def fail(status: int, text: str) -> int:
        if bar:
            bar.clear()
        print(f"{prog}: error: {text}", file=err, flush=True)
        return status

    bar = ProgressBar("exporting" if command == "export" else "importing", err) if _is_tty(err) else None
    from .store.urls import is_url, redact

    shared = is_url(args.database)  # a PostgreSQL database rather than a SQLite file
    database = redact(args.database) if shared else Path(args.database)
    if command == "export" and not shared and not Path(database).is_file():
        return fail(1, f"there is no database at {database}: give the file `mocksmtp --database` kept mail in")
    from .store.transfer import export_messages, import_messages

    store: MessageStore | None = None
    try:
        if shared:
            from .store.postgres import PostgresStore

            store = PostgresStore(args.database)
        else:
            from .store.sqlite import SQLiteStore

            store = SQLiteStore(database)
        if command == "export":
            count = export_messages(store, args.dest, format=args.format, query=args.query, progress=bar)
            summary = f"exported {_messages(count)} to {args.dest}"
        else:
            count = import_messages(store, args.sources, progress=bar)
            summary = f"imported {_messages(count)} into {database}"
    except (ConfigError, QuerySyntaxError) as e:
        return fail(2, str(e))
    except (TransferError, StoreError) as e:
        return fail(1, str(e))
    except OSError as e:
        return fail(1, f"{e.filename or database}: {e.strerror or e}")
    except KeyboardInterrupt:
        done = f" after {_messages(bar.done)}" if bar else ""
        return fail(1, f"interrupted{done}" + (" (those stay imported)" if command == "import" and done else ""))
    finally:
        if store is not None:
            store.close()
    if bar:
        bar.clear()
    print(summary, file=out, flush=True)
    return 0


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _messages(n: int) -> str:
    return f"{n:,} message" if n == 1 else f"{n:,} messages"
