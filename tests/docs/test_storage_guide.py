"""The Python examples in docs/storage.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "storage.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_guide_has_examples() -> None:
    """The guide's examples are found (a renamed fence would skip them all)."""
    assert len(EXAMPLES) >= 4


def test_doc_examples_run_in_order() -> None:
    """Each python block runs without error (its asserts hold), in one namespace, as a reader
    would run them one after another."""
    namespace: dict[str, object] = {}
    for code in EXAMPLES:
        exec(compile(code, str(DOC), "exec"), namespace)


@pytest.mark.parametrize("name", ["search.md"])
def test_links_point_to_files_that_exist(name: str) -> None:
    """The guide links to the search language's page, which exists."""
    assert f"]({name})" in DOC.read_text(encoding="utf-8")
    assert (DOC.parent / name).exists()
