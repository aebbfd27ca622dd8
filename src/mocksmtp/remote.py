"""``mocksmtp.connect(url)``: the testing API of :class:`~mocksmtp.MockSMTPServer` for a
``mocksmtp`` running elsewhere (another process, another container), over its HTTP API.

>>> server = mocksmtp.connect("http://127.0.0.1:8025")               # doctest: +SKIP
>>> server.wait_for(to="ann@example.com", subject="Welcome")         # doctest: +SKIP
[<Message id='01JEB7Q3ZC5T0W8N2XKQ4M6R9A' from='app@example.com' to=['ann@example.com'] size=412>]

It speaks HTTP with the standard library (``urllib``), so it needs no extra at all: a test
suite talking to a server in a container installs plain ``mocksmtp``. Messages come back
whole (raw bytes and envelope, from ``GET /api/mocksmtp/messages``) as real
:class:`~mocksmtp.Message` objects; ``filter``, ``assert_sent`` and ``assert_nothing_sent`` are
the in-process server's own code; ``wait_for`` blocks on the long-poll ``/api/mocksmtp/wait``
and never polls.
"""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, RemoteError
from .queries import MessageQueries, check_count, check_timeout, timed_out
from .records import from_record

if TYPE_CHECKING:
    from collections.abc import Callable

    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

    from .filters import FilterArgs
    from .message import Message
    from .query import Query

__all__ = ["RemoteFault", "RemoteServer", "connect"]

_WAIT_LIMIT = 3600.0  # the longest wait the server takes in one request
_MARGIN = 10.0  # how much longer than a long poll the HTTP request may take


class _HTTP:
    """JSON requests to one server; every failure becomes one clear exception."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, object] | None = None,
        body: object = None,
        ok: tuple[int, ...] = (200,),
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        """``(status, JSON answer)`` for a status in ``ok``; a 400 is a ConfigError with the
        server's reason; anything else a :class:`~mocksmtp.RemoteError`."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}{query}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as answer:
                status, kind, text = answer.status, answer.headers.get_content_type(), answer.read()
        except urllib.error.HTTPError as e:
            status, kind, text = e.code, e.headers.get_content_type(), e.read()
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise RemoteError(
                f"cannot reach mocksmtp at {self.url}: {reason}; is it running, and serving HTTP there "
                "(mocksmtp serves it on port 8025 unless --no-http)?",
                url=self.url,
            ) from None
        if status in ok:
            return status, json.loads(text) if kind == "application/json" else text.decode("utf-8", "replace")
        reason = text.decode("utf-8", "replace").strip().splitlines()[0][:300] if text.strip() else "no reason"
        if status == 400:
            raise ConfigError(reason)
        hint = "; is it mocksmtp, of this version or later?" if status in (404, 405) else ""
        raise RemoteError(
            f"{method} {self.url}{path} answered {status}: {reason}{hint}", url=self.url, status=status
        ) from None


class _RemoteStore:
    """The read side of the server's store, as :class:`~mocksmtp.queries.MessageQueries` reads it."""

    def __init__(self, http: _HTTP) -> None:
        self._http = http

    def _page(self, query: Query | None, offset: int = 0, limit: int | None = None) -> dict[str, Any]:
        params: dict[str, object] = {"query": str(query) if query is not None else "", "start": offset}
        if limit is not None:
            params["limit"] = limit
        answer: dict[str, Any] = self._http.call("GET", "/api/mocksmtp/messages", params=params)[1]
        return answer

    def messages(self, query: Query | None = None, *, offset: int = 0) -> list[Message]:
        """The messages matching ``query``, oldest first, whole."""
        return [from_record(r) for r in self._page(query, offset)["messages"]]

    def count(self, query: Query | None = None) -> int:
        total: int = self._page(query, limit=0)["messages_count"]
        return total


class RemoteFault:
    """A fault injected over HTTP; like :class:`~mocksmtp.Fault`, a context manager that removes
    itself on exit. ``triggered`` and ``remaining`` ask the server (after :meth:`remove`, they
    are the last values it gave)."""

    def __init__(self, http: _HTTP, fields: dict[str, Any]) -> None:
        self._http = http
        self._fields = fields
        self._removed = False
        self.id: str = fields["id"]
        self.stage: str = fields["stage"]

    def __repr__(self) -> str:
        f = self._fields
        what = "disconnect" if f["disconnect"] else f"{f['code']} {f['message']}" if f["code"] else "proceed"
        return f"<RemoteFault {self.id} {self.stage} {what} triggered={f['triggered']}>"

    def __enter__(self) -> RemoteFault:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    def _now(self) -> dict[str, Any]:
        if not self._removed:
            status, fields = self._http.call("GET", f"/api/mocksmtp/faults/{self.id}", ok=(200, 404))
            if status == 200:
                self._fields = fields
            else:  # removed by someone else (clear_faults, a reset)
                self._removed = True
        return self._fields

    @property
    def triggered(self) -> int:
        """How often it fired."""
        count: int = self._now()["triggered"]
        return count

    @property
    def remaining(self) -> int | None:
        """How many more times it fires (``None``: every time)."""
        left: int | None = self._now()["remaining"]
        return left

    @property
    def fields(self) -> dict[str, Any]:
        """The fault as the server last described it (``GET /api/mocksmtp/faults/{id}``)."""
        return dict(self._fields)

    def remove(self) -> None:
        """Stop this fault from firing again. Idempotent."""
        if self._removed:
            return
        status, fields = self._http.call("DELETE", f"/api/mocksmtp/faults/{self.id}", ok=(200, 404))
        if status == 200:
            self._fields = fields
        self._removed = True


