"""MemoryStore specifics (the behaviour every store shares is in tests/store/test_contract.py)."""

from __future__ import annotations

import re
import threading

from mocksmtp import MemoryStore, Message
from mocksmtp.query import parse_query
from mocksmtp.store.ids import id_time, new_id


def make(store: MemoryStore, n: int = 1) -> list[Message]:
    msgs = [Message(id=store.new_id(), raw=b"x", mail_from="a@b.c", rcpt_tos=["d@e.f"]) for _ in range(n)]
    for m in msgs:
        store.add(m)
    return msgs


def test_ids_are_ulids_readable_in_a_log_line() -> None:
    """An id is 26 characters of Crockford base32 whose first 10 say when it was made."""
    before = __import__("time").time()
    id = MemoryStore().new_id()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", id)
    made = id_time(id)
    assert made is not None
    assert abs(made - before) < 60


def test_ids_made_in_parallel_threads_never_repeat() -> None:
    """Threads making ids at once get distinct ones, increasing within each thread."""
    found: list[list[str]] = []

    def work() -> None:
        found.append([new_id() for _ in range(5000)])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len({i for ids in found for i in ids}) == 20000
    assert all(ids == sorted(ids) for ids in found)


def test_repr_and_len_count_the_messages() -> None:
    """repr() and len() tell how many messages are kept."""
    store = MemoryStore()
    make(store, 2)
    assert repr(store) == "<MemoryStore messages=2>"
    assert len(store) == 2


def test_a_search_sees_state_changed_after_an_earlier_search() -> None:
    """The searchable view a search keeps is renewed when the message's tags change."""
    store = MemoryStore()
    (m,) = make(store)
    assert store.count(parse_query("tag:a")) == 0
    store.set_tags([m.id], ["a"])
    assert store.count(parse_query("tag:a")) == 1


def test_summaries_are_computed_once_and_decode_no_attachment() -> None:
    """A message's summary is made on first use and kept (read and tag changes update it);
    making it decodes no attachment (the message's full parse stays undone)."""
    store = MemoryStore()
    raw = (
        b"Subject: report\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename=r.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b"JVBERg==\r\n" * 1000
        + b"--b--\r\n"
    )
    m = Message(id=store.new_id(), raw=raw, mail_from="a@b.c", rcpt_tos=["d@e.f"])
    store.add(m)
    (first,) = store.summaries()
    assert (first.snippet, first.attachments) == ("See attached.", 1)
    assert "parsed" not in m._cache
    assert store.summaries()[0] is first
    store.mark_read([m.id])
    (again,) = store.summaries()
    assert again.read
    assert again.snippet == first.snippet
    assert store.summaries()[0] is again
