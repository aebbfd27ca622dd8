"""Injected faults: per-test SMTP failures, delays and disconnects.

A :class:`Fault` is registered from the test's thread with
:meth:`~mocksmtp.MockSMTPServer.inject_fault` and evaluated in the server's loop thread by
:meth:`FaultRegistry.pick` each time a command of its stage would otherwise succeed (a command
that fails on its own, for syntax or sequence, never triggers nor uses up a fault).

What ``match`` is applied to, per stage:

==========  =====================================================================
stage       subject(s) given to ``match``
==========  =====================================================================
connect     the client's IP address (``"127.0.0.1"``)
helo        the name given in HELO/EHLO
auth        the user name the client authenticates as
mail        the sender (``""`` for ``<>``)
rcpt        the recipient
data        each envelope address, sender first: the fault fires if any matches
message     each envelope address, sender first: the fault fires if any matches
==========  =====================================================================

A string matches exactly, without regard to case; a compiled regular expression matches when
``pattern.search(subject)`` does; a callable gets the subject and returns a truth value (an
exception it raises counts as no match and is logged).

>>> registry = FaultRegistry()
>>> fault = registry.add("rcpt", code=451, match="a@example.com", times=1)
>>> registry.pick("rcpt", ["b@example.com"]) is None, registry.pick("rcpt", ["A@example.com"]) is fault
(True, True)
>>> registry.pick("rcpt", ["a@example.com"]) is None, fault.triggered
(True, 1)
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import re
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Literal, get_args

from ..errors import ConfigError
from .replies import Reply

if TYPE_CHECKING:
    from .session_io import SessionIO

__all__ = ["DEFAULT_FAULT_REPLIES", "MAX_DELAY", "STAGES", "Fault", "FaultRegistry", "Matcher", "Stage", "apply_fault"]

Stage = Literal["connect", "helo", "auth", "mail", "rcpt", "data", "message"]
STAGES: tuple[str, ...] = get_args(Stage)
Matcher = str | re.Pattern[str] | Callable[[str], object]

DEFAULT_FAULT_REPLIES: dict[str, Reply] = {
    "connect": Reply(421, "4.3.2", "Service not available (injected fault), closing connection"),
    "helo": Reply(451, "4.3.0", "Temporary failure (injected fault)"),
    "auth": Reply(454, "4.7.0", "Temporary authentication failure (injected fault)"),
    "mail": Reply(451, "4.3.0", "Temporary failure (injected fault)"),
    "rcpt": Reply(451, "4.3.0", "Temporary failure (injected fault)"),
    "data": Reply(554, "5.3.0", "Transaction failed (injected fault)"),
    "message": Reply(451, "4.3.0", "Message not accepted (injected fault); not stored"),
}
MAX_DELAY = 3600.0
"""The longest delay a fault may have, in seconds."""
_STATUS = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")
_logger = logging.getLogger("mocksmtp.smtp")


def fault_reply(stage: str, code: int | None, message: str | None) -> Reply:
    """The reply of a fault: the stage's default, with ``code`` and ``message`` if given.

    A ``message`` that starts with an enhanced status code (``"5.7.1 Relay denied"``) keeps it;
    otherwise the status is the stage default's when the class matches, else ``X.0.0``.
    """
    default = DEFAULT_FAULT_REPLIES[stage]
    code = default.code if code is None else code
    status = default.status if code // 100 == default.code // 100 else f"{code // 100}.0.0"
    text = default.text if message is None else message
    first, _, rest = text.partition(" ")
    if _STATUS.fullmatch(first) and first[0] == str(code)[0]:
        status, text = first, rest
    return Reply(code, status, text)


def _number(value: object) -> bool:
    """A finite int or float, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class Fault:
    """One injected fault; a context manager that removes itself on exit.

    ``triggered`` counts how often it fired. ``reply`` is what the client gets (``None`` for a
    pure delay, where the command then proceeds normally, and for ``disconnect``). ``id`` names
    it within its server (``"1"``, ``"2"``, ...; never reused), as the HTTP API does.

    >>> with server.inject_fault("mail", code=451) as fault:   # doctest: +SKIP
    ...     ...
    >>> fault.triggered                                         # doctest: +SKIP
    1
    """

    __slots__ = (
        "_registry",
        "delay",
        "disconnect",
        "id",
        "match",
        "probability",
        "remaining",
        "reply",
        "stage",
        "times",
        "triggered",
    )

    def __init__(
        self,
        registry: FaultRegistry,
        id: str,
        stage: str,
        reply: Reply | None,
        *,
        match: Matcher | None,
        times: int | None,
        probability: float,
        delay: float,
        disconnect: bool,
    ) -> None:
        self._registry = registry
        self.id = id
        self.stage = stage
        self.reply = reply
        self.match = match
        self.times = times
        """How many times it fires in all (``None``: every time)."""
        self.remaining = times
        """How many more times it fires (``None``: every time)."""
        self.probability = probability
        self.delay = delay
        self.disconnect = disconnect
        self.triggered = 0

    def __repr__(self) -> str:
        what = "disconnect" if self.disconnect else str(self.reply) if self.reply else "proceed"
        extra = f" delay={self.delay}" if self.delay else ""
        left = "" if self.remaining is None else f" remaining={self.remaining}"
        return f"<Fault {self.id} {self.stage} {what}{extra}{left} triggered={self.triggered}>"

    def __enter__(self) -> Fault:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    def remove(self) -> None:
        """Stop this fault from firing again. Idempotent."""
        self._registry.remove(self)

    def _matches(self, subjects: Sequence[str]) -> bool:
        match = self.match
        if match is None:
            return True
        for subject in subjects:
            if isinstance(match, str):
                if subject.lower() == match.lower():
                    return True
            elif isinstance(match, re.Pattern):
                if match.search(subject):
                    return True
            else:
                try:
                    if match(subject):
                        return True
                except Exception:
                    _logger.exception("fault match callable raised on %r; treated as no match", subject)
        return False


