"""Export and import (.eml files, mboxrd, Maildir): byte-exact round trips on both stores, the
envelope of foreign mail, the servers' methods, and the command line."""

from __future__ import annotations

import asyncio
import mailbox
import os
import pty
import select
import smtplib
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from mocksmtp import (
    AsyncMockSMTPServer,
    ConfigError,
    MemoryStore,
    Message,
    MessageStore,
    MockSMTPServer,
    SQLiteStore,
    TransferError,
)
from mocksmtp.store import MessageAdded
from mocksmtp.store.transfer import export_messages, import_messages

from .processes import PYTHON, ROOT

FORMATS = ["eml", "mbox", "maildir"]
AWKWARD = [
    b"Subject: from lines\r\n\r\nFrom here\r\n>From there\r\n>>From everywhere\r\nFrom\r\n",
    b"Subject: no final newline\r\n\r\nthe end",
    b"Subject: bare lf\n\nFrom a bare line\nend\n",
    b"Subject: mixed\r\n\r\none\ntwo\r\nthree\r",
    b"Subject: 8-bit \xc3\xa9\r\n\r\n\xff\xfe\x80 caf\xc3\xa9\r\n",
    b"Subject: blank lines at the end\r\n\r\nbody\r\n\r\n\r\n",
    b"Subject: one megabyte\r\n\r\n" + (b"From x" + b"y" * 1000 + b"\r\n") * 1000,
    b"From the first line of the message, which is not a header\r\n",
    b"",
]


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Makes empty stores of one kind (each call a new one); all closed after the test."""
    made: list[MessageStore] = []

    def make() -> MessageStore:
        store: MessageStore
        store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / f"s{len(made)}.sqlite")
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


def fill(store: MessageStore, raws: list[bytes]) -> list[Message]:
    for i, raw in enumerate(raws):
        store.add(
            Message(
                id=store.new_id(),
                raw=raw,
                mail_from="" if i == 1 else f"sender{i}@example.com",
                rcpt_tos=[f"to{i}@example.com", "hidden@example.com"],
                mail_options=["BODY=8BITMIME"],
                helo="client.example",
                tls="TLSv1.3" if i == 2 else None,
            )
        )
    return store.messages()


def envelope(m: Message) -> tuple[object, ...]:
    return (m.raw, m.mail_from, m.rcpt_tos, m.mail_options, m.helo, m.tls, m.received_at)


@pytest.mark.parametrize("format", FORMATS)
def test_awkward_messages_round_trip_byte_for_byte(
    make_store: Callable[[], MessageStore], tmp_path: Path, format: str
) -> None:
    """From lines, quoting, no final newline, bare LF, 8-bit, 1 MB, not-mail and empty messages
    come back with the same bytes, envelope, arrival time, read flag and tags, in order."""
    source, target = make_store(), make_store()
    sent = fill(source, AWKWARD)
    source.mark_read([sent[0].id, sent[3].id])
    source.set_tags([sent[1].id], ["kept", "urgent"])
    dest = tmp_path / "out"
    assert export_messages(source, dest, format=format) == len(AWKWARD)  # type: ignore[arg-type]
    assert import_messages(target, [dest]) == len(AWKWARD)
    back = target.messages()
    assert [envelope(m) for m in back] == [envelope(m) for m in sent]
    assert {m.id for m in back}.isdisjoint(m.id for m in sent)
    assert all(m.peer == ("imported", 0) for m in back)
    assert [target.state(m.id) for m in back] == [source.state(m.id) for m in sent]


def test_eml_and_maildir_files_hold_the_raw_bytes_exactly(tmp_path: Path) -> None:
    """Each .eml file and Maildir file is the message as sent, with its arrival time as mtime;
    read messages are in cur/ with :2,S, unread ones in new/."""
    store = MemoryStore()
    sent = fill(store, AWKWARD[:3])
    store.mark_read([sent[0].id])
    export_messages(store, tmp_path / "eml")
    for m in sent:
        path = tmp_path / "eml" / f"{m.id}.eml"
        assert path.read_bytes() == m.raw
        assert path.stat().st_mtime == pytest.approx(m.received_at.timestamp())
    export_messages(store, tmp_path / "md", format="maildir")
    (seen,) = os.listdir(tmp_path / "md" / "cur")
    assert seen.endswith(":2,S")
    assert (tmp_path / "md" / "cur" / seen).read_bytes() == sent[0].raw
    assert sorted((tmp_path / "md" / "new" / n).read_bytes() for n in os.listdir(tmp_path / "md" / "new")) == sorted(
        m.raw for m in sent[1:]
    )
    assert os.listdir(tmp_path / "md" / "tmp") == []


def test_an_export_writes_only_what_the_query_matches(tmp_path: Path) -> None:
    """query= (a string or a parsed Query) exports the matching messages only."""
    store = MemoryStore()
    for to in ("ann@example.com", "bob@example.com", "ann@example.com"):
        store.add(
            Message(
                id=store.new_id(),
                raw=f"To: {to}\r\nSubject: for {to}\r\n\r\nhi\r\n".encode(),
                mail_from="app@example.com",
                rcpt_tos=[to],
            )
        )
    assert export_messages(store, tmp_path / "ann.mbox", format="mbox", query="to:ann@example.com") == 2
    again = MemoryStore()
    import_messages(again, [tmp_path / "ann.mbox"])
    assert [m.subject for m in again.messages()] == ["for ann@example.com"] * 2


def test_an_mbox_export_adds_to_an_existing_mbox(tmp_path: Path) -> None:
    """Exporting twice to one mbox appends: both exports' messages come back, exactly."""
    store = MemoryStore()
    fill(store, [b"Subject: a\r\n\r\nno newline", b"Subject: b\r\n\r\n"])
    export_messages(store, tmp_path / "m.mbox", format="mbox")
    export_messages(store, tmp_path / "m.mbox", format="mbox")
    again = MemoryStore()
    assert import_messages(again, [tmp_path / "m.mbox"]) == 4
    assert [m.raw for m in again.messages()] == [m.raw for m in store.messages()] * 2


