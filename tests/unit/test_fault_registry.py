"""The fault registry: replies, matching, counting and removal, without sockets."""

from __future__ import annotations

import re
import threading

import pytest

from mocksmtp import ConfigError
from mocksmtp.smtp.faults import DEFAULT_FAULT_REPLIES, STAGES, FaultRegistry, fault_reply


def test_default_replies_per_stage() -> None:
    """Each stage has a default code with an enhanced status of the same class."""
    assert set(DEFAULT_FAULT_REPLIES) == set(STAGES)
    codes = {stage: reply.code for stage, reply in DEFAULT_FAULT_REPLIES.items()}
    assert codes == {"connect": 421, "helo": 451, "auth": 454, "mail": 451, "rcpt": 451, "data": 554, "message": 451}
    for reply in DEFAULT_FAULT_REPLIES.values():
        assert reply.status[0] == str(reply.code)[0]


def test_fault_reply_code_and_message() -> None:
    """A code of another class gets X.0.0; a message may carry its own enhanced status."""
    assert fault_reply("rcpt", 550, None).line.startswith(b"550 5.0.0 ")
    assert fault_reply("rcpt", 452, None).status == "4.3.0"
    assert fault_reply("rcpt", 550, "5.1.1 No such user").line == b"550 5.1.1 No such user\r\n"
    assert fault_reply("rcpt", 550, "4.1.1 wrong class").line == b"550 5.0.0 4.1.1 wrong class\r\n"


def test_matching_kinds() -> None:
    """Strings match exactly without case, regexes by search, callables by truth."""
    registry = FaultRegistry()
    exact = registry.add("mail", match="A@Example.com")
    pattern = registry.add("rcpt", match=re.compile(r"@corp\."))
    call = registry.add("helo", match=lambda name: name.endswith(".test"))
    assert registry.pick("mail", ["a@example.com"]) is exact
    assert registry.pick("mail", ["a@example.comx"]) is None
    assert registry.pick("rcpt", ["x@corp.example"]) is pattern
    assert registry.pick("helo", ["box.test"]) is call
    assert registry.pick("helo", ["box.example"]) is None


def test_any_subject_matches() -> None:
    """With several subjects (data, message) one match is enough."""
    registry = FaultRegistry()
    fault = registry.add("message", match="bcc@example.com")
    assert registry.pick("message", ["a@example.com", "b@example.com"]) is None
    assert registry.pick("message", ["a@example.com", "BCC@example.com"]) is fault


def test_times_and_first_registered_wins() -> None:
    """times counts down to zero; the oldest firing fault is picked."""
    registry = FaultRegistry()
    first = registry.add("rcpt", times=1)
    second = registry.add("rcpt")
    assert registry.pick("rcpt", ["x"]) is first
    assert registry.pick("rcpt", ["x"]) is second
    assert (first.triggered, first.remaining, second.triggered) == (1, 0, 1)


def test_context_manager_removes_and_registry_is_falsy_when_empty() -> None:
    """Leaving the with block removes the fault; an empty registry is falsy."""
    registry = FaultRegistry()
    assert not registry
    with registry.add("mail") as fault:
        assert registry
        assert registry.faults() == [fault]
    assert not registry
    fault.remove()  # idempotent


def test_delay_without_code_proceeds_and_disconnect_has_no_reply() -> None:
    """A pure delay has no reply (the command proceeds); disconnect has none either."""
    registry = FaultRegistry()
    assert registry.add("mail", delay=0.1).reply is None
    assert registry.add("mail", delay=0.1, code=451).reply is not None
    assert registry.add("mail", disconnect=True, code=451).reply is None
    assert registry.add("mail").reply == DEFAULT_FAULT_REPLIES["mail"]


def test_registration_from_many_threads() -> None:
    """Faults added and removed from many threads leave a consistent registry."""
    registry = FaultRegistry()

    def work() -> None:
        for _ in range(200):
            with registry.add("rcpt"):
                registry.pick("rcpt", ["x"])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not registry


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_accepts_a_fault(stage: str) -> None:
    """Every documented stage can be registered."""
    assert FaultRegistry().add(stage).stage == stage


def test_node_only_changes_nothing_for_a_single_server() -> None:
    """Every fault of a server without a shared store is its own: node_only is checked, then
    the fault is registered and named as any other."""
    registry = FaultRegistry()
    assert registry.add("rcpt", node_only=True).id == "1"
    with pytest.raises(ConfigError, match="node_only must be True or False"):
        registry.add("rcpt", node_only="yes")  # type: ignore[arg-type]
    assert len(registry) == 1
