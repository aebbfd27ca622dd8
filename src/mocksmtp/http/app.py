"""The ASGI app: Mailpit's v1 API, its live events, message views, and our long-poll wait.

Every answer to a request that worked is status 200; every bad request gets a 4xx with a
one-line plain-text reason; an unexpected error is a 500 for that request alone. Handlers run
in the server's event loop and read the store directly (it is thread-safe and quick); nothing
here starts a thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..config import DEFAULT_ACCESS, HTTPAccess
from ..errors import MockSMTPError, StoreError
from ..query import Query, TagTerm
from . import mailhog, mailpit
from .chaos import Chaos, ChaosError
from .edges import Edges
from .events import CLOSED, EventHub
from .faults import FaultControl, FaultRoutes
from .jim import JimRoutes
from .metrics import prometheus
from .openapi import spec_routes
from .parts import find_part, message_parts
from .requests import bad, flag, int_param, query_param, read_body, strings
from .sources import SourceRoutes
from .ui import UI
from .wait import long_poll

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from ..message import Message
    from ..store import MessageStore

__all__ = ["WebContext", "build_app"]


@dataclasses.dataclass(frozen=True, slots=True)
class WebContext:
    """What the app needs of the server: its store and a few facts for ``/api/v1/info``."""

    store: MessageStore
    stats: Callable[[], dict[str, int]] = dict
    database: str = ""
    started: float = dataclasses.field(default_factory=time.monotonic)
    smtp: tuple[str, int] | None = None
    """Where the server's own SMTP listener is, for ``POST /api/v1/send``."""
    chaos: Chaos | None = None
    """The server's faults as Mailpit's chaos triggers, for ``/api/v1/chaos``."""
    access: HTTPAccess = DEFAULT_ACCESS
    """The origins allowed by CORS and the users of basic auth (see :mod:`.edges`)."""
    retention: tuple[int | None, float | None] | None = None
    """``(max_messages, max_age)`` old messages are deleted by, or ``None``, for the web UI."""
    faults: FaultControl | None = None
    """The server's fault registry, for ``/api/mocksmtp/faults``."""


def _ok() -> PlainTextResponse:
    return PlainTextResponse("ok")


