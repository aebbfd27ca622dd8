"""``GET /api/mocksmtp/messages``: whole messages, their raw source and envelope, for
``mocksmtp.connect`` (and any client that wants the bytes and the envelope in one request).

``query`` (the search language, ``tz`` for its dates), ``start`` and ``limit`` pick a page,
**oldest first** like ``server.messages``; each item is a :func:`mocksmtp.records.record`
(``raw`` in base64). The answer also says how many messages match (``messages_count``) and
how many are kept (``total``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..records import record
from .requests import int_param, query_param

if TYPE_CHECKING:
    from starlette.requests import Request

    from ..store import MessageStore

__all__ = ["SourceRoutes"]


class SourceRoutes:
    """The handler of ``/api/mocksmtp/messages`` over one store."""

    def __init__(self, store: MessageStore) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        return [Route("/api/mocksmtp/messages", self.messages, methods=["GET"])]

    async def messages(self, request: Request) -> Response:
        """A page of whole messages matching ``query``, oldest first."""
        text = request.query_params.get("query", "")
        query = query_param(text, request.query_params.get("tz")) if text.strip() else None
        start = int_param(request, "start", 0)
        limit = int_param(request, "limit", 0) if request.query_params.get("limit") else None
        page = self.store.messages(query, offset=start, limit=limit)
        return JSONResponse(
            {
                "total": self.store.count(),
                "messages_count": self.store.count(query),
                "start": start,
                "messages": [record(m) for m in page],
            }
        )
