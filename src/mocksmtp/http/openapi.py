"""The OpenAPI 3.1 description of the HTTP API, generated from the app's own routes.

:func:`describe` walks the routes the app serves and gives each the operation declared for it
in :data:`OPERATIONS` (a few lines: what it is, its parameters, its body, its answers; the
shapes are in :mod:`.schemas`). A route with no declaration still appears, marked
``x-undescribed``, and a test fails on it, so the description cannot fall behind the code.
Websocket routes, which OpenAPI cannot describe, are listed under ``x-websockets``. Served at
``/api/v1/openapi.json`` and, where Mailpit serves its own, ``/api/v1/swagger.json``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from .._version import __version__
from .schemas import COMPONENTS, INTEGER, STRING, array, obj, ref

__all__ = ["OPERATIONS", "SPEC_PATHS", "describe", "spec_routes"]

SPEC_PATHS = ("/api/v1/openapi.json", "/api/v1/swagger.json")
"""Where the description is served (the second is where Mailpit serves its own)."""

Operation = dict[str, Any]


def _param(name: str, where: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema,
        "description": description,
    }


def _int(name: str, default: int, maximum: int, description: str, minimum: int = 0) -> dict[str, Any]:
    schema = {"type": "integer", "minimum": minimum, "maximum": maximum, "default": default}
    return _param(name, "query", schema, description)


def _json(schema: dict[str, Any], description: str = "Done.") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _content(media_type: str, description: str, schema: dict[str, Any] = STRING) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": schema}}}


def _text(description: str = "ok") -> dict[str, Any]:
    return _content("text/plain", description)


def _body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_BAD = {"400": _text("The request cannot be served; the body says why in one line.")}
_BAD_BODY = {**_BAD, "413": _text("The request body is over 1 MiB.")}
_MISSING = {"404": _text("There is no such message (or part); the body says which.")}
_ID = _param("id", "path", STRING, "A message id, or `latest` for the newest message.")
_TAG = _param("tag", "path", STRING, "A tag name.")
_PAGE = [
    _int("start", 0, 10**9, "How many of the newest to skip."),
    _int("limit", 50, 10_000, "The most to answer."),
]
_MAILHOG_PAGE = [_PAGE[0], _int("limit", 50, 250, "The most to answer (MailHog serves at most 250).")]
_QUERY = _param("query", "query", {"type": "string", "minLength": 1}, "A search (docs/search.md).", True)
_TZ = _param("tz", "query", STRING, "The time zone of dates in the query (an IANA name).")
_IDS = {"IDs": array(STRING)}
_NO_FAULTS = {"404": _text("This server has no fault registry.")}
_NO_FAULT = {"404": _text("There is no such fault (or no registry).")}
_NO_JIM = {"404": _text("Jim is not here (or not available).")}
_FAULT = _param("id", "path", STRING, "A fault id.")
_JIM_BODY = {"type": "object", "additionalProperties": {"type": "number"}}


def _op(
    summary: str, tag: str, responses: dict[str, Any], *, params: Sequence[Any] = (), body: Any = None
) -> Operation:
    operation: Operation = {"summary": summary, "tags": [tag], "responses": responses}
    if params:
        operation["parameters"] = list(params)
    if body is not None:
        operation["requestBody"] = body
    return operation


_MAILPIT, _MAILHOG, _OURS, _UI = "Mailpit v1", "MailHog", "mocksmtp", "web UI"

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/api/v1/messages"): _op(
        "A page of summaries, newest first", _MAILPIT, {"200": _json(ref("MessagesSummary")), **_BAD}, params=_PAGE
    ),
    ("PUT", "/api/v1/messages"): _op(
        "Mark messages read or unread: by IDs, by Search, or all",
        _MAILPIT,
        {"200": _text(), **_BAD_BODY},
        body=_body({"type": "object", "properties": {**_IDS, "Search": STRING, "Read": {"type": "boolean"}}}, "Which."),
    ),
    ("DELETE", "/api/v1/messages"): _op(
        "Delete these IDs, or every message (no body, no IDs)",
        _MAILPIT,
        {"200": _text("ok (no body to a request without Accept, as MailHog answers)"), **_BAD_BODY},
        body=_body({"type": "object", "properties": _IDS}, "Which (none: all)."),
    ),
    ("GET", "/api/v1/search"): _op(
        "Search: a page of what matches, newest first",
        _MAILPIT,
        {"200": _json(ref("MessagesSummary")), **_BAD},
        params=[_QUERY, *_PAGE, _TZ],
    ),
    ("DELETE", "/api/v1/search"): _op("Delete what matches", _MAILPIT, {"200": _text(), **_BAD}, params=[_QUERY, _TZ]),
    ("GET", "/api/v1/message/{id}"): _op(
        "One message (reading it marks it read)", _MAILPIT, {"200": _json(ref("Message")), **_MISSING}, params=[_ID]
    ),
    ("GET", "/api/v1/message/{id}/headers"): _op(
        "Its headers as sent, names spelt as Go does",
        _MAILPIT,
        {"200": _json(ref("Headers")), **_MISSING},
        params=[_ID],
    ),
    ("GET", "/api/v1/message/{id}/raw"): _op(
        "The message exactly as received",
        _MAILPIT,
        {"200": _text("The raw message."), **_MISSING},
        params=[_ID, _param("dl", "query", STRING, "`1`: as a download.")],
    ),
    ("GET", "/api/v1/message/{id}/part/{part}"): _op(
        "One MIME part, decoded, with its content type",
        _MAILPIT,
        {"200": _content("*/*", "The part.", {"type": "string", "format": "binary"}), **_MISSING},
        params=[_ID, _param("part", "path", STRING, "A part id (`1.2`).")],
    ),
    ("GET", "/api/v1/tags"): _op("Every tag", _MAILPIT, {"200": _json(array(STRING))}),
    ("PUT", "/api/v1/tags"): _op(
        "Give messages exactly these tags ([] clears)",
        _MAILPIT,
        {"200": _text(), **_BAD_BODY},
        body=_body({"type": "object", "properties": {**_IDS, "Tags": array(STRING)}}, "Which, and their tags."),
    ),
    ("PUT", "/api/v1/tags/{tag}"): _op(
        "Rename a tag",
        _MAILPIT,
        {"200": _text(), **_BAD_BODY},
        params=[_TAG],
        body=_body(obj(Name={"type": "string", "minLength": 1}), "The new name."),
    ),
    ("DELETE", "/api/v1/tags/{tag}"): _op("Take a tag off every message", _MAILPIT, {"200": _text()}, params=[_TAG]),
    ("GET", "/api/v1/info"): _op("The server and its mailbox", _MAILPIT, {"200": _json(ref("AppInformation"))}),
    ("GET", "/api/v1/webui"): _op("The web UI's settings", _MAILPIT, {"200": _json(ref("WebUIConfiguration"))}),
    ("GET", "/view/latest"): _op(
        "Redirect to the newest message's HTML view",
        _MAILPIT,
        {"302": {"description": "To /view/{id}.html."}, "404": _text("There is no message yet.")},
    ),
    ("GET", "/view/{id}.{kind}"): _op(
        "The HTML body (cid: images pointed at their parts; no scripts) or the text body",
        _MAILPIT,
        {
            "200": {
                "description": "The body.",
                "content": {"text/html": {"schema": STRING}, "text/plain": {"schema": STRING}},
            },
            **_MISSING,
        },
        params=[_ID, _param("kind", "path", {"type": "string", "enum": ["html", "txt"]}, "`html` or `txt`.")],
    ),
    ("GET", "/livez"): _op("Alive", _MAILPIT, {"200": _text()}),
    ("GET", "/readyz"): _op("Ready", _MAILPIT, {"200": _text()}),
    ("POST", "/api/v1/send"): _op(
        "Send a message through this server's SMTP listener",
        _MAILPIT,
        {
            "200": _json(obj(ID=STRING)),
            "400": _json(ref("SendError"), "The request cannot be sent."),
            "413": _json(ref("SendError"), "The request body is over 1 MiB."),
            "500": _json(ref("SendError"), "The SMTP service refused it (a fault injected there, say)."),
        },
        body=_body(ref("SendRequest"), "The message."),
    ),
    ("GET", "/api/v1/chaos"): _op(
        "The chaos triggers (faults at MAIL, RCPT, AUTH)",
        _MAILPIT,
        {"200": _json(ref("ChaosTriggers")), "404": _text("Chaos is not available.")},
    ),
    ("PUT", "/api/v1/chaos"): _op(
        "Set the chaos triggers (those left out are off)",
        _MAILPIT,
        {"200": _json(ref("ChaosTriggers")), **_BAD_BODY, "404": _text("Chaos is not available.")},
        body=_body({"type": "object", "additionalProperties": ref("ChaosTrigger")}, "The triggers."),
    ),
    ("GET", "/api/v2/messages"): _op(
        "A page of messages in MailHog's shape, newest first",
        _MAILHOG,
        {"200": _json(ref("MailHogPage")), **_BAD},
        params=_MAILHOG_PAGE,
    ),
    ("GET", "/api/v2/search"): _op(
        "MailHog's search: a lower-cased substring of the sender, a recipient, or anything",
        _MAILHOG,
        {"200": _json(ref("MailHogPage")), **_BAD},
        params=[
            _param("kind", "query", {"type": "string", "enum": ["from", "to", "containing"]}, "What to look in.", True),
            _param("query", "query", {"type": "string", "minLength": 1}, "What to look for.", True),
            *_MAILHOG_PAGE,
        ],
    ),
    ("DELETE", "/api/v1/messages/{id}"): _op(
        "Delete one message (MailHog)",
        _MAILHOG,
        {"200": {"description": "Deleted (no body)."}, **_MISSING},
        params=[_ID],
    ),
    ("GET", "/api/v1/messages/{id}/download"): _op(
        "The raw message as a download (MailHog)",
        _MAILHOG,
        {"200": _content("message/rfc822", "The raw message."), **_MISSING},
        params=[_ID],
    ),
    ("GET", "/api/v1/events"): _op(
        "MailHog's event stream: each new message in MailHog's shape",
        _MAILHOG,
        {"200": _content("text/event-stream", "Events.")},
    ),
    ("GET", "/metrics"): _op(
        "Counters in Prometheus' text format", _OURS, {"200": _content("text/plain", "version=0.0.4 text.")}
    ),
    ("GET", "/api/mocksmtp/wait"): _op(
        "Wait (long poll) until count messages match the query",
        _OURS,
        {
            "200": _json(ref("WaitAnswer"), "Enough matched."),
            "408": _json(ref("WaitAnswer"), "The timeout passed first: what did match, and why in `error`."),
            "503": _json(ref("WaitAnswer"), "The server is stopping."),
            **_BAD,
        },
        params=[
            _int("count", 1, 10_000, "How many must match.", minimum=1),
            _param("timeout", "query", {"type": "number", "minimum": 0, "maximum": 3600, "default": 5}, "Seconds."),
            _param("query", "query", STRING, "A search (none: any message)."),
        ],
    ),
    ("GET", "/api/mocksmtp/messages"): _op(
        "Whole messages (raw, base64, and the envelope) matching a query, oldest first",
        _OURS,
        {"200": _json(ref("MessageRecords")), **_BAD},
        params=[
            _param("query", "query", STRING, "A search (none: every message)."),
            _TZ,
            _int("start", 0, 10**9, "How many of the oldest to skip."),
            _int("limit", 0, 10**9, "The most to answer (none: all)."),
        ],
    ),
    ("GET", "/api/mocksmtp/faults"): _op(
        "The faults registered, oldest first", _OURS, {"200": _json(array(ref("Fault"))), **_NO_FAULTS}
    ),
    ("POST", "/api/mocksmtp/faults"): _op(
        "Inject a fault (inject_fault's arguments)",
        _OURS,
        {"201": _json(ref("Fault"), "Injected."), **_BAD_BODY, **_NO_FAULTS},
        body=_body(ref("FaultRequest"), "The fault."),
    ),
    ("DELETE", "/api/mocksmtp/faults"): _op(
        "Remove every fault", _OURS, {"200": _json(obj(removed=INTEGER)), **_NO_FAULTS}
    ),
    ("GET", "/api/mocksmtp/faults/{id}"): _op(
        "One fault, with how often it fired", _OURS, {"200": _json(ref("Fault")), **_NO_FAULT}, params=[_FAULT]
    ),
    ("DELETE", "/api/mocksmtp/faults/{id}"): _op(
        "Remove one fault (the answer: the fault as it ends)",
        _OURS,
        {"200": _json(ref("Fault")), **_NO_FAULT},
        params=[_FAULT],
    ),
    ("GET", "/api/v2/jim"): _op("Jim's settings", _MAILHOG, {"200": _json(ref("Jim")), **_NO_JIM}),
    ("POST", "/api/v2/jim"): _op(
        "Invite Jim (settings left out keep MailHog's defaults)",
        _MAILHOG,
        {"201": _json(ref("Jim"), "Jim is here."), **_BAD_BODY, **_NO_JIM},
        body=_body(_JIM_BODY, "Settings."),
    ),
    ("PUT", "/api/v2/jim"): _op(
        "Change Jim's settings",
        _MAILHOG,
        {"200": _json(ref("Jim")), **_BAD_BODY, **_NO_JIM},
        body=_body(_JIM_BODY, "Settings."),
    ),
    ("DELETE", "/api/v2/jim"): _op("Send Jim away", _MAILHOG, {"200": {"description": "Gone (no body)."}, **_NO_JIM}),
    ("GET", "/"): _op("The web UI's page", _UI, {"200": _content("text/html", "The page.")}),
    ("GET", "/ui/{name}"): _op(
        "A file of the web UI (its scripts and styles)",
        _UI,
        {
            "200": {
                "description": "The file.",
                "content": {t: {"schema": STRING} for t in ("text/javascript", "text/css", "image/svg+xml")},
            },
            "404": _text("There is no such file."),
        },
        params=[_param("name", "path", STRING, "A file name such as `app.js`.")],
    ),
    ("GET", "/api/mocksmtp/message/{id}"): _op(
        "Mailpit's Message plus the envelope, client, TLS, AUTH user, flags, defects, links and parts",
        _UI,
        {"200": _json({"type": "object", "required": ["ID", "Envelope", "Client", "Flags", "Defects"]}), **_MISSING},
        params=[_ID],
    ),
    ("GET", "/api/mocksmtp/message/{id}/preview"): _op(
        "The HTML body under a CSP with no scripts; remote resources only with remote=1",
        _UI,
        {"200": _content("text/html", "The HTML body."), **_MISSING},
        params=[_ID, _param("remote", "query", STRING, "`1` lets remote images, styles and fonts load.")],
    ),
    ("GET", "/api/mocksmtp/server"): _op(
        "Version, the engine's counters and retention, for the web UI's server page",
        _UI,
        {"200": _json({"type": "object", "required": ["Version", "Stats", "Retention"]})},
    ),
    **{
        ("GET", path): _op("This description (OpenAPI 3.1)", _OURS, {"200": _json({"type": "object"})})
        for path in SPEC_PATHS
    },
}
"""The operation of each ``(method, path)`` the app serves (paths as OpenAPI writes them)."""

_WEBSOCKETS = {
    "/api/events": "Mailpit's events: {Type: new|update|delete|truncate, Data}",
    "/api/v2/websocket": "MailHog's: each new message in MailHog's shape",
}


def _path(route: BaseRoute) -> str:
    """``/view/{id}.{kind:str}`` -> ``/view/{id}.{kind}``."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", getattr(route, "path", ""))


