"""Catalogue group A: commands and their sequencing, through a raw socket."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.support import RawClient, assert_healthy

from mocksmtp import REPLY, MockSMTPServer, Reply

MakeServer = Callable[..., MockSMTPServer]


def test_empty_line_is_a_syntax_error_and_the_session_goes_on(server: MockSMTPServer) -> None:
    """An empty command line gets 500; the next command works."""
    with RawClient(server.port) as c:
        assert c.code("") == REPLY.SYNTAX_ERROR.code
        assert c.code("NOOP") == REPLY.OK.code
    assert_healthy(server, stored=0)


@pytest.mark.parametrize(
    "line",
    [b"FROB", b"FROB with args", b"MAILFROM:<a@example.com>", b"\x80\xffNOOP", b"NO\xc3\xa9OP", b"\tNOOP", b" NOOP"],
)
def test_unknown_verbs_get_500(server: MockSMTPServer, line: bytes) -> None:
    """Unknown verbs, 8-bit bytes in a verb and leading whitespace get 500, never a crash."""
    with RawClient(server.port) as c:
        assert c.code(line) == REPLY.UNRECOGNIZED.code
        assert c.code("EHLO client.example") == 250
    assert_healthy(server, stored=0)


def test_mail_before_helo_is_503(server: MockSMTPServer) -> None:
    """MAIL before HELO/EHLO gets 503; after EHLO the same MAIL is accepted."""
    with RawClient(server.port) as c:
        assert c.code("MAIL FROM:<a@example.com>") == REPLY.NEED_HELO.code
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == REPLY.SENDER_OK.code
    assert_healthy(server, stored=0)


def test_nested_mail_is_503_and_keeps_the_first_sender(server: MockSMTPServer) -> None:
    """A second MAIL inside a transaction gets 503; the message carries the first sender."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<first@example.com>") == 250
        assert c.code("MAIL FROM:<second@example.com>") == REPLY.NESTED_MAIL.code
        assert c.code("RCPT TO:<b@example.com>") == 250
        assert c.code("DATA") == 354
        c.send(b"hi\r\n.\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.mail_from == "first@example.com"
    assert_healthy(server, stored=1)


@pytest.mark.parametrize(
    ("commands", "expected"),
    [
        (["RCPT TO:<b@example.com>"], REPLY.NEED_MAIL),
        (["DATA"], REPLY.NEED_MAIL),
        (["MAIL FROM:<a@example.com>", "DATA"], REPLY.NEED_RCPT),
    ],
    ids=["rcpt-before-mail", "data-before-mail", "data-before-rcpt"],
)
def test_out_of_sequence_commands_are_503(server: MockSMTPServer, commands: list[str], expected: Reply) -> None:
    """RCPT before MAIL and DATA before MAIL or RCPT get 503; nothing is stored."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        *setup, last = commands
        for line in setup:
            assert c.code(line) == 250
        assert c.code(last) == expected.code == 503
        # The session is still usable and the refused DATA did not start a message.
        assert c.code("RSET") == 250
    assert_healthy(server, stored=0)


@pytest.mark.parametrize(
    "line",
    [
        "MAIL",
        "MAIL FROM",
        "MAIL FROM:",
        "MAIL TO:<a@example.com>",
        "MAIL FROM <a@example.com>",
        "MAIL FROM:<a@example.com",
        "MAIL FROM:a@example.com>",
        "MAIL FROM:<a@example.com>x",
        "MAIL FROM:<<a@example.com>>",
        "MAIL FROM:<a@example.com><b@example.com>",
        "MAIL FROM:<a b@example.com>",
    ],
)
def test_malformed_mail_is_501(server: MockSMTPServer, line: str) -> None:
    """MAIL with a malformed argument gets 501 and starts no transaction."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code(line) == 501
        assert c.code("RCPT TO:<b@example.com>") == REPLY.NEED_MAIL.code
    assert_healthy(server, stored=0)


@pytest.mark.parametrize(
    "line",
    [
        "RCPT",
        "RCPT TO",
        "RCPT TO:",
        "RCPT FROM:<b@example.com>",
        "RCPT TO:<b@example.com",
        "RCPT TO:b@example.com>",
        "RCPT TO:<b@example.com>junk",
        "RCPT TO:<>",
    ],
)
def test_malformed_rcpt_is_501(server: MockSMTPServer, line: str) -> None:
    """RCPT with a malformed argument gets 501 and adds no recipient."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code(line) == 501
        assert c.code("DATA") == REPLY.NEED_RCPT.code
    assert_healthy(server, stored=0)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("FOO=1", REPLY.UNKNOWN_PARAMETER),
        ("XFORWARD", REPLY.UNKNOWN_PARAMETER),
        ("SIZE=abc", REPLY.BAD_PARAMETER_VALUE),
        ("SIZE=", REPLY.BAD_PARAMETER_VALUE),
        ("SIZE=-1", REPLY.BAD_PARAMETER_VALUE),
        ("SIZE=\u0661\u0662", REPLY.BAD_PARAMETER_VALUE),
        ("BODY=9BIT", REPLY.BAD_PARAMETER_VALUE),
        ("BODY", REPLY.BAD_PARAMETER_VALUE),
        ("SMTPUTF8=yes", REPLY.BAD_PARAMETER_VALUE),
        ("=x", REPLY.BAD_PARAMETER_VALUE),
        ("SIZE=1=2", REPLY.BAD_PARAMETER_VALUE),
    ],
)
def test_unknown_or_malformed_mail_parameters_are_refused(server: MockSMTPServer, params: str, expected: Reply) -> None:
    """An unknown ESMTP parameter gets 555, a malformed one 501; no transaction starts."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code(f"MAIL FROM:<a@example.com> {params}".encode()) == expected.code
        assert c.code("RCPT TO:<b@example.com>") == REPLY.NEED_MAIL.code
    assert_healthy(server, stored=0)


def test_rcpt_parameters_are_refused_with_555(server: MockSMTPServer) -> None:
    """RCPT parameters are not supported (no DSN): 555, and the recipient is not added."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code("RCPT TO:<b@example.com> NOTIFY=NEVER") == REPLY.UNKNOWN_PARAMETER.code
        assert c.code("DATA") == REPLY.NEED_RCPT.code
    assert_healthy(server, stored=0)


def test_esmtp_parameters_after_plain_helo_are_refused(server: MockSMTPServer) -> None:
    """After HELO (not EHLO) no extension was offered, so MAIL parameters get 555."""
    with RawClient(server.port) as c:
        assert c.code("HELO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com> SIZE=10") == REPLY.UNKNOWN_PARAMETER.code
        assert c.code("MAIL FROM:<a@example.com>") == 250
    assert_healthy(server, stored=0)


def test_known_mail_parameters_are_recorded_as_sent(server: MockSMTPServer) -> None:
    """SIZE, BODY and SMTPUTF8 are accepted and kept on the message exactly as sent."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com> size=4 Body=8bitmime SMTPUTF8") == 250
        assert c.code("RCPT TO:<b@example.com>") == 250
        assert c.code("DATA") == 354
        c.send(b"hi\r\n.\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.mail_options == ("size=4", "Body=8bitmime", "SMTPUTF8")
    assert_healthy(server, stored=1)


@pytest.mark.parametrize("line", ["QUIT now", "RSET all", "DATA please"])
def test_arguments_to_quit_rset_data_are_501(server: MockSMTPServer, line: str) -> None:
    """QUIT, RSET and DATA take no argument: 501, and the command is not carried out."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code("RCPT TO:<b@example.com>") == 250
        assert c.code(line) == REPLY.NO_ARGUMENTS.code
        # Not quit, not reset, not in DATA: the transaction is intact and completes.
        assert c.code("DATA") == 354
        c.send(b"still here\r\n.\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.raw == b"still here\r\n"
    assert_healthy(server, stored=1)


def test_rset_mid_transaction_then_data_is_503_and_stores_nothing(server: MockSMTPServer) -> None:
    """RSET forgets the sender and recipients: DATA then gets 503 and nothing is stored."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code("RCPT TO:<b@example.com>") == 250
        assert c.code("RSET") == REPLY.OK.code
        assert c.code("DATA") == REPLY.NEED_MAIL.code
        assert c.code("RCPT TO:<b@example.com>") == REPLY.NEED_MAIL.code
    assert_healthy(server, stored=0)


def test_ehlo_mid_transaction_resets_it(server: MockSMTPServer) -> None:
    """EHLO inside a transaction starts over: a new MAIL is not nested."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code("EHLO client.example") == 250
        assert c.code("DATA") == REPLY.NEED_MAIL.code
        assert c.code("MAIL FROM:<c@example.com>") == 250
    assert_healthy(server, stored=0)


@pytest.mark.parametrize("line", ["HELO", "EHLO", "HELO ", "EHLO   "])
def test_helo_and_ehlo_need_an_argument(server: MockSMTPServer, line: str) -> None:
    """HELO/EHLO without a name get 501 and do not open the session."""
    with RawClient(server.port) as c:
        assert c.code(line) == 501
        assert c.code("MAIL FROM:<a@example.com>") == REPLY.NEED_HELO.code
    assert_healthy(server, stored=0)


def test_ehlo_advertises_the_extensions(server: MockSMTPServer) -> None:
    """EHLO names SIZE with the limit, 8BITMIME, SMTPUTF8, PIPELINING and ENHANCEDSTATUSCODES."""
    with RawClient(server.port) as c:
        code, lines = c.command("EHLO client.example")
    assert code == 250
    assert f"SIZE {server.options.max_message_size}" in lines
    assert {"8BITMIME", "SMTPUTF8", "PIPELINING", "ENHANCEDSTATUSCODES", "CHUNKING"} <= set(lines)
    assert not any(line.startswith(("STARTTLS", "AUTH")) for line in lines)


def test_vrfy_never_confirms_and_expn_is_not_implemented(server: MockSMTPServer) -> None:
    """VRFY gets 252 (never a fake 250), VRFY without argument 501, EXPN 502."""
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        assert c.code("VRFY postmaster") == REPLY.CANNOT_VRFY.code == 252
        assert c.code("VRFY") == REPLY.VRFY_SYNTAX.code
        assert c.code("EXPN staff") == REPLY.NOT_IMPLEMENTED.code == 502
    assert_healthy(server, stored=0)


def test_noop_and_help_answer_in_any_state(server: MockSMTPServer) -> None:
    """NOOP (250) and HELP (214) work before HELO and inside a transaction."""
    with RawClient(server.port) as c:
        assert c.code("NOOP") == 250
        assert c.code("HELP") == REPLY.HELP.code
        assert c.code("EHLO client.example") == 250
        assert c.code("MAIL FROM:<a@example.com>") == 250
        assert c.code("NOOP anything") == 250
        assert c.code("HELP MAIL") == 214
        assert c.code("RCPT TO:<b@example.com>") == 250
    assert_healthy(server, stored=0)


def test_lowercase_verbs_and_keywords_are_accepted(server: MockSMTPServer) -> None:
    """Verbs and FROM:/TO: are case-insensitive; the whole transaction works in lowercase."""
    with RawClient(server.port) as c:
        assert c.code("ehlo client.example") == 250
        assert c.code("mail from:<a@example.com>") == 250
        assert c.code("rcpt to:<b@example.com>") == 250
        assert c.code("data") == 354
        c.send(b"lower\r\n.\r\n")
        assert c.read_reply()[0] == 250
        assert c.code("quit") == REPLY.BYE.code
        assert c.is_closed()
    (m,) = server.messages
    assert (m.mail_from, m.rcpt_tos, m.raw) == ("a@example.com", ("b@example.com",), b"lower\r\n")
    assert_healthy(server, stored=1)


def test_local_part_and_domain_case_are_preserved(server: MockSMTPServer) -> None:
    """Addresses are stored exactly as sent: no case folding anywhere."""
    with RawClient(server.port) as c:
        code, _ = c.send_message("John.Smith@Example.COM", ["Jane.DOE@example.com", "jane.doe@example.com"], b"x\r\n")
    assert code == 250
    (m,) = server.messages
    assert m.mail_from == "John.Smith@Example.COM"
    assert m.rcpt_tos == ("Jane.DOE@example.com", "jane.doe@example.com")
    assert_healthy(server, stored=1)


def test_command_lines_may_end_in_lf_alone(server: MockSMTPServer) -> None:
    """Command lines ending in a bare LF are accepted (data still ends only at CRLF.CRLF)."""
    with RawClient(server.port) as c:
        c.send(b"EHLO client.example\nMAIL FROM:<a@example.com>\nRCPT TO:<b@example.com>\nDATA\n")
        assert c.read_replies(4) == [250, 250, 250, 354]
        c.send(b"body\n.\nstill body\r\n.\r\n")
        assert c.read_reply()[0] == 250
    (m,) = server.messages
    assert m.raw == b"body\n.\nstill body\r\n"
    assert_healthy(server, stored=1)


def test_quit_says_221_and_closes(server: MockSMTPServer) -> None:
    """QUIT gets 221 and the server closes the connection; commands after it are ignored."""
    with RawClient(server.port) as c:
        c.send(b"QUIT\r\nEHLO client.example\r\nMAIL FROM:<a@example.com>\r\n")
        assert [code for code, _ in c.replies_until_closed()] == [REPLY.BYE.code]
    assert_healthy(server, stored=0)


def test_too_many_bad_commands_close_the_session(make_server: MakeServer) -> None:
    """The max_bad_commands-th bad command gets its reply, then 421 4.7.0 and close."""
    server = make_server(max_bad_commands=3)
    with RawClient(server.port) as c:
        assert c.code("FROB") == 500
        assert c.code("MAIL FROM:<a@example.com>") == 503
        c.send(b"FROB\r\nNOOP\r\n")
        replies = c.replies_until_closed()
    assert [code for code, _ in replies] == [500, REPLY.TOO_MANY_ERRORS.code]
    assert replies[-1][1][0].startswith(REPLY.TOO_MANY_ERRORS.status)
    assert_healthy(server, stored=0)


def test_good_commands_do_not_count_toward_the_bad_command_limit(make_server: MakeServer) -> None:
    """Only bad commands count: a long correct session never hits max_bad_commands."""
    server = make_server(max_bad_commands=2)
    with RawClient(server.port) as c:
        assert c.code("EHLO client.example") == 250
        for _ in range(20):
            assert c.code("NOOP") == 250
            assert c.code("RSET") == 250
        assert c.code("FROB") == 500
        code, _ = c.send_message("a@example.com", ["b@example.com"], b"x\r\n", ehlo=False)
        assert code == 250
    assert_healthy(server, stored=1)
