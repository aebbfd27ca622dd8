"""STARTTLS and implicit TLS with real clients, and catalogue group I of smtp-behaviour.md."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support import RawClient, swaks

from mocksmtp import ConfigError, MockSMTPServer

trustme = pytest.importorskip("trustme")

MakeServer = Callable[..., MockSMTPServer]
BODY = "Subject: secret\r\n\r\nover TLS\r\n"


def _ehlo_keywords(client: RawClient) -> list[str]:
    code, lines = client.command("EHLO client.example")
    assert code == 250
    return [line.split()[0].upper() for line in lines[1:]]


def _assert_healthy(server: MockSMTPServer) -> None:
    """A fresh plain client can still send, and it arrives."""
    before = server.get_message_count()
    with RawClient(server.port) as c:
        assert c.send_message("after@example.com", ["x@example.com"], b"ok\r\n")[0] == 250
    assert server.get_message_count() == before + 1


# -- Done when: real clients deliver and verify the certificate ------------------------------


def test_smtplib_starttls_verifies_certificate_and_delivers(make_server: MakeServer) -> None:
    """smtplib with starttls(context=server.client_ssl_context()) delivers over verified TLS."""
    server = make_server(tls="starttls")
    context = server.client_ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    with smtplib.SMTP("localhost", server.port, timeout=5) as client:
        client.starttls(context=context)
        client.sendmail("app@example.com", ["user@example.com"], BODY)
    (message,) = server.messages
    assert message.tls in ("TLSv1.2", "TLSv1.3")
    assert message.raw == BODY.encode()


def test_smtplib_smtp_ssl_delivers_on_implicit_tls(make_server: MakeServer) -> None:
    """SMTP_SSL on an implicit-TLS server delivers, verifying the certificate."""
    server = make_server(tls="implicit")
    with smtplib.SMTP_SSL("localhost", server.port, timeout=5, context=server.client_ssl_context()) as client:
        client.sendmail("app@example.com", ["user@example.com"], BODY)
    (message,) = server.messages
    assert message.tls is not None
    assert message.tls.startswith("TLSv1.")


def test_client_that_does_not_trust_the_ca_fails_the_handshake(make_server: MakeServer) -> None:
    """A client with the system trust store rejects the throw-away certificate; server unharmed."""
    server = make_server(tls="starttls")
    with smtplib.SMTP("localhost", server.port, timeout=5) as client, pytest.raises(ssl.SSLCertVerificationError):
        client.starttls(context=ssl.create_default_context())
    _assert_healthy(server)
    assert server.get_message_count() == 1


def test_implicit_tls_untrusted_client_fails(make_server: MakeServer) -> None:
    """SMTP_SSL without the server's CA fails verification on an implicit-TLS server."""
    server = make_server(tls="implicit")
    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib.SMTP_SSL("localhost", server.port, timeout=5, context=ssl.create_default_context())


def test_host_name_is_checked(make_server: MakeServer) -> None:
    """The certificate names localhost and 127.0.0.1, not other hosts: a wrong name fails."""
    server = make_server(tls="starttls")
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("STARTTLS") == 220
        with pytest.raises(ssl.SSLCertVerificationError):
            c.starttls(server.client_ssl_context(), server_hostname="mail.example.org")


def test_certificate_covers_ip_literal(make_server: MakeServer) -> None:
    """Connecting to 127.0.0.1 verifies too (the certificate carries the address)."""
    server = make_server(tls="starttls")
    with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as client:
        client.starttls(context=server.client_ssl_context())
        client.sendmail("a@example.com", ["b@example.com"], BODY)
    assert server.get_message_count() == 1


def test_own_certfile_and_keyfile(make_server: MakeServer, tmp_path: Path) -> None:
    """With certfile/keyfile the server uses them and client_ssl_context trusts that certificate."""
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    server = make_server(tls="starttls", certfile=str(certfile), keyfile=str(keyfile))
    with smtplib.SMTP("localhost", server.port, timeout=5) as client:
        client.starttls(context=server.client_ssl_context())
        client.sendmail("a@example.com", ["b@example.com"], BODY)
    assert server.messages[0].tls is not None


