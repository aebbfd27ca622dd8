"""pytester runs with mocksmtp importable from this tree and its plugin loaded exactly once."""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import pytest

import mocksmtp

SRC = Path(mocksmtp.__file__).resolve().parent.parent


def plugin_installed() -> bool:
    """Whether a pytest11 entry point already loads mocksmtp.pytest_plugin."""
    return any(ep.value == "mocksmtp.pytest_plugin"
               for ep in importlib.metadata.entry_points(group="pytest11"))


@pytest.fixture
def plugin_args() -> list[str]:
    """``-p mocksmtp.pytest_plugin`` unless the entry point is installed (never twice)."""
    return [] if plugin_installed() else ["-p", "mocksmtp.pytest_plugin"]


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester whose subprocesses (and xdist workers) import mocksmtp from this tree."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    return pytester
