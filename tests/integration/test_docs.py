"""The Python examples in docs/tls-auth-faults.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "tls-auth-faults.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_guide_has_examples() -> None:
    """The guide's Python examples are found: with none (a renamed fence, a moved file), the
    test below would have no cases and be skipped, not failed."""
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_doc_example_runs(code: str) -> None:
    """Each python block of the guide runs without error (its asserts hold)."""
    if "tls=" in code:
        pytest.importorskip("trustme")
    exec(compile(code, str(DOC), "exec"), {})
