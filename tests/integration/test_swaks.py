"""A real third-party client: swaks (the Swiss Army Knife for SMTP), pipelining and raw bytes."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support import assert_healthy

from mocksmtp import MockSMTPServer

SWAKS = shutil.which("swaks")
pytestmark = pytest.mark.skipif(SWAKS is None, reason="swaks is not on PATH (Debian: apt-get install swaks)")


def swaks(server: MockSMTPServer, *args: str) -> subprocess.CompletedProcess[str]:
    assert SWAKS is not None
    return subprocess.run(
        [
            SWAKS,
            "--server",
            "127.0.0.1",
            "--port",
            str(server.port),
            "--helo",
            "swaks.example",
            "--from",
            "sender@example.com",
            "--timeout",
            "10",
            *args,
        ],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def raw_data(tmp_path: Path, content: bytes) -> str:
    """A --data argument that makes swaks send ``content`` untouched (with --no-data-fixup it
    sends the file, then CRLF: so the file ends with the final dot)."""
    path = tmp_path / "data.eml"
    path.write_bytes(content + b".")
    return f"@{path}"


def test_swaks_pipelined_message_with_several_recipients_is_stored(server: MockSMTPServer) -> None:
    """swaks --pipeline sends MAIL, RCPT x3, DATA in one group; the message has every recipient."""
    result = swaks(
        server,
        "--pipeline",
        "--to",
        "a@example.com,B@example.com,c@example.com",
        "--header",
        "Subject: from swaks",
        "--body",
        "hello from swaks",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " -> DATA" in result.stdout
    (m,) = server.messages
    assert m.mail_from == "sender@example.com"
    assert m.rcpt_tos == ("a@example.com", "B@example.com", "c@example.com")
    assert m.helo == "swaks.example"
    assert b"Subject: from swaks\r\n" in m.raw
    assert b"\r\n\r\nhello from swaks\r\n" in m.raw
    assert_healthy(server, stored=1)


def test_swaks_leading_dots_in_the_body_are_unstuffed(server: MockSMTPServer) -> None:
    """swaks dot-stuffs lines that start with a dot; the server stores them as written."""
    result = swaks(server, "--pipeline", "--to", "a@example.com", "--body", ".\\n..\\n.x\\nend")
    assert result.returncode == 0, result.stdout + result.stderr
    (m,) = server.messages
    assert b"\r\n\r\n.\r\n..\r\n.x\r\nend\r\n" in m.raw
    assert_healthy(server, stored=1)


def test_swaks_raw_bytes_are_stored_exactly(server: MockSMTPServer, tmp_path: Path) -> None:
    """Raw data sent by swaks without fix-ups (NUL, 8-bit, bare LF, stuffed dot) is stored
    byte for byte after unstuffing."""
    content = b"Subject: raw\r\n\r\nbin\xff\xfe\x00\r\nbare\nlf\r\n..stuffed\r\n"
    result = swaks(
        server, "--pipeline", "--to", "a@example.com", "--no-data-fixup", "--data", raw_data(tmp_path, content)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (m,) = server.messages
    assert m.raw == content.replace(b"\r\n..", b"\r\n.")
    assert {"nul", "8bit", "bare_lf"} <= m.flags
    assert_healthy(server, stored=1)


@pytest.mark.parametrize("fake_end", [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n\x00.\r\n"])
def test_swaks_smuggling_attempt_makes_one_message(server: MockSMTPServer, tmp_path: Path, fake_end: bytes) -> None:
    """A fake end of data and a smuggled transaction sent by swaks stay inside one message."""
    content = (
        b"Subject: legit\r\n\r\nhello"
        + fake_end
        + b"MAIL FROM:<smuggled@evil.example>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n"
        + b"Subject: smuggled\r\n\r\nevil\r\n"
    )
    result = swaks(
        server, "--pipeline", "--to", "a@example.com", "--no-data-fixup", "--data", raw_data(tmp_path, content)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (m,) = server.messages
    assert m.mail_from == "sender@example.com"
    # --no-data-fixup leaves a line's leading dot unstuffed: the server removes it (RFC 5321
    # 4.5.2) and flags the message.
    assert m.raw == content.replace(b"\r\n.", b"\r\n")
    assert ("unstuffed_dot" in m.flags) == (b"\r\n." in content)
    assert_healthy(server, stored=1)
    assert all(msg.mail_from != "smuggled@evil.example" for msg in server.messages)


def test_swaks_quitting_after_rcpt_stores_nothing(server: MockSMTPServer) -> None:
    """A session that ends before DATA (swaks --quit-after RCPT) stores nothing."""
    result = swaks(server, "--to", "a@example.com", "--quit-after", "RCPT")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<-  221" in result.stdout
    assert_healthy(server, stored=0)


def test_swaks_sees_a_refused_recipient(make_server: Callable[..., MockSMTPServer]) -> None:
    """With max_recipients=1 swaks sees 452 for the second recipient; the message keeps one."""
    server = make_server(max_recipients=1)
    result = swaks(server, "--pipeline", "--to", "a@example.com,b@example.com")
    assert "<** 452 4.5.3" in result.stdout
    assert [m.rcpt_tos for m in server.messages] == [("a@example.com",)]
    assert b"To: a@example.com,b@example.com\r\n" in server.messages[0].raw  # headers untouched
    assert_healthy(server, stored=1)
