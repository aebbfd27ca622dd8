"""The engine's command modules see a session only through SessionIO (smtp/session_io.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mocksmtp.smtp

SMTP = Path(mocksmtp.smtp.__file__).parent
# Every module that is handed a session: none of them may reach into its private state.
MODULES = ["auth", "budget", "chunking", "commands", "data", "delivery", "faults", "idle", "starttls"]
SESSION_NAMES = {"proto", "protocol", "io", "session_io"}


def _private_uses(tree: ast.AST) -> list[str]:
    """``proto._x`` (or ``self.proto._x``) anywhere in ``tree``, as ``line: proto._x``."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        owner = node.value
        name = owner.id if isinstance(owner, ast.Name) else (owner.attr if isinstance(owner, ast.Attribute) else None)
        if name in SESSION_NAMES and not node.attr.startswith("__"):
            found.append(f"{node.lineno}: {name}.{node.attr}")
    return sorted(found)


@pytest.mark.parametrize("module", MODULES)
def test_command_module_touches_no_private_member_of_the_session(module: str) -> None:
    """A command module uses the session's public SessionIO names only, never ``proto._x``."""
    tree = ast.parse((SMTP / f"{module}.py").read_text())
    assert _private_uses(tree) == [], f"smtp/{module}.py reaches into the session's private state"


def _protocol_imports(tree: ast.AST) -> list[str]:
    """Every import of smtp/protocol.py in ``tree``, in any form, as ``line: how``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = {alias.name for alias in node.names}
            if module.split(".")[-1] == "protocol" or (module.split(".")[-1] in ("", "smtp") and "protocol" in names):
                found.append(f"{node.lineno}: from {'.' * node.level}{module} import {', '.join(sorted(names))}")
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {alias.name}" for alias in node.names if alias.name.endswith(".protocol")]
    return found


@pytest.mark.parametrize("module", MODULES)
def test_command_module_imports_the_protocol_only_through_its_interface(module: str) -> None:
    """A command module never imports protocol.py; SessionIO comes in under TYPE_CHECKING."""
    tree = ast.parse((SMTP / f"{module}.py").read_text())
    assert _protocol_imports(tree) == [], f"smtp/{module}.py imports the protocol"


def test_the_check_finds_every_form_of_importing_the_protocol() -> None:
    """The check itself: relative, package-relative and absolute imports of protocol.py are
    found, at any depth; SessionIO's own module is not the protocol."""
    tree = ast.parse(
        "from .protocol import SMTPProtocol\nfrom .session_io import SessionIO\n"
        "def f():\n    from . import protocol\n    import mocksmtp.smtp.protocol\n"
        "    from mocksmtp.smtp import protocol as p\n"
    )
    assert _protocol_imports(tree) == [
        "1: from .protocol import SMTPProtocol",
        "4: from . import protocol",
        "5: import mocksmtp.smtp.protocol",
        "6: from mocksmtp.smtp import protocol",
    ]


def test_the_check_finds_a_private_access() -> None:
    """The check itself: ``proto._reply`` and ``self.proto._held`` are found."""
    tree = ast.parse("def f(proto):\n    proto._reply(1)\n    self.proto._held += 1\n")
    assert _private_uses(tree) == ["2: proto._reply", "3: proto._held"]
