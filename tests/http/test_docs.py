"""The Python examples in docs/http.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "http.md"
EXAMPLES = [
    code
    for code in re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    if "@pytest.fixture" not in code
]


def test_the_guide_has_examples() -> None:
    """The guide shows at least the start-up and the wait examples."""
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_doc_example_runs(code: str) -> None:
    """Each python block of the guide runs without error (its asserts hold)."""
    exec(compile(code, str(DOC), "exec"), {})
