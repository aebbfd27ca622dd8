"""Export a store's messages to ``.eml`` files, an mbox or a Maildir, and import them back, byte
for byte, through the :class:`~mocksmtp.store.MessageStore` protocol alone (any store works).

>>> import tempfile, os
>>> from mocksmtp import MemoryStore, Message
>>> store, again = MemoryStore(), MemoryStore()
>>> store.add(Message(id=store.new_id(), raw=b"Subject: hi\\r\\n\\r\\nFrom here\\r\\n", mail_from="a@b",
...                   rcpt_tos=["c@d", "e@f"]))
>>> path = os.path.join(tempfile.mkdtemp(), "mail.mbox")
>>> export_messages(store, path, format="mbox"), import_messages(again, [path])
(1, 1)
>>> m = again.messages()[0]; m.raw, m.mail_from, m.rcpt_tos, m.peer
(b'Subject: hi\\r\\n\\r\\nFrom here\\r\\n', 'a@b', ('c@d', 'e@f'), ('imported', 0))

A file keeps the raw bytes only, and an mbox ``From`` line the sender and the arrival time, so
each export also writes the envelope (sender, recipients, ESMTP parameters, HELO, TLS, AUTH
user, arrival time, read flag and tags) as JSON lines beside the mail, keyed by the SHA-256 of
each message's bytes: ``DEST/mocksmtp-envelopes.jsonl`` for ``.eml`` files and Maildir,
``DEST.mocksmtp-envelopes.jsonl`` for an mbox. Import uses a record when a message's bytes
match one, and otherwise reads the envelope from the mail itself (see ``docs/storage.md``).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal, Union, get_args

from ..errors import ConfigError, TransferError
from ..message import Message
from .mailfiles import (
    EnvelopeIndex,
    envelope_from_headers,
    envelope_record,
    from_line,
    line_number,
    looks_like_mail,
    maildir_name,
    maildir_read_flag,
    mbox_quote,
    mbox_unquote,
    modified,
    parse_from_line,
    read_file,
    scan_mbox,
)

if TYPE_CHECKING:
    from ..query import Query
    from .base import MessageStore

__all__ = ["ENVELOPES", "IMPORTED_PEER", "Format", "Progress", "export_messages", "import_messages"]

Format = Literal["eml", "mbox", "maildir"]
FORMATS: tuple[str, ...] = get_args(Format)
Progress = Callable[[int, int], object]
"""Called as ``progress(done, total)``: once before the first message, then after each."""
PathLike = Union[str, "os.PathLike[str]"]
ENVELOPES = "mocksmtp-envelopes.jsonl"
IMPORTED_PEER = ("imported", 0)
"""The ``peer`` of every imported message: no client sent it to this server."""
_PAGE = 500


def _path(value: object, what: str) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise ConfigError(f"{what} must be the path of a file or folder, got {value!r}")
    return Path(os.fspath(value))


def _fail(path: Path, what: str, error: OSError | None = None) -> TransferError:
    detail = f": {error.strerror or error}" if error is not None else ""
    return TransferError(f"{path}{detail}: {what}" if detail else f"{path}: {what}", path=str(path))


# -- export ------------------------------------------------------------------------------------


def export_messages(
    store: MessageStore,
    dest: PathLike,
    *,
    format: Format = "eml",
    query: str | Query | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the messages of ``store`` (those matching ``query``, a search in
    :mod:`mocksmtp.query`'s language) to ``dest``, oldest first; return how many.

    ``format="eml"``: one ``<id>.eml`` file per message in the folder ``dest`` (made if
    missing). ``"mbox"``: the mboxrd file ``dest``, appended to when it is an mbox already.
    ``"maildir"``: the Maildir ``dest`` (``new/`` for unread messages, ``cur/...:2,S`` for read
    ones). Each file holds the raw bytes exactly, with the arrival time as its modification
    time. Raises :class:`~mocksmtp.ConfigError` for a bad argument and
    :class:`~mocksmtp.TransferError` when ``dest`` cannot be written. Pages of 500 are read
    from the store; messages deleted meanwhile may shift a page (mail added meanwhile is
    exported too, up to the last page).
    """
    if format not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(map(repr, FORMATS))}, got {format!r}")
    target = _path(dest, "dest")
    parsed = _query(query)
    total = store.count(parsed)
    writer = _MboxWriter(target) if format == "mbox" else _FolderWriter(target, maildir=format == "maildir")
    done = 0
    if progress:
        progress(0, total)
    with writer:
        while True:
            page = store.messages(parsed, offset=done, limit=_PAGE)
            for message in page:
                state = store.state(message.id)
                writer.write(message, read=bool(state and state.read), tags=state.tags if state else ())
                done += 1
                if progress:
                    progress(done, max(total, done))
            if len(page) < _PAGE:
                return done


def _query(query: object) -> Query | None:
    from ..query import Query, parse_query

    if query is None or isinstance(query, Query):
        return query
    if isinstance(query, str):
        return parse_query(query)
    raise ConfigError(f"query must be a search such as 'to:ann@example.com', got {query!r}")


