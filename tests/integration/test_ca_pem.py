"""The CA as PEM: ``server.ca_pem`` and ``mocksmtp --tls ... --ca-file PATH``, so clients outside
Python can verify the server's certificate."""

from __future__ import annotations

import re
import signal
import smtplib
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support import token

from mocksmtp import ConfigError, MockSMTPServer

from .processes import PYTHON, Process

trustme = pytest.importorskip("trustme")

MakeServer = Callable[..., MockSMTPServer]


def send_verified(port: int, context: ssl.SSLContext, *, host: str = "127.0.0.1") -> bytes:
    """One message over STARTTLS with ``context`` (certificate and host name checked)."""
    body = f"Subject: verified\r\n\r\n{token()}\r\n".encode()
    with smtplib.SMTP(host, port, timeout=5) as client:
        client.starttls(context=context)
        client.sendmail("app@example.com", ["user@example.com"], body)
    return body


def test_ca_pem_alone_lets_a_client_verify_the_throw_away_certificate(make_server: MakeServer) -> None:
    """A client context built from nothing but ``server.ca_pem`` verifies the server and delivers."""
    server = make_server(tls="starttls")
    assert server.ca_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" not in server.ca_pem
    body = send_verified(server.port, ssl.create_default_context(cadata=server.ca_pem))
    (message,) = server.messages
    assert message.raw == body
    assert message.tls is not None


def test_ca_pem_is_a_ca_not_the_server_certificate(make_server: MakeServer) -> None:
    """``ca_pem`` is the CA's own certificate: trusting it trusts what it signed, host names checked."""
    server = make_server(tls="implicit")
    context = ssl.create_default_context(cadata=server.ca_pem)
    (ca,) = context.get_ca_certs()
    assert ca["subject"] == ca["issuer"]  # self-signed: the CA, not the leaf it issued
    with smtplib.SMTP_SSL("127.0.0.1", server.port, timeout=5, context=context) as client:
        assert client.noop()[0] == 250


def test_ca_pem_is_known_before_start_and_kept_across_restarts() -> None:
    """The CA exists from creation and survives stop/start, so a file written once stays valid."""
    server = MockSMTPServer("127.0.0.1", 0, tls="starttls")
    before = server.ca_pem
    with server:
        send_verified(server.port, ssl.create_default_context(cadata=before))
    with server:
        assert server.ca_pem == before
        send_verified(server.port, ssl.create_default_context(cadata=before))
    assert server.get_message_count() == 2


def test_ca_pem_with_certfile_is_its_certificates_without_the_key(make_server: MakeServer, tmp_path: Path) -> None:
    """With a certfile that holds the key too, ``ca_pem`` is its certificate only, and a client
    trusting it verifies a self-signed certificate."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    combined = tmp_path / "combined.pem"  # the key first, then the certificate: both in one file
    combined.write_bytes(cert.private_key_pem.bytes() + cert.cert_chain_pems[0].bytes())
    server = make_server(tls="starttls", certfile=str(combined))
    assert "PRIVATE KEY" not in server.ca_pem
    assert server.ca_pem == cert.cert_chain_pems[0].bytes().decode().replace("\r\n", "\n")

    ca_only = ssl.create_default_context(cadata=ca.cert_pem.bytes().decode())
    send_verified(server.port, ca_only)
    assert server.messages[0].tls is not None


def test_ca_pem_without_tls_is_an_error(make_server: MakeServer) -> None:
    """A plain server has no CA; asking for it says how to enable TLS."""
    server = make_server()
    with pytest.raises(ConfigError, match="tls='starttls'"):
        server.ca_pem  # noqa: B018


def start_cli(*args: str) -> Process:
    return Process(
        [PYTHON, "-m", "mocksmtp", "--host", "127.0.0.1", "--port", "0", "--no-http", "--stats-interval", "0", *args]
    )


def test_cli_ca_file_is_written_and_named_at_start(tmp_path: Path) -> None:
    """``--tls starttls --ca-file PATH`` writes the CA before it says where it listens; a client
    trusting only that file verifies the server and delivers."""
    path = tmp_path / "ca.pem"
    proc = start_cli("--tls", "starttls", "--ca-file", str(path))
    try:
        first = proc.read_line()
        assert first == f"mocksmtp: wrote the CA certificate to {path} (clients trust it to verify --tls)"
        listening = proc.read_line()
        match = re.fullmatch(r"mocksmtp: listening on 127\.0\.0\.1:(\d+) \(Ctrl\+C to stop\)", listening)
        assert match, listening
        pem = path.read_text(encoding="ascii")
        assert pem.startswith("-----BEGIN CERTIFICATE-----")
        send_verified(int(match.group(1)), ssl.create_default_context(cafile=str(path)))
        assert "from <app@example.com>" in proc.read_line()
        proc.proc.send_signal(signal.SIGINT)
        status, _, err = proc.finish()
    finally:
        proc.kill()
    assert status == 0, err


def test_cli_ca_file_without_tls_is_a_usage_error(tmp_path: Path) -> None:
    """``--ca-file`` without ``--tls`` exits with status 2 and says what is missing; no file appears."""
    path = tmp_path / "ca.pem"
    proc = start_cli("--ca-file", str(path))
    try:
        status, _, err = proc.finish()
    finally:
        proc.kill()
    assert status == 2
    assert "--ca-file needs --tls" in err
    assert not path.exists()


def test_cli_ca_file_that_cannot_be_written_is_an_error(tmp_path: Path) -> None:
    """An unwritable ``--ca-file`` path is a one-line error with status 2, not a traceback."""
    path = tmp_path / "missing-dir" / "ca.pem"
    proc = start_cli("--tls", "starttls", "--ca-file", str(path))
    try:
        status, _, err = proc.finish()
    finally:
        proc.kill()
    assert status == 2
    assert f"mocksmtp: error: cannot write --ca-file {path}" in err
    assert "Traceback" not in err
