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
    "Headers",
    "MemoryStore",
    "Message",
    "MessageAssertionError",
    "MessageFilter",
    "MessageStore",
    "MockSMTPError",
    "MockSMTPServer",
    "Reply",
    "SMTPOptions",
    "ServerStartError",
    "ServerState",
    "ServerStateError",
    "WaitTimeout",
    "__version__",
]


def test_all_is_locked() -> None:
    """__all__ lists exactly the expected names (update EXPECTED and the CHANGELOG together)."""
    assert mocksmtp.__all__ == EXPECTED


def test_every_public_name_is_exported() -> None:
    """Every public attribute of the package that is not a submodule is in __all__, and
    every name in __all__ exists."""
    import types

    public = {n for n, v in vars(mocksmtp).items()
              if not n.startswith("_") and not isinstance(v, types.ModuleType)}
    assert public == set(EXPECTED) - {"__version__"}
    for name in EXPECTED:
        assert getattr(mocksmtp, name) is not None


def test_exported_errors_form_the_documented_tree() -> None:
    """Every exception derives from MockSMTPError; the assertion errors are AssertionErrors."""
    assert issubclass(mocksmtp.WaitTimeout, mocksmtp.MessageAssertionError)
    assert issubclass(mocksmtp.MessageAssertionError, AssertionError)
    for name in ("ConfigError", "ServerStartError", "ServerStateError", "MessageAssertionError"):
        assert issubclass(getattr(mocksmtp, name), mocksmtp.MockSMTPError)
