"""AUTH PLAIN, LOGIN and CRAM-MD5 with smtplib, swaks and raw sockets; catalogue group J."""

from __future__ import annotations

import base64
import logging
import smtplib
from collections.abc import Callable

import pytest
from tests.support import RawClient, swaks

from mocksmtp import MockSMTPServer

MakeServer = Callable[..., MockSMTPServer]
USERS = {"alice": "correct horse", "bob": "b0b!"}
MECHANISMS = ["PLAIN", "LOGIN", "CRAM-MD5"]
BODY = "Subject: hi\r\n\r\nhello\r\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _login(client: smtplib.SMTP, mechanism: str, user: str, password: str) -> tuple[int, bytes]:
    client.user, client.password = user, password
    if mechanism == "CRAM-MD5":  # apart: its overloaded type does not join with the other two
        return client.auth(mechanism, client.auth_cram_md5)
    return client.auth(mechanism, {"PLAIN": client.auth_plain, "LOGIN": client.auth_login}[mechanism])


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_each_mechanism_succeeds_with_right_credentials(make_server: MakeServer, mechanism: str) -> None:
    """Each mechanism authenticates with the right password; the user is on the message."""
    server = make_server(auth=USERS)
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        client.ehlo()
        assert _login(client, mechanism, "alice", "correct horse")[0] == 235
        client.sendmail("app@example.com", ["user@example.com"], BODY)
    assert server.messages[0].auth_user == "alice"


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_each_mechanism_fails_with_535_on_wrong_credentials(make_server: MakeServer, mechanism: str) -> None:
    """A wrong password, or an unknown user, gets 535 5.7.8 with every mechanism."""
    server = make_server(auth=USERS)
    for user, password in (("alice", "wrong"), ("mallory", "correct horse")):
        with smtplib.SMTP(server.host, server.port, timeout=5) as client:
            client.ehlo()
            with pytest.raises(smtplib.SMTPAuthenticationError) as failure:
                _login(client, mechanism, user, password)
            assert failure.value.smtp_code == 535
            error = failure.value.smtp_error
            assert isinstance(error, bytes)
            assert error.startswith(b"5.7.8"), error


def test_smtplib_login_after_starttls(make_server: MakeServer) -> None:
    """smtplib's login() after starttls picks a mechanism and the message records user and TLS."""
    pytest.importorskip("trustme")
    server = make_server(tls="starttls", auth=USERS, require_tls=True, require_auth=True)
    with smtplib.SMTP("localhost", server.port, timeout=5) as client:
        client.starttls(context=server.client_ssl_context())
        client.login("bob", "b0b!")
        client.sendmail("app@example.com", ["user@example.com"], BODY)
    (message,) = server.messages
    assert message.auth_user == "bob"
    assert message.tls is not None


def test_auth_any_accepts_any_credentials(make_server: MakeServer) -> None:
    """auth='any' accepts any user and password with PLAIN and LOGIN."""
    server = make_server(auth="any")
    for mechanism in ("PLAIN", "LOGIN"):
        with smtplib.SMTP(server.host, server.port, timeout=5) as client:
            client.ehlo()
            assert _login(client, mechanism, f"user-{mechanism}", "whatever")[0] == 235
            client.sendmail("a@example.com", ["b@example.com"], BODY)
    assert [m.auth_user for m in server.messages] == ["user-PLAIN", "user-LOGIN"]


def test_auth_any_does_not_offer_cram_md5(make_server: MakeServer) -> None:
    """With auth='any' CRAM-MD5 is not advertised (it cannot be checked) and gets 504."""
    server = make_server(auth="any")
    with RawClient(server.port) as c:
        _, lines = c.command("EHLO client.example")
        assert "AUTH PLAIN LOGIN" in lines
        assert c.code("AUTH CRAM-MD5") == 504


def test_auth_mapping_advertises_all_mechanisms(make_server: MakeServer) -> None:
    """With a password mapping, EHLO offers PLAIN, LOGIN and CRAM-MD5."""
    server = make_server(auth=USERS)
    with RawClient(server.port) as c:
        assert "AUTH PLAIN LOGIN CRAM-MD5" in c.command("EHLO client.example")[1]


def test_auth_not_offered_by_default(server: MockSMTPServer) -> None:
    """Without the auth option AUTH is not advertised and answers 502."""
    with RawClient(server.port) as c:
        assert not any(line.startswith("AUTH") for line in c.command("EHLO client.example")[1])
        assert c.code("AUTH PLAIN " + _b64(b"\0a\0b")) == 502


def test_require_auth_gives_530_to_mail_before_auth(make_server: MakeServer) -> None:
    """require_auth: MAIL before a successful AUTH gets 530 5.7.0; after it, 250."""
    server = make_server(auth=USERS, require_auth=True)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        code, (text,) = c.command("MAIL FROM:<a@example.com>")
        assert (code, text[:5]) == (530, "5.7.0")
        assert c.code("AUTH PLAIN " + _b64(b"\0alice\0wrong")) == 535
        assert c.code("MAIL FROM:<a@example.com>") == 530
        assert c.code("AUTH PLAIN " + _b64(b"\0alice\0correct horse")) == 235
        assert c.code("MAIL FROM:<a@example.com>") == 250


