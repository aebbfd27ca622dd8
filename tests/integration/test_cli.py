"""The ``mocksmtp`` command line, run as a real process."""

from __future__ import annotations

import re
import signal
import smtplib
import socket
from pathlib import Path

import pytest
from tests.support import RawClient, open_data

from .processes import PYTHON, Process


def start_cli(*args: str) -> tuple[Process, int]:
    proc = Process([PYTHON, "-m", "mocksmtp", "--host", "127.0.0.1", "--port", "0", "--no-http", *args])
    line = proc.read_line()
    match = re.fullmatch(r"mocksmtp: listening on 127\.0\.0\.1:(\d+) \(Ctrl\+C to stop\)", line)
    assert match, line
    return proc, int(match.group(1))


def send(port: int, subject: str) -> None:
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("app@example.com", ["a@example.com", "b@example.com"], f"Subject: {subject}\r\n\r\nbody\r\n")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_prints_each_message_and_final_statistics_on_signal(sig: signal.Signals) -> None:
    """One line per message (id, from, to, subject, size); final statistics and exit 0 on
    Ctrl+C or SIGTERM."""
    proc, port = start_cli("--stats-interval", "0")
    try:
        send(port, "Hello there")
        line = proc.read_line()
        assert re.fullmatch(
            r"[0-9A-Z]{26}  from <app@example\.com>  to <a@example\.com>, <b@example\.com>  "
            r'"Hello there"  \d+ bytes',
            line,
        ), line
        proc.proc.send_signal(sig)
        status, out, err = proc.finish()
    finally:
        proc.kill()
    assert status == 0
    assert re.search(
        r"stopped after [\d.]+ s: 1 connection, 1 message, \d+ bytes, 0 rejected commands, "
        r"0 errors",
        out,
    ), out
    assert "Traceback" not in err


def test_control_characters_in_a_subject_are_not_printed_raw() -> None:
    """A subject with escape sequences cannot drive the terminal: control characters become ?."""
    proc, port = start_cli("--stats-interval", "0")
    try:
        send(port, "=?utf-8?q?evil=1B[2Jclear?=")
        line = proc.read_line()
        proc.proc.send_signal(signal.SIGINT)
        proc.finish()
    finally:
        proc.kill()
    assert "\x1b" not in line
    assert '"evil?[2Jclear"' in line


def test_statistics_are_printed_every_interval() -> None:
    """--stats-interval S prints a labelled statistics line every S seconds while serving,
    with singular nouns for a count of one."""
    proc, port = start_cli("--stats-interval", "0.2", "--quiet")
    try:
        send(port, "counted")
        line = proc.wait_for_line("1 message,")
        assert re.fullmatch(
            r"mocksmtp: statistics after [\d.]+ s: 1 connection, 1 message, \d+ bytes, "
            r"0 rejected commands, 0 errors",
            line,
        ), line
        proc.proc.send_signal(signal.SIGINT)
        status, _, _ = proc.finish()
    finally:
        proc.kill()
    assert status == 0


