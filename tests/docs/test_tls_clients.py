"""The curl, swaks and Node examples of docs/tls-auth-faults.md verify and deliver, as written.

The guide's ``mocksmtp --tls starttls --ca-file ca.pem`` runs in a fresh folder (on a free port
instead of 1025), then each client example runs there with that port in place of 1025, and
the server prints the message it received.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.clients import node_modules, require
from tests.integration.processes import PYTHON, Process

pytest.importorskip("trustme")

DOC = Path(__file__).resolve().parents[2] / "docs" / "tls-auth-faults.md"
TEXT = DOC.read_text(encoding="utf-8")
CONSOLE = re.compile(
    r"```console\n\$ (?P<command>mocksmtp --tls starttls --ca-file ca\.pem)\n"
    r"(?P<wrote>.*)\n(?P<listening>.*)\n```"
)
BLOCK = re.compile(r"```(?:sh|js)\n(?:#|//) (?P<name>[\w.]+)[^\n]*\n(?P<body>.*?)```", re.DOTALL)
EXAMPLES = {block["name"]: block["body"] for block in BLOCK.finditer(TEXT)}


@pytest.fixture(params=["auto", "asyncio"])
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Process, int]]:
    """The guide's command running in ``tmp_path`` (on the loop it picks, and on asyncio's);
    the process and its port. Its first lines must be the guide's."""
    console = CONSOLE.search(TEXT)
    assert console, "the guide no longer shows `mocksmtp --tls starttls --ca-file ca.pem` and its output"
    argv = [
        *shlex.split(console["command"])[1:],
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-http",
        "--stats-interval",
        "0",
        "--loop",
        request.param,
    ]
    proc = Process([PYTHON, "-m", "mocksmtp", *argv], cwd=tmp_path)
    try:
        assert proc.read_line() == console["wrote"].replace("/home/me/ca.pem", str(tmp_path / "ca.pem"))
        listening = proc.read_line()
        match = re.fullmatch(
            console["listening"]
            .replace("localhost:1025", r"127\.0\.0\.1:(\d+)")
            .replace("(Ctrl+C to stop)", r"\(Ctrl\+C to stop\)"),
            listening,
        )
        assert match, listening
        yield proc, int(match.group(1))
    finally:
        proc.kill()


def test_the_guide_shows_curl_swaks_and_node() -> None:
    """The guide has a curl, a swaks and a nodemailer example, each aimed at port 1025."""
    assert set(EXAMPLES) == {"curl", "swaks", "send.js"}
    assert all("1025" in body for body in EXAMPLES.values())


@pytest.mark.parametrize("name", ["curl", "swaks", "send.js"])
def test_guide_client_example_verifies_the_certificate_and_delivers(
    name: str, cli: tuple[Process, int], tmp_path: Path
) -> None:
    """Run against the guide's command, the example exits 0 and the server prints its message."""
    proc, port = cli
    body = EXAMPLES[name].replace("1025", str(port))
    env = dict(os.environ)
    if name == "send.js":
        argv = [require("node", "Debian: apt-get install nodejs npm"), name]
        env["NODE_PATH"] = str(node_modules())
        (tmp_path / name).write_text(body, encoding="utf-8")
    else:
        require(name, f"Debian: apt-get install {name}")
        argv = ["sh", "-e", "-c", body]
    try:
        result = subprocess.run(
            argv,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{name} still running after 30 s; stdout: {e.stdout!r}; stderr: {e.stderr!r}") from None
    assert result.returncode == 0, result.stdout + result.stderr
    received = proc.read_line()
    assert re.fullmatch(r'\S+  from <app@example\.com>  to <user@example\.com>  "hello"  \d+ bytes', received), received
    proc.proc.send_signal(signal.SIGINT)
    status, out, err = proc.finish()
    assert status == 0, err
    assert "1 message," in out, out
