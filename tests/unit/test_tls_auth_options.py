"""Validation of the TLS and AUTH options, the trustme extra, and the EHLO reply per session."""

from __future__ import annotations

import sys

import pytest

from mocksmtp import ConfigError, Credentials, SMTPOptions
from mocksmtp.smtp.state import EngineContext, Session
from mocksmtp.smtp.tls import ServerTLS
from mocksmtp.store import MemoryStore


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"tls": "ssl"}, "tls must be"),
        ({"require_tls": True}, "need tls="),
        ({"certfile": "c.pem"}, "need tls="),
        ({"tls": "starttls", "keyfile": "k.pem"}, "keyfile was given without certfile"),
        ({"tls": "starttls", "tls_handshake_timeout": 0}, "tls_handshake_timeout"),
        ({"auth": "yes"}, "auth must be"),
        ({"auth": {}}, "empty"),
        ({"auth": {"": "pw"}}, "non-empty user"),
        ({"require_auth": True}, "require_auth needs"),
        ({"auth": "any", "max_auth_failures": -1}, "max_auth_failures must be a non-negative integer"),
        ({"auth": "any", "max_auth_failures": 2.5}, "max_auth_failures must be a non-negative integer"),
    ],
)
def test_invalid_options(options: dict[str, object], error: str) -> None:
    """Inconsistent TLS and AUTH options are refused with a message saying what to do."""
    with pytest.raises(ConfigError, match=error):
        SMTPOptions.from_kwargs(options)


def test_auth_mapping_becomes_credentials_hiding_passwords() -> None:
    """A user mapping is kept as Credentials; the options' repr shows no password."""
    options = SMTPOptions(auth={"alice": "s3cret"})
    assert isinstance(options.auth, Credentials)
    assert options.auth == {"alice": "s3cret"}
    assert "s3cret" not in repr(options)


def test_missing_trustme_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without trustme, a throw-away certificate is a ConfigError naming the extra."""
    monkeypatch.setitem(sys.modules, "trustme", None)
    with pytest.raises(ConfigError, match=r"pip install 'mocksmtp\[tls\]'"):
        ServerTLS.create(SMTPOptions(tls="starttls"))


def test_throwaway_certificate_names() -> None:
    """The throw-away certificate covers localhost, 127.0.0.1, ::1 and the configured names."""
    pytest.importorskip("trustme")
    tls = ServerTLS.create(SMTPOptions(tls="starttls", hostname="mx.example"), ["0.0.0.0", "LOCALHOST"])
    assert tls.names == ("localhost", "127.0.0.1", "::1", "mx.example")


def test_ehlo_depends_on_session_state() -> None:
    """STARTTLS only before TLS; AUTH only when configured, and with require_tls only inside TLS."""
    pytest.importorskip("trustme")
    store = MemoryStore()
    plain, in_tls = Session(), Session(tls="TLSv1.3")
    ctx = EngineContext(SMTPOptions(tls="starttls", auth="any", require_tls=True), store)
    assert "STARTTLS" in ctx.extensions(plain)
    assert not any(e.startswith("AUTH") for e in ctx.extensions(plain))
    assert "STARTTLS" not in ctx.extensions(in_tls)
    assert "AUTH PLAIN LOGIN" in ctx.extensions(in_tls)
    assert b"STARTTLS" not in ctx.ehlo_reply(in_tls)
    bare = EngineContext(SMTPOptions(), store)
    assert "STARTTLS" not in bare.extensions(plain)
    assert not any(e.startswith("AUTH") for e in bare.extensions(plain))
    assert {"CHUNKING", "BINARYMIME"} <= set(bare.extensions(plain))
