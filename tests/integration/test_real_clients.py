"""Real SMTP clients deliver over TLS that verifies the certificate, many times in a row.

nodemailer (Node), msmtp, curl, swaks, aiosmtplib and smtplib each send ``ROUNDS`` messages,
one connection each, to ``MockSMTPServer(tls="starttls")`` and ``tls="implicit"``, on asyncio's
loop (the default) and on uvloop. They trust nothing but ``server.ca_pem``, written to a file.
Several of them send their first command in the same TCP segment as the end of the TLS
handshake, sometimes (curl, aiosmtplib) or always (nodemailer, msmtp): hence the repetition.

Each message carries a unique token and is checked byte for byte, with its envelope and
``Message.tls``. A missing client skips the test with the command that installs it, except in
CI (``CI`` or ``MOCKSMTP_REQUIRE_CLIENTS`` set), where it fails: ``.ci/run`` installs them all.
"""

from __future__ import annotations

import asyncio
import gc
import json
import smtplib
import ssl
import subprocess
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support import token

from mocksmtp import MockSMTPServer

from .clients import CLIENTS, missing, node_modules, require

trustme = pytest.importorskip("trustme")

ROUNDS = 20  # messages per client, loop and mode: the lost-data bug shows up only sometimes
TIMEOUT = 10  # seconds a client waits for the server before it gives up


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message a client is asked to send, and the token that identifies it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    token: str


@dataclass(frozen=True, slots=True)
class Target:
    """A running TLS server, the file holding its ``ca_pem``, and a folder for the clients' files."""

    server: MockSMTPServer
    mode: str
    ca_file: Path
    workdir: Path

    @property
    def port(self) -> int:
        return self.server.port


Sender = Callable[[Target, list[Outgoing]], None]


def outgoing(client: str, count: int) -> list[Outgoing]:
    """``count`` messages with every header a client might otherwise add, so none is added."""
    messages = []
    for i in range(count):
        tag = token()
        raw = (
            f"From: app@example.com\r\nTo: user@example.com\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000\r\n"
            f"Message-ID: <{tag}@example.com>\r\nSubject: {client} {i + 1} of {count}\r\n\r\n"
            f"token {tag}\r\nsecond line\r\n"
        ).encode()
        messages.append(Outgoing("app@example.com", ("user@example.com", f"{tag}@example.org"), raw, tag))
    return messages


