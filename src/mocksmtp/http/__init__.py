"""The ``[web]`` extra: Mailpit's v1 API, live events and a long-poll wait, over HTTP.

Served by uvicorn in the server's own event loop, beside the SMTP engine (a sibling: neither
imports the other). This package is the only place that imports Starlette, uvicorn and
wsproto; the rest of mocksmtp asks :func:`require` first, which says in one line what to
install when they are missing.
"""

from __future__ import annotations

import importlib

from ..errors import ConfigError

__all__ = ["INSTALL", "REQUIRED", "available", "require"]

INSTALL = "pip install 'mocksmtp[web]'"
"""The command that installs what serving HTTP needs."""

REQUIRED = ("starlette", "uvicorn", "wsproto")
"""The distributions of the ``[web]`` extra, by import name."""


def _missing() -> list[str]:
    missing = []
    for name in REQUIRED:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def available() -> bool:
    """Whether the ``[web]`` extra is installed (Starlette, uvicorn and wsproto import)."""
    return not _missing()


def require() -> None:
    """Raise :class:`~mocksmtp.ConfigError` (one line, naming the command) unless the
    ``[web]`` extra is installed."""
    missing = _missing()
    if missing:
        raise ConfigError(f"serving HTTP needs the web extra ({', '.join(missing)} not installed): {INSTALL}")