class _Routes:
    """The handlers, bound to one store."""

    def __init__(self, ctx: WebContext, hub: EventHub, closing: asyncio.Event) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.hub = hub
        self.closing = closing

    # -- helpers --------------------------------------------------------------------------------

    def _message(self, request: Request) -> Message:
        id = request.path_params["id"]
        if id == "latest":
            newest = self.store.messages(newest_first=True, limit=1)
            if newest:
                return newest[0]
        else:
            found = self.store.get(id)
            if found is not None:
                return found
        raise bad(f"message {id[:40]!r} not found", 404)

    # -- lists and searches ---------------------------------------------------------------------

    async def messages(self, request: Request) -> Response:
        start, limit = int_param(request, "start", 0), int_param(request, "limit", 50, maximum=10_000)
        return JSONResponse(mailpit.page(self.store, None, start=start, limit=limit))

    async def search(self, request: Request) -> Response:
        query = _required_query(request, "GET")
        start, limit = int_param(request, "start", 0), int_param(request, "limit", 50, maximum=10_000)
        return JSONResponse(mailpit.page(self.store, query, start=start, limit=limit))

    async def delete_search(self, request: Request) -> Response:
        self.store.delete_matching(_required_query(request, "DELETE"))
        return _ok()

    async def set_read(self, request: Request) -> Response:
        body = await read_body(request)
        ids, search, read = strings(body, "IDs"), body.get("Search") or "", flag(body, "Read")
        if not isinstance(search, str):
            raise bad("Search must be a string")
        if ids and search:
            raise bad("give IDs or Search, not both")
        if search:
            ids = [m.id for m in self.store.messages(query_param(search, request.query_params.get("tz")))]
        elif not ids:
            ids = [m.id for m in self.store.messages()]
        self.store.mark_read(ids, read)
        return _ok()

    async def delete_messages(self, request: Request) -> Response:
        ids = strings(await read_body(request), "IDs")
        if ids:
            self.store.delete(ids)
        else:
            self.store.clear()
        if "accept" not in request.headers:  # MailHog's npm client: it parses any body as JSON
            return Response(status_code=200)
        return _ok()

    # -- one message ----------------------------------------------------------------------------

    async def message(self, request: Request) -> Response:
        m = self._message(request)
        state = self.store.state(m.id)
        if state is not None and not state.read:
            self.store.mark_read([m.id])
            state = dataclasses.replace(state, read=True)
        return JSONResponse(mailpit.message(m, state))

    async def headers(self, request: Request) -> Response:
        return JSONResponse(mailpit.headers(self._message(request)))

    async def raw(self, request: Request) -> Response:
        m = self._message(request)
        response = Response(m.raw, media_type="text/plain")
        if request.query_params.get("dl") == "1":
            response.headers["Content-Disposition"] = f'attachment; filename="{m.id}.eml"'
        return response

    async def part(self, request: Request) -> Response:
        m = self._message(request)
        part_id = request.path_params["part"]
        found = find_part(m, part_id)
        if found is None:
            raise bad(f"message {m.id} has no part {part_id[:40]!r}", 404)
        a = found.attachment
        response = Response(a.content, media_type=a.content_type)
        name = a.safe_filename
        if name:
            response.headers["Content-Disposition"] = f"filename*=UTF-8''{quote(name, safe='')}"
        return response

    # -- MailHog --------------------------------------------------------------------------------

    async def mailhog_messages(self, request: Request) -> Response:
        start, limit = int_param(request, "start", 0), int_param(request, "limit", 50, maximum=mailhog.MAX_LIMIT)
        return JSONResponse(mailhog.page(self.store, start=start, limit=limit))

    async def mailhog_search(self, request: Request) -> Response:
        kind, query = request.query_params.get("kind", ""), request.query_params.get("query", "")
        if kind not in mailhog.KINDS:
            raise bad(f"kind must be one of {', '.join(mailhog.KINDS)}, got {kind[:20]!r}")
        if not query:
            raise bad("query is required: GET /api/v2/search?kind=to&query=...")
        start, limit = int_param(request, "start", 0), int_param(request, "limit", 50, maximum=mailhog.MAX_LIMIT)
        return JSONResponse(mailhog.page(self.store, start=start, limit=limit, kind=kind, query=query))

    async def mailhog_delete(self, request: Request) -> Response:
        m = self._message(request)
        self.store.delete([m.id])
        return Response(status_code=200)

    async def mailhog_download(self, request: Request) -> Response:
        m = self._message(request)
        return Response(
            m.raw, media_type="message/rfc822", headers={"Content-Disposition": f'attachment; filename="{m.id}.eml"'}
        )

    # -- tags -----------------------------------------------------------------------------------

    async def tags(self, request: Request) -> Response:
        return JSONResponse(list(mailpit.all_tags(self.store)))

    async def set_tags(self, request: Request) -> Response:
        body = await read_body(request)
        ids, tags = strings(body, "IDs"), strings(body, "Tags")
        self._set_tags(ids, tags)
        return _ok()

    def _set_tags(self, ids: list[str], tags: list[str]) -> None:
        try:
            self.store.set_tags(ids, tags)
        except MockSMTPError as e:
            raise bad(str(e)) from None

    def _retag(self, old: str, new: str | None) -> None:
        for m in self.store.messages(Query((TagTerm(old),))):
            state = self.store.state(m.id)
            if state is None:
                continue
            kept = [t for t in state.tags if t.casefold() != old.casefold()]
            self._set_tags([m.id], kept + ([new] if new else []))

    async def rename_tag(self, request: Request) -> Response:
        name = (await read_body(request)).get("Name")
        if not isinstance(name, str) or not name.strip():
            raise bad("Name (the new name of the tag) is required")
        self._retag(request.path_params["tag"], name.strip())
        return _ok()

    async def delete_tag(self, request: Request) -> Response:
        self._retag(request.path_params["tag"], None)
        return _ok()

    # -- the server -----------------------------------------------------------------------------

    async def info(self, request: Request) -> Response:
        database = self.ctx.database
        size = 0
        if database:
            import os

            try:
                size = os.path.getsize(database)
            except OSError:
                size = 0
        return JSONResponse(
            mailpit.info(
                self.store,
                stats=self.ctx.stats(),
                database=database,
                database_size=size,
                uptime=time.monotonic() - self.ctx.started,
                deleted=0,
            )
        )

    async def webui(self, request: Request) -> Response:
        return JSONResponse({**mailpit.WEBUI, "ChaosEnabled": self.ctx.chaos is not None})

    async def live(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    # -- views ----------------------------------------------------------------------------------

    async def view(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in ("html", "txt"):
            raise bad(f"no such view {kind[:20]!r}: /view/ID.html or /view/ID.txt", 404)
        m = self._message(request)
        if kind == "txt":
            return PlainTextResponse(m.text or "")
        if m.html is None:
            raise bad(f"message {m.id} has no HTML part", 404)
        body = m.html
        for part in message_parts(m):
            cid = part.attachment.content_id
            if cid:
                body = body.replace(f"cid:{cid}", f"/api/v1/message/{m.id}/part/{part.id}")
        return HTMLResponse(body, headers={"Content-Security-Policy": _SANDBOX})

    async def view_latest(self, request: Request) -> Response:
        newest = self.store.messages(newest_first=True, limit=1)
        if not newest:
            raise bad("there is no message yet", 404)
        return RedirectResponse(f"/view/{newest[0].id}.html", status_code=302)

    # -- send -----------------------------------------------------------------------------------

    async def send(self, request: Request) -> Response:
        from ..store.base import check_tags
        from .send import SendError, build, submit

        try:
            try:
                body = await read_body(request)
            except HTTPException as e:
                raise SendError(str(e.detail), e.status_code) from None
            sender, recipients, raw, tags = build(body)
            try:
                tags = list(check_tags(tags))
            except MockSMTPError as e:
                raise SendError(str(e)) from None
            if self.ctx.smtp is None:
                raise SendError("this server has no SMTP listener to send through", 500)
            id = await submit(self.ctx.smtp, sender, recipients, raw)
        except SendError as e:
            return JSONResponse({"Error": str(e)}, status_code=e.status)
        if tags:
            self.store.set_tags([id], tags)
        return JSONResponse({"ID": id})

    async def chaos(self, request: Request) -> Response:
        chaos = self.ctx.chaos
        if chaos is None:
            raise bad("chaos is not available on this server", 404)
        if request.method == "GET":
            return JSONResponse(chaos.triggers())
        try:
            return JSONResponse(chaos.update(await read_body(request)))
        except ChaosError as e:
            raise bad(str(e)) from None

    async def metrics(self, request: Request) -> Response:
        return PlainTextResponse(prometheus(self.ctx), media_type="text/plain; version=0.0.4")

    # -- ours: the long-poll wait ---------------------------------------------------------------

    async def wait(self, request: Request) -> Response:
        count = int_param(request, "count", 1, minimum=1, maximum=10_000)
        text = request.query_params.get("timeout", "5")
        try:
            timeout = float(text)
        except ValueError:
            raise bad(f"timeout must be a number of seconds, got {text[:40]!r}") from None
        if not 0 <= timeout <= 3600:
            raise bad(f"timeout must be between 0 and 3600 seconds, got {text[:40]}")
        query = request.query_params.get("query", "")
        query_param(query, None)  # a bad query is a 400 before any wait
        status, body = await long_poll(self.store, query, count=count, timeout=timeout, closing=self.closing)
        return JSONResponse(body, status_code=status)

    # -- live events ----------------------------------------------------------------------------

    async def mailhog_websocket(self, websocket: WebSocket) -> None:
        await self.events(websocket, kind="mailhog")

    async def mailhog_events(self, request: Request) -> Response:
        queue = self.hub.join("mailhog")

        async def stream() -> AsyncIterator[str]:
            try:
                yield ": mocksmtp: MailHog's event stream\n\n"
                while (frame := await queue.get()) != CLOSED:
                    yield f"data: {frame}\n\n"
            finally:
                self.hub.leave(queue)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def events(self, websocket: WebSocket, kind: str = "mailpit") -> None:
        queue = self.hub.join(kind)  # before the handshake ends: a client that saw it misses nothing
        try:
            await websocket.accept()
        except BaseException:
            self.hub.leave(queue)
            raise
        receiving = asyncio.ensure_future(websocket.receive())
        try:
            while True:
                getting = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getting, receiving}, return_when=asyncio.FIRST_COMPLETED)
                if receiving in done:
                    getting.cancel()
                    if receiving.result()["type"] == "websocket.disconnect":
                        return
                    receiving = asyncio.ensure_future(websocket.receive())  # clients may ping
                    continue
                frame = getting.result()
                if frame == CLOSED:
                    await websocket.close(1001)
                    return
                await websocket.send_text(frame)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        finally:
            receiving.cancel()
            self.hub.leave(queue)


