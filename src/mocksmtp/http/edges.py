"""ASGI middleware at the edge of the app: the Host and Origin checks, CORS and basic auth
when asked for, a ``Date`` header, and ``//`` paths redirected.

A server on 127.0.0.1 is still reachable from any web page a browser on the machine shows:
a page may send requests there (Origin tells which page), and a DNS name rebound to
127.0.0.1 may even read the answers (Host then names that foreign name). So a request whose
``Host`` is not one of the server's own names is refused, unless HTTP listens on every
interface (``0.0.0.0`` or ``::``), where clients use names we cannot know; and a request
that changes something (any method but GET, HEAD, OPTIONS) or opens the event websocket is
refused when a browser says it comes from another origin. Clients that are not browsers
(curl, test code) send no ``Origin`` and are not concerned.

``--api-cors ORIGIN`` (:class:`~mocksmtp.config.HTTPAccess`) lets the pages of those origins
change things too, and answers them with CORS headers (Starlette's ``CORSMiddleware``,
preflights included), so a web app under test may drive the API. ``--ui-auth`` asks every
request but ``/livez`` and ``/readyz`` (and CORS preflights, which carry no credentials) for
a user name and password (basic auth); without them, 401 and a ``WWW-Authenticate``
challenge."""

from __future__ import annotations

import base64
import binascii
import email.utils
import hmac
import re
from typing import TYPE_CHECKING

from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse, RedirectResponse

from ..config import DEFAULT_ACCESS, HTTPAccess

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send
    from starlette.types import Message as ASGIMessage

    from ..config import Credentials

__all__ = ["Edges", "authorized", "own_hosts"]

LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_OPEN_PATHS = frozenset({"/livez", "/readyz"})
"""What basic auth leaves open: the health checks of an orchestrator."""
_CHALLENGE = 'Basic realm="mocksmtp", charset="UTF-8"'
_NO_AUTH = "this server needs a user name and password (basic auth)"


def own_hosts(host: str) -> frozenset[str] | None:
    """The names a request's ``Host`` may give for a server listening on ``host``, lowercased;
    ``None`` (any) when it listens on every interface."""
    if host in ("", "0.0.0.0", "::"):
        return None
    return LOCAL_NAMES | {host.lower().strip("[]")}


def _host_name(value: str) -> str:
    """``"[::1]:8025"`` -> ``"::1"``, ``"Example.com:80"`` -> ``"example.com"``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def refusal(scope: Scope, hosts: frozenset[str] | None, cors: tuple[str, ...] = ()) -> str | None:
    """Why this request is refused (a foreign Host, a foreign Origin not in ``cors``), or ``None``."""
    host = _header(scope, b"host")
    if hosts is not None and (host is None or _host_name(host) not in hosts):
        return (
            f"Host {host!r} is not this server's; use http://127.0.0.1 or localhost (or serve on "
            f"0.0.0.0 to be reached by other names)"
        )
    origin = _header(scope, b"origin")
    if origin is None or (scope["type"] == "http" and scope["method"] in _SAFE_METHODS):
        return None
    if "*" in cors or origin.strip().rstrip("/").lower() in cors:
        return None
    origin_host = origin.partition("://")[2].rstrip("/")
    if origin == "null" or host is None or origin_host.lower() != host.strip().lower():
        return f"a request from the web page at {origin[:100]!r} may not change anything here (cross-origin)"
    return None


def authorized(scope: Scope, users: Credentials) -> bool:
    """Whether the request's ``Authorization`` names one of ``users`` with its password."""
    value = _header(scope, b"authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    expected = users.get(user, "")
    return bool(sep and user in users) & hmac.compare_digest(password.encode(), expected.encode())


def _needs_auth(scope: Scope) -> bool:
    if scope["path"] in _OPEN_PATHS:
        return False
    preflight = scope["type"] == "http" and scope["method"] == "OPTIONS"
    return not (preflight and _header(scope, b"access-control-request-method") is not None)


class Edges:
    """ASGI middleware: the Host and Origin checks, CORS and basic auth (see the module), a
    ``Date`` header on every answer, and ``//view/...`` (a double slash, as cypress-mailpit
    writes it) redirected to the single-slash path."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None = None, access: HTTPAccess = DEFAULT_ACCESS) -> None:
        if access.cors:
            app = CORSMiddleware(
                app,
                allow_origins=access.cors,
                allow_methods=("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"),
                allow_headers=("*",),
                allow_credentials=access.users is not None,
                max_age=600,
            )
        self.app = app
        self.hosts = hosts
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        users = self.access.users
        if users is not None and _needs_auth(scope) and not authorized(scope, users):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": _NO_AUTH})
            else:
                await PlainTextResponse(_NO_AUTH, 401, {"WWW-Authenticate": _CHALLENGE})(scope, receive, send)
            return
        why = refusal(scope, self.hosts, self.access.cors)
        if why is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": why[:120]})
            else:
                await PlainTextResponse(why, status_code=403)(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith("//"):
            target = "/" + re.sub("/{2,}", "/", path).lstrip("/")
            query = scope.get("query_string", b"").decode("latin-1")
            response = RedirectResponse(target + (f"?{query}" if query else ""), status_code=301)
            await response(scope, receive, send)
            return
        date = email.utils.formatdate(usegmt=True).encode("ascii")

        async def dated(message: ASGIMessage) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"date", date)]
            await send(message)

        await self.app(scope, receive, dated)