class _Writer:
    """Writes messages and their envelope records; a context manager that closes both."""

    def __init__(self, target: Path, envelopes: Path) -> None:
        self.target = target
        self.envelopes_path = envelopes
        self.envelopes: IO[bytes] | None = None

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.close()
        except OSError as e:
            raise _fail(self.target, "could not finish writing: check the disk", e) from e

    def close(self) -> None:
        if self.envelopes is not None:
            self.envelopes.close()

    def write(self, message: Message, *, read: bool, tags: Sequence[str]) -> None:
        try:
            self._write(message, read)
            if self.envelopes is None:
                self.envelopes = open(self.envelopes_path, "ab")  # noqa: SIM115 (closed by close())
            self.envelopes.write(envelope_record(message, read=read, tags=tags))
        except OSError as e:
            raise _fail(
                Path(getattr(e, "filename", None) or self.target),
                "cannot write there: check the path and its permissions",
                e,
            ) from e

    def _write(self, message: Message, read: bool) -> None:
        raise NotImplementedError


class _FolderWriter(_Writer):
    """``.eml`` files, or a Maildir: each message written to a temporary name, then renamed."""

    def __init__(self, target: Path, *, maildir: bool) -> None:
        super().__init__(target, target / ENVELOPES)
        self.maildir = maildir
        if target.exists() and not target.is_dir():
            what = "a Maildir is a folder" if maildir else "--format eml writes one file per message into a folder"
            raise _fail(target, f"it is a file, and {what}: give the path of a folder")
        try:
            for sub in ("tmp", "new", "cur") if maildir else ("",):
                (target / sub).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _fail(target, "cannot make the folder: check the path and its permissions", e) from e

    def _write(self, message: Message, read: bool) -> None:
        received = message.received_at.timestamp()
        safe_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in message.id)
        if self.maildir:
            name = maildir_name(received, safe_id)
            temporary = self.target / "tmp" / name
            final = self.target / "cur" / f"{name}:2,S" if read else self.target / "new" / name
        else:
            final = self.target / f"{safe_id}.eml"
            temporary = self.target / f".{safe_id}.eml.tmp"
        with open(temporary, "wb") as f:
            f.write(message.raw)
        os.utime(temporary, (received, received))
        os.replace(temporary, final)


class _MboxWriter(_Writer):
    """An mboxrd file (see :mod:`~mocksmtp.store.mailfiles`), appended to."""

    def __init__(self, target: Path) -> None:
        super().__init__(target, target.with_name(f"{target.name}.{ENVELOPES}"))
        if target.is_dir():
            raise _fail(
                target,
                "it is a folder, and an mbox is one file: give the path of a file, such "
                "as mail.mbox (or use --format eml or maildir for a folder)",
            )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.file: IO[bytes] = open(target, "ab+")  # noqa: SIM115 (closed by close())
            self.file.seek(0)
            head = self.file.read(5)
            self.file.seek(0, os.SEEK_END)
        except OSError as e:
            raise _fail(target, "cannot write there: check the path and its permissions", e) from e
        if head and head != b"From ":
            self.file.close()
            raise _fail(target, "it exists and is not an mbox: give a new file, or an mbox to add to")
        if head:
            self.file.seek(-1, os.SEEK_END)
            if self.file.read(1) != b"\n":  # its last message lacks the line ending after it
                self.file.write(b"\n")

    def close(self) -> None:
        self.file.close()
        super().close()

    def _write(self, message: Message, read: bool) -> None:
        self.file.write(from_line(message.mail_from, message.received_at.timestamp()) + mbox_quote(message.raw) + b"\n")


# -- import ------------------------------------------------------------------------------------


class _Item:
    """A message to import: where its bytes are, and what its file says about it."""

    __slots__ = ("load", "mail_from", "read", "received", "where")

    def __init__(
        self,
        load: Callable[[], bytes],
        where: str,
        *,
        mail_from: str | None = None,
        received: float | None = None,
        read: bool | None = None,
    ) -> None:
        self.load = load
        self.where = where
        self.mail_from = mail_from
        self.received = received
        self.read = read