# The HTML of a message is shown with no scripts, no forms, no plugins; images and styles load.
_SANDBOX = (
    "default-src 'none'; img-src * data: blob:; style-src * 'unsafe-inline'; font-src * data:; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)


def _error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)


def _store_error(request: Request, exc: Exception) -> Response:
    """A store that cannot answer: 503 while its database is unreachable (retry), else 500;
    the reason in one line either way."""
    assert isinstance(exc, StoreError)  # (registered for StoreError only)
    if exc.unavailable:
        return PlainTextResponse(str(exc), status_code=503, headers={"Retry-After": "1"})
    return PlainTextResponse(str(exc), status_code=500)


def build_app(
    ctx: WebContext, hub: EventHub, closing: asyncio.Event, *, hosts: frozenset[str] | None = None
) -> ASGIApp:
    """The app serving ``ctx.store``: ``hub`` feeds ``/api/events``; setting ``closing`` ends
    long polls and event streams (the server is stopping). ``hosts``: the names a request's
    ``Host`` may give (``None``: any; see :mod:`.edges`)."""
    r = _Routes(ctx, hub, closing)
    ui = UI(ctx)
    routes = [
        Route("/api/v1/messages", r.messages, methods=["GET"]),
        Route("/api/v1/messages", r.set_read, methods=["PUT"]),
        Route("/api/v1/messages", r.delete_messages, methods=["DELETE"]),
        Route("/api/v1/search", r.search, methods=["GET"]),
        Route("/api/v1/search", r.delete_search, methods=["DELETE"]),
        Route("/api/v1/message/{id}", r.message, methods=["GET"]),
        Route("/api/v1/message/{id}/headers", r.headers, methods=["GET"]),
        Route("/api/v1/message/{id}/raw", r.raw, methods=["GET"]),
        Route("/api/v1/message/{id}/part/{part}", r.part, methods=["GET"]),
        Route("/api/v2/messages", r.mailhog_messages, methods=["GET"]),
        Route("/api/v2/search", r.mailhog_search, methods=["GET"]),
        Route("/api/v1/messages/{id}", r.mailhog_delete, methods=["DELETE"]),
        Route("/api/v1/messages/{id}/download", r.mailhog_download, methods=["GET"]),
        Route("/api/v1/tags", r.tags, methods=["GET"]),
        Route("/api/v1/tags", r.set_tags, methods=["PUT"]),
        Route("/api/v1/tags/{tag}", r.rename_tag, methods=["PUT"]),
        Route("/api/v1/tags/{tag}", r.delete_tag, methods=["DELETE"]),
        Route("/api/v1/info", r.info, methods=["GET"]),
        Route("/api/v1/webui", r.webui, methods=["GET"]),
        Route("/view/latest", r.view_latest, methods=["GET"]),
        Route("/view/{id}.{kind:str}", r.view, methods=["GET"]),
        Route("/livez", r.live, methods=["GET"]),
        Route("/readyz", r.live, methods=["GET"]),
        Route("/api/v1/send", r.send, methods=["POST"]),
        Route("/metrics", r.metrics, methods=["GET"]),
        Route("/api/v1/chaos", r.chaos, methods=["GET", "PUT"]),
        Route("/api/mocksmtp/wait", r.wait, methods=["GET"]),
        *FaultRoutes(ctx.faults).routes(),
        *JimRoutes(ctx.faults).routes(),
        *SourceRoutes(ctx.store).routes(),
        WebSocketRoute("/api/events", r.events),
        Route("/api/v1/events", r.mailhog_events, methods=["GET"]),
        WebSocketRoute("/api/v2/websocket", r.mailhog_websocket),
        Route("/", ui.page, methods=["GET"]),
        Route("/ui/{name}", ui.asset, methods=["GET"]),
        Route("/api/mocksmtp/message/{id}", ui.detail, methods=["GET"]),
        Route("/api/mocksmtp/message/{id}/preview", ui.preview, methods=["GET"]),
        Route("/api/mocksmtp/server", ui.server, methods=["GET"]),
    ]
    routes += spec_routes(routes)
    app = Starlette(routes=routes, exception_handlers={HTTPException: _error, StoreError: _store_error})
    return Edges(app, hosts, ctx.access)


def _required_query(request: Request, method: str) -> Query:
    """The search's ``query`` (and ``tz``) parameter, which must be there."""
    text = request.query_params.get("query")
    if text is None or not text.strip():
        raise bad(f"query is required: {method} /api/v1/search?query=...")
    return query_param(text, request.query_params.get("tz"))
