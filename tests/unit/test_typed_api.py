"""Typed options and filters: a type checker catches a misspelt name, and at run time a wrong
argument is a ConfigError naming the closest valid one, never a bare TypeError."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import typing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mocksmtp import ConfigError, Message, MessageFilter, MockSMTPServer, ServerOptions, SMTPOptions
from mocksmtp.filters import FILTER_NAMES, FilterArgs
from mocksmtp.queries import report

SNIPPET = """
from mocksmtp import AsyncMockSMTPServer, MockSMTPServer

server = MockSMTPServer(port=0, max_mesage_size=1024)
server.wait_for(subjct="Welcome")
server.assert_sent(1, to="a@example.com", subject="ok")
AsyncMockSMTPServer(max_recipients=5, hostname="mx.test")
"""


def test_mypy_catches_misspelt_options_and_filters(tmp_path: Path) -> None:
    """mypy reports an unknown server option and an unknown filter, and nothing in correct calls."""
    pytest.importorskip("mypy")
    (tmp_path / "snippet.py").write_text(SNIPPET)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "cache"),
            "snippet.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, result.stdout + result.stderr
    assert 'snippet.py:4: error: Unexpected keyword argument "max_mesage_size"' in errors[0]
    assert 'snippet.py:5: error: Unexpected keyword argument "subjct"' in errors[1]


def test_typed_dicts_list_every_option_and_filter() -> None:
    """ServerOptions has every SMTPOptions field, FilterArgs every filter (kept in step)."""
    assert set(
        typing.get_type_hints(ServerOptions, include_extras=False, localns=vars(sys.modules["mocksmtp.config"]))
    ) == {f.name for f in dataclasses.fields(SMTPOptions)}
    assert set(FilterArgs.__annotations__) == set(FILTER_NAMES)


def test_misspelt_option_is_a_config_error_naming_the_closest() -> None:
    """An unknown server option raises ConfigError with a "did you mean" for the nearest one."""
    with pytest.raises(
        ConfigError,
        match=r"unknown option\(s\) max_mesage_size \(did you mean "
        r"max_message_size\?\); valid options are",
    ):
        MockSMTPServer(port=0, max_mesage_size=1024)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hostname": 5}, "hostname must be a non-empty name"),
        ({"strict": "yes"}, "strict must be True or False"),
        ({"idle_timeout": True}, "idle_timeout must be a positive number"),
    ],
)
def test_wrongly_typed_option_is_a_config_error(kwargs: dict[str, object], match: str) -> None:
    """An option of the wrong type raises ConfigError, not TypeError or AttributeError."""
    with pytest.raises(ConfigError, match=match):
        MockSMTPServer(port=0, **kwargs)  # type: ignore[arg-type]


def test_misspelt_filter_is_a_config_error_naming_the_closest(server: MockSMTPServer) -> None:
    """wait_for(subjct=...) raises ConfigError suggesting subject, before waiting."""
    with pytest.raises(ConfigError, match=r"unknown filter\(s\) subjct \(did you mean subject\?\)"):
        server.wait_for(subjct="Welcome", timeout=0)  # type: ignore[call-arg]


@pytest.mark.parametrize("kwargs", [{"to": 5}, {"subject": b"x"}, {"header": 3}, {"where": "x"}])
def test_wrong_filter_values_are_config_errors(kwargs: dict[str, object]) -> None:
    """A filter value of the wrong kind raises ConfigError (a ValueError), never a TypeError."""
    with pytest.raises(ConfigError) as info:
        MessageFilter(**kwargs)  # type: ignore[arg-type]
    assert not isinstance(info.value, TypeError)


def test_count_and_timeout_errors_are_config_errors(server: MockSMTPServer) -> None:
    """wait_for with a bad count or timeout raises ConfigError."""
    with pytest.raises(ConfigError, match="count"):
        server.wait_for(0)
    with pytest.raises(ConfigError, match="timeout"):
        server.wait_for(timeout=-1)


def test_repr_of_a_half_built_filter_never_raises() -> None:
    """repr() of a MessageFilter whose __init__ failed or never ran is a placeholder, not an error
    (pytest shows such objects in tracebacks)."""
    assert repr(MessageFilter.__new__(MessageFilter)) == "<MessageFilter (incomplete)>"
    assert not MessageFilter.__new__(MessageFilter)
    with pytest.raises(ConfigError) as info:
        MessageFilter(subject="ok", to=5)  # type: ignore[arg-type]
    halves = [
        entry.frame.f_locals["self"]
        for entry in info.traceback
        if isinstance(entry.frame.f_locals.get("self"), MessageFilter)
    ]
    assert halves
    assert [repr(f) for f in halves] == ["<MessageFilter (incomplete)>"] * len(halves)


def test_times_in_failure_reports_say_their_zone() -> None:
    """Arrival times in WaitTimeout / MessageAssertionError texts are UTC and say so."""
    at = datetime(2026, 1, 2, 12, 3, 4, 123000, tzinfo=timezone(timedelta(hours=2)))
    message = Message(
        id="X-000001",
        raw=b"Subject: hi\r\n\r\nbody",
        mail_from="a@example.com",
        rcpt_tos=["b@example.com"],
        received_at=at,
    )
    assert "1. 10:03:04.123 UTC from <a@example.com> (envelope)" in report([message], MessageFilter())


def test_start_and_stop_timeouts_are_checked() -> None:
    """start() and stop() with a timeout that is not a number raise ConfigError, not TypeError."""
    server = MockSMTPServer("127.0.0.1", 0)
    with pytest.raises(ConfigError, match="timeout"):
        server.start(timeout="5")  # type: ignore[arg-type]
    assert server_threads() == []
    with server, pytest.raises(ConfigError, match="timeout"):
        server.stop(timeout=None)  # type: ignore[arg-type]


def server_threads() -> list[object]:
    import threading

    return [t for t in threading.enumerate() if t.name.startswith("mocksmtp-")]
