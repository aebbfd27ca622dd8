"""TLS material for one server: the server's ``SSLContext`` and a client context that trusts it.

With ``certfile`` the server uses that certificate; without it, a throw-away CA and a
certificate for ``localhost``, ``127.0.0.1``, ``::1`` (and the configured names) are made with
``trustme``, the ``mocksmtp[tls]`` extra. This is the only module that imports ``trustme``, and
only when a throw-away certificate is needed.

>>> from mocksmtp.config import SMTPOptions
>>> material = ServerTLS.create(SMTPOptions(tls="starttls"))   # doctest: +SKIP
>>> material.client_context().check_hostname                   # doctest: +SKIP
True
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Iterable

from ..config import SMTPOptions
from ..errors import ConfigError

__all__ = ["ServerTLS", "tls_version"]

_DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")
_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----", re.DOTALL)


class ServerTLS:
    """The server side ``context`` plus the PEM text a client needs to trust it (``ca_pem``).

    ``ca_pem`` is the throw-away CA's certificate, or with ``certfile`` the certificates in
    that file (never a private key the file may also hold).
    """

    __slots__ = ("ca_pem", "context", "names")

    def __init__(self, context: ssl.SSLContext, ca_pem: str, names: tuple[str, ...]) -> None:
        self.context = context
        self.ca_pem = ca_pem
        self.names = names

    def __repr__(self) -> str:
        return f"<ServerTLS names={list(self.names)!r}>"

    @classmethod
    def create(cls, options: SMTPOptions, extra_names: Iterable[str] = ()) -> ServerTLS:
        """Build the server context from ``options`` (``certfile``/``keyfile`` or ``trustme``).

        Raises :class:`~mocksmtp.ConfigError` when the files cannot be loaded or ``trustme`` is
        missing.
        """
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if options.certfile:
            try:
                context.load_cert_chain(options.certfile, options.keyfile)
                with open(options.certfile, encoding="ascii") as f:
                    ca_pem = _certificates(f.read())
            except (OSError, ssl.SSLError, ValueError) as e:
                raise ConfigError(
                    f"cannot load certfile={options.certfile!r} keyfile={options.keyfile!r}: {e}; "
                    "give PEM files, or neither for a throw-away certificate"
                ) from e
            return cls(context, ca_pem, ())
        names = _identities([*_DEFAULT_NAMES, options.hostname, *extra_names])
        try:
            import trustme
        except ImportError as e:
            raise ConfigError(
                f"tls={options.tls!r} without certfile needs trustme to make a throw-away "
                "certificate: pip install 'mocksmtp[tls]' (or give certfile= and keyfile=)"
            ) from e
        ca = trustme.CA(organization_name="mocksmtp throw-away CA")
        cert = ca.issue_cert(*names)
        cert.configure_cert(context)
        return cls(context, ca.cert_pem.bytes().decode("ascii"), names)

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate and checks host names."""
        context = ssl.create_default_context(cadata=self.ca_pem)
        if not self.names:  # the user's certfile: trust exactly its certificates, CA or not
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        return context


def _certificates(pem: str) -> str:
    """The ``CERTIFICATE`` blocks of a PEM text, in order, one per line group; keys dropped."""
    return "".join(block.replace("\r\n", "\n") + "\n" for block in _CERTIFICATE.findall(pem))


def _identities(candidates: Iterable[str]) -> tuple[str, ...]:
    """Distinct names and addresses a certificate can carry, in order; wildcards dropped."""
    seen: dict[str, None] = {}
    for name in candidates:
        if name in _WILDCARD_HOSTS or not name:
            continue
        try:
            name = str(ipaddress.ip_address(name))
        except ValueError:
            name = name.lower().rstrip(".")
            if not name or any(c.isspace() or c in "/\\" for c in name):
                continue
        seen.setdefault(name, None)
    return tuple(seen)


def tls_version(extra: object) -> str | None:
    """The TLS version (``"TLSv1.3"``) of an ``ssl_object`` from ``get_extra_info``, else None."""
    if isinstance(extra, ssl.SSLObject | ssl.SSLSocket):
        return extra.version()
    return None
