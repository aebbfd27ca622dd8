"""``/api/mocksmtp/faults``: the server's injected faults over HTTP, for tests in any language.

``POST`` takes the arguments of :meth:`~mocksmtp.MockSMTPServer.inject_fault` as JSON and
answers 201 with the fault (its ``id``, ``triggered`` and ``remaining``); ``GET`` lists the
faults still registered, oldest first; ``GET``/``DELETE`` ``/api/mocksmtp/faults/{id}`` read or
remove one; ``DELETE /api/mocksmtp/faults`` removes them all. Every field is checked by the
fault registry itself (the one validation ``inject_fault`` does), and a bad one is a 400 with a
one-line reason naming it:

.. code-block:: console

    $ curl -d '{"stage": "rcpt", "code": 451, "match": "x@example.com", "times": 1}' \\
        http://127.0.0.1:8025/api/mocksmtp/faults
    {"id":"1","stage":"rcpt","code":451,"message":"4.3.0 Temporary failure (injected fault)",...}

``match`` is a string (compared without case); ``match_regex`` a regular expression (Python's
syntax, used with ``search``). A fault injected in Python with a callable lists it by name in
``match_callable``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import ConfigError
from .requests import bad, read_body

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["FIELDS", "FaultControl", "FaultRoutes", "fault_json", "parse_fault"]

FIELDS = ("stage", "code", "message", "match", "match_regex", "times", "probability", "delay", "disconnect")
"""The fields of a fault in a ``POST`` body."""


class ReplyLike(Protocol):
    @property
    def code(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def text(self) -> str: ...


class FaultLike(Protocol):
    """What this module reads of a :class:`mocksmtp.Fault` (the engine's; http does not import it)."""

    @property
    def id(self) -> str: ...
    @property
    def stage(self) -> str: ...
    @property
    def reply(self) -> ReplyLike | None: ...
    @property
    def match(self) -> object: ...
    @property
    def times(self) -> int | None: ...
    @property
    def remaining(self) -> int | None: ...
    @property
    def triggered(self) -> int: ...
    @property
    def probability(self) -> float: ...
    @property
    def delay(self) -> float: ...
    @property
    def disconnect(self) -> bool: ...
    def remove(self) -> None: ...


class FaultControl(Protocol):
    """The server's fault registry, as the HTTP API uses it."""

    @property
    def add(self) -> Callable[..., FaultLike]:
        """``add(stage, code=, message=, match=, times=, probability=, delay=, disconnect=)``."""

    def find(self, id: str) -> FaultLike | None: ...
    def faults(self) -> Sequence[FaultLike]: ...
    def clear(self) -> None: ...


def fault_json(fault: FaultLike) -> dict[str, Any]:
    """A fault as the API shows it; ``code`` and ``message`` are ``null`` for a pure delay
    and a disconnect."""
    reply, match = fault.reply, fault.match
    return {
        "id": fault.id,
        "stage": fault.stage,
        "code": reply.code if reply else None,
        "message": " ".join(filter(None, (reply.status, reply.text))) if reply else None,
        "match": match if isinstance(match, str) else None,
        "match_regex": match.pattern if isinstance(match, re.Pattern) else None,
        "match_callable": _name(match) if callable(match) else None,
        "times": fault.times,
        "remaining": fault.remaining,
        "triggered": fault.triggered,
        "probability": fault.probability,
        "delay": fault.delay,
        "disconnect": fault.disconnect,
    }


def _name(value: object) -> str:
    return str(getattr(value, "__qualname__", type(value).__name__))


def parse_fault(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(stage, keyword arguments)`` for the registry from a ``POST`` body; raises
    :class:`~mocksmtp.ConfigError` for what only JSON can get wrong (the registry checks the rest)."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ConfigError(f"unknown field {str(unknown[0])[:40]!r}; the fields are {', '.join(FIELDS)}")
    stage = body.get("stage")
    if not isinstance(stage, str):
        raise ConfigError("stage is required: one of connect, helo, auth, mail, rcpt, data, message")
    arguments = {k: v for k, v in body.items() if k not in ("stage", "match_regex") and v is not None}
    pattern = body.get("match_regex")
    if pattern is not None:
        if "match" in arguments:
            raise ConfigError("give match (a string) or match_regex (a regular expression), not both")
        if not isinstance(pattern, str):
            raise ConfigError(f"match_regex must be a regular expression as a string, got {pattern!r}"[:200])
        try:
            arguments["match"] = re.compile(pattern)
        except re.error as e:
            raise ConfigError(f"match_regex is not a valid regular expression: {e}") from None
    elif "match" in arguments and not isinstance(arguments["match"], str):
        raise ConfigError(f"match must be a string, got {arguments['match']!r}"[:200])
    return stage, arguments


class FaultRoutes:
    """The handlers over one server's fault registry (``None``: a server without faults)."""

    def __init__(self, control: FaultControl | None) -> None:
        self.control = control

    def routes(self) -> list[Route]:
        return [
            Route("/api/mocksmtp/faults", self.list, methods=["GET"]),
            Route("/api/mocksmtp/faults", self.create, methods=["POST"]),
            Route("/api/mocksmtp/faults", self.clear, methods=["DELETE"]),
            Route("/api/mocksmtp/faults/{id}", self.get, methods=["GET"]),
            Route("/api/mocksmtp/faults/{id}", self.delete, methods=["DELETE"]),
        ]

    def _control(self) -> FaultControl:
        if self.control is None:
            raise bad("faults are not available on this server", 404)
        return self.control

    def _fault(self, request: Request) -> FaultLike:
        id = request.path_params["id"]
        fault = self._control().find(id)
        if fault is None:
            raise bad(f"no fault {id[:40]!r}: GET /api/mocksmtp/faults lists them", 404)
        return fault

    async def list(self, request: Request) -> Response:
        """The faults still registered, oldest first (those used up included until removed)."""
        return JSONResponse([fault_json(f) for f in self._control().faults()])

    async def create(self, request: Request) -> Response:
        """Inject a fault: the body has ``inject_fault``'s arguments; 201 with the fault."""
        control = self._control()
        try:
            stage, arguments = parse_fault(await read_body(request, forms=False))
            fault = control.add(stage, **arguments)
        except ConfigError as e:
            raise bad(str(e)) from None
        return JSONResponse(fault_json(fault), status_code=201)

    async def get(self, request: Request) -> Response:
        """One fault, with how often it fired so far."""
        return JSONResponse(fault_json(self._fault(request)))

    async def delete(self, request: Request) -> Response:
        """Remove one fault; the answer is the fault as it ends (its final ``triggered``)."""
        fault = self._fault(request)
        fault.remove()
        return JSONResponse(fault_json(fault))

    async def clear(self, request: Request) -> Response:
        """Remove every fault; the answer says how many there were."""
        control = self._control()
        removed = len(control.faults())
        control.clear()
        return JSONResponse({"removed": removed})
