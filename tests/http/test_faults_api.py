"""``/api/mocksmtp/faults``: inject, list, read and remove faults over HTTP, seen by real SMTP."""

from __future__ import annotations

import re
import smtplib
from typing import Any

import httpx
import pytest
from tests.http.helpers import get_json, send

from mocksmtp import MockSMTPServer

FAULTS = "/api/mocksmtp/faults"


def post(server: MockSMTPServer, body: object) -> httpx.Response:
    return httpx.post(f"{server.http_url}{FAULTS}", json=body, timeout=10)


def create(server: MockSMTPServer, **body: Any) -> dict[str, Any]:
    """POST a fault; assert 201 and return its JSON."""
    answer = post(server, body)
    assert answer.status_code == 201, answer.text
    fault: dict[str, Any] = answer.json()
    return fault


def test_fail_the_next_rcpt_to_one_address_with_451(web: MockSMTPServer) -> None:
    """A fault POSTed over HTTP fails the next RCPT TO:<x@example.com> with 451, exactly once:
    the retry passes, other recipients never see it, and its counters say so."""
    fault = create(web, stage="rcpt", code=451, match="x@example.com", times=1)
    assert fault["triggered"] == 0
    assert fault["remaining"] == 1
    assert fault["times"] == 1
    send(web, "Subject: other\r\n\r\nhi\r\n", to=("y@example.com",))
    with smtplib.SMTP(web.host, web.port) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail("a@example.com", ["X@example.com"], "Subject: first\r\n\r\nhi\r\n")
    assert refused.value.recipients["X@example.com"][0] == 451
    send(web, "Subject: retry\r\n\r\nhi\r\n", to=("x@example.com",))
    assert [m.subject for m in web.messages] == ["other", "retry"]
    now = get_json(web, f"{FAULTS}/{fault['id']}")
    assert (now["triggered"], now["remaining"]) == (1, 0)


def test_the_answer_shows_every_field(web: MockSMTPServer) -> None:
    """The fault comes back with an id, its reply as sent, and each argument."""
    fault = create(web, stage="mail", code=550, message="5.7.1 Relay denied", match_regex=r"@spam\.", delay=0.01)
    assert fault == {
        "id": fault["id"],
        "stage": "mail",
        "code": 550,
        "message": "5.7.1 Relay denied",
        "match": None,
        "match_regex": r"@spam\.",
        "match_callable": None,
        "times": None,
        "remaining": None,
        "triggered": 0,
        "probability": 1.0,
        "delay": 0.01,
        "disconnect": False,
    }
    (registered,) = web.faults
    assert registered.id == fault["id"]
    assert isinstance(registered.match, re.Pattern)


def test_list_get_delete_and_clear(web: MockSMTPServer) -> None:
    """GET lists oldest first, including faults injected in Python; DELETE one answers its
    final state; DELETE all says how many went."""
    first = create(web, stage="helo")
    web.inject_fault("auth", match=str.isupper)
    listed = get_json(web, FAULTS)
    assert [f["stage"] for f in listed] == ["helo", "auth"]
    assert listed[0]["id"] == first["id"]
    assert listed[1]["match_callable"] == "str.isupper"
    removed = httpx.delete(f"{web.http_url}{FAULTS}/{first['id']}", timeout=10)
    assert removed.status_code == 200
    assert removed.json()["id"] == first["id"]
    assert [f.stage for f in web.faults] == ["auth"]
    assert httpx.get(f"{web.http_url}{FAULTS}/{first['id']}", timeout=10).status_code == 404
    assert httpx.delete(f"{web.http_url}{FAULTS}/{first['id']}", timeout=10).status_code == 404
    cleared = httpx.delete(f"{web.http_url}{FAULTS}", timeout=10)
    assert cleared.json() == {"removed": 1}
    assert web.faults == []
    assert get_json(web, FAULTS) == []


def test_disconnect_over_http(web: MockSMTPServer) -> None:
    """disconnect: true drops the connection at that command; nothing is stored."""
    create(web, stage="mail", disconnect=True, times=1)
    with smtplib.SMTP(web.host, web.port) as client, pytest.raises(smtplib.SMTPServerDisconnected):
        client.sendmail("a@example.com", ["b@example.com"], "Subject: x\r\n\r\nx\r\n")
    assert web.messages == []


def test_curl_style_body_is_read_as_json(web: MockSMTPServer) -> None:
    """``curl -d '{...}'`` labels its JSON a form; the body is read as JSON all the same."""
    answer = httpx.post(
        f"{web.http_url}{FAULTS}",
        content=b'{"stage": "rcpt", "times": 2}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["remaining"] == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "stage is required"),
        ({"stage": "quit"}, "unknown fault stage 'quit'"),
        ({"stage": "rcpt", "code": "451"}, "code"),
        ({"stage": "rcpt", "code": 250}, "code"),
        ({"stage": "rcpt", "message": "a\nb"}, "message"),
        ({"stage": "rcpt", "match": 7}, "match"),
        ({"stage": "rcpt", "match_regex": "("}, "match_regex"),
        ({"stage": "rcpt", "match": "a", "match_regex": "a"}, "match_regex"),
        ({"stage": "rcpt", "times": 0}, "times"),
        ({"stage": "rcpt", "times": 1.5}, "times"),
        ({"stage": "rcpt", "probability": 2}, "probability"),
        ({"stage": "rcpt", "probability": True}, "probability"),
        ({"stage": "rcpt", "delay": -1}, "delay"),
        ({"stage": "rcpt", "delay": "1"}, "delay"),
        ({"stage": "rcpt", "disconnect": "yes"}, "disconnect"),
        ({"stage": "rcpt", "colour": "red"}, "unknown field 'colour'"),
        (["rcpt"], "JSON object"),
    ],
)
def test_bad_fields_are_400_naming_the_field(web: MockSMTPServer, body: object, reason: str) -> None:
    """Every bad field is a 400 with one line naming it, and nothing is registered."""
    answer = post(web, body)
    assert answer.status_code == 400
    assert reason in answer.text
    assert "\n" not in answer.text
    assert web.faults == []


def test_bad_json_is_400(web: MockSMTPServer) -> None:
    """A body that is not JSON is a 400, not a 500."""
    answer = httpx.post(f"{web.http_url}{FAULTS}", content=b"{stage", timeout=10)
    assert answer.status_code == 400
    assert "JSON" in answer.text
