"""The ``mocksmtp`` command on uvloop's event loop (``pip install 'mocksmtp[uvloop]'``).

    python benchmarks/uvloop_cli.py --host 127.0.0.1 --port 0 --quiet --stats-interval 0

Same arguments and output as ``mocksmtp``. The server creates its loop with
``asyncio.new_event_loop()``, so installing uvloop's policy first is all it takes.
"""

from __future__ import annotations

import asyncio
import sys

import uvloop

from mocksmtp.cli import main

if __name__ == "__main__":
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    sys.exit(main())
