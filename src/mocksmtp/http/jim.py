"""``/api/v2/jim``: MailHog's chaos monkey, Jim, made of the server's injected faults.

``POST`` invites Jim (201; 400 if he is already there), ``PUT`` changes him (404 if he is not),
``GET`` shows him (404 if he is not) and ``DELETE`` sends him away (404 if he is not there).
The JSON is MailHog's: eight numbers, the chances from 0 to 1. Each chance becomes faults of
the registry (``server.faults`` lists them; ``clear_faults()`` and the plugin's reset send Jim
away):

=========================  ===================================================================
MailHog's setting          mocksmtp's faults
=========================  ===================================================================
``AcceptChance``           a ``connect`` fault that drops the connection before the greeting,
                           with probability ``1 - AcceptChance`` (as MailHog closes it)
``DisconnectChance``       ``disconnect`` faults at ``helo``, ``mail``, ``rcpt`` and ``data``
                           with that probability (MailHog rolls after every command read;
                           ours roll before each of these commands would succeed)
``RejectSenderChance``     a ``mail`` fault answering ``550 5.1.0 Invalid sender``
``RejectRecipientChance``  a ``rcpt`` fault answering ``550 5.1.1 Invalid recipient``
``RejectAuthChance``       an ``auth`` fault answering ``500`` (MailHog's "unrecognised
                           command")
``LinkSpeedAffect``,       kept and shown, **not applied**: mocksmtp does not throttle a
``LinkSpeedMin/Max``       connection (a ``delay`` fault is the nearest thing)
=========================  ===================================================================

Where MailHog differs: a setting left out of the body keeps its default (``POST``) or its
current value (``PUT``), where MailHog sets it to 0; a bad value is a 400 naming it, where
MailHog ignores a body it cannot read.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import ConfigError
from .requests import bad, read_body

if TYPE_CHECKING:
    from starlette.requests import Request

    from .faults import FaultControl, FaultLike

__all__ = ["DEFAULTS", "JimRoutes"]

DEFAULTS: dict[str, float] = {
    "DisconnectChance": 0.005,
    "AcceptChance": 0.99,
    "LinkSpeedAffect": 0.1,
    "LinkSpeedMin": 1024.0,
    "LinkSpeedMax": 10240.0,
    "RejectSenderChance": 0.05,
    "RejectRecipientChance": 0.05,
    "RejectAuthChance": 0.05,
}
"""MailHog's defaults (its ``-jim-*`` flags), in its order."""

_SPEEDS = ("LinkSpeedMin", "LinkSpeedMax")
_REJECTIONS = {
    "RejectSenderChance": ("mail", 550, "5.1.0 Invalid sender (Jim, the chaos monkey)"),
    "RejectRecipientChance": ("rcpt", 550, "5.1.1 Invalid recipient (Jim, the chaos monkey)"),
    "RejectAuthChance": ("auth", 500, "5.5.2 Unrecognised command (Jim, the chaos monkey)"),
}
_DISCONNECT_STAGES = ("helo", "mail", "rcpt", "data")


def settings(body: dict[str, Any], base: dict[str, float]) -> dict[str, float]:
    """``base`` with the values ``body`` gives; :class:`~mocksmtp.ConfigError` naming a bad one."""
    found = dict(base)
    for name, value in body.items():
        if name not in DEFAULTS:
            raise ConfigError(f"unknown setting {str(name)[:40]!r}; Jim's settings are {', '.join(DEFAULTS)}")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ConfigError(f"{name} must be a number, got {value!r}"[:200])
        if name in _SPEEDS:
            if value < 0:
                raise ConfigError(f"{name} must be a speed in bytes per second, 0 or more, got {value!r}")
        elif not 0 <= value <= 1:
            raise ConfigError(f"{name} must be a chance from 0 to 1, got {value!r}")
        found[name] = float(value)
    return found


def _faults(control: FaultControl, jim: dict[str, float]) -> list[FaultLike]:
    """Register the faults that play ``jim``."""
    made: list[FaultLike] = []
    refuse = 1 - jim["AcceptChance"]
    if refuse > 0:
        made.append(control.add("connect", disconnect=True, probability=refuse))
    if jim["DisconnectChance"] > 0:
        for stage in _DISCONNECT_STAGES:
            made.append(control.add(stage, disconnect=True, probability=jim["DisconnectChance"]))
    for name, (stage, code, message) in _REJECTIONS.items():
        if jim[name] > 0:
            made.append(control.add(stage, code=code, message=message, probability=jim[name]))
    return made


class JimRoutes:
    """Jim's state on one server, and the handlers of ``/api/v2/jim``."""

    def __init__(self, control: FaultControl | None) -> None:
        self.control = control
        self._jim: dict[str, float] | None = None
        self._made: list[FaultLike] = []

    def routes(self) -> list[Route]:
        return [Route("/api/v2/jim", self.handle, methods=["GET", "POST", "PUT", "DELETE"])]

    def current(self) -> dict[str, float] | None:
        """Jim's settings, or ``None`` when he is not there (never invited, sent away, or one of
        his faults was removed, as ``clear_faults()`` does: then he takes the others with him)."""
        if self._jim is not None and self.control is not None:
            live = {f.id for f in self.control.faults()}
            if not all(f.id in live for f in self._made):
                self._leave()
        return self._jim

    def _leave(self) -> None:
        for fault in self._made:
            fault.remove()
        self._jim, self._made = None, []

    async def handle(self, request: Request) -> Response:
        control = self.control
        if control is None:
            raise bad("Jim is not available on this server", 404)
        jim, method = self.current(), request.method
        if method == "GET" or (method in ("PUT", "DELETE") and jim is None):
            if jim is None:
                raise bad("Jim is not here: POST /api/v2/jim invites him", 404)
            return JSONResponse(jim)
        if method == "DELETE":
            self._leave()
            return Response(status_code=200)
        if method == "POST" and jim is not None:
            raise bad("Jim is already here: PUT /api/v2/jim changes him, DELETE sends him away")
        try:
            wanted = settings(await read_body(request, forms=False), jim or DEFAULTS)
        except ConfigError as e:
            raise bad(str(e)) from None
        self._leave()
        self._jim, self._made = wanted, _faults(control, wanted)
        return JSONResponse(wanted, status_code=201 if method == "POST" else 200)
