"""Finding the real SMTP clients the tests run: skip where one is missing, fail in CI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
"""``tests/clients``: the npm packages (``npm ci`` there) and the scripts that drive them."""


def missing(reason: str) -> NoReturn:
    """Skip for a client that is not installed here; in CI (``CI`` or
    ``MOCKSMTP_REQUIRE_CLIENTS`` set, as ``.ci/run`` does), fail, since CI installs every one."""
    if os.environ.get("CI") or os.environ.get("MOCKSMTP_REQUIRE_CLIENTS"):
        pytest.fail(f"{reason}; CI must have it (see .ci/run)")
    pytest.skip(reason)


def require(tool: str, install: str) -> str:
    """The path of ``tool``, or :func:`missing` with the command that installs it."""
    path = shutil.which(tool)
    if path is None:
        missing(f"{tool} is not on PATH ({install})")
    return path


def node_modules() -> Path:
    """``tests/clients/node_modules`` with nodemailer in it, or :func:`missing`."""
    modules = CLIENTS / "node_modules"
    if not (modules / "nodemailer").is_dir():
        missing(f"nodemailer is not installed (cd {CLIENTS} && npm ci)")
    return modules
