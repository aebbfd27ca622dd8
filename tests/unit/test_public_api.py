"""The public API is exactly what __all__ says, and __all__ changes only on purpose."""

from __future__ import annotations

import mocksmtp

EXPECTED = [
    "REPLY",
    "Address",
    "AsyncMockSMTPServer",
    "Attachment",
    "ConfigError",
    "Credentials",
    "Fault",
    "FilterArgs",
    "Headers",
    "MemoryStore",
    "Message",
    "MessageAssertionError",
    "MessageFilter",
    "MessagePart",
    "MessageStore",
    "MockSMTPError",
    "MockSMTPServer",
    "RemoteError",
    "RemoteFault",
    "RemoteServer",
    "Reply",
    "SMTPOptions",
    "SQLiteStore",
    "ServerOptions",
    "ServerStartError",
    "ServerState",
    "ServerStateError",
    "StoreError",
    "Summary",
    "TransferError",
    "WaitTimeout",
    "__version__",
    "connect",
]


def test_all_is_locked() -> None:
    """__all__ lists exactly the expected names (update EXPECTED and the CHANGELOG together)."""
    assert mocksmtp.__all__ == EXPECTED


def test_every_public_name_is_exported() -> None:
    """Every public attribute of the package that is not a submodule is in __all__, and
    every name in __all__ exists."""
    import types

    for name in EXPECTED:  # loads each lazily exported name
        assert getattr(mocksmtp, name) is not None
    public = {n for n, v in vars(mocksmtp).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)}
    assert public == set(EXPECTED) - {"__version__"}
    assert set(EXPECTED) <= set(dir(mocksmtp))


def test_importing_the_package_or_the_plugin_loads_no_server_code() -> None:
    """``import mocksmtp`` and the pytest plugin load neither the server, the engine nor
    asyncio: every pytest run of a project with mocksmtp installed imports the plugin."""
    import subprocess
    import sys

    code = (
        "import sys, mocksmtp, mocksmtp.pytest_plugin\n"
        "loaded = [m for m in ('mocksmtp.server', 'mocksmtp.smtp.protocol', 'asyncio', 'ssl')"
        " if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_unknown_names_raise_attribute_error() -> None:
    """A name the package does not have raises AttributeError naming it."""
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        mocksmtp.Nope  # noqa: B018


def test_exported_errors_form_the_documented_tree() -> None:
    """Every exception derives from MockSMTPError; the assertion errors are AssertionErrors."""
    assert issubclass(mocksmtp.WaitTimeout, mocksmtp.MessageAssertionError)
    assert issubclass(mocksmtp.MessageAssertionError, AssertionError)
    for name in ("ConfigError", "ServerStartError", "ServerStateError", "MessageAssertionError"):
        assert issubclass(getattr(mocksmtp, name), mocksmtp.MockSMTPError)