class FaultRegistry:
    """The faults of one server. ``add``/``remove``/``clear`` from any thread; ``pick`` in the loop.

    Falsy when empty, so the engine pays one truth test per command when no fault is set.
    """

    __slots__ = ("_ids", "_lock", "_random", "armed")

    def __init__(self) -> None:
        self.armed: list[Fault] = []
        """The registered faults, in order. Changed in place under the lock; the engine reads
        its truth without the lock (a cheap "any faults?" before each command)."""
        self._lock = threading.Lock()
        self._random = random.Random()
        self._ids = itertools.count(1)

    def __bool__(self) -> bool:
        return bool(self.armed)

    def __len__(self) -> int:
        return len(self.armed)

    def __repr__(self) -> str:
        return f"<FaultRegistry {self.armed!r}>"

    def add(
        self,
        stage: str,
        *,
        code: int | None = None,
        message: str | None = None,
        match: Matcher | None = None,
        times: int | None = None,
        probability: float = 1.0,
        delay: float = 0.0,
        disconnect: bool = False,
    ) -> Fault:
        """Validate and register a fault; see :meth:`~mocksmtp.MockSMTPServer.inject_fault`."""
        if stage not in STAGES:
            raise ConfigError(f"unknown fault stage {stage!r}; stages are {', '.join(STAGES)}")
        if code is not None and (not isinstance(code, int) or isinstance(code, bool) or not 400 <= code <= 599):
            raise ConfigError(f"fault code must be a 4xx or 5xx reply code, got {code!r}")
        if message is not None and (not isinstance(message, str) or "\r" in message or "\n" in message):
            raise ConfigError("fault message must be one line of text")
        if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
            raise ConfigError(f"times must be a positive integer or None, got {times!r}")
        if not _number(probability) or not 0.0 < probability <= 1.0:
            raise ConfigError(f"probability must be in (0, 1], got {probability!r}")
        if not _number(delay) or not 0 <= delay <= MAX_DELAY:
            raise ConfigError(f"delay must be a number of seconds from 0 to {MAX_DELAY}, got {delay!r}")
        if not isinstance(disconnect, bool):
            raise ConfigError(f"disconnect must be True or False, got {disconnect!r}")
        if match is not None and not isinstance(match, (str, re.Pattern)) and not callable(match):
            raise ConfigError(f"match must be a string, a compiled regex or a callable, got {match!r}")
        reply: Reply | None = None
        if not disconnect and (code is not None or message is not None or not delay):
            reply = fault_reply(stage, code, message)
        fault = Fault(
            self,
            str(next(self._ids)),
            stage,
            reply,
            match=match,
            times=times,
            probability=float(probability),
            delay=float(delay),
            disconnect=disconnect,
        )
        with self._lock:
            self.armed.append(fault)
        return fault

    def remove(self, fault: Fault) -> None:
        with self._lock:
            if fault in self.armed:
                self.armed.remove(fault)

    def clear(self) -> None:
        with self._lock:
            self.armed.clear()

    def find(self, id: str) -> Fault | None:
        """The registered fault named ``id``, if any."""
        with self._lock:
            return next((f for f in self.armed if f.id == id), None)

    def faults(self) -> list[Fault]:
        """The registered faults, oldest first (exhausted ones included until removed)."""
        with self._lock:
            return list(self.armed)

    def pick(self, stage: str, subjects: Sequence[str]) -> Fault | None:
        """The first fault of ``stage`` that fires for ``subjects``, counted as triggered."""
        with self._lock:
            for fault in self.armed:
                if fault.stage != stage or fault.remaining == 0:
                    continue
                if not fault._matches(subjects):
                    continue
                if fault.probability < 1.0 and self._random.random() >= fault.probability:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                fault.triggered += 1
                return fault
        return None


