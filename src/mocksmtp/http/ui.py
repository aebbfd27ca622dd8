"""The web UI: its static files at ``/``, the message detail it shows, and the HTML preview.

The page and its modules are files inside the package (``http/ui/``), served as they are: no
build step, no CDN. The page runs under a Content-Security-Policy that allows only its own
scripts and styles. A message's HTML is shown in ``<iframe sandbox>`` (no ``allow-scripts``,
no ``allow-same-origin``) from :meth:`UI.preview`, whose own CSP blocks every script and, until
the user allows them for that message, every remote image, stylesheet and font.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.responses import HTMLResponse, JSONResponse, Response

from .._version import __version__
from .mailpit import message as mailpit_message
from .parts import message_parts
from .requests import bad

if TYPE_CHECKING:
    from starlette.requests import Request

    from ..message import Message
    from ..store import MessageStore
    from .app import WebContext

__all__ = ["UI", "detail", "remote_resources"]

_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css"}
_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_PAGE_HEADERS = {"Content-Security-Policy": _PAGE_CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
_STYLESHEET = re.compile(r"<link\b[^>]*>", re.I)
_HREF = re.compile(r"""\bhref\s*=\s*["']?((?:https?:)?//[^\s"'<>]+)""", re.I)
_RESOURCE = re.compile(
    r"""(?:(?<=[\s"'/])(?:src|background)\s*=\s*["']?|\burl\(\s*["']?)((?:https?:)?//[^\s"'()<>]+)""", re.I
)
_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.I | re.S)


def remote_resources(html: str) -> list[str]:
    """The remote URLs an HTML body would fetch on display: images, ``url()`` in styles and
    stylesheets (links in ``<a href>`` are not fetched and not listed), each once, in order."""
    found: dict[str, None] = {}
    html = _SCRIPT.sub("", html)
    for tag in _STYLESHEET.findall(html):
        if "stylesheet" in tag.lower():
            for m in _HREF.finditer(tag):
                found.setdefault(m.group(1))
    for m in _RESOURCE.finditer(html):
        found.setdefault(m.group(1))
    return list(found)


def detail(m: Message, store: MessageStore) -> dict[str, Any]:
    """Mailpit's Message JSON plus what mocksmtp knows and Mailpit does not show."""
    state = store.state(m.id)
    parsed_defects = [d for d in m.defects if d not in m.flags]
    return {
        **mailpit_message(m, state),
        "Created": m.received_at.isoformat(timespec="milliseconds"),
        "Envelope": {"MailFrom": m.mail_from, "RcptTo": list(m.rcpt_tos), "MailOptions": list(m.mail_options)},
        "Client": {"Address": m.peer[0] if m.peer else "", "Port": m.peer[1] if m.peer else 0, "Helo": m.helo},
        "TLS": m.tls or "",
        "AuthUser": m.auth_user or "",
        "Flags": sorted(m.flags),
        "Defects": parsed_defects,
        "Links": m.links,
        "RemoteResources": remote_resources(m.html or ""),
        "Parts": [
            {"PartID": p.id, "ContentType": p.content_type, "FileName": p.filename or "", "Size": p.size}
            for p in m.parts
        ],
    }


class UI:
    """The UI's routes, bound to one store."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def _message(self, request: Request) -> Message:
        id = request.path_params["id"]
        found = self.store.get(id)
        if found is None:
            raise bad(f"message {id[:40]!r} not found", 404)
        return found

    async def page(self, request: Request) -> Response:
        return self._file("index.html")

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if "/" in name or name.startswith(".") or not name.endswith(tuple(_TYPES)):
            raise bad(f"no such file {name[:40]!r}", 404)
        return self._file(name)

    def _file(self, name: str) -> Response:
        try:
            body = resources.files(__package__).joinpath("ui").joinpath(name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise bad(f"no such file {name[:40]!r}", 404) from None
        media_type = _TYPES[name[name.rfind(".") :]]
        return Response(body, media_type=media_type, headers=_PAGE_HEADERS)

    async def detail(self, request: Request) -> Response:
        return JSONResponse(detail(self._message(request), self.store))

    async def server(self, request: Request) -> Response:
        """What the server page shows beside ``/api/v1/info``: the engine's counters and retention."""
        max_messages, max_age = self.ctx.retention or (None, None)
        return JSONResponse(
            {
                "Version": __version__,
                "Stats": self.ctx.stats(),
                "Retention": {"MaxMessages": max_messages, "MaxAge": max_age},
                "Faults": self.ctx.chaos is not None,
            }
        )

    async def preview(self, request: Request) -> Response:
        """The HTML body, ``cid:`` images pointing at their parts; remote resources load only
        with ``?remote=1``. Scripts never run: the CSP has no script source and sandboxes."""
        m = self._message(request)
        if m.html is None:
            raise bad(f"message {m.id} has no HTML part", 404)
        body = m.html
        own = f"{request.url.scheme}://{request.url.netloc}"
        for part in message_parts(m):
            cid = part.attachment.content_id
            if cid:
                body = body.replace(f"cid:{cid}", f"{own}/api/v1/message/{m.id}/part/{part.id}")
        remote = " https: http:" if request.query_params.get("remote") == "1" else ""
        csp = (
            f"default-src 'none'; img-src {own} data:{remote}; style-src 'unsafe-inline'{remote}; "
            f"font-src data:{remote}; base-uri 'none'; form-action 'none'; "
            "sandbox allow-popups allow-popups-to-escape-sandbox"
        )
        return HTMLResponse(body, headers={"Content-Security-Policy": csp, "Referrer-Policy": "no-referrer"})
