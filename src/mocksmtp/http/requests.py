"""Reading requests: query parameters, bodies (JSON or a form), and their one-line 4xx."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..errors import MockSMTPError
from ..query import Query, parse_query

__all__ = ["MAX_BODY", "bad", "flag", "int_param", "query_param", "read_body", "strings"]

MAX_BODY = 1024 * 1024
"""The largest request body the API reads (a list of ids, a search), in octets."""


def bad(reason: str, status: int = 400) -> HTTPException:
    return HTTPException(status, reason.splitlines()[0] if reason else "bad request")


def int_param(request: Request, name: str, default: int, *, minimum: int = 0, maximum: int = 10**9) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad(f"{name} must be an integer, got {value[:40]!r}") from None
    if not minimum <= number <= maximum:
        raise bad(f"{name} must be between {minimum} and {maximum}, got {number}")
    return number


def query_param(text: str, tz: str | None) -> Query:
    try:
        return parse_query(text, tz=tz or None)
    except MockSMTPError as e:  # QuerySyntaxError, or ConfigError for a zone
        raise bad(str(e)) from None


_FORM_KEYS = {"ids": "IDs", "read": "Read", "search": "Search", "tags": "Tags", "name": "Name"}


async def read_body(request: Request, *, forms: bool = True) -> dict[str, Any]:
    """A JSON object, or a form (``ids=a&ids=b&Read=true``) read into the same keys. With
    ``forms=False`` the body is read as JSON whatever its ``Content-Type`` (``curl -d`` says
    it sends a form)."""
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise bad(f"request body over {MAX_BODY} octets", 413)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if forms and kind == "application/x-www-form-urlencoded":
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        found: dict[str, Any] = {}
        for key, values in form.items():
            name = _FORM_KEYS.get(key.lower(), key)
            found[name] = values if name in ("IDs", "Tags") else values[-1]
        return found
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise bad("the body must be JSON (or a form: ids=...)") from None
    if not isinstance(value, dict):
        raise bad(f"the body must be a JSON object, got {type(value).__name__}")
    return value


def strings(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(f"{key} must be a list of strings")
    return [v for v in value if v]


def flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0", ""):
        return value.lower() in ("true", "1")
    if not isinstance(value, bool):
        raise bad(f"{key} must be true or false, got {value!r}"[:200])
    return value
