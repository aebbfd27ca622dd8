"""Applying an injected fault to a session: its reply, delay or disconnect, in the loop,
and for a fault shared by several nodes with ``times`` (:mod:`.sharedfaults`) the claim of
one firing first, in a thread, holding that session only (see :func:`apply_fault`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..errors import StoreError
from .replies import REPLY

if TYPE_CHECKING:
    from .faults import Fault
    from .session_io import SessionIO

__all__ = ["apply_fault"]

_logger = logging.getLogger("mocksmtp.smtp")

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
    if fault.claim is not None:
        _claim(proto, fault, fault.claim, stage, subjects, proceed, failed)
    else:
        _fire(proto, fault, stage, subjects, proceed, failed)
    return True


def _fire(
    proto: SessionIO,
    fault: Fault,
    stage: str,
    subjects: Sequence[str],
    proceed: Callable[[], None],
    failed: Callable[[], None] | None,
) -> None:
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


def _claim(
    proto: SessionIO,
    fault: Fault,
    claim: Callable[[], int | None],
    stage: str,
    subjects: Sequence[str],
    proceed: Callable[[], None],
    failed: Callable[[], None] | None,
) -> None:
    """A fault of several nodes with ``times``: claim one firing in a thread, holding this
    session (not the loop) until the database answers; then fire, or, if the other nodes used
    it up meanwhile, look for another fault. A database that cannot be reached gives 421."""
    proto.suspend()

    def again() -> None:
        if not apply_fault(proto, stage, subjects, proceed, failed):
            proceed()

    def claimed(future: asyncio.Future[int | None]) -> None:
        if proto.closed or future.cancelled():
            return
        error = future.exception()
        if error is not None:
            proto.ctx.stats.errors += 1
            down = isinstance(error, StoreError) and error.unavailable
            _logger.warning(
                "%s %s: fault %s not claimed: %s", proto.peer_text(), stage, fault.id, error, exc_info=not down
            )
            proto.resume_with(lambda: proto.close_with(REPLY.STORE_UNAVAILABLE))
            return
        left = future.result()
        if left is None:  # used up by the other nodes (or removed): as if it had not matched
            fault.remaining = 0
            proto.resume_with(again)
            return
        fault.remaining = left
        fault.triggered += 1
        if fault.delay > 0:
            _fire(proto, fault, stage, subjects, proceed, failed)  # the session stays held for the delay
        else:
            proto.resume_with(lambda: _fire(proto, fault, stage, subjects, proceed, failed))

    proto.loop.run_in_executor(None, claim).add_done_callback(claimed)


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
