"""query= (the search language) in filter, wait_for, assert_sent and MessageFilter, on both
stores and both servers, combined with the other filters."""

from __future__ import annotations

import asyncio
import smtplib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mocksmtp import AsyncMockSMTPServer, MessageAssertionError, MessageFilter, MockSMTPServer, WaitTimeout
from mocksmtp.errors import QuerySyntaxError


def send(host: str, port: int, to: str, subject: str) -> None:
    with smtplib.SMTP(host, port) as client:
        client.sendmail(
            "app@example.com", [to], f"From: app@example.com\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nHello {to}\r\n"
        )


@pytest.fixture(params=["memory", "sqlite"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MockSMTPServer]:
    database = tmp_path / "mail.sqlite" if request.param == "sqlite" else None
    with MockSMTPServer("127.0.0.1", 0, database=database) as s:
        yield s
    s.store.close()


def test_filter_takes_a_query_with_other_filters(server: MockSMTPServer) -> None:
    """filter(query=...) finds what the query finds; other filters narrow it further."""
    send(server.host, server.port, "a@example.com", "Welcome")
    send(server.host, server.port, "ba@example.com", "Welcome")
    send(server.host, server.port, "a@example.com", "Reset")
    assert [m.subject for m in server.filter(query="to:a@example.com")] == ["Welcome", "Reset"]
    assert [m.to for m in server.filter(query="subject:welcome", to="ba@example.com")] == [["ba@example.com"]]
    assert server.filter(query='to:a@example.com -subject:"welcome"', subject="Welcome") == []


def test_wait_for_a_query(server: MockSMTPServer) -> None:
    """wait_for(query=...) returns when a message the query finds arrives."""

    def send_noise_then_code() -> None:
        send(server.host, server.port, "x@example.com", "noise")
        send(server.host, server.port, "a@example.com", "Your code")

    sender = threading.Thread(target=send_noise_then_code)
    sender.start()
    (message,) = server.wait_for(query='to:a@example.com "your code"', timeout=10)
    sender.join(10)
    assert message.subject == "Your code"


def test_the_query_sees_the_stores_state(server: MockSMTPServer) -> None:
    """is:read and tag: are answered by the store, which knows what was read and tagged."""
    send(server.host, server.port, "a@example.com", "one")
    send(server.host, server.port, "a@example.com", "two")
    first, second = server.messages
    server.store.mark_read([first.id])
    server.store.set_tags([second.id], ["signup"])
    assert server.assert_sent(1, query="is:unread") == [second]
    assert server.assert_sent(1, query="tag:signup") == [second]
    server.assert_nothing_sent(query="is:read tag:signup")


def test_failures_name_the_query_each_message_missed(server: MockSMTPServer) -> None:
    """A failed wait or assertion lists each message with 'query=...: did not match'."""
    send(server.host, server.port, "ba@example.com", "Welcome")
    with pytest.raises(WaitTimeout) as caught:
        server.wait_for(query="to:a@example.com", timeout=0)
    assert "matching query='to:a@example.com'; none matched" in str(caught.value)
    assert "missed query='to:a@example.com': did not match" in str(caught.value)
    with pytest.raises(MessageAssertionError, match="did not match"):
        server.assert_sent(query="to:a@example.com")


def test_bad_query_syntax_names_the_position(server: MockSMTPServer) -> None:
    """A query that cannot be read raises QuerySyntaxError (a ValueError) naming where."""
    with pytest.raises(QuerySyntaxError, match="unterminated quote at position 8"):
        server.filter(query='subject:"oops')


def test_a_message_filter_alone_matches_the_query_in_python() -> None:
    """MessageFilter(query=...) on its own matches a message as one never read nor tagged."""
    from mocksmtp import Message

    m = Message(id="1", raw=b"To: a@example.com\r\nSubject: Hi\r\n\r\n", mail_from="", rcpt_tos=["a@example.com"])
    assert MessageFilter(query="to:a@example.com is:unread")(m)
    assert not MessageFilter(query="to:ba@example.com")(m)
    assert MessageFilter(query="subject:hi").describe() == "query='subject:hi'"


def test_the_async_server_waits_for_a_query(tmp_path: Path) -> None:
    """AsyncMockSMTPServer.wait_for(query=...) wakes on the message, on a SQLite store too."""

    async def main() -> str:
        async with AsyncMockSMTPServer(database=tmp_path / "a.sqlite") as server:
            sending = asyncio.create_task(asyncio.to_thread(send, server.host, server.port, "a@example.com", "Hi"))
            (message,) = await server.wait_for(query="to:a@example.com", timeout=10)
            await sending
            server.store.close()
            return message.subject

    assert asyncio.run(main()) == "Hi"