def test_plain_without_initial_response(make_server: MakeServer) -> None:
    """AUTH PLAIN without an initial response gets an empty 334 challenge, then the response."""
    server = make_server(auth=USERS)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.command("AUTH PLAIN") == (334, [""])
        assert c.code(_b64(b"alice\0alice\0correct horse")) == 235


def test_login_with_initial_user(make_server: MakeServer) -> None:
    """AUTH LOGIN with the user as initial response asks only for the password."""
    server = make_server(auth=USERS)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.command("AUTH LOGIN " + _b64(b"bob")) == (334, [_b64(b"Password:")])
        assert c.code(_b64(b"b0b!")) == 235


# -- catalogue group J ------------------------------------------------------------------------


def test_bad_base64_is_501(make_server: MakeServer) -> None:
    """Bad base64, in the initial response or a continuation, gets 501; the session goes on."""
    server = make_server(auth=USERS)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("AUTH PLAIN not*base64!") == 501
        assert c.command("AUTH LOGIN")[0] == 334
        assert c.code("%%%") == 501
        assert c.code("NOOP") == 250


def test_plain_with_wrong_field_count_is_501(make_server: MakeServer) -> None:
    """PLAIN needs exactly authzid NUL authcid NUL password."""
    server = make_server(auth=USERS)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("AUTH PLAIN " + _b64(b"alice\0correct horse")) == 501
        assert c.code("AUTH PLAIN " + _b64(b"\0alice\0correct horse\0extra")) == 501
        assert c.code("AUTH PLAIN " + _b64(b"\0alice\0correct horse")) == 235


def test_star_cancels_login(make_server: MakeServer) -> None:
    """'*' in answer to a LOGIN challenge cancels the exchange with 501."""
    server = make_server(auth=USERS)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.command("AUTH LOGIN")[0] == 334
        assert c.command(_b64(b"alice"))[0] == 334
        assert c.code("*") == 501
        assert c.code("NOOP") == 250


def test_unknown_mechanism_is_504(make_server: MakeServer) -> None:
    """An unknown mechanism gets 504."""
    server = make_server(auth=USERS)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("AUTH XOAUTH2 abc") == 504
        assert c.code("AUTH") == 501


def test_auth_before_ehlo_is_503(make_server: MakeServer) -> None:
    """AUTH before EHLO, or after HELO (no ESMTP), gets 503."""
    server = make_server(auth=USERS)
    with RawClient(server.port) as c:
        assert c.code("AUTH PLAIN " + _b64(b"\0alice\0correct horse")) == 503
        c.command("HELO client.example")
        assert c.code("AUTH PLAIN " + _b64(b"\0alice\0correct horse")) == 503


def test_auth_twice_is_503(make_server: MakeServer) -> None:
    """A second AUTH after success gets 503."""
    server = make_server(auth=USERS)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("AUTH PLAIN " + _b64(b"\0alice\0correct horse")) == 235
        assert c.code("AUTH PLAIN " + _b64(b"\0bob\0b0b!")) == 503


def test_auth_inside_transaction_is_503(make_server: MakeServer) -> None:
    """AUTH after MAIL gets 503."""
    server = make_server(auth=USERS)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code("AUTH PLAIN " + _b64(b"\0alice\0correct horse")) == 503


def test_huge_continuation_line_is_bounded(make_server: MakeServer) -> None:
    """A 1 MB continuation line ends the exchange with 500; the session stays usable."""
    server = make_server(auth=USERS)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.command("AUTH LOGIN")[0] == 334
        c.send(b"A" * (1024 * 1024) + b"\r\n")
        assert c.read_reply()[0] == 500
        assert c.code("NOOP") == 250
        assert c.code("AUTH PLAIN " + _b64(b"\0alice\0correct horse")) == 235


def test_passwords_are_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    """With the dialogue logged at DEBUG, no password appears, plain or base64, in any form."""
    caplog.set_level(logging.DEBUG, logger="mocksmtp")
    with MockSMTPServer("127.0.0.1", 0, True, auth=USERS) as server:
        with RawClient(server.port) as c:
            c.command("EHLO client.example")
            assert c.code("AUTH PLAIN " + _b64(b"\0alice\0correct horse")) == 235
        with RawClient(server.port) as c:
            c.command("EHLO client.example")
            c.command("AUTH LOGIN")
            c.command(_b64(b"bob"))
            assert c.code(_b64(b"b0b!")) == 235
        with RawClient(server.port) as c:
            c.command("EHLO client.example")
            assert c.command("AUTH PLAIN")[0] == 334
            assert c.code(_b64(b"\0alice\0wrong password")) == 535
        text = caplog.text + repr(server.options)
    assert "AUTH PLAIN ****" in text  # the dialogue was logged
    for secret in ("correct horse", "b0b!", "wrong password"):
        assert secret not in text
    for raw in (b"\0alice\0correct horse", b"b0b!", b"\0alice\0wrong password"):
        assert _b64(raw) not in text