def test_unreadable_certfile_is_a_config_error(tmp_path: Path) -> None:
    """A certfile that cannot be loaded is reported when the server is created."""
    with pytest.raises(ConfigError, match="cannot load certfile"):
        MockSMTPServer("127.0.0.1", 0, tls="starttls", certfile=str(tmp_path / "missing.pem"))


def test_client_ssl_context_without_tls_is_an_error(server: MockSMTPServer) -> None:
    """Asking a plain server for a client context says how to enable TLS."""
    with pytest.raises(ConfigError, match="tls='starttls'"):
        server.client_ssl_context()


def test_plain_messages_record_no_tls(server: MockSMTPServer) -> None:
    """A message sent without TLS has tls None."""
    with RawClient(server.port) as c:
        c.send_message("a@example.com", ["b@example.com"], b"x\r\n")
    assert server.messages[0].tls is None


# -- advertisement --------------------------------------------------------------------------


def test_starttls_advertised_before_tls_only(make_server: MakeServer) -> None:
    """STARTTLS is in the EHLO reply before TLS and absent after the handshake."""
    server = make_server(tls="starttls")
    with RawClient(server.port) as c:
        assert "STARTTLS" in _ehlo_keywords(c)
        assert c.code("STARTTLS") == 220
        c.starttls(server.client_ssl_context())
        assert "STARTTLS" not in _ehlo_keywords(c)


def test_starttls_never_advertised_without_certificate(server: MockSMTPServer) -> None:
    """A server without TLS does not advertise STARTTLS and answers it 502."""
    with RawClient(server.port) as c:
        assert "STARTTLS" not in _ehlo_keywords(c)
        assert c.code("STARTTLS") == 502


def test_implicit_tls_does_not_advertise_starttls(make_server: MakeServer) -> None:
    """Inside implicit TLS, STARTTLS is neither advertised nor accepted (503)."""
    server = make_server(tls="implicit")
    with smtplib.SMTP_SSL("localhost", server.port, timeout=5, context=server.client_ssl_context()) as client:
        client.ehlo()
        assert not client.has_extn("starttls")
        assert client.docmd("STARTTLS")[0] == 503


# -- catalogue group I ------------------------------------------------------------------------


def test_tls_client_hello_on_plain_port_is_refused(server: MockSMTPServer) -> None:
    """A TLS ClientHello on the plain port gets 500 and the connection is closed; no crash."""
    with RawClient(server.port) as c:
        raw_context = ssl.create_default_context()
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = raw_context.wrap_bio(incoming, outgoing, server_hostname="localhost")
        with pytest.raises(ssl.SSLWantReadError):
            tls.do_handshake()
        c.send(outgoing.read())
        assert c.read_until_closed().startswith(b"500 ")
    _assert_healthy(server)


def test_garbage_after_ready_to_start_tls(make_server: MakeServer) -> None:
    """Garbage instead of a ClientHello fails the handshake and closes; the server stays healthy."""
    server = make_server(tls="starttls")
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("STARTTLS") == 220
        c.send(b"this is not a TLS record\r\n" * 20)
        c.read_until_closed()
    _assert_healthy(server)


def test_stalled_handshake_times_out(make_server: MakeServer) -> None:
    """A client that never starts the handshake is disconnected after tls_handshake_timeout."""
    server = make_server(tls="starttls", tls_handshake_timeout=0.3)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("STARTTLS") == 220
        started = time.monotonic()
        assert c.is_closed()
        assert time.monotonic() - started >= 0.25
    _assert_healthy(server)


def test_stalled_implicit_handshake_times_out(make_server: MakeServer) -> None:
    """On an implicit-TLS port, a client that sends nothing is dropped after the timeout."""
    server = make_server(tls="implicit", tls_handshake_timeout=0.3)
    with RawClient(server.port, read_greeting=False) as c:
        assert c.is_closed()


def test_pipelined_command_after_starttls_is_discarded(make_server: MakeServer) -> None:
    """STARTTLS\\r\\nNOOP\\r\\n in one segment: only 220; the NOOP never runs inside TLS."""
    server = make_server(tls="starttls")
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        c.send(b"STARTTLS\r\nNOOP\r\n")
        assert c.read_reply()[0] == 220
        c.starttls(server.client_ssl_context())
        code, lines = c.command("EHLO again.example")
        assert code == 250
        assert lines[0] == "localhost"
        assert c.code("NOOP") == 250


