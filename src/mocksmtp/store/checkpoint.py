"""WAL checkpoints in a thread of their own, so that no commit waits for one.

SQLite appends each commit to the WAL file and, by default, the commit that takes the WAL past
1000 pages also copies it into the database file and syncs both: a few milliseconds now and
then, about 40 % of what a 5 KB message costs to store on average. A :class:`Checkpointer`
does that copy on a connection of its own, in its own thread, every :attr:`EVERY` messages
(``PRAGMA wal_checkpoint(PASSIVE)``, which never blocks a writer), while commits go on. A WAL
that keeps growing because commits never pause (a passive checkpoint cannot restart it while
a writer follows right behind) is restarted once it passes :attr:`RESTART_AT` frames
(``RESTART``: the store's writer waits for it, never the engine's loop). The store's own
connection keeps an automatic checkpoint far above these, as a safety net.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

__all__ = ["SAFETY_NET", "Checkpointer"]

logger = logging.getLogger("mocksmtp.store")

SAFETY_NET = 20_000
"""Pages for the store's own connection's automatic checkpoint (``wal_autocheckpoint``)."""


class Checkpointer:
    """Checkpoints the WAL of the database at ``path`` in a daemon thread, when told that
    enough was written (:meth:`wrote`). The thread ends after :attr:`IDLE` seconds without
    work, so an idle store holds none."""

    EVERY = 150
    """Messages written between two checkpoints (about 1000 WAL pages of 5 KB messages)."""
    RESTART_AT = 10_000
    """WAL frames past which a checkpoint restarts the WAL, waiting for the writer."""
    IDLE = 1.0

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._written = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    def wrote(self, messages: int) -> None:
        """``messages`` more were committed (called by the writer after each commit)."""
        self._written += messages
        if self._written < self.EVERY:
            return
        with self._lock:
            if self._closed:
                return
            self._written = 0
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mocksmtp.store checkpoints", daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Stop (a checkpoint under way finishes first). Idempotent."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)

    def _run(self) -> None:
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=5.0)
            while True:
                self._wake.wait(self.IDLE)
                with self._lock:
                    if self._closed or not self._wake.is_set():
                        self._thread = None
                        return
                    self._wake.clear()
                _busy, frames, _copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames > self.RESTART_AT:
                    db.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        except sqlite3.Error:  # a closed or vanished file: the safety net checkpoints instead
            logger.debug("background checkpoints stopped", exc_info=True)
            with self._lock:
                self._thread = None
        finally:
            if db is not None:
                db.close()
