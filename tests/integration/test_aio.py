"""AsyncMockSMTPServer: serves in the caller's loop, awaits messages without polling."""

from __future__ import annotations

import asyncio
import smtplib

import pytest

from mocksmtp import AsyncMockSMTPServer, ServerStartError, ServerStateError, WaitTimeout


def send_blocking(address: tuple[str, int], to: str, subject: str) -> None:
    with smtplib.SMTP(*address) as client:
        client.sendmail("app@example.com", [to], f"To: {to}\r\nSubject: {subject}\r\n\r\nhi\r\n")


async def smtp_send(address: tuple[str, int], to: str, subject: str) -> None:
    """A minimal asyncio SMTP client, so the whole exchange runs in the test's loop."""
    reader, writer = await asyncio.open_connection(*address)

    async def reply() -> str:
        while True:
            line = (await reader.readline()).decode()
            if line[3:4] != "-":
                return line

    await reply()
    for command in ("EHLO test", "MAIL FROM:<app@example.com>", f"RCPT TO:<{to}>", "DATA"):
        writer.write(command.encode() + b"\r\n")
        await reply()
    writer.write(f"To: {to}\r\nSubject: {subject}\r\n\r\nhi\r\n.\r\nQUIT\r\n".encode())
    assert (await reply()).startswith("250")
    writer.close()
    await writer.wait_closed()


def test_async_server_in_the_callers_loop() -> None:
    """A client in the same loop sends; the awaited wait_for returns the parsed message."""

    async def main() -> None:
        async with AsyncMockSMTPServer() as server:
            assert server.is_running()
            assert server.port > 0
            assert server.host == "127.0.0.1"
            waiter = asyncio.create_task(server.wait_for(to="ann@example.com", timeout=30))
            await smtp_send(server.address, "ann@example.com", "Hello")
            (message,) = await waiter
            assert message.subject == "Hello"
            assert server.filter(subject="Hello") == [message]
            assert server.assert_sent(1, to="ann@example.com") == [message]
        assert not server.is_running()

    asyncio.run(main())


def test_async_wait_wakes_for_mail_from_another_thread() -> None:
    """Mail stored by another thread's client wakes the awaiting coroutine."""

    async def main() -> list[str]:
        async with AsyncMockSMTPServer() as server:
            sending = asyncio.create_task(asyncio.to_thread(send_blocking, server.address, "b@example.com", "t"))
            messages = await server.wait_for(to="b@example.com", timeout=30)
            await sending
            return [m.subject for m in messages]

    assert asyncio.run(main()) == ["t"]


def test_async_wait_timeout_lists_what_arrived() -> None:
    """The async wait raises the same WaitTimeout with the same report."""

    async def main() -> None:
        async with AsyncMockSMTPServer() as server:
            await smtp_send(server.address, "ann@example.com", "Hello")
            with pytest.raises(WaitTimeout, match=r"(?s)missed to='bob@example.com': got \['ann@example.com'\]"):
                await server.wait_for(to="bob@example.com", timeout=0.05)

    asyncio.run(main())


def test_async_lifecycle_errors_and_reset() -> None:
    """Starting twice is a ServerStateError, a taken port a ServerStartError; stop is idempotent."""

    async def main() -> None:
        server = AsyncMockSMTPServer()
        assert "new" in repr(server)
        await server.start()
        with pytest.raises(ServerStateError):
            await server.start()
        with pytest.raises(ServerStartError, match="in use"):
            await AsyncMockSMTPServer(port=server.port).start()
        await smtp_send(server.address, "a@example.com", "x")
        assert len(server.messages) == 1
        assert server.stats.messages == 1
        server.reset()
        assert server.messages == []
        assert server.stats.messages == 0
        await server.stop()
        await server.stop()
        assert "stopped" in repr(server)

    asyncio.run(main())


def test_async_server_injects_faults_like_the_threaded_one() -> None:
    """inject_fault works on the asyncio server too: the first RCPT fails with 451, the retry
    passes, and the fault removes itself on exit."""

    async def main() -> None:
        async with AsyncMockSMTPServer() as server:
            with server.inject_fault("rcpt", code=451, match="ann@example.com", times=1) as fault:
                reader, writer = await asyncio.open_connection(*server.address)

                async def command(line: str) -> str:
                    writer.write(line.encode() + b"\r\n")
                    while True:
                        reply = (await reader.readline()).decode()
                        if reply[3:4] != "-":
                            return reply[:3]

                assert (await reader.readline()).startswith(b"220")
                assert await command("EHLO test") == "250"
                assert await command("MAIL FROM:<app@example.com>") == "250"
                assert await command("RCPT TO:<ann@example.com>") == "451"
                assert await command("RCPT TO:<ann@example.com>") == "250"
                writer.close()
                await writer.wait_closed()
                assert fault.triggered == 1
            assert server.faults == []

    asyncio.run(main())
