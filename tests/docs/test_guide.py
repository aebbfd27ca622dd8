"""The examples of docs/testing.md run and pass (those needing a missing library skip)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
BLOCK = re.compile(r"```python\n# (?P<name>\S+\.py)\n(?P<body>.*?)```", re.DOTALL)


def examples() -> list[tuple[str, str, str | None]]:
    """(file name, source, conftest source) for each runnable block, in order."""
    found: list[tuple[str, str, str | None]] = []
    conftest: str | None = None
    for block in BLOCK.finditer(GUIDE.read_text(encoding="utf-8")):
        if block["name"] == "conftest.py":
            conftest = block["body"]
            continue
        found.append((block["name"], block["body"], conftest))
        conftest = None
    return found


def test_the_guide_has_every_kind_of_example() -> None:
    """pytest, unittest, asyncio, Django and Flask-Mail examples are all there."""
    names = {name for name, _, _ in examples()}
    assert {
        "test_signup.py",
        "test_options.py",
        "test_unittest_style.py",
        "test_asyncio_style.py",
        "test_django_mail.py",
        "test_flask_mail.py",
    } <= names


@pytest.mark.parametrize(("name", "source", "conftest"), examples(), ids=[e[0] for e in examples()])
def test_guide_example_passes(
    pytester: pytest.Pytester, plugin_args: list[str], name: str, source: str, conftest: str | None
) -> None:
    """The example passes as a test file of its own, or skips when its library is missing."""
    pytester.makepyfile(**{name[:-3]: source})
    if conftest:
        pytester.makeconftest(conftest)
    # Django configures process-wide settings: keep it out of this process
    run = pytester.runpytest_subprocess if "django" in source else pytester.runpytest
    result = run(*plugin_args)
    outcomes = result.parseoutcomes()
    assert not outcomes.get("failed"), result.stdout.str()
    assert not outcomes.get("errors"), result.stdout.str()
    needs = re.findall(r'importorskip\("(\w+)"\)', source)
    if all(importlib.util.find_spec(module) for module in needs):
        assert outcomes.get("passed"), result.stdout.str()
        assert not outcomes.get("skipped"), result.stdout.str()