def run(
    argv: list[str],
    what: str,
    *,
    stdin: bytes | None = None,
    timeout: float = 2 * TIMEOUT,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a client; a non-zero status or no exit in time fails with everything it printed."""
    try:
        result = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            env=env,
        )
    except subprocess.TimeoutExpired as e:
        raise AssertionError(
            f"{what}: still running after {timeout} s (a client stuck after the "
            f"handshake?)\nstdout: {e.stdout!r}\nstderr: {e.stderr!r}"
        ) from None
    if result.returncode != 0:
        raise AssertionError(
            f"{what}: exit status {result.returncode}\n"
            f"stdout: {result.stdout.decode(errors='replace')}\n"
            f"stderr: {result.stderr.decode(errors='replace')}"
        )
    return result


# -- the clients --------------------------------------------------------------------------------


def send_smtplib(target: Target, messages: list[Outgoing]) -> None:
    context = ssl.create_default_context(cafile=str(target.ca_file))
    for i, m in enumerate(messages, 1):
        try:
            if target.mode == "implicit":
                client: smtplib.SMTP = smtplib.SMTP_SSL("127.0.0.1", target.port, timeout=TIMEOUT, context=context)
            else:
                client = smtplib.SMTP("127.0.0.1", target.port, timeout=TIMEOUT)
                client.starttls(context=context)
            with client:
                client.sendmail(m.mail_from, list(m.rcpt_tos), m.raw)
        except (OSError, smtplib.SMTPException) as e:
            raise AssertionError(f"smtplib, message {i} of {len(messages)}: {e!r}") from e


def send_aiosmtplib(target: Target, messages: list[Outgoing]) -> None:
    try:
        import aiosmtplib
    except ImportError:
        missing("aiosmtplib is not installed (pip install aiosmtplib)")
    context = ssl.create_default_context(cafile=str(target.ca_file))

    async def send_all() -> None:
        for i, m in enumerate(messages, 1):
            try:
                await asyncio.wait_for(
                    aiosmtplib.send(
                        m.raw,
                        sender=m.mail_from,
                        recipients=list(m.rcpt_tos),
                        hostname="127.0.0.1",
                        port=target.port,
                        use_tls=target.mode == "implicit",
                        start_tls=target.mode == "starttls",
                        tls_context=context,
                        timeout=TIMEOUT,
                    ),
                    2 * TIMEOUT,
                )
            except (OSError, asyncio.TimeoutError, aiosmtplib.SMTPException) as e:  # not TimeoutError on 3.10
                raise AssertionError(f"aiosmtplib, message {i} of {len(messages)}: {e!r}") from e

    # On Python 3.13 a ResourceWarning for an unclosed transport surfaced inside another test
    # once in about six runs. The likeliest source (not proven) is this client's TLS transport,
    # still closing (waiting for the server's close_notify) when asyncio.run closes its loop:
    # so it is collected here, with that warning ignored, rather than in a later test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        asyncio.run(send_all())
        gc.collect()


def send_curl(target: Target, messages: list[Outgoing]) -> None:
    curl = require("curl", "Debian: apt-get install curl")
    scheme = "smtps" if target.mode == "implicit" else "smtp"
    for i, m in enumerate(messages, 1):
        upload = target.workdir / f"curl-{i}.eml"
        upload.write_bytes(m.raw)
        rcpts = [arg for r in m.rcpt_tos for arg in ("--mail-rcpt", r)]
        run(
            [
                curl,
                "--silent",
                "--show-error",
                "--noproxy",
                "*",
                "--max-time",
                str(TIMEOUT),
                "--ssl-reqd",
                "--cacert",
                str(target.ca_file),
                f"{scheme}://127.0.0.1:{target.port}",
                "--mail-from",
                m.mail_from,
                *rcpts,
                "--upload-file",
                str(upload),
            ],
            f"curl, message {i} of {len(messages)}",
        )


def send_msmtp(target: Target, messages: list[Outgoing]) -> None:
    msmtp = require("msmtp", "Debian: apt-get install msmtp")
    config = target.workdir / "msmtprc"
    config.write_text(
        "account test\n"
        "host 127.0.0.1\n"
        f"port {target.port}\n"
        "auth off\n"
        "tls on\n"
        f"tls_starttls {'on' if target.mode == 'starttls' else 'off'}\n"
        f"tls_trust_file {target.ca_file}\n"
        f"timeout {TIMEOUT}\n",
        encoding="utf-8",
    )
    config.chmod(0o600)
    for i, m in enumerate(messages, 1):
        run(
            [msmtp, "-C", str(config), "-a", "test", "-f", m.mail_from, "--", *m.rcpt_tos],
            f"msmtp, message {i} of {len(messages)}",
            stdin=m.raw,
        )


def send_swaks(target: Target, messages: list[Outgoing]) -> None:
    swaks = require("swaks", "Debian: apt-get install swaks libnet-ssleay-perl")
    support = subprocess.run([swaks, "--support"], capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if "=== TLS supported" not in support.stdout + support.stderr:
        missing("swaks cannot speak TLS here (Debian: apt-get install libnet-ssleay-perl)")
    tls = "--tls-on-connect" if target.mode == "implicit" else "--tls"
    for i, m in enumerate(messages, 1):
        data = target.workdir / f"swaks-{i}.eml"
        data.write_bytes(m.raw + b".")  # with --no-data-fixup swaks sends the file, then CRLF
        run(
            [
                swaks,
                "--server",
                "127.0.0.1",
                "--port",
                str(target.port),
                "--timeout",
                str(TIMEOUT),
                "--from",
                m.mail_from,
                "--to",
                ",".join(m.rcpt_tos),
                tls,
                "--tls-verify",
                "--tls-ca-path",
                str(target.ca_file),
                "--no-data-fixup",
                "--data",
                f"@{data}",
            ],
            f"swaks, message {i} of {len(messages)}",
        )


def send_nodemailer(target: Target, messages: list[Outgoing]) -> None:
    node = require("node", "Debian: apt-get install nodejs npm")
    node_modules()
    job = {
        "host": "127.0.0.1",
        "port": target.port,
        "ca": str(target.ca_file),
        "secure": target.mode == "implicit",
        "timeout": TIMEOUT * 1000,
        "messages": [{"from": m.mail_from, "to": list(m.rcpt_tos), "raw": m.raw.decode("ascii")} for m in messages],
    }
    result = run(
        [node, str(CLIENTS / "send-nodemailer.js")],
        "nodemailer",
        stdin=json.dumps(job).encode(),
        timeout=3 * TIMEOUT + len(messages),
    )
    assert result.stdout.decode().count("sent 250 ") == len(messages), result.stdout


SENDERS: dict[str, Sender] = {
    "smtplib": send_smtplib,
    "aiosmtplib": send_aiosmtplib,
    "curl": send_curl,
    "msmtp": send_msmtp,
    "swaks": send_swaks,
    "nodemailer": send_nodemailer,
}


# -- servers ------------------------------------------------------------------------------------


def start_server(loop: str, **options: Any) -> MockSMTPServer:
    """A started server on 127.0.0.1 whose event loop is asyncio's or uvloop's."""
    if loop == "asyncio":
        return MockSMTPServer("127.0.0.1", 0, **options).start()
    try:
        import uvloop
    except ImportError:
        missing("uvloop is not installed (pip install 'mocksmtp[uvloop]')")
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:  # the policy is needed only while the server's loop is made
        return MockSMTPServer("127.0.0.1", 0, **options).start()
    finally:
        asyncio.set_event_loop_policy(previous)


@pytest.fixture(params=["asyncio", "uvloop"])
def loop(request: pytest.FixtureRequest) -> str:
    """The server's event loop."""
    return str(request.param)


@pytest.fixture(params=["starttls", "implicit"])
def target(request: pytest.FixtureRequest, loop: str, tmp_path: Path) -> Iterator[Target]:
    """A TLS server (STARTTLS or implicit) whose CA is in ``tmp_path / "ca.pem"``."""
    server = start_server(loop, tls=request.param)
    try:
        ca_file = tmp_path / "ca.pem"
        ca_file.write_text(server.ca_pem, encoding="ascii")
        yield Target(server, str(request.param), ca_file, tmp_path)
    finally:
        server.stop()


def assert_stored(server: MockSMTPServer, sent: list[Outgoing]) -> None:
    """Every message arrived once, in order, byte for byte, with its envelope, over TLS."""
    stored = server.messages
    tokens = [m.token for m in sent]
    assert len(stored) == len(sent), (
        f"{len(sent)} sent, {len(stored)} stored; missing: "
        f"{[t for t in tokens if not any(t.encode() in m.raw for m in stored)]}"
    )
    for i, (out, message) in enumerate(zip(sent, stored, strict=True), 1):
        assert message.raw == out.raw, f"message {i}: sent {out.raw!r}, stored {message.raw!r}"
        assert message.mail_from == out.mail_from
        assert message.rcpt_tos == out.rcpt_tos
        assert message.tls in ("TLSv1.2", "TLSv1.3"), f"message {i} came without TLS: {message.tls!r}"


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("client", list(SENDERS))
def test_client_delivers_over_verified_tls_again_and_again(client: str, target: Target) -> None:
    """ROUNDS messages, one connection each, all stored byte for byte over verified TLS."""
    sent = outgoing(client, ROUNDS)
    SENDERS[client](target, sent)
    assert_stored(target.server, sent)


@pytest.mark.parametrize("client", list(SENDERS))
def test_client_trusting_another_ca_refuses_the_server(client: str, tmp_path: Path) -> None:
    """The clients really verify: trusting a different CA, each one fails and nothing is stored."""
    server = start_server("asyncio", tls="starttls")
    try:
        other = tmp_path / "other-ca.pem"
        other.write_bytes(trustme.CA().cert_pem.bytes())
        target = Target(server, "starttls", other, tmp_path)
        with pytest.raises(AssertionError, match=r"exit status|SSL|[Cc]ertificate"):
            SENDERS[client](target, outgoing(client, 1))
        assert server.messages == []
    finally:
        server.stop()