def test_a_mbox_written_by_pythons_mailbox_module_imports(tmp_path: Path) -> None:
    """Messages of an mbox made by mailbox.mbox come back as they were given to it (its
    ">From " quoting undone), the sender and the time from their From lines, recipients from
    their headers."""
    path = tmp_path / "python.mbox"
    box = mailbox.mbox(path)
    for i in range(3):
        m = mailbox.mboxMessage(
            f"From: a{i}@example.com\nTo: b{i}@example.com\nCc: c@example.com\n"
            f"Subject: {i}\n\nbody {i}\nFrom the body\n"
        )
        m.set_from(f"sender{i}@example.com", (2026, 1, 2, 3, 4, 5 + i, 0, 0, 0))
        box.add(m)
    box.flush()
    expected = [box.get_bytes(key).replace(b">From the", b"From the") for key in box.keys()]  # noqa: SIM118 (a Mailbox iterates messages)
    box.close()
    store = MemoryStore()
    assert import_messages(store, [path]) == 3
    got = store.messages()
    assert [m.raw for m in got] == expected
    assert [(m.mail_from, m.rcpt_tos) for m in got] == [
        (f"sender{i}@example.com", (f"b{i}@example.com", "c@example.com")) for i in range(3)
    ]
    assert [m.received_at.second for m in got] == [5, 6, 7]


def test_a_maildir_imports_with_its_read_flags(tmp_path: Path) -> None:
    """A Maildir made by mailbox.Maildir: every message in cur/ and new/, S meaning read, the
    sender from Return-Path, recipients from Delivered-To."""
    box = mailbox.Maildir(tmp_path / "md")
    seen = mailbox.MaildirMessage(
        b"Return-Path: <r@example.com>\nDelivered-To: me@example.com\nTo: x@example.com\nSubject: seen\n\nhi\n"
    )
    seen.set_subdir("cur")
    seen.add_flag("S")
    box.add(seen)
    box.add(mailbox.MaildirMessage(b"From: f@example.com\nTo: me@example.com\nSubject: new\n\nhi\n"))
    box.close()
    store = MemoryStore()
    assert import_messages(store, [tmp_path / "md"]) == 2
    by_subject = {m.subject: m for m in store.messages()}
    assert (by_subject["seen"].mail_from, by_subject["seen"].rcpt_tos) == ("r@example.com", ("me@example.com",))
    assert (by_subject["new"].mail_from, by_subject["new"].rcpt_tos) == ("f@example.com", ("me@example.com",))
    assert store.state(by_subject["seen"].id).read  # type: ignore[union-attr]
    assert not store.state(by_subject["new"].id).read  # type: ignore[union-attr]


def test_eml_files_and_folders_import_in_name_order(tmp_path: Path) -> None:
    """A folder is searched (subfolders too) for .eml files, in name order; other files there
    are ignored; a single file is one message; the arrival time is the file's mtime."""
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "b.eml").write_bytes(b"Subject: b\r\nTo: t@example.com\r\n\r\n")
    (tmp_path / "d" / "a.eml").write_bytes(b"Subject: a\r\nTo: t@example.com\r\n\r\n")
    (tmp_path / "d" / "sub" / "c.EML").write_bytes(b"Subject: c\r\n\r\n")
    (tmp_path / "d" / "notes.txt").write_bytes(b"not mail")
    single = tmp_path / "one.msg"
    single.write_bytes(b"From: f@example.com\r\nSubject: one\r\n\r\n")
    os.utime(single, (1_000_000_000, 1_000_000_000))
    store = MemoryStore()
    assert import_messages(store, [tmp_path / "d", str(single)]) == 4
    assert [m.subject for m in store.messages()] == ["a", "b", "c", "one"]
    assert store.messages()[-1].received_at.timestamp() == 1_000_000_000


