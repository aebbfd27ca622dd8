"""Retention is explicit: nothing is deleted unless max_messages / max_age were given; then
the oldest go first, logged and counted."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mocksmtp import ConfigError, MemoryStore, Message, MockSMTPServer


def send(server: MockSMTPServer, subject: str) -> None:
    with smtplib.SMTP(server.host, server.port) as client:
        client.sendmail("app@example.com", ["a@example.com"], f"Subject: {subject}\r\n\r\nbody\r\n")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_max_messages_keeps_the_newest_and_counts_what_went(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With max_messages=2 the third message pushes out the first, logged and counted in
    pruned and get_results()."""
    database = tmp_path / "mail.sqlite" if kind == "sqlite" else None
    with (
        caplog.at_level(logging.INFO, logger="mocksmtp.store"),
        MockSMTPServer("127.0.0.1", 0, database=database, max_messages=2) as server,
    ):
        for subject in ("one", "two", "three"):
            send(server, subject)
        assert [m.subject for m in server.messages] == ["two", "three"]
        assert server.pruned == 1
        assert server.get_results()["pruned"] == 1
        server.reset()
        assert server.pruned == 0
    assert "retention (max_messages=2) deleted 1 old message" in caplog.text


def test_max_age_deletes_old_messages_at_creation_and_on_arrival() -> None:
    """max_age prunes what is older when the server is made and each time mail arrives."""
    store = MemoryStore()

    def add_old(subject: str) -> None:
        store.add(
            Message(
                id=store.new_id(),
                raw=f"Subject: {subject}\r\n\r\n".encode(),
                mail_from="",
                rcpt_tos=["a@b"],
                received_at=datetime.now(timezone.utc) - timedelta(days=8),
            )
        )

    add_old("old")
    with MockSMTPServer("127.0.0.1", 0, store=store, max_age=7 * 86400) as server:
        assert server.messages == []
        assert server.pruned == 1
        add_old("arrived old")  # mail arriving in the store (as from an import) is pruned too
        assert server.messages == []
        assert server.pruned == 2
        send(server, "fresh")
        assert [m.subject for m in server.messages] == ["fresh"]


def test_without_limits_nothing_is_ever_deleted() -> None:
    """A server without retention keeps every message and has no retention to report."""
    with MockSMTPServer("127.0.0.1", 0) as server:
        for i in range(30):
            send(server, f"m{i}")
        assert server.get_message_count() == 30
        assert server.retention is None
        assert server.pruned == 0


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"max_messages": 0}, "max_messages must be None or an integer of at least 1, got 0"),
        ({"max_age": -1}, "max_age must be None or a number of seconds above 0, got -1"),
        ({"max_messages": True}, "max_messages must be None or an integer"),
    ],
)
def test_bad_limits_are_config_errors(options: dict[str, object], error: str) -> None:
    """Limits that make no sense are refused when the server is made."""
    with pytest.raises(ConfigError, match=error):
        MockSMTPServer("127.0.0.1", 0, **options)  # type: ignore[arg-type]