# -- swaks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_swaks_auth(make_server: MakeServer, mechanism: str) -> None:
    """swaks --auth MECHANISM authenticates and delivers; a wrong password fails."""
    server = make_server(auth=USERS)
    ok = swaks(server.port, "--auth", mechanism, "--auth-user", "alice", "--auth-password", "correct horse")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert server.messages[0].auth_user == "alice"
    bad = swaks(server.port, "--auth", mechanism, "--auth-user", "alice", "--auth-password", "nope")
    assert bad.returncode != 0
    assert "535" in bad.stdout
    assert server.get_message_count() == 1


def test_swaks_auth_over_tls_with_pipelining(make_server: MakeServer) -> None:
    """swaks --tls --auth PLAIN --pipeline delivers with user and TLS recorded."""
    pytest.importorskip("trustme")
    server = make_server(tls="starttls", auth=USERS, require_tls=True)
    result = swaks(
        server.port, "--tls", "--auth", "PLAIN", "--auth-user", "bob", "--auth-password", "b0b!", "--pipeline"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (message,) = server.messages
    assert message.auth_user == "bob"
    assert message.tls is not None


# -- failed attempts are limited per connection --------------------------------------------------


def test_a_failure_past_the_limit_gets_535_then_421_and_close(make_server: MakeServer) -> None:
    """A connection may fail AUTH max_auth_failures (3) times; the fourth 535 is followed by
    421 4.7.0 and the connection is closed. The failures are counted in stats."""
    server = make_server(auth=USERS)
    wrong = "AUTH PLAIN " + _b64(b"\0alice\0wrong")
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert [c.code(wrong) for _ in range(3)] == [535, 535, 535]
        c.send(wrong.encode() + b"\r\n")
        replies = c.replies_until_closed()
    assert [(code, texts[0][:5]) for code, texts in replies] == [(535, "5.7.8"), (421, "4.7.0")]
    assert server.stats.auth_failures == 4
    assert server.stats.as_dict()["auth_failures"] == 4
    with RawClient(server.port) as c:  # a new connection may try again
        c.command("EHLO client.example")
        assert c.code("AUTH PLAIN " + _b64(b"\0alice\0correct horse")) == 235


def test_one_failed_smtplib_login_stays_within_the_default(make_server: MakeServer) -> None:
    """smtplib's login() tries CRAM-MD5, PLAIN and LOGIN: one failed call (three 535s) leaves
    the connection open, so the client can still QUIT cleanly."""
    server = make_server(auth=USERS)
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("alice", "wrong")
        assert client.noop()[0] == 250
    assert server.stats.auth_failures == 3


def test_pipelined_guessing_is_cut_off_after_the_limit(make_server: MakeServer) -> None:
    """10,000 wrong logins pipelined on one connection get 4 replies of 535, then 421, then
    the connection is closed: nothing more is tried."""
    server = make_server(auth=USERS, max_auth_failures=3)
    guess = ("AUTH PLAIN " + _b64(b"\0alice\0guess") + "\r\n").encode()
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        c.try_send(guess * 10_000)
        codes = [code for code, _ in c.replies_until_closed()]
    assert codes == [535, 535, 535, 535, 421]
    assert server.stats.auth_failures == 4


def test_login_failures_count_across_mechanisms_and_starttls(make_server: MakeServer) -> None:
    """Failures with LOGIN and PLAIN add up, and STARTTLS does not reset the count."""
    pytest.importorskip("trustme")
    server = make_server(auth=USERS, tls="starttls", max_auth_failures=1)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        assert c.command("AUTH LOGIN " + _b64(b"alice"))[0] == 334
        assert c.code(_b64(b"wrong")) == 535
        assert c.code("STARTTLS") == 220
        c.starttls(server.client_ssl_context())
        c.command("EHLO client.example")
        c.send(("AUTH PLAIN " + _b64(b"\0alice\0wrong") + "\r\n").encode())
        assert [code for code, _ in c.replies_until_closed()] == [535, 421]


def test_max_auth_failures_zero_means_no_limit(make_server: MakeServer) -> None:
    """max_auth_failures=0: every wrong login gets 535 and the session goes on."""
    server = make_server(auth=USERS, max_auth_failures=0)
    with RawClient(server.port) as c:
        c.command("EHLO client.example")
        c.send(("AUTH PLAIN " + _b64(b"\0alice\0wrong") + "\r\n").encode() * 20)
        assert c.read_replies(20) == [535] * 20
        assert c.code("AUTH PLAIN " + _b64(b"\0alice\0correct horse")) == 235
    assert server.stats.auth_failures == 20
