"""MIME part ids: every leaf of a message has Mailpit's dotted id, the same in every process,
and its decoded content is one call away."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mocksmtp import Message

DATA = Path(__file__).parents[1] / "data"
AT = datetime(2024, 6, 7, 10, 0, tzinfo=timezone.utc)


def load(name: str) -> Message:
    return Message(id="P-1", raw=(DATA / name).read_bytes(), mail_from="", rcpt_tos=[], received_at=AT)


def test_parts_have_dotted_ids_by_their_place_in_the_tree() -> None:
    """Parts of a top-level multipart are 1, 2, ...; those of a nested multipart 1.1, 1.2, ...;
    each with its type, file name, decoded size, disposition and Content-ID."""
    m = load("alternative-inline-image.eml")
    assert [(p.id, p.content_type, p.filename, p.disposition) for p in m.parts] == [
        ("1.1.1", "text/plain", None, None),
        ("1.1.2", "text/html", None, None),
        ("1.2", "image/png", "logo.png", "inline"),
        ("2", "application/pdf", "invoice-1042.pdf", "attachment"),
        ("3", "text/csv", "items.csv", "attachment"),
    ]
    assert [a.part_id for a in m.attachments] == ["1.2", "2", "3"]
    assert m.parts[2].content_id == "logo-1042@shop.example"
    assert [p.size for p in m.parts[2:]] == [a.size for a in m.attachments]
    assert m.part("2") == m.attachments[1].content
    assert m.part("2").startswith(b"%PDF")  # base64 undone
    assert m.part("1.1.1").decode().startswith("Hello Ann,")


def test_a_single_part_message_is_part_0_and_an_attached_message_one_part() -> None:
    """A message that is not multipart is its one part "0"; an attached message/rfc822 is one
    part whose content is its bytes as sent (its own parts get no ids)."""
    plain = Message(
        id="1", raw=b"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n", mail_from="", rcpt_tos=[]
    )
    assert [(p.id, p.content_type) for p in plain.parts] == [("0", "text/plain")]
    assert plain.part("0") == "café\r\n".encode()
    nested = load("nested-rfc822.eml")
    assert [(p.id, p.content_type) for p in nested.parts] == [("1", "text/plain"), ("2", "message/rfc822")]
    assert nested.part("2").startswith(b"Date: Thu, 06 Jun 2024 17:30:00 +0000")


def test_an_unknown_part_id_names_the_ids_there_are() -> None:
    """part() with an id the message lacks raises KeyError listing the ids it has."""
    with pytest.raises(KeyError, match=r"no MIME part '9'; its parts are \['1', '2'\]"):
        load("nested-rfc822.eml").part("9")


def test_part_ids_are_the_same_in_another_process() -> None:
    """The ids depend on the raw bytes only: a fresh interpreter gives the same ones."""
    names = sorted(p.name for p in DATA.glob("*.eml"))
    here = [[p.id for p in load(name).parts] for name in names]
    code = (
        "import sys, pathlib; from mocksmtp import Message; print([[p.id for p in Message(id='x', raw="
        "pathlib.Path(sys.argv[1], n).read_bytes(), mail_from='', rcpt_tos=[]).parts] for n in sys.argv[2:]])"
    )
    there = subprocess.run(
        [sys.executable, "-c", code, str(DATA), *names], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert there == repr(here)
    assert any(len(ids) > 2 for ids in here)


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.eml")))
def test_a_summary_agrees_with_the_full_parse(name: str) -> None:
    """The summary made without the full parse (one body decoded) equals the one made from it."""
    from mocksmtp.summary import summarize

    light, full = load(name), load(name)
    full.attachments  # noqa: B018 (the full parse, first)
    assert "parsed" in full._cache
    assert summarize(light) == summarize(full)
    assert "parsed" not in light._cache