def test_port_in_use_is_a_one_line_error_with_status_2() -> None:
    """Starting on a port another socket holds prints one line to stderr and exits 2."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        proc = Process([PYTHON, "-m", "mocksmtp", "--host", "127.0.0.1", "--port", str(port), "--no-http"])
        status, out, err = proc.finish(timeout=20)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"mocksmtp: error: cannot listen on 127.0.0.1:{port}:")
    assert "in use" in err


def test_invalid_option_is_a_one_line_error_naming_the_option() -> None:
    """An option value mocksmtp cannot use is one line naming the command-line option, status 2."""
    proc = Process([PYTHON, "-m", "mocksmtp", "--port", "0", "--max-recipients", "0"])
    status, _, err = proc.finish(timeout=20)
    assert status == 2
    assert err.startswith("mocksmtp: error: "), err
    assert err.count("\n") == 1, err
    assert "--max-recipients" in err


# Runs the command as if uvloop were not installed (an import of it fails).
WITHOUT_UVLOOP = "import sys; sys.modules['uvloop'] = None; from mocksmtp.cli import main; sys.exit(main())"


@pytest.mark.parametrize("flag", [["--uvloop"], ["--loop", "uvloop"]])
def test_uvloop_flag_serves_on_uvloop(flag: list[str]) -> None:
    """--loop uvloop (or --uvloop) serves mail on uvloop."""
    pytest.importorskip("uvloop")
    proc, port = start_cli(*flag, "--stats-interval", "0", "-v")
    try:
        send(port, "on uvloop")
        assert '"on uvloop"' in proc.read_line()
        proc.proc.send_signal(signal.SIGINT)
        status, _, err = proc.finish()
    finally:
        proc.kill()
    assert status == 0
    assert "event loop: uvloop" in err  # the flag chose uvloop, not merely a loop that serves


@pytest.mark.parametrize("flag", [["--uvloop"], ["--loop", "uvloop"]])
def test_uvloop_flag_without_uvloop_says_how_to_get_it(flag: list[str]) -> None:
    """Without uvloop, --loop uvloop is a one-line usage error naming the extra to install."""
    proc = Process([PYTHON, "-c", WITHOUT_UVLOOP, "--port", "0", *flag])
    status, _, err = proc.finish(timeout=20)
    assert status == 2
    assert "needs uvloop, which is not installed: pip install 'mocksmtp[uvloop]'" in err
    assert "Traceback" not in err


def test_auto_loop_without_uvloop_serves_on_asyncio() -> None:
    """The default, --loop auto, falls back to asyncio's loop when uvloop is not installed."""
    proc = Process(
        [PYTHON, "-c", WITHOUT_UVLOOP, "--host", "127.0.0.1", "--port", "0", "--no-http", "-v", "--stats-interval", "0"]
    )
    try:
        line = proc.read_line()
        port = int(re.search(r":(\d+) \(Ctrl", line).group(1))  # type: ignore[union-attr]
        send(port, "fallback")
        proc.wait_for_line('"fallback"')
        proc.proc.send_signal(signal.SIGINT)
        status, _, err = proc.finish()
    finally:
        proc.kill()
    assert status == 0
    assert "event loop: asyncio" in err