def import_messages(
    store: MessageStore, sources: PathLike | Iterable[PathLike], *, progress: Progress | None = None
) -> int:
    """Add every message in ``sources`` (a path, or several) to ``store`` through
    ``store.add`` (so events fire and waits wake), with new ids; return how many.

    A file starting with ``From `` (and not named ``*.eml``) is an mbox; a folder with ``cur``
    or ``new`` is a Maildir; other folders are searched (with their subfolders) for ``.eml``
    files; other files are one message each. Every source is read and checked before the
    first message is added, so a missing file, a file that is not mail or a damaged mbox
    raises :class:`~mocksmtp.TransferError` (naming it) with nothing imported. Imported
    messages have the peer ``("imported", 0)``; their envelope is described in
    ``docs/storage.md``.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    paths = [_path(source, "each source") for source in sources]
    if not paths:
        raise ConfigError("give at least one file or folder to import (.eml files, an mbox or a Maildir)")
    envelopes = EnvelopeIndex()
    with contextlib.ExitStack() as stack:
        items = [item for path in paths for item in _plan(path, envelopes, stack)]
        total = len(items)
        if progress:
            progress(0, total)
        read: list[str] = []
        tagged: dict[tuple[str, ...], list[str]] = {}
        for done, item in enumerate(items, 1):
            raw = item.load()
            envelope = envelopes.take(raw) or envelope_from_headers(
                raw, mail_from=item.mail_from, received=item.received
            )
            received = envelope.received if envelope.received is not None else time.time()
            message = Message(
                id=store.new_id(),
                raw=raw,
                mail_from=envelope.mail_from,
                rcpt_tos=envelope.rcpt_tos,
                mail_options=envelope.mail_options,
                peer=IMPORTED_PEER,
                helo=envelope.helo,
                tls=envelope.tls,
                auth_user=envelope.auth_user,
                received_at=datetime.fromtimestamp(received, timezone.utc),
            )
            store.add(message)
            if item.read if item.read is not None else envelope.read:
                read.append(message.id)
            if envelope.tags:
                tagged.setdefault(envelope.tags, []).append(message.id)
            if progress:
                progress(done, total)
    if read:
        store.mark_read(read)
    for tags, ids in tagged.items():
        store.set_tags(ids, tags)
    return total


def _plan(path: Path, envelopes: EnvelopeIndex, stack: contextlib.ExitStack) -> list[_Item]:
    """The messages of one source, each checked, and its envelope records loaded."""
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            return _plan_maildir(path, envelopes)
        return _plan_folder(path, envelopes)
    if not path.exists():
        raise _fail(path, "no such file or folder: give .eml files, an mbox or a Maildir folder")
    try:
        with open(path, "rb") as f:
            head = f.read(5)
    except OSError as e:
        raise _fail(path, "cannot read it: check its permissions", e) from e
    if head == b"From " and path.suffix.lower() != ".eml":
        return _plan_mbox(path, envelopes, stack)
    envelopes.load(path.parent / ENVELOPES)
    return [_file_item(path, envelopes)]


def _file_item(path: Path, envelopes: EnvelopeIndex, *, read: bool | None = None) -> _Item:
    raw = read_file(path)
    if not looks_like_mail(raw) and not envelopes.knows(raw):
        raise _fail(
            path,
            "it is not mail (it does not start with a header such as 'From: ...', nor is it "
            "an mbox): give .eml files, an mbox or a Maildir",
        )
    return _Item(lambda: read_file(path), str(path), received=modified(path), read=read)


def _plan_folder(root: Path, envelopes: EnvelopeIndex) -> list[_Item]:
    files: list[Path] = []
    for folder, subfolders, names in os.walk(root, onerror=_raise):
        subfolders.sort()
        if ENVELOPES in names:
            envelopes.load(Path(folder) / ENVELOPES)
        files += [Path(folder) / n for n in sorted(names) if n.lower().endswith(".eml") and not n.startswith(".")]
    return [_file_item(f, envelopes) for f in files]


def _raise(error: OSError) -> None:
    raise _fail(Path(error.filename or "."), "cannot read this folder: check its permissions", error)


def _plan_maildir(root: Path, envelopes: EnvelopeIndex) -> list[_Item]:
    envelopes.load(root / ENVELOPES)
    found: list[tuple[str, Path]] = []
    for sub in ("cur", "new"):
        folder = root / sub
        if folder.is_dir():
            try:
                found += [(n, folder / n) for n in os.listdir(folder) if not n.startswith(".")]
            except OSError as e:
                raise _fail(folder, "cannot read this folder: check its permissions", e) from e
    return [_file_item(path, envelopes, read=maildir_read_flag(name)) for name, path in sorted(found)]


def _plan_mbox(path: Path, envelopes: EnvelopeIndex, stack: contextlib.ExitStack) -> list[_Item]:
    envelopes.load(path.with_name(f"{path.name}.{ENVELOPES}"))
    try:
        f = stack.enter_context(open(path, "rb"))  # noqa: SIM115 (closed by the stack)
        data = stack.enter_context(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
    except (OSError, ValueError) as e:
        raise TransferError(f"cannot read the mbox {path}: {e}", path=str(path)) from e
    items: list[_Item] = []
    for number, entry in enumerate(scan_mbox(data), 1):
        head = data[entry.start : entry.start + 1000]
        if not looks_like_mail(head) and not envelopes.knows(mbox_unquote(data[entry.start : entry.end])):
            raise TransferError(
                f"{path} line {line_number(data, entry.start) - 1}: message {number} of this mbox, whose "
                "From line is there, does not start with a header, so the file is damaged or not an mbox "
                "(a body line 'From ...' not quoted as '>From ...'?)",
                path=str(path),
            )
        sender, when = parse_from_line(entry.from_line)
        items.append(
            _Item(_slicer(data, entry.start, entry.end), f"{path} message {number}", mail_from=sender, received=when)
        )
    return items


def _slicer(data: mmap.mmap, start: int, end: int) -> Callable[[], bytes]:
    return lambda: mbox_unquote(data[start:end])
