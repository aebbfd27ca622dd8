"""``/api/v2/jim``: MailHog's chaos monkey, played by the server's injected faults."""

from __future__ import annotations

import smtplib

import httpx
import pytest

from mocksmtp import MockSMTPServer
from mocksmtp.http.jim import DEFAULTS

JIM = "/api/v2/jim"
SURE = {"AcceptChance": 1, "DisconnectChance": 0, "RejectSenderChance": 0, "RejectAuthChance": 0}


def call(server: MockSMTPServer, method: str, body: object = None) -> httpx.Response:
    return httpx.request(method, f"{server.http_url}{JIM}", json=body, timeout=10)


def test_lifecycle_in_mailhogs_statuses(web: MockSMTPServer) -> None:
    """GET/PUT/DELETE are 404 before Jim is invited; POST is 201 with MailHog's defaults, a
    second POST 400; DELETE sends him away with his faults."""
    assert [call(web, m).status_code for m in ("GET", "PUT", "DELETE")] == [404, 404, 404]
    invited = call(web, "POST")
    assert invited.status_code == 201
    # MailHog's -jim-* defaults, in its order: Disconnect, Accept, LinkSpeedAffect/Min/Max, Reject*
    assert list(invited.json()) == list(DEFAULTS)
    assert list(invited.json().values()) == [0.005, 0.99, 0.1, 1024.0, 10240.0, 0.05, 0.05, 0.05]
    assert call(web, "GET").json() == invited.json()
    assert sorted(f.stage for f in web.faults) == ["auth", "connect", "data", "helo", "mail", "mail", "rcpt", "rcpt"]
    assert call(web, "POST").status_code == 400
    assert call(web, "DELETE").status_code == 200
    assert web.faults == []
    assert call(web, "GET").status_code == 404


def test_reject_recipient_always(web: MockSMTPServer) -> None:
    """RejectRecipientChance 1 (nothing else) refuses every RCPT with 550, over real SMTP; a
    PUT back to 0 lets mail through."""
    assert call(web, "POST", {**SURE, "RejectRecipientChance": 1}).status_code == 201
    with smtplib.SMTP(web.host, web.port) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail("a@example.com", ["b@example.com"], "Subject: x\r\n\r\nx\r\n")
    assert refused.value.recipients["b@example.com"][0] == 550
    changed = call(web, "PUT", {"RejectRecipientChance": 0})
    assert changed.status_code == 200
    assert changed.json()["AcceptChance"] == 1  # what the PUT left out keeps its value
    assert web.faults == []
    with smtplib.SMTP(web.host, web.port) as client:
        client.sendmail("a@example.com", ["b@example.com"], "Subject: x\r\n\r\nx\r\n")
    assert len(web.messages) == 1


def test_accept_chance_zero_drops_every_connection(web: MockSMTPServer) -> None:
    """AcceptChance 0 closes each connection before the greeting, as MailHog does."""
    call(web, "POST", {**SURE, "AcceptChance": 0, "RejectRecipientChance": 0})
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtplib.SMTP(web.host, web.port, timeout=10)


def test_clear_faults_sends_jim_away(web: MockSMTPServer) -> None:
    """clear_faults() (the plugin's reset) removes Jim's faults, and with them Jim."""
    call(web, "POST")
    web.clear_faults()
    assert call(web, "GET").status_code == 404
    assert call(web, "POST").status_code == 201


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"AcceptChance": 2}, "AcceptChance must be a chance from 0 to 1"),
        ({"RejectAuthChance": "often"}, "RejectAuthChance must be a number"),
        ({"LinkSpeedMin": -1}, "LinkSpeedMin"),
        ({"Mood": 1}, "unknown setting 'Mood'"),
        ([1], "JSON object"),
    ],
)
def test_bad_settings_are_400(web: MockSMTPServer, body: object, reason: str) -> None:
    """A bad setting is a 400 naming it; Jim stays away."""
    answer = call(web, "POST", body)
    assert answer.status_code == 400
    assert reason in answer.text
    assert call(web, "GET").status_code == 404
