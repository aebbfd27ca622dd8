"""The ``mocksmtp`` command line, run as a real process."""

from __future__ import annotations

import re
import signal
import smtplib
import socket

import pytest

from .processes import PYTHON, Process


def start_cli(*args: str) -> tuple[Process, int]:
    proc = Process([PYTHON, "-m", "mocksmtp", "--host", "127.0.0.1", "--port", "0", *args])
    line = proc.read_line()
    match = re.fullmatch(r"mocksmtp: listening on 127\.0\.0\.1:(\d+) \(Ctrl\+C to stop\)", line)
    assert match, line
    return proc, int(match.group(1))


def send(port: int, subject: str) -> None:
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("app@example.com", ["a@example.com", "b@example.com"],
                        f"Subject: {subject}\r\n\r\nbody\r\n")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_prints_each_message_and_final_statistics_on_signal(sig: signal.Signals) -> None:
    """One line per message (id, from, to, subject, size); final statistics and exit 0 on
    Ctrl+C or SIGTERM."""
    proc, port = start_cli("--stats-interval", "0")
    try:
        send(port, "Hello there")
        line = proc.read_line()
        assert re.fullmatch(
            r'\S+-\d{6}  from <app@example\.com>  to <a@example\.com>, <b@example\.com>  '
            r'"Hello there"  \d+ bytes', line), line
        proc.proc.send_signal(sig)
        status, out, err = proc.finish()
    finally:
        proc.kill()
    assert status == 0
    assert re.search(r"stopped after [\d.]+ s: 1 connections, 1 messages, \d+ bytes, 0 rejected commands, "
                     r"0 errors", out), out
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
    """--stats-interval S prints a statistics line every S seconds while serving."""
    proc, port = start_cli("--stats-interval", "0.2", "--quiet")
    try:
        send(port, "counted")
        proc.wait_for_line("1 messages")
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
        proc = Process([PYTHON, "-m", "mocksmtp", "--host", "127.0.0.1", "--port", str(port)])
        status, out, err = proc.finish(timeout=20)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"mocksmtp: error: cannot listen on 127.0.0.1:{port}:")
    assert "in use" in err


def test_invalid_option_is_a_usage_error() -> None:
    """An option value mocksmtp cannot use gives argparse's usage error and status 2."""
    proc = Process([PYTHON, "-m", "mocksmtp", "--port", "0", "--max-recipients", "0"])
    status, _, err = proc.finish(timeout=20)
    assert status == 2
    assert "max_recipients" in err
    assert "Traceback" not in err


# Runs the command as if uvloop were not installed (an import of it fails).
WITHOUT_UVLOOP = ("import sys; sys.modules['uvloop'] = None; from mocksmtp.cli import main; "
                  "sys.exit(main())")


@pytest.mark.parametrize("flag", [["--uvloop"], ["--loop", "uvloop"]])
def test_uvloop_flag_serves_on_uvloop(flag: list[str]) -> None:
    """--loop uvloop (or --uvloop) serves mail on uvloop."""
    pytest.importorskip("uvloop")
    proc, port = start_cli(*flag, "--stats-interval", "0")
    try:
        send(port, "on uvloop")
        assert '"on uvloop"' in proc.read_line()
        proc.proc.send_signal(signal.SIGINT)
        status, _, _ = proc.finish()
    finally:
        proc.kill()
    assert status == 0


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
    proc = Process([PYTHON, "-c", WITHOUT_UVLOOP, "--host", "127.0.0.1", "--port", "0", "-v",
                    "--stats-interval", "0"])
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
    assert cli.main(["--host", "127.0.0.1", "--port", "0", "--quiet", "--loop", "asyncio"], out=out) == 0
    assert "stopped after" in out.getvalue()
    assert signal.getsignal(signal.SIGINT) is previous


@pytest.mark.parametrize("loop", ["asyncio", "auto"])
def test_loop_choice_serves_mail(loop: str) -> None:
    """--loop asyncio, and the default auto (uvloop when installed, else asyncio), serve."""
    proc, port = start_cli("--loop", loop, "--stats-interval", "0")
    try:
        send(port, f"on {loop}")
        assert f'"on {loop}"' in proc.read_line()
        proc.proc.send_signal(signal.SIGINT)
        status, _, err = proc.finish()
    finally:
        proc.kill()
    assert status == 0
    assert "Traceback" not in err