def test_an_edited_message_gets_its_envelope_from_its_headers(tmp_path: Path) -> None:
    """The envelope file matches bytes, not names: an .eml file edited after the export is
    imported with the envelope its headers give, the untouched one with its own."""
    store = MemoryStore()
    kept, edited = fill(
        store,
        [
            b"To: a@example.com\r\nSubject: kept\r\n\r\n",
            b"From: f@example.com\r\nTo: b@example.com\r\nSubject: edited\r\n\r\n",
        ],
    )
    export_messages(store, tmp_path)
    path = tmp_path / f"{edited.id}.eml"
    path.write_bytes(path.read_bytes() + b"a line more\r\n")
    again = MemoryStore()
    assert import_messages(again, tmp_path) == 2  # a single path is one source
    first, second = again.messages()
    assert (first.mail_from, first.rcpt_tos) == (kept.mail_from, kept.rcpt_tos)
    assert (second.mail_from, second.rcpt_tos) == ("f@example.com", ("b@example.com",))


def test_sources_that_are_missing_or_not_mail_fail_in_one_line_before_importing(tmp_path: Path) -> None:
    """A missing path, a file that is not mail and a damaged mbox raise TransferError naming the
    file, and nothing is imported, even from the good sources given before them."""
    good = tmp_path / "good.eml"
    good.write_bytes(b"Subject: fine\r\n\r\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (tmp_path / "bad.mbox").write_bytes(
        b"From a@b Sat Jan  1 00:00:00 2000\nSubject: ok\n\n\nFrom the desk of Bob\nhello\n"
    )
    store = MemoryStore()
    for bad, says in [
        ("missing", "no such file or folder"),
        ("image.png", "is not mail"),
        ("bad.mbox", "line 5: message 2 of this mbox, whose From line is there, does not start"),
    ]:
        with pytest.raises(TransferError) as caught:
            import_messages(store, [good, tmp_path / bad])
        assert caught.value.path == str(tmp_path / bad)
        assert says in str(caught.value)
        assert "\n" not in str(caught.value)
    assert store.count() == 0


def test_bad_arguments_raise_config_error(tmp_path: Path) -> None:
    """An unknown format, no sources, or a path that is not one: ConfigError, one line."""
    store = MemoryStore()
    with pytest.raises(ConfigError, match="format must be one of 'eml', 'mbox', 'maildir', got 'zip'"):
        export_messages(store, tmp_path, format="zip")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="give at least one file or folder"):
        import_messages(store, [])
    with pytest.raises(ConfigError, match="dest must be the path"):
        export_messages(store, 42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="query must be a search"):
        export_messages(store, tmp_path, query=42)  # type: ignore[arg-type]


def test_a_destination_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    """eml and Maildir need a folder, mbox a file, and a file that is not an mbox is never
    appended to: TransferError naming the path."""
    store = MemoryStore()
    fill(store, [b"Subject: x\r\n\r\n"])
    text = tmp_path / "notes.txt"
    text.write_text("mine\n")
    for format, dest, says in [
        ("eml", text, "it is a file"),
        ("maildir", text, "it is a file"),
        ("mbox", tmp_path, "it is a folder"),
        ("mbox", text, "not an mbox"),
    ]:
        with pytest.raises(TransferError, match=says):
            export_messages(store, dest, format=format)  # type: ignore[arg-type]
    assert text.read_text() == "mine\n"


def test_a_message_sent_over_smtp_survives_export_and_import_into_a_new_database(tmp_path: Path) -> None:
    """Sent with a Bcc recipient, exported by one server, imported by another on a new file:
    raw, mail_from and rcpt_tos are identical, and the import wakes a waiting test."""
    raw = b"From: app@example.com\r\nTo: ann@example.com\r\nSubject: Hi\r\n\r\nFrom the app\r\n"
    with MockSMTPServer(port=0, database=tmp_path / "a.sqlite") as first:
        with smtplib.SMTP(first.host, first.port) as client:
            client.sendmail("app@example.com", ["ann@example.com", "bcc@example.com"], raw)
        (sent,) = first.messages
        for format in FORMATS:
            assert first.export(tmp_path / format, format=format) == 1  # type: ignore[arg-type]
    first.store.close()
    for format in FORMATS:
        second = MockSMTPServer(port=0, database=tmp_path / f"b-{format}.sqlite")
        added: list[object] = []
        second.store.subscribe(added.append)
        assert second.import_messages(tmp_path / format) == 1
        (got,) = second.wait_for(subject="Hi", timeout=5)
        assert (got.raw, got.mail_from, got.rcpt_tos) == (sent.raw, sent.mail_from, sent.rcpt_tos)
        assert len([e for e in added if isinstance(e, MessageAdded)]) == 1
        second.store.close()


