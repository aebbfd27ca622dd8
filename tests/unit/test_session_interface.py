"""The engine's command modules see a session only through SessionIO (smtp/session_io.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mocksmtp.smtp

SMTP = Path(mocksmtp.smtp.__file__).parent
# Every module that is handed a session: none of them may reach into its private state.
MODULES = ["auth", "budget", "chunking", "commands", "data", "delivery", "faults", "idle",
           "starttls"]
SESSION_NAMES = {"proto", "protocol", "io", "session_io"}


def _private_uses(tree: ast.AST) -> list[str]:
    """``proto._x`` (or ``self.proto._x``) anywhere in ``tree``, as ``line: proto._x``."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        owner = node.value
        name = owner.id if isinstance(owner, ast.Name) else (
            owner.attr if isinstance(owner, ast.Attribute) else None)
        if name in SESSION_NAMES and not node.attr.startswith("__"):
            found.append(f"{node.lineno}: {name}.{node.attr}")
    return sorted(found)


@pytest.mark.parametrize("module", MODULES)
def test_command_module_touches_no_private_member_of_the_session(module: str) -> None:
    """A command module uses the session's public SessionIO names only, never ``proto._x``."""
    tree = ast.parse((SMTP / f"{module}.py").read_text())
    assert _private_uses(tree) == [], f"smtp/{module}.py reaches into the session's private state"


@pytest.mark.parametrize("module", MODULES)
def test_command_module_imports_the_protocol_only_through_its_interface(module: str) -> None:
    """A command module never imports protocol.py; SessionIO comes in under TYPE_CHECKING."""
    tree = ast.parse((SMTP / f"{module}.py").read_text())
    imported = {node.module for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module}
    assert "protocol" not in imported
    assert "mocksmtp.smtp.protocol" not in imported


def test_the_check_finds_a_private_access() -> None:
    """The check itself: ``proto._reply`` and ``self.proto._held`` are found."""
    tree = ast.parse("def f(proto):\n    proto._reply(1)\n    self.proto._held += 1\n")
    assert _private_uses(tree) == ["2: proto._reply", "3: proto._held"]