def test_ctrl_c_right_after_the_port_opens_is_a_clean_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The handlers are installed before the server starts: a Ctrl+C that arrives as soon as
    the port is open stops the server and exits 0, with no KeyboardInterrupt traceback."""
    import io
    import os

    from mocksmtp import MockSMTPServer, cli

    real_start = MockSMTPServer.start

    def start_then_ctrl_c(self: MockSMTPServer) -> MockSMTPServer:
        real_start(self)
        os.kill(os.getpid(), signal.SIGINT)  # handled before start() even returns
        return self

    monkeypatch.setattr(MockSMTPServer, "start", start_then_ctrl_c)
    previous = signal.getsignal(signal.SIGINT)
    out = io.StringIO()
    assert cli.main(["--host", "127.0.0.1", "--port", "0", "--no-http", "--quiet", "--loop", "asyncio"], out=out) == 0
    assert "stopped after" in out.getvalue()
    assert signal.getsignal(signal.SIGINT) is previous


@pytest.mark.parametrize("loop", ["asyncio", "auto"])
def test_loop_choice_serves_mail(loop: str) -> None:
    """--loop asyncio, and the default auto (uvloop when installed, else asyncio), serve."""
    import importlib.util

    proc, port = start_cli("--loop", loop, "--stats-interval", "0", "-v")
    try:
        send(port, f"on {loop}")
        assert f'"on {loop}"' in proc.read_line()
        proc.proc.send_signal(signal.SIGINT)
        status, _, err = proc.finish()
    finally:
        proc.kill()
    assert status == 0
    assert "Traceback" not in err
    chosen = "uvloop" if loop == "auto" and importlib.util.find_spec("uvloop") else "asyncio"
    assert f"event loop: {chosen}" in err


def test_refusals_and_injected_faults_get_a_line_each() -> None:
    """A refused message names the reply and the limit; an injected fault names its stage,
    code and subject."""
    proc, port = start_cli("--stats-interval", "0", "--max-message-size", "100", "--fault", "rcpt:451:100")
    try:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            client.mail("app@example.com")
            assert client.rcpt("a@example.com")[0] == 451
        assert proc.read_line() == "injected fault rcpt 451 for <a@example.com>"
        with RawClient(port) as c:
            assert c.code("EHLO client.example") == 250
            assert c.code("MAIL FROM:<app@example.com> SIZE=5000") == 552
        assert re.fullmatch(r"refused \[127\.0\.0\.1\]:\d+: 552 5\.3\.4 .* \(max_message_size 100\)", proc.read_line())
        proc.proc.send_signal(signal.SIGINT)
        status, _, _ = proc.finish()
    finally:
        proc.kill()
    assert status == 0


def test_a_refused_message_names_its_envelope_and_the_limit() -> None:
    """Data over max_message_size: "refused <from> -> <to>: 552 5.3.4 ... (max_message_size N)"."""
    proc, port = start_cli("--stats-interval", "0", "--max-message-size", "100")
    try:
        with RawClient(port) as c:
            assert c.code("EHLO client.example") == 250
            assert c.code("MAIL FROM:<app@example.com>") == 250
            assert c.code("RCPT TO:<a@example.com>") == 250
            assert c.code("DATA") == 354
            assert c.command(b"x" * 200 + b"\r\n.")[0] == 552
        line = proc.read_line()
        proc.proc.send_signal(signal.SIGINT)
        proc.finish()
    finally:
        proc.kill()
    assert (
        line == "refused <app@example.com> -> <a@example.com>: 552 5.3.4 Message size exceeds fixed limit "
        "(max_message_size 100)"
    )


def test_verbose_logs_each_line_once_without_asyncio_noise() -> None:
    """With -v: stderr has the dialogue (a multi-line reply one line per record, each with its
    timestamp) but neither asyncio's selector debug line nor what stdout already shows."""
    proc, port = start_cli("-v", "--loop", "asyncio", "--stats-interval", "0")
    try:
        send(port, "verbose")
        proc.wait_for_line('"verbose"')
        proc.proc.send_signal(signal.SIGINT)
        status, _out, err = proc.finish()
    finally:
        proc.kill()
    assert status == 0
    assert "Using selector" not in err
    assert "listening on" not in err
    assert "stopped" not in err
    assert " message " not in err  # the message's line is on stdout
    lines = err.splitlines()
    assert any(line.endswith("> 250-SIZE 33554432") for line in lines), err
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} mocksmtp", line) for line in lines), err
    assert "\r" not in err


def test_a_message_finished_while_stopping_is_printed() -> None:
    """After Ctrl+C, a client in DATA may finish: it gets 250 and its message is printed."""
    proc, port = start_cli("--stats-interval", "0")
    try:
        with RawClient(port) as c:
            open_data(c, "late@example.com")
            c.send(b"Subject: last one\r\n\r\nbody\r\n")
            proc.proc.send_signal(signal.SIGINT)
            proc.wait_for_line("mocksmtp: stopping")
            assert c.command(b".")[0] == 250
        status, out, _ = proc.finish()
    finally:
        proc.kill()
    assert status == 0
    assert re.search(r'from <late@example\.com>  to <b@example\.com>  "last one"', out), out
    assert out.index("last one") < out.index("stopped after")