def test_the_async_server_exports_and_imports_off_its_loop(tmp_path: Path) -> None:
    """AsyncMockSMTPServer.export and import_messages are awaited and give the same counts."""

    async def main() -> list[bytes]:
        async with AsyncMockSMTPServer() as server:
            fill(server.store, AWKWARD[:2])
            assert await server.export(tmp_path / "m.mbox", "mbox", query="subject:newline") == 1
            server.reset()
            assert await server.import_messages(tmp_path / "m.mbox") == 1
            return [m.raw for m in server.messages]

    assert asyncio.run(main()) == [AWKWARD[1]]


# -- the command line --------------------------------------------------------------------------


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [PYTHON, "-m", "mocksmtp", *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env, check=False
    )


def make_database(path: Path, n: int) -> None:
    store = SQLiteStore(path)
    for i in range(n):
        store.add(
            Message(
                id=store.new_id(),
                raw=f"To: u{i % 2}@example.com\r\nSubject: {i}\r\n\r\nhi\r\n".encode(),
                mail_from="app@example.com",
                rcpt_tos=[f"u{i % 2}@example.com"],
            )
        )
    store.close()


def test_the_command_line_exports_and_imports_with_one_summary_line(tmp_path: Path) -> None:
    """export --query writes the matches and says how many; import into a new database says
    how many; nothing else is printed when stderr is not a terminal."""
    make_database(tmp_path / "a.sqlite", 5)
    done = cli(
        "export", "--database", "a.sqlite", "--format", "maildir", "--query", "to:u0@example.com", "md", cwd=tmp_path
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "exported 3 messages to md\n", "")
    done = cli("import", "--database", "b.sqlite", "md", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "imported 3 messages into b.sqlite\n", "")
    store = SQLiteStore(tmp_path / "b.sqlite")
    assert [m.subject for m in store.messages()] == ["0", "2", "4"]
    store.close()


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["export", "--database", "missing.sqlite", "out"], 1, "there is no database at missing.sqlite"),
        (["export", "--database", "a.sqlite", "--format", "zip", "out"], 2, "invalid choice: 'zip'"),
        (["export", "--database", "a.sqlite", "--query", 'subject:"open', "out"], 2, "unterminated quote"),
        (["export", "--database", "notes.txt", "out"], 1, "not a mocksmtp database"),
        (["import", "--database", "b.sqlite"], 2, "required: SOURCE"),
        (["import", "--database", "b.sqlite", "missing.eml"], 1, "missing.eml: no such file or folder"),
        (["import", "--database", "b.sqlite", "notes.txt"], 1, "notes.txt: it is not mail"),
        (["import", "--database", "b.sqlite", "bad.mbox"], 1, "bad.mbox line 1: message 1 of this mbox"),
    ],
)
def test_command_line_errors_are_one_line(tmp_path: Path, args: list[str], status: int, says: str) -> None:
    """Mistakes in the command exit 2, failures 1; either way one line on stderr, no traceback."""
    make_database(tmp_path / "a.sqlite", 1)
    (tmp_path / "notes.txt").write_text("just some notes\n")
    (tmp_path / "bad.mbox").write_text("From the desk of Bob\nhello\n")
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == status
    assert done.stdout == ""
    assert says in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"mocksmtp {args[0]}: error: ")


def test_help_names_the_export_and_import_commands(tmp_path: Path) -> None:
    """mocksmtp --help mentions both commands; plain options still run the server's parser."""
    shown = " ".join(cli("--help", cwd=tmp_path).stdout.split())
    assert "mocksmtp export --database" in shown
    assert "mocksmtp import --database" in shown
    assert cli("export", "--help", cwd=tmp_path).stdout.startswith("usage: mocksmtp export")


def test_a_terminal_sees_a_progress_bar_updating_in_place(tmp_path: Path) -> None:
    """With stderr on a terminal (a pty), export draws a bar with count, total, share and rate,
    redrawn in place with carriage returns and erased before the summary line."""
    make_database(tmp_path / "a.sqlite", 20)
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [PYTHON, "-m", "mocksmtp", "export", "--database", "a.sqlite", "out"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        assert ready, f"no output from the terminal; so far {shown!r}"
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal (EIO on Linux)
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert out == b"exported 20 messages to out\n"
    assert shown.startswith(b"\rexporting [")
    assert b"0/20" in shown
    assert b"\rexporting [########################] 20/20  100%" in shown
    assert b"msg/s" in shown
    assert shown.endswith(b"\r\x1b[K")
