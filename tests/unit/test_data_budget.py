"""The server-wide budget for message data in flight (``max_pending_data``): several sessions
of one engine, driven without sockets and interleaved read by read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from tests.support import FakeTransport, codes_in

from mocksmtp import REPLY, ConfigError, MemoryStore, SMTPOptions
from mocksmtp.smtp.protocol import SMTPProtocol
from mocksmtp.smtp.state import EngineContext

OPEN = b"EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\n"


class Client:
    """One session of a shared engine: what it is sent, and what it wrote back."""

    def __init__(self, ctx: EngineContext) -> None:
        self.protocol = SMTPProtocol(ctx)
        self.transport = FakeTransport()
        self.protocol.connection_made(self.transport)

    def send(self, data: bytes) -> list[int]:
        """Feed one read; return the codes of the replies it produced."""
        before = len(self.transport.out)
        self.protocol.data_received(data)
        return codes_in(self.transport.out[before:])


def run(test: Callable[[EngineContext, MemoryStore], Coroutine[Any, Any, None]], **options: Any) -> None:
    async def main() -> None:
        store = MemoryStore()
        await test(EngineContext(SMTPOptions(**options), store), store)

    asyncio.run(main())


def test_a_new_data_past_the_budget_gets_452_and_the_session_stays_usable() -> None:
    """While other sessions hold max_pending_data octets, DATA gets 452 4.3.1 (no 354); the
    session goes on, and once the data in flight is stored its DATA is accepted."""

    async def test(ctx: EngineContext, store: MemoryStore) -> None:
        a, b = Client(ctx), Client(ctx)
        assert a.send(OPEN + b"DATA\r\n")[-1] == 354
        a.send(b"x" * 1500)  # alone in flight: never refused for the budget
        assert ctx.pending_data == 1500
        assert b.send(OPEN + b"DATA\r\n")[-1] == REPLY.INSUFFICIENT_STORAGE.code
        assert b.transport.out.endswith(b"452 4.3.1 " + REPLY.INSUFFICIENT_STORAGE.text.encode() + b"\r\n")
        assert b.send(b"NOOP\r\n") == [250]
        assert a.send(b"\r\n.\r\n") == [250]
        assert ctx.pending_data == 0
        assert b.send(b"DATA\r\n") == [354]
        assert b.send(b"hello\r\n.\r\n") == [250]
        assert [m.raw for m in store.messages()] == [b"x" * 1500 + b"\r\n", b"hello\r\n"]

    run(test, max_pending_data=1000)


def test_a_new_bdat_past_the_budget_gets_452_and_its_chunk_is_read() -> None:
    """BDAT past the budget gets 452 4.3.1; the chunk's octets are read (never run as commands)."""

    async def test(ctx: EngineContext, store: MemoryStore) -> None:
        a, b = Client(ctx), Client(ctx)
        assert a.send(OPEN + b"BDAT 1500\r\n" + b"y" * 1500) == [250, 250, 250, 250]
        assert ctx.pending_data == 1500
        smuggled = b"RSET\r\nMAIL FROM:<evil@x.example>\r\n"
        assert b.send(OPEN + b"BDAT %d LAST\r\n" % len(smuggled) + smuggled)[-1] == 452
        assert b.send(b"RSET\r\n") == [250]
        assert a.send(b"BDAT 0 LAST\r\n") == [250]
        assert ctx.pending_data == 0
        assert b.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nBDAT 2 LAST\r\nok") == [250, 250, 250]
        assert [m.raw for m in store.messages()] == [b"y" * 1500, b"ok"]
        assert all(m.mail_from != "evil@x.example" for m in store.messages())

    run(test, max_pending_data=1000)


