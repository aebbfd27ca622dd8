"""The counts a list page shows (unread messages, each tag's) stay right through every change,
for every store (see conftest): the stores keep or index them rather than scan."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.store.test_contract import make

from mocksmtp import MessageStore
from mocksmtp.query import parse_query
from mocksmtp.store import SupportsTagCounts

UNREAD, READ, NOT_UNREAD = parse_query("is:unread"), parse_query("is:read"), parse_query("-is:unread")


def counts(store: MessageStore) -> tuple[int, int, int, dict[str, int]]:
    """What the store answers: unread, read, not unread, and each tag's count."""
    assert isinstance(store, SupportsTagCounts)
    return store.count(UNREAD), store.count(READ), store.count(NOT_UNREAD), store.tag_counts()


def scanned(store: MessageStore) -> tuple[int, int, int, dict[str, int]]:
    """The same counts read message by message from state()."""
    unread = 0
    tags: dict[str, int] = {}
    for m in store.messages():
        state = store.state(m.id)
        assert state is not None
        unread += not state.read
        for tag in state.tags:
            tags[tag] = tags.get(tag, 0) + 1
    read = store.count() - unread
    return unread, read, read, dict(sorted(tags.items()))


def test_every_store_that_ships_counts_its_tags(store: MessageStore) -> None:
    """The optional tag_counts() is there, and is empty for an empty store."""
    assert isinstance(store, SupportsTagCounts)
    assert counts(store) == (0, 0, 0, {})


def test_unread_and_tag_counts_follow_every_change(store: MessageStore) -> None:
    """add, mark_read (both ways, twice), set_tags (added, replaced, cleared), delete,
    delete_matching, prune and clear each leave the counts equal to a scan's."""
    now = datetime.now(timezone.utc)
    old = make(store, "old", received_at=now - timedelta(days=8))
    a, b, c, d = (make(store, s) for s in "abcd")
    assert counts(store) == scanned(store) == (5, 0, 0, {})
    store.mark_read([a.id, b.id])
    store.mark_read([a.id])  # already read: no double count
    assert counts(store) == scanned(store) == (3, 2, 2, {})
    store.set_tags([old.id, a.id, c.id], ["urgent", "Signup"])
    store.set_tags([d.id], ["urgent"])
    assert counts(store) == scanned(store) == (3, 2, 2, {"Signup": 3, "urgent": 4})
    store.set_tags([c.id], ["other"])  # replaced
    store.set_tags([d.id], [])  # cleared
    store.mark_read([b.id], read=False)
    assert counts(store) == scanned(store) == (4, 1, 1, {"Signup": 2, "other": 1, "urgent": 2})
    assert store.delete([a.id]) == 1  # read and tagged
    assert counts(store) == scanned(store) == (4, 0, 0, {"Signup": 1, "other": 1, "urgent": 1})
    assert store.prune(max_age=7 * 86400) == 1  # unread and tagged
    assert counts(store) == scanned(store) == (3, 0, 0, {"other": 1})
    assert store.delete_matching(parse_query("tag:other")) == 1
    store.mark_read([b.id])
    assert counts(store) == scanned(store) == (1, 1, 1, {})
    store.set_tags([b.id], ["kept"])
    store.clear()
    assert counts(store) == (0, 0, 0, {})
    make(store, "after")
    store.mark_read([b.id])  # gone: changes nothing
    assert counts(store) == scanned(store) == (1, 0, 0, {})


def test_unread_counts_combined_with_other_terms_still_search(store: MessageStore) -> None:
    """Only a lone is:read / is:unread is answered from a count: with another term the
    query is matched as before."""
    a = make(store, "alpha")
    make(store, "beta")
    store.mark_read([a.id])
    assert store.count(parse_query("is:unread subject:alpha")) == 0
    assert store.count(parse_query("is:read subject:alpha")) == 1
    assert store.count(parse_query("-is:read")) == 1