def test_mail_after_handshake_needs_new_ehlo(make_server: MakeServer) -> None:
    """RFC 3207: the session is reset by STARTTLS; MAIL without a new EHLO gets 503."""
    server = make_server(tls="starttls")
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("STARTTLS") == 220
        c.starttls(server.client_ssl_context())
        assert c.code("MAIL FROM:<a@example.com>") == 503
        assert c.send_message("a@example.com", ["b@example.com"], b"x\r\n")[0] == 250
    assert server.messages[0].helo == "client.example"


def test_starttls_inside_tls_is_refused(make_server: MakeServer) -> None:
    """A second STARTTLS gets 503."""
    server = make_server(tls="starttls")
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("STARTTLS") == 220
        c.starttls(server.client_ssl_context())
        c.command("EHLO client.example")
        assert c.code("STARTTLS") == 503


def test_starttls_with_argument_is_501(make_server: MakeServer) -> None:
    """STARTTLS takes no argument."""
    server = make_server(tls="starttls")
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("STARTTLS now") == 501
        assert c.code("NOOP") == 250


def test_starttls_inside_a_transaction_is_refused(make_server: MakeServer) -> None:
    """STARTTLS after MAIL gets 503 (the transaction would be lost silently)."""
    server = make_server(tls="starttls")
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code("STARTTLS") == 503


def test_require_tls_gates_commands_until_starttls(make_server: MakeServer) -> None:
    """require_tls: 530 5.7.0 to MAIL, HELO, RSET and AUTH before STARTTLS; NOOP/EHLO/QUIT work."""
    server = make_server(tls="starttls", require_tls=True, auth="any")
    with RawClient(server.port) as c:
        keywords = _ehlo_keywords(c)
        assert "STARTTLS" in keywords
        assert "AUTH" not in keywords
        assert c.code("NOOP") == 250
        for command in ("MAIL FROM:<a@example.com>", "HELO x", "RSET", "AUTH PLAIN AGEAYg=="):
            code, (text,) = c.command(command)
            assert (code, text[:5]) == (530, "5.7.0")
        assert c.code("STARTTLS") == 220
        c.starttls(server.client_ssl_context())
        assert "AUTH" in _ehlo_keywords(c)
        assert c.send_message("a@example.com", ["b@example.com"], b"x\r\n", ehlo=False)[0] == 250
    with RawClient(server.port) as c:
        assert c.code("QUIT") == 221
    assert server.get_message_count() == 1


def test_require_tls_with_smtplib(make_server: MakeServer) -> None:
    """smtplib without starttls is refused with 530; with it, delivers."""
    server = make_server(tls="starttls", require_tls=True)
    with (
        smtplib.SMTP("localhost", server.port, timeout=5) as client,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        client.sendmail("a@example.com", ["b@example.com"], BODY)
    assert refused.value.smtp_code == 530
    with smtplib.SMTP("localhost", server.port, timeout=5) as client:
        client.starttls(context=server.client_ssl_context())
        client.sendmail("a@example.com", ["b@example.com"], BODY)
    assert server.get_message_count() == 1


def test_stop_during_handshake_returns(make_server: MakeServer) -> None:
    """Stopping the server while a client sits in the handshake ends that session."""
    server = make_server(tls="starttls")
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("STARTTLS") == 220
        server.stop(timeout=2)
        assert server.stats.active_connections == 0
        assert c.is_closed()


# -- swaks ------------------------------------------------------------------------------------


def test_swaks_starttls(make_server: MakeServer) -> None:
    """swaks --tls delivers over STARTTLS."""
    server = make_server(tls="starttls")
    result = swaks(server.port, "--tls")
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.messages[0].tls is not None


def test_swaks_tls_on_connect(make_server: MakeServer) -> None:
    """swaks --tlsc delivers over implicit TLS."""
    server = make_server(tls="implicit")
    result = swaks(server.port, "--tlsc")
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.messages[0].tls is not None


def test_swaks_pipelining_over_tls(make_server: MakeServer) -> None:
    """swaks --tls --pipeline sends the envelope in one go; the message arrives intact."""
    server = make_server(tls="starttls")
    result = swaks(server.port, "--tls", "--pipeline", "--to", "a@example.com,b@example.com")
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.messages[0].rcpt_tos == ("a@example.com", "b@example.com")