def describe(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI document for ``routes``: every HTTP route with its declared operation
    (``x-undescribed`` when it has none), every websocket under ``x-websockets``."""
    paths: dict[str, dict[str, Operation]] = {}
    websockets: dict[str, str] = {}
    for route in routes:
        if isinstance(route, WebSocketRoute):
            websockets[_path(route)] = _WEBSOCKETS.get(_path(route), "")
            continue
        if not isinstance(route, Route):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            path = _path(route)
            found = OPERATIONS.get((method, path))
            operation = found or {"summary": "", "x-undescribed": True, "responses": {"default": {"description": ""}}}
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mocksmtp",
            "version": __version__,
            "description": "Mailpit's v1 API, MailHog's v2, and mocksmtp's own (docs/http.md).",
        },
        "paths": paths,
        "components": {"schemas": COMPONENTS},
        "x-websockets": websockets,
    }


def spec_routes(routes: Sequence[BaseRoute]) -> list[Route]:
    """The routes serving the description of ``routes`` and of themselves."""
    document: dict[str, Any] = {}

    async def serve(request: Request) -> Response:
        if not document:  # built on first use: the routes are all known by then
            document.update(describe(served))
        return JSONResponse(document)

    mine = [Route(path, serve, methods=["GET"]) for path in SPEC_PATHS]
    served = [*routes, *mine]
    return mine
