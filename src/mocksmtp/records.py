"""A :class:`~mocksmtp.Message` as a JSON object and back: the raw bytes (base64) and the
whole envelope, so a message read over HTTP (``mocksmtp.connect``) is the message that was
stored, with the same parsed views.

>>> m = Message(id="1", raw=b"Subject: hi\\r\\n\\r\\nbody\\r\\n", mail_from="a@example.com", rcpt_tos=["b@example.com"])
>>> again = from_record(record(m))
>>> again == m, again.rcpt_tos, again.subject
(True, ('b@example.com',), 'hi')
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .errors import MockSMTPError
from .message import Message, _unpickle

__all__ = ["from_record", "record"]


def record(m: Message) -> dict[str, Any]:
    """``m`` as a JSON-ready dict: ``id``, ``raw`` (base64), the envelope, ``received_at``
    (ISO 8601, UTC) and ``flags`` (including those only the engine saw)."""
    return {
        "id": m.id,
        "mail_from": m.mail_from,
        "rcpt_tos": list(m.rcpt_tos),
        "mail_options": list(m.mail_options),
        "peer": list(m.peer),
        "helo": m.helo,
        "received_at": m.received_at.isoformat(),
        "tls": m.tls,
        "auth_user": m.auth_user,
        "flags": sorted(m.flags),
        "raw": base64.b64encode(m.raw).decode("ascii"),
    }


def from_record(r: Mapping[str, Any]) -> Message:
    """The :class:`~mocksmtp.Message` a :func:`record` describes; :class:`~mocksmtp.MockSMTPError`
    when ``r`` is not one."""
    try:
        host, port = r["peer"]
        # _unpickle is Message's own way to rebuild itself with the flags raw cannot show
        return _unpickle(
            str(r["id"]),
            base64.b64decode(r["raw"], validate=True),
            str(r["mail_from"]),
            tuple(map(str, r["rcpt_tos"])),
            tuple(map(str, r["mail_options"])),
            (str(host), int(port)),
            str(r["helo"]),
            datetime.fromisoformat(r["received_at"]),
            r["tls"],
            r["auth_user"],
            frozenset(map(str, r["flags"])),
        )
    except (KeyError, TypeError, ValueError, binascii.Error) as e:
        raise MockSMTPError(f"not a message record mocksmtp wrote ({type(e).__name__}: {e})") from None
