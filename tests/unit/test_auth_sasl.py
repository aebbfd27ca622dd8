"""SASL decoding and checking for AUTH, without sockets."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from mocksmtp import REPLY
from mocksmtp.smtp.auth import AuthError, Login, check_plain, decode_response, mechanisms, verify


def test_mechanisms_per_option() -> None:
    """None offers nothing, 'any' PLAIN and LOGIN, a mapping adds CRAM-MD5."""
    assert mechanisms(None) == ()
    assert mechanisms("any") == ("PLAIN", "LOGIN")
    assert mechanisms({"a": "b"}) == ("PLAIN", "LOGIN", "CRAM-MD5")


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        (b"*", REPLY.AUTH_CANCELLED),
        (b"!!!", REPLY.AUTH_BAD_BASE64),
        (b"YWJ", REPLY.AUTH_BAD_BASE64),
    ],
)
def test_decode_response_errors(line: bytes, reply: object) -> None:
    """'*' cancels, invalid base64 (characters or padding) is 501."""
    with pytest.raises(AuthError) as e:
        decode_response(line)
    assert e.value.reply is reply


def test_decode_response_empty_and_valid() -> None:
    """'=' is an empty response; valid base64 decodes."""
    assert decode_response(b"=") == b""
    assert decode_response(b" YWJj \r") == b"abc"


def test_plain_fields() -> None:
    """PLAIN takes the authcid and password; two or four fields, or no user, are malformed."""
    assert check_plain(b"admin\0alice\0pw") == Login("alice", "PLAIN", "pw")
    for bad in (b"alice\0pw", b"\0\0pw", b"\0a\0b\0c", b"\0al\xffice\0pw"):
        with pytest.raises(AuthError):
            check_plain(bad)


def test_login_repr_hides_the_password() -> None:
    """A Login never shows its password."""
    assert "s3cret" not in repr(Login("alice", "PLAIN", "s3cret"))


def test_verify_against_mapping_and_any() -> None:
    """Mapping: exact user and password; 'any': everything but CRAM-MD5; None: nothing."""
    users = {"alice": "pw"}
    assert verify(users, Login("alice", "LOGIN", "pw"))
    assert not verify(users, Login("alice", "LOGIN", "PW"))
    assert not verify(users, Login("bob", "LOGIN", "pw"))
    assert verify("any", Login("anyone", "PLAIN", ""))
    assert not verify("any", Login("anyone", "CRAM-MD5"))
    assert not verify(None, Login("alice", "PLAIN", "pw"))


def test_verify_cram_md5_digest() -> None:
    """CRAM-MD5 checks the HMAC-MD5 of the challenge keyed with the password."""
    challenge = b"<123.456@localhost>"
    digest = hmac.new(b"pw", challenge, hashlib.md5).hexdigest()
    assert verify({"alice": "pw"}, Login("alice", "CRAM-MD5", challenge=challenge, digest=digest))
    assert not verify({"alice": "other"}, Login("alice", "CRAM-MD5", challenge=challenge, digest=digest))