def test_a_second_ctrl_c_stops_at_once() -> None:
    """A second Ctrl+C while sessions in DATA are being waited for drops them and stops: the
    client gets 421, its message is not stored."""
    proc, port = start_cli("--stats-interval", "0")
    try:
        with RawClient(port) as c:
            open_data(c)
            c.send(b"Subject: never\r\n\r\n")
            proc.proc.send_signal(signal.SIGINT)
            proc.wait_for_line("mocksmtp: stopping")
            proc.proc.send_signal(signal.SIGINT)
            assert c.read_reply()[0] == 421
            assert c.is_closed()
        status, out, err = proc.finish()
    finally:
        proc.kill()
    assert status == 0, err
    assert "never" not in out
    assert re.search(r"mocksmtp: stopped at once \(second Ctrl\+C\) after [\d.]+ s: 1 connection, 0 messages", out), out


def test_a_refused_connection_is_one_line_on_stdout_and_not_logged_again() -> None:
    """Past --max-connections the extra client gets 421; with -v the refusal is a line on
    stdout naming the limit, and stderr does not repeat it."""
    proc, port = start_cli("-v", "--max-connections", "1", "--stats-interval", "0")
    try:
        with RawClient(port) as first, RawClient(port, read_greeting=False) as second:
            assert second.read_reply()[0] == 421
            assert first.code("NOOP") == 250
        line = proc.wait_for_line("refused")
        proc.proc.send_signal(signal.SIGINT)
        status, _, err = proc.finish()
    finally:
        proc.kill()
    assert re.fullmatch(
        r"refused \[127\.0\.0\.1\]:\d+: 421 4\.7\.0 Too many connections, try again later "
        r"\(max_connections 1\)",
        line,
    ), line
    assert status == 0
    assert "refusing" not in err


def test_database_keeps_mail_across_restarts(tmp_path: Path) -> None:
    """--database PATH: a second run on the file says how many messages it found, and they
    are all there."""
    path = tmp_path / "mail.sqlite"
    for run, subject in enumerate(("first", "second")):
        proc, port = start_cli("--stats-interval", "0", "--database", str(path))
        try:
            assert (
                proc.read_line() == f"mocksmtp: keeping mail in {path} ({run} message{'s' if run != 1 else ''} "
                "there already)"
            )
            send(port, subject)
            proc.wait_for_line(subject)
            proc.proc.send_signal(signal.SIGINT)
            status, _, err = proc.finish(timeout=20)
            assert status == 0, err
        finally:
            proc.kill()
    from mocksmtp import SQLiteStore

    store = SQLiteStore(path)
    assert [m.subject for m in store.messages()] == ["first", "second"]
    store.close()


def test_max_prunes_the_oldest_and_counts_it_in_the_statistics() -> None:
    """--max 1: each new message pushes out the previous one; the statistics say how many."""
    proc, port = start_cli("--stats-interval", "0", "--max", "1")
    try:
        send(port, "one")
        send(port, "two")
        proc.wait_for_line("two")
        proc.proc.send_signal(signal.SIGINT)
        status, out, _ = proc.finish(timeout=20)
    finally:
        proc.kill()
    assert status == 0
    assert re.search(r"stopped after .*2 messages.*, 1 pruned by retention", out), out


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--max", "0"], "--max must be None or an integer of at least 1, got 0"),
        (["--max-age", "7x"], "argument --max-age: expected a duration above 0"),
        (["--max-age", "0"], "argument --max-age: expected a duration above 0"),
    ],
)
def test_bad_retention_options_are_one_line(args: list[str], error: str) -> None:
    """A retention limit that cannot be used is one line naming the option, status 2."""
    proc = Process([PYTHON, "-m", "mocksmtp", "--port", "0", *args])
    status, _, err = proc.finish(timeout=20)
    assert status == 2
    assert err.count("\n") == 1, err
    assert error in err


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("30s", 30), ("15m", 900), ("12h", 43200), ("7d", 604800), ("2w", 1209600), ("1.5h", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    """--max-age takes seconds, or a number with s, m, h, d or w."""
    from mocksmtp.cli_args import parse_duration

    assert parse_duration(text) == seconds