@pytest.mark.parametrize("second", [b"DATA\r\n", b"BDAT 800\r\n"], ids=["DATA", "BDAT"])
def test_data_arriving_past_the_budget_is_discarded_and_refused_at_its_end(second: bytes) -> None:
    """Two sessions under the budget each, over it together: the one whose data passes it has
    its data discarded as it comes and gets 452 4.3.1 at its end; the other is stored."""

    async def test(ctx: EngineContext, store: MemoryStore) -> None:
        a, b = Client(ctx), Client(ctx)
        assert a.send(OPEN + b"DATA\r\n")[-1] == 354
        assert b.send(OPEN + second)[-1:] in ([354], [250])
        a.send(b"a" * 800)
        b.send(b"b" * 800)  # past the budget, with a's data in flight too
        assert ctx.pending_data == 800
        if second.startswith(b"DATA"):
            assert b.send(b"\r\n.\r\n") == [REPLY.INSUFFICIENT_STORAGE.code]
        else:
            assert b.send(b"") == []
            assert b.protocol.reader is None  # the chunk was read to its end: 452
            assert codes_in(b.transport.out)[-1] == REPLY.INSUFFICIENT_STORAGE.code
            assert b.send(b"RSET\r\n") == [250]
        assert a.send(b"\r\n.\r\n") == [250]
        assert [m.raw for m in store.messages()] == [b"a" * 800 + b"\r\n"]
        assert ctx.pending_data == 0
        assert ctx.stats.errors == 0

    run(test, max_pending_data=1000)


@pytest.mark.parametrize(
    "ending",
    [
        b"\r\n.\r\n",  # stored
        b"x" * 2000 + b"\r\n.\r\n",  # over max_message_size: 552
        b"RSET",  # the client goes away in the middle (connection_lost below)
    ],
    ids=["stored", "too big", "disconnect"],
)
def test_data_in_flight_stops_counting_when_its_transaction_ends_in_any_way(ending: bytes) -> None:
    """However a DATA transaction ends (250, refusal, disconnect), its octets leave the budget."""

    async def test(ctx: EngineContext, store: MemoryStore) -> None:
        a = Client(ctx)
        a.send(OPEN + b"DATA\r\n")
        a.send(b"z" * 500)
        assert ctx.pending_data == 500
        a.send(ending)
        a.protocol.connection_lost(None)
        assert ctx.pending_data == 0

    run(test, max_message_size=1000, max_pending_data=10_000)


@pytest.mark.parametrize(
    "ending",
    [b"RSET\r\n", b"EHLO again\r\n", b"BDAT 0 LAST\r\n", b"BDAT 2000\r\n"],
    ids=["RSET", "EHLO", "LAST", "too big"],
)
def test_bdat_chunks_stop_counting_when_their_transaction_ends(ending: bytes) -> None:
    """Chunks held between BDAT commands count until LAST, RSET, EHLO or a refused chunk."""

    async def test(ctx: EngineContext, store: MemoryStore) -> None:
        a = Client(ctx)
        a.send(OPEN + b"BDAT 500\r\n" + b"z" * 500)
        assert ctx.pending_data == 500
        a.send(ending + (b"q" * 2000 if b"2000" in ending else b""))
        assert ctx.pending_data == 0

    run(test, max_message_size=1000, max_pending_data=10_000)


def test_max_pending_data_zero_means_no_budget() -> None:
    """max_pending_data=0: DATA is never refused for data in flight."""

    async def test(ctx: EngineContext, store: MemoryStore) -> None:
        a, b = Client(ctx), Client(ctx)
        a.send(OPEN + b"DATA\r\n" + b"x" * 5000)
        assert b.send(OPEN + b"DATA\r\n")[-1] == 354

    run(test, max_pending_data=0)


@pytest.mark.parametrize("value", [-1, 1.5, True, "1"])
def test_max_pending_data_is_validated(value: Any) -> None:
    """A negative or non-integer budget is a ConfigError naming the option."""
    with pytest.raises(ConfigError, match="max_pending_data"):
        SMTPOptions(max_pending_data=value)


def test_the_default_budget_is_512_mib() -> None:
    """By default the sessions together may hold 512 MiB of message data in flight."""
    assert SMTPOptions().max_pending_data == 512 * 1024 * 1024
