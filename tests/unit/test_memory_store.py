"""MemoryStore: thread-safe keeping, draining, waiting and subscribing."""

from __future__ import annotations

import threading

from mocksmtp import MemoryStore, Message, MessageStore


def make(store: MemoryStore, n: int = 1) -> list[Message]:
    msgs = [Message(id=store.new_id(), raw=b"x", mail_from="a@b.c", rcpt_tos=["d@e.f"]) for _ in range(n)]
    for m in msgs:
        store.add(m)
    return msgs


def test_is_a_message_store() -> None:
    """MemoryStore satisfies the MessageStore protocol the engine uses."""
    assert isinstance(MemoryStore(), MessageStore)


def test_ids_are_unique_and_ordered() -> None:
    """new_id() never repeats within a store and sorts in arrival order."""
    store = MemoryStore()
    ids = [store.new_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert ids == sorted(ids)


def test_drain_returns_each_message_once_and_keeps_them() -> None:
    """drain() hands out each message once; messages() still has all of them."""
    store = MemoryStore()
    first = make(store, 2)
    assert store.drain() == first
    assert store.drain() == []
    second = make(store)
    assert store.drain() == second
    assert store.messages() == first + second
    assert store.count == 3


def test_clear_forgets_messages_and_the_drain_position() -> None:
    """clear() empties the store; later messages drain normally."""
    store = MemoryStore()
    make(store, 3)
    store.drain()
    store.clear()
    assert store.count == 0
    assert store.messages() == []
    fresh = make(store)
    assert store.drain() == fresh


def test_wait_for_wakes_when_another_thread_adds() -> None:
    """A waiter blocks until the predicate holds, woken by the add, without polling."""
    store = MemoryStore()
    entered = threading.Event()
    result: list[object] = []

    def waiter() -> None:
        def predicate(msgs: list[Message]) -> bool:
            entered.set()
            return len(msgs) >= 2

        result.append(store.wait_for(predicate, timeout=10))

    t = threading.Thread(target=waiter)
    t.start()
    assert entered.wait(5)
    make(store, 2)
    t.join(5)
    assert result == [True]


def test_wait_for_returns_falsy_at_the_deadline() -> None:
    """wait_for() returns the predicate's falsy value once the timeout passes."""
    assert MemoryStore().wait_for(lambda msgs: len(msgs), timeout=0.01) == 0


def test_subscribers_see_each_message_and_can_unsubscribe() -> None:
    """Subscribers are called after each add; after unsubscribing they are not."""
    store = MemoryStore()
    seen: list[Message] = []
    unsubscribe = store.subscribe(seen.append)
    first = make(store)
    unsubscribe()
    make(store)
    assert seen == first


def test_a_failing_subscriber_does_not_undo_the_add(caplog: object) -> None:
    """An exception in a subscriber is logged; the message stays stored."""
    store = MemoryStore()

    def broken(message: Message) -> None:
        raise RuntimeError("boom")

    store.subscribe(broken)
    (m,) = make(store)
    assert store.messages() == [m]


def test_a_thread_waiting_on_the_condition_itself_is_woken_by_add() -> None:
    """add() skips notify_all() when nobody waits, but anyone in store.condition.wait() (not
    only wait_for) counts as waiting and is woken."""
    store = MemoryStore()
    ready = threading.Event()
    seen: list[int] = []

    def waiter() -> None:
        with store.condition:
            ready.set()
            while not store.count:
                assert store.condition.wait(timeout=10), "add() did not wake a direct waiter"
            seen.append(store.count)

    thread = threading.Thread(target=waiter)
    thread.start()
    ready.wait(10)
    with store.condition:  # the waiter holds the lock until it waits: then it is counted
        assert store.condition.waiting == 1  # type: ignore[attr-defined]
    make(store)
    thread.join(10)
    assert seen == [1]
    assert store.condition.waiting == 0  # type: ignore[attr-defined]
