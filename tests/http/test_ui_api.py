"""What the web UI reads besides Mailpit's API: its files, the message detail, the preview."""

from __future__ import annotations

import smtplib

import httpx

from mocksmtp import MockSMTPServer

from .helpers import get_json, send

HTML_MAIL = (
    "From: Ada <ada@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: Look\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain\r\n\r\nSee https://example.com/a\r\n"
    "--b\r\nContent-Type: text/html\r\n\r\n"
    '<p style="background:url(https://cdn.example/bg.png)"><a href="https://example.com/b">b</a>'
    '<img src="https://cdn.example/pixel.gif"><script>new Image().src = "https://evil.example/s"</script></p>\r\n'
    "--b--\r\n"
)


def test_the_detail_has_the_envelope_the_client_and_the_checks(web: MockSMTPServer) -> None:
    raw = b"From: a@example.com\nTo: b@example.com\nSubject: bare\n\n" + b"x" * 1200 + b"\n"
    with smtplib.SMTP(web.host, web.port) as client:
        client.ehlo("client.test")
        client.sendmail("a@example.com", ["b@example.com", "hidden@example.com"], raw)
    (m,) = web.messages
    found = get_json(web, f"/api/mocksmtp/message/{m.id}")
    assert found["Envelope"] == {
        "MailFrom": "a@example.com",
        "RcptTo": ["b@example.com", "hidden@example.com"],
        "MailOptions": found["Envelope"]["MailOptions"],
    }
    assert found["Client"] == {"Address": "127.0.0.1", "Port": m.peer[1], "Helo": "client.test"}
    assert (found["TLS"], found["AuthUser"]) == ("", "")
    assert {"bare_lf", "long_line"} <= set(found["Flags"])
    assert found["Bcc"] == [{"Name": "", "Address": "hidden@example.com"}]
    assert found["Subject"] == "bare"
    assert found["Created"].startswith(m.received_at.isoformat()[:19])


def test_the_detail_lists_links_remote_resources_and_parts(web: MockSMTPServer) -> None:
    id = send(web, HTML_MAIL)
    found = get_json(web, f"/api/mocksmtp/message/{id}")
    assert found["Links"] == web.messages[0].links
    assert {"https://example.com/a", "https://example.com/b"} <= set(found["Links"])
    assert found["RemoteResources"] == ["https://cdn.example/bg.png", "https://cdn.example/pixel.gif"]
    assert [(p["PartID"], p["ContentType"]) for p in found["Parts"]] == [("1", "text/plain"), ("2", "text/html")]
    assert found["Defects"] == []


def test_an_unknown_message_is_a_404_with_a_reason(web: MockSMTPServer) -> None:
    response = httpx.get(f"{web.http_url}/api/mocksmtp/message/nope")
    assert (response.status_code, response.text) == (404, "message 'nope' not found")


def test_the_preview_blocks_scripts_and_remote_resources_until_asked(web: MockSMTPServer) -> None:
    id = send(web, HTML_MAIL)
    blocked = httpx.get(f"{web.http_url}/api/mocksmtp/message/{id}/preview")
    assert blocked.status_code == 200
    csp = blocked.headers["content-security-policy"]
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    assert "sandbox allow-popups" in csp
    assert "https:" not in csp
    allowed = httpx.get(f"{web.http_url}/api/mocksmtp/message/{id}/preview", params={"remote": "1"})
    assert "img-src" in allowed.headers["content-security-policy"]
    assert "https:" in allowed.headers["content-security-policy"]
    assert "script-src" not in allowed.headers["content-security-policy"]
    text_only = send(web, "Subject: plain\r\n\r\nno html\r\n")
    response = httpx.get(f"{web.http_url}/api/mocksmtp/message/{text_only}/preview")
    assert (response.status_code, response.text) == (404, f"message {text_only} has no HTML part")


def test_the_page_and_its_modules_are_served_under_a_strict_policy(web: MockSMTPServer) -> None:
    page = httpx.get(f"{web.http_url}/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/ui/app.js">' in page.text
    for name in ("app.js", "dom.js", "inbox.js", "message.js", "server.js"):
        module = httpx.get(f"{web.http_url}/ui/{name}")
        assert (module.status_code, module.headers["content-type"]) == (200, "text/javascript; charset=utf-8")
    assert httpx.get(f"{web.http_url}/ui/style.css").headers["content-type"].startswith("text/css")
    for bad in ("nope.js", "..%2Fui.py", "ui.py", ".hidden.js"):
        assert httpx.get(f"{web.http_url}/ui/{bad}").status_code == 404, bad


def test_the_server_summary_has_version_counters_and_retention() -> None:
    with MockSMTPServer("127.0.0.1", 0, http_port=0, max_messages=5) as server:
        send(server, "Subject: one\r\n\r\nx\r\n")
        found = get_json(server, "/api/mocksmtp/server")
    assert found["Retention"] == {"MaxMessages": 5, "MaxAge": None}
    assert found["Stats"]["messages"] == 1
    assert found["Version"]
