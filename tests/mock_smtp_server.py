"""The original mock SMTP server's location, kept so old code and commands keep working.

``from tests.mock_smtp_server import MockSMTPServer`` and ``python3 tests/mock_smtp_server.py
[--host H] [--port P] [--verbose]`` work from the repository root; everything comes from the
``mocksmtp`` package (installed, or ``src/`` of this checkout).
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import mocksmtp
except ImportError:  # a checkout where the package is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import mocksmtp  # noqa: F401

from mocksmtp import MockSMTPServer

__all__ = ["MockSMTPServer"]

if __name__ == "__main__":
    from mocksmtp.cli import main

    # The original server spoke SMTP only, and its output (a listening line, then the mail)
    # is what its users read: no HTTP here unless asked for.
    args = sys.argv[1:]
    asked = any(a.startswith(("--http-port", "--http-host", "--no-http")) for a in args)
    raise SystemExit(main(args if asked else ["--no-http", *args]))