# -- applying a fault to a session --------------------------------------------------------

# Injected faults, with their subjects in the record's extras (the command line prints them).
_refusals = logging.getLogger("mocksmtp.smtp.refusals")


def apply_fault(
    proto: SessionIO,
    stage: str,
    subjects: Sequence[str],
    proceed: Callable[[], None],
    failed: Callable[[], None] | None = None,
) -> bool:
    """Apply the fault that fires for this command of ``proto``, if any; True when one took
    over (the session's :meth:`~.session_io.SessionIO.fault`).

    ``proceed`` does what the command does without a fault (used after a pure delay);
    ``failed`` runs after a fault reply was sent.
    """
    fault = proto.ctx.faults.pick(stage, subjects)
    if fault is None:
        return False
    _refusals.info(
        "%s %s: injected %r",
        proto.peer_text(),
        stage,
        fault,
        extra={"smtp_fault": fault, "smtp_subjects": tuple(subjects)},
    )
    if fault.delay > 0:
        proto.suspend()
        proto.loop.call_later(fault.delay, _due, proto, fault, proceed, failed)
    else:
        _act(proto, fault, proceed, failed)
    return True


def _act(proto: SessionIO, fault: Fault, proceed: Callable[[], None], failed: Callable[[], None] | None) -> None:
    if fault.disconnect:
        proto.hang_up()
        return
    if fault.reply is None:
        proceed()
        return
    proto.ctx.stats.rejected_commands += 1
    proto.send(fault.reply.line)
    if failed is not None:
        failed()
    if fault.reply.code == 421 and not proto.closed:
        proto.hang_up()


def _due(proto: SessionIO, fault: Fault, proceed: Callable[[], None], failed: Callable[[], None] | None) -> None:
    """A delayed fault's time has come: act on it, then read again (see resume_with)."""
    if not proto.closed:
        proto.resume_with(lambda: _act(proto, fault, proceed, failed))
