"""Every SMTP reply the engine sends, in one table.

Code and tests say ``REPLY.SYNTAX_ERROR``, never ``"500 ..."``. Codes and enhanced status codes
follow RFC 5321 and RFC 3463; the wording is ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["REPLY", "Reply"]


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply: ``code``, enhanced ``status`` (may be empty) and ``text``.

    >>> Reply(250, "2.0.0", "Ok").line
    b'250 2.0.0 Ok\\r\\n'
    """

    code: int
    status: str
    text: str
    line: bytes = field(init=False, repr=False, compare=False)
    """The reply as sent on the wire, CRLF included (computed once)."""

    def __post_init__(self) -> None:
        middle = f" {self.status}" if self.status else ""
        object.__setattr__(self, "line", f"{self.code}{middle} {self.text}\r\n".encode())

    def with_text(self, text: str) -> Reply:
        """The same code and status with other text (``queued as <id>`` and the like)."""
        return Reply(self.code, self.status, text)

    def __str__(self) -> str:
        return self.line.decode().rstrip("\r\n")


class REPLY:
    """The named replies. Each is a :class:`Reply`; ``REPLY.OK.line`` is its bytes."""

    # 2xx
    OK = Reply(250, "2.0.0", "Ok")
    SENDER_OK = Reply(250, "2.1.0", "Ok")
    RECIPIENT_OK = Reply(250, "2.1.5", "Ok")
    QUEUED = Reply(250, "2.0.0", "Ok: queued as {id}")
    CANNOT_VRFY = Reply(252, "2.0.0", "Cannot VRFY user, but will accept message; try RCPT")
    HELP = Reply(214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH")
    CHUNK_OK = Reply(250, "2.0.0", "Ok: chunk received")
    READY_FOR_TLS = Reply(220, "2.0.0", "Ready to start TLS")
    AUTH_OK = Reply(235, "2.7.0", "Authentication successful")
    BYE = Reply(221, "2.0.0", "Bye")
    # 3xx
    START_DATA = Reply(354, "", "End data with <CR><LF>.<CR><LF>")
    # 4xx
    SHUTTING_DOWN = Reply(421, "4.3.2", "Service shutting down, closing connection")
    TOO_MANY_CONNECTIONS = Reply(421, "4.7.0", "Too many connections, try again later")
    TOO_MANY_ERRORS = Reply(421, "4.7.0", "Too many errors, closing connection")
    TOO_MANY_AUTH_FAILURES = Reply(421, "4.7.0", "Too many authentication failures, closing connection")
    IDLE_TIMEOUT = Reply(421, "4.4.2", "Timeout exceeded, closing connection")
    DATA_TOO_SLOW = Reply(421, "4.4.2", "Data too slow, closing connection")
    STORE_UNAVAILABLE = Reply(421, "4.3.0", "Message store unavailable, try again later; closing connection")
    LOCAL_ERROR = Reply(451, "4.3.0", "Local error in processing; message not stored")
    TOO_MANY_RECIPIENTS = Reply(452, "4.5.3", "Too many recipients")
    INSUFFICIENT_STORAGE = Reply(452, "4.3.1", "Insufficient system storage: too much mail in flight; try again later")
    # 5xx
    TLS_ON_PLAIN_PORT = Reply(500, "5.5.2", "TLS handshake on a plain SMTP connection; use STARTTLS")
    UNRECOGNIZED = Reply(500, "5.5.2", "Command unrecognized")
    SYNTAX_ERROR = Reply(500, "5.5.2", "Syntax error")
    LINE_TOO_LONG = Reply(500, "5.5.2", "Line too long")
    DATA_LINE_TOO_LONG = Reply(500, "5.5.2", "Line too long in message data; message not stored")
    NUL_IN_COMMAND = Reply(501, "5.5.2", "NUL character not allowed in command")
    NO_ARGUMENTS = Reply(501, "5.5.4", "Syntax error: no arguments allowed")
    EHLO_SYNTAX = Reply(501, "5.5.4", "Syntax: EHLO hostname")
    HELO_SYNTAX = Reply(501, "5.5.4", "Syntax: HELO hostname")
    MAIL_SYNTAX = Reply(501, "5.5.4", "Syntax: MAIL FROM:<address>")
    RCPT_SYNTAX = Reply(501, "5.5.4", "Syntax: RCPT TO:<address>")
    VRFY_SYNTAX = Reply(501, "5.5.4", "Syntax: VRFY address")
    BAD_SENDER = Reply(501, "5.1.7", "Bad sender address syntax")
    BAD_RECIPIENT = Reply(501, "5.1.3", "Bad recipient address syntax")
    BAD_PARAMETER_VALUE = Reply(501, "5.5.4", "Invalid parameter value")
    STARTTLS_SYNTAX = Reply(501, "5.5.4", "Syntax: STARTTLS")
    AUTH_SYNTAX = Reply(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]")
    AUTH_BAD_BASE64 = Reply(501, "5.5.2", "Cannot decode response: invalid base64")
    AUTH_MALFORMED = Reply(501, "5.5.2", "Malformed authentication response")
    AUTH_CANCELLED = Reply(501, "5.7.0", "Authentication cancelled")
    BDAT_SYNTAX = Reply(501, "5.5.4", "Syntax: BDAT size [LAST]")
    NOT_IMPLEMENTED = Reply(502, "5.5.1", "Command not implemented")
    NEED_HELO = Reply(503, "5.5.1", "Error: send HELO/EHLO first")
    NESTED_MAIL = Reply(503, "5.5.1", "Error: nested MAIL command")
    NEED_MAIL = Reply(503, "5.5.1", "Error: need MAIL command")
    NEED_RCPT = Reply(503, "5.5.1", "Error: need RCPT command")
    NEED_EHLO = Reply(503, "5.5.1", "Error: send EHLO first")
    ALREADY_TLS = Reply(503, "5.5.1", "Error: TLS already active")
    ALREADY_AUTHENTICATED = Reply(503, "5.5.1", "Error: already authenticated")
    MAIL_IN_PROGRESS = Reply(503, "5.5.1", "Error: MAIL transaction in progress")
    DATA_AFTER_BDAT = Reply(503, "5.5.1", "Error: DATA not allowed after BDAT or with BODY=BINARYMIME")
    BDAT_AFTER_FAILURE = Reply(503, "5.5.1", "Error: an earlier chunk failed; send RSET")
    UNKNOWN_MECHANISM = Reply(504, "5.5.4", "Unrecognized authentication mechanism")
    TLS_REQUIRED = Reply(530, "5.7.0", "Must issue a STARTTLS command first")
    AUTH_REQUIRED = Reply(530, "5.7.0", "Authentication required")
    AUTH_FAILED = Reply(535, "5.7.8", "Authentication credentials invalid")
    MESSAGE_TOO_BIG = Reply(552, "5.3.4", "Message size exceeds fixed limit")
    NON_ASCII_ADDRESS = Reply(553, "5.6.7", "Non-ASCII address needs the SMTPUTF8 parameter")
    BARE_LINE_ENDING = Reply(550, "5.6.0", "Bare CR or LF in message data; message not stored")
    UNKNOWN_PARAMETER = Reply(555, "5.5.4", "Unsupported MAIL/RCPT parameter")
