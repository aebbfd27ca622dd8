"""``/api/v1/chaos``: Mailpit's chaos triggers over the server's injected faults.

``Sender`` fails MAIL FROM, ``Recipient`` RCPT TO and ``Authentication`` AUTH, each with an
``ErrorCode`` (400-599) in ``Probability`` percent of the commands. Each trigger is one fault
of the registry (``server.faults`` lists it; ``clear_faults()`` and the plugin's reset end it).
A PUT sets all three: a trigger left out, or with probability 0, is off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["TRIGGERS", "Chaos", "ChaosError"]

TRIGGERS = {"Sender": "mail", "Recipient": "rcpt", "Authentication": "auth"}
"""Mailpit's trigger names and the fault stages they become."""


class Removable(Protocol):
    def remove(self) -> None: ...


class ChaosError(ValueError):
    """A trigger that cannot be used; the message is one line."""


class Chaos:
    """The triggers set over HTTP, each kept as a fault made by ``inject(stage, code=,
    probability=)``; ``active()`` lists the faults still registered."""

    def __init__(self, inject: Callable[..., Removable], active: Callable[[], list[Any]]) -> None:
        self._inject = inject
        self._active = active
        self._set: dict[str, tuple[int, float, Removable]] = {}

    def triggers(self) -> dict[str, dict[str, float | int]]:
        """Mailpit's ChaosTriggers: each trigger's ErrorCode and Probability (0 when off)."""
        live = {id(f) for f in self._active()}
        found: dict[str, dict[str, float | int]] = {}
        for name in TRIGGERS:
            entry = self._set.get(name)
            if entry is not None and id(entry[2]) not in live:  # cleared meanwhile
                del self._set[name]
                entry = None
            code, percent = (entry[0], entry[1]) if entry else (451, 0)
            found[name] = {"ErrorCode": code, "Probability": percent}
        return found

    def update(self, body: dict[str, Any]) -> dict[str, dict[str, float | int]]:
        """Set every trigger from ``body`` (those left out are off); return the triggers."""
        wanted: dict[str, tuple[int, float]] = {}
        for name, value in body.items():
            if name not in TRIGGERS:
                raise ChaosError(f"unknown trigger {str(name)[:40]!r}: the triggers are {', '.join(TRIGGERS)}")
            if not isinstance(value, dict):
                raise ChaosError(f'{name} must be {{"ErrorCode": 451, "Probability": 50}}')
            code, percent = value.get("ErrorCode") or 451, value.get("Probability") or 0
            if not isinstance(code, int) or isinstance(code, bool) or not 400 <= code <= 599:
                raise ChaosError(f"{name} ErrorCode must be an SMTP reply code from 400 to 599, got {code!r}")
            if not isinstance(percent, (int, float)) or isinstance(percent, bool) or not 0 <= percent <= 100:
                raise ChaosError(f"{name} Probability must be a percentage from 0 to 100, got {percent!r}")
            wanted[name] = (code, float(percent))
        for _, _, fault in self._set.values():
            fault.remove()
        self._set = {}
        for name, (code, percent) in wanted.items():
            if percent > 0:
                fault = self._inject(TRIGGERS[name], code=code, probability=percent / 100)
                self._set[name] = (code, percent, fault)
        return self.triggers()
