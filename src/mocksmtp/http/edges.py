"""ASGI middleware at the edge of the app: a ``Date`` header, and ``//`` paths redirected."""

from __future__ import annotations

import email.utils
import re
from typing import TYPE_CHECKING

from starlette.responses import RedirectResponse

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send
    from starlette.types import Message as ASGIMessage

__all__ = ["Edges"]


class Edges:
    """ASGI middleware: a ``Date`` header on every answer, and ``//view/...`` (a double slash,
    as cypress-mailpit writes it) redirected to the single-slash path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