class RemoteServer(MessageQueries):
    """A running ``mocksmtp``'s testing API over HTTP; made by :func:`connect`.

    ``messages``, ``filter``, ``wait_for``, ``assert_sent``, ``assert_nothing_sent``,
    ``get_message_count``, ``inject_fault``, ``faults``, ``clear_faults`` and ``reset`` behave as
    on :class:`~mocksmtp.MockSMTPServer`, with these differences: ``match=`` of a fault is a
    string or a compiled regex (a callable cannot travel), and ``reset()`` deletes the messages
    but leaves the server's counters alone.
    """

    store: _RemoteStore

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self._http = _HTTP(url, timeout)
        self.store = _RemoteStore(self._http)

    @property
    def url(self) -> str:
        """The server's HTTP address, without a trailing slash."""
        return self._http.url

    def __repr__(self) -> str:
        return f"<RemoteServer {self.url}>"

    @property
    def messages(self) -> list[Message]:
        """Every kept message, oldest first."""
        return self.store.messages()

    def get_message_count(self) -> int:
        """How many messages the server keeps."""
        return self.store.count()

    def reset(self) -> None:
        """Delete every message on the server (its counters are not reset)."""
        self._http.call("DELETE", "/api/v1/messages")

    def wait_for(self, count: int = 1, *, timeout: float = 5.0, **filters: Unpack[FilterArgs]) -> list[Message]:
        """Block until at least ``count`` messages match ``filters``; return all that do (as
        :meth:`MockSMTPServer.wait_for <mocksmtp.MockSMTPServer.wait_for>`, raising the same
        :class:`~mocksmtp.WaitTimeout`).

        The server holds each request until enough messages match the filters' ``query``
        (``/api/mocksmtp/wait``); the other filters are applied here, and while too few match
        it waits for one more message, so nothing polls.
        """
        __tracebackhide__ = True
        from .filters import MessageFilter

        check_count(count)
        check_timeout(timeout)
        match = MessageFilter(**filters)
        query = str(match.query) if match.query is not None else ""
        deadline = time.monotonic() + timeout
        needed = count  # messages matching the query the server must have before we look
        while True:
            remaining = max(deadline - time.monotonic(), 0.0)
            poll = min(remaining, _WAIT_LIMIT)
            status, _ = self._http.call(
                "GET",
                "/api/mocksmtp/wait",
                params={"count": needed, "timeout": f"{poll:.3f}", "query": query},
                ok=(200, 408),
                timeout=poll + _MARGIN,
            )
            found = self.store.messages(match.query)
            matched = [m for m in found if match(m, in_query=True)]
            if len(matched) >= count:
                return matched
            if status == 408 and poll >= remaining:
                raise timed_out(self.store, match, count, timeout, matched)
            needed = len(found) + 1

    # -- faults -----------------------------------------------------------------------------------

    def inject_fault(
        self,
        stage: str,
        *,
        code: int | None = None,
        message: str | None = None,
        match: str | re.Pattern[str] | Callable[[str], object] | None = None,
        times: int | None = None,
        probability: float = 1.0,
        delay: float = 0.0,
        disconnect: bool = False,
    ) -> RemoteFault:
        """Inject a fault on the server (see :meth:`MockSMTPServer.inject_fault
        <mocksmtp.MockSMTPServer.inject_fault>`); a bad argument is a :class:`~mocksmtp.ConfigError`
        with the server's reason."""
        body: dict[str, object] = {
            "stage": stage,
            "code": code,
            "message": message,
            "times": times,
            "probability": probability,
            "delay": delay,
            "disconnect": disconnect,
        }
        if isinstance(match, str) or match is None:
            body["match"] = match
        elif isinstance(match, re.Pattern) and isinstance(match.pattern, str):
            body["match_regex"] = match.pattern
        else:
            raise ConfigError(
                f"match must be a string or a compiled regex for a remote server (a callable cannot be "
                f"sent over HTTP), got {match!r}"
            )
        fields = self._http.call("POST", "/api/mocksmtp/faults", body=body, ok=(201,))[1]
        return RemoteFault(self._http, fields)

    @property
    def faults(self) -> list[RemoteFault]:
        """The faults registered on the server, oldest first (those injected in any way)."""
        listed = self._http.call("GET", "/api/mocksmtp/faults")[1]
        return [RemoteFault(self._http, fields) for fields in listed]

    def clear_faults(self) -> None:
        """Remove every fault on the server."""
        self._http.call("DELETE", "/api/mocksmtp/faults")


def connect(url: str, *, timeout: float = 10.0) -> RemoteServer:
    """The testing API of the ``mocksmtp`` serving HTTP at ``url`` (``"http://host:8025"``).

    Checks at once that it answers; raises :class:`~mocksmtp.RemoteError` saying what to try
    when it does not. ``timeout`` bounds each request (a ``wait_for`` gets its own timeout
    on top).

    >>> server = mocksmtp.connect("http://127.0.0.1:8025")        # doctest: +SKIP
    >>> server.assert_sent(1, to="ann@example.com")               # doctest: +SKIP
    """
    if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(f"url must be the server's HTTP address, such as 'http://127.0.0.1:8025', got {url!r}")
    check_timeout(timeout)
    if not timeout:
        raise ConfigError("timeout must be more than 0 seconds")
    server = RemoteServer(url.rstrip("/"), timeout=timeout)
    server.store.count()  # reachable, and mocksmtp's own API is there
    return server
