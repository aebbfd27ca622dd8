"""``POST /api/v1/send`` (Mailpit's send API, delivered through our own SMTP service) and
``GET /metrics`` (Prometheus' text format)."""

from __future__ import annotations

import base64
import smtplib

import httpx
from tests.http.helpers import get_json, send

from mocksmtp import MockSMTPServer

PDF = b"%PDF-1.4\x00\xff"


def test_send_goes_through_smtp_and_names_the_stored_message(web: MockSMTPServer) -> None:
    """POST /api/v1/send builds the message, delivers it over SMTP (counted like any mail) and
    answers {"ID": ...}; Bcc becomes an envelope recipient only; attachments and tags arrive."""
    body = {
        "From": {"Email": "app@example.com", "Name": "App"},
        "To": [{"Email": "ann@example.com", "Name": "Ann"}],
        "Cc": [],
        "Bcc": ["audit@example.com"],
        "Subject": "Welcome",
        "Text": "Hello Ann\n",
        "HTML": '<p>Hello <img src="cid:logo"></p>',
        "Headers": {"X-Campaign": "spring"},
        "Tags": ["signup"],
        "Attachments": [
            {"Content": base64.b64encode(PDF).decode(), "Filename": "terms.pdf", "ContentType": "application/pdf"},
            {
                "Content": base64.b64encode(b"PNG").decode(),
                "Filename": "logo.png",
                "ContentType": "image/png",
                "ContentID": "logo",
            },
        ],
    }
    answer = httpx.post(f"{web.http_url}/api/v1/send", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    id = answer.json()["ID"]
    (mail,) = web.messages
    assert mail.id == id
    assert mail.mail_from == "app@example.com"
    assert mail.rcpt_tos == ("ann@example.com", "audit@example.com")
    assert mail.bcc == ["audit@example.com"]
    assert b"audit@example.com" not in mail.raw
    assert mail.headers["X-Campaign"] == "spring"
    assert [(a.filename, a.content, a.inline) for a in mail.attachments] == [
        ("logo.png", b"PNG", True),
        ("terms.pdf", PDF, False),
    ]
    assert web.stats.messages == 1
    assert get_json(web, f"/api/v1/message/{id}")["Tags"] == ["signup"]


def test_send_refused_by_an_injected_fault_is_an_error_naming_the_reply(web: MockSMTPServer) -> None:
    """A fault at RCPT refuses the send like any SMTP client's: a JSON Error naming the reply,
    nothing stored."""
    web.inject_fault("rcpt", code=550, message="no such user")
    answer = httpx.post(
        f"{web.http_url}/api/v1/send",
        timeout=30,
        json={"From": {"Email": "app@example.com"}, "To": [{"Email": "x@example.com"}]},
    )
    assert answer.status_code == 500
    assert "550" in answer.json()["Error"]
    assert web.messages == []


def test_a_bad_send_request_is_a_400_with_a_json_error(web: MockSMTPServer) -> None:
    """No From, no recipient, bad base64: 400 with {"Error": "..."}; nothing sent."""
    for body in (
        {"To": [{"Email": "a@example.com"}]},
        {"From": {"Email": "app@example.com"}},
        {
            "From": {"Email": "app@example.com"},
            "To": [{"Email": "a@example.com"}],
            "Attachments": [{"Content": "***", "Filename": "x"}],
        },
    ):
        answer = httpx.post(f"{web.http_url}/api/v1/send", json=body, timeout=30)
        assert answer.status_code == 400, answer.text
        assert answer.json()["Error"]
    assert web.messages == []


def test_metrics_in_prometheus_text_format(web: MockSMTPServer) -> None:
    """GET /metrics: counters of messages, bytes and connections and the store's size."""
    raw = "Subject: m\r\n\r\nx\r\n"
    send(web, raw)
    answer = httpx.get(f"{web.http_url}/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    values = dict(line.split(" ") for line in answer.text.splitlines() if not line.startswith("#"))
    assert values["mocksmtp_messages_total"] == "1"
    assert values["mocksmtp_connections_total"] == "1"
    assert values["mocksmtp_store_messages"] == "1"
    assert int(values["mocksmtp_message_bytes_total"]) == len(raw)
    assert "# TYPE mocksmtp_messages_total counter" in answer.text


def test_chaos_triggers_become_injected_faults(web: MockSMTPServer) -> None:
    """PUT /api/v1/chaos {"Recipient": {"ErrorCode": 451, "Probability": 100}} makes RCPT fail
    with 451 (a fault in server.faults); GET shows it; a PUT without it, or clear_faults(),
    ends it; a code outside 400-599 is a 400."""
    url = f"{web.http_url}/api/v1/chaos"
    set_ = httpx.put(url, json={"Recipient": {"ErrorCode": 451, "Probability": 100}}, timeout=10)
    assert set_.status_code == 200
    assert set_.json()["Recipient"] == {"ErrorCode": 451, "Probability": 100}
    assert set_.json()["Sender"]["Probability"] == 0
    assert [(f.stage, f.reply.code if f.reply else None) for f in web.faults] == [("rcpt", 451)]
    with smtplib.SMTP(web.host, web.port) as client:
        client.ehlo()
        client.mail("a@example.com")
        assert client.rcpt("b@example.com")[0] == 451
    assert httpx.put(url, json={}, timeout=10).status_code == 200
    assert web.faults == []
    httpx.put(url, json={"Sender": {"ErrorCode": 550, "Probability": 50}}, timeout=10)
    web.clear_faults()
    assert get_json(web, "/api/v1/chaos")["Sender"]["Probability"] == 0
    assert httpx.put(url, json={"Sender": {"ErrorCode": 250, "Probability": 5}}, timeout=10).status_code == 400
