"""The STARTTLS command (RFC 3207): upgrade a session's transport in place with ``loop.start_tls``.

After ``220`` the session reads nothing until the handshake is done, and whatever plaintext
the client had already sent (``STARTTLS\\r\\nNOOP\\r\\n`` in one segment) is dropped: commands
pipelined past STARTTLS must never run inside the TLS session (CVE-2011-0411). On success the
session starts afresh (no HELO, no AUTH), as RFC 3207 requires; on failure or timeout the
connection is closed and the server carries on.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .replies import REPLY
from .state import Envelope, Session
from .tls import tls_version

if TYPE_CHECKING:
    from .protocol import SMTPProtocol

__all__ = ["cmd_starttls"]


def cmd_starttls(proto: SMTPProtocol, arg: bytes) -> None:
    """``STARTTLS``: ``220`` and a handshake, or 501/502/503 when it cannot be done."""
    ctx = proto.ctx
    if proto.session.tls is not None:
        proto._reply(REPLY.ALREADY_TLS)
        return
    if ctx.tls is None or ctx.options.tls != "starttls":
        proto._reply(REPLY.NOT_IMPLEMENTED)
        return
    if arg.strip():
        proto._reply(REPLY.STARTTLS_SYNTAX)
        return
    if proto.envelope.mail_from is not None:
        proto._reply(REPLY.MAIL_IN_PROGRESS)
        return
    transport = proto.transport
    if transport is None:  # pragma: no cover - commands only arrive on a connected session
        return
    proto._send(REPLY.READY_FOR_TLS.line)
    proto._flush()
    proto._suspend()
    proto._discard_input = True
    proto._buf.clear()
    proto._tls_task = asyncio.get_running_loop().create_task(_handshake(proto, transport))


async def _handshake(proto: SMTPProtocol, transport: asyncio.Transport) -> None:
    ctx = proto.ctx
    assert ctx.tls is not None
    loop = asyncio.get_running_loop()
    try:
        new = await loop.start_tls(transport, proto, ctx.tls.context, server_side=True,
                                   ssl_handshake_timeout=ctx.options.tls_handshake_timeout)
    except Exception as e:  # handshake failed, timed out, or the client went away
        ctx.logger.info("%s TLS handshake failed: %s", proto._peer_text(), e or type(e).__name__)
        # The loop never calls connection_lost for a connection lost during a handshake.
        transport.abort()
        proto.connection_lost(None)
        return
    finally:
        proto._tls_task = None
    if proto._closed or new is None:
        new.close() if new is not None else transport.close()
        return
    proto.transport = new
    proto.session = Session(peer=proto.session.peer, tls=tls_version(new.get_extra_info("ssl_object")))
    proto.envelope = Envelope()
    proto._must_tls = False
    proto._buf.clear()
    proto._discard_input = False
    proto._suspended = False
    proto._last_activity = loop.time()
    if ctx.debug:
        ctx.logger.debug("%s TLS started: %s", proto._peer_text(), proto.session.tls)
