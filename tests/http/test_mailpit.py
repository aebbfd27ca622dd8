"""Mailpit's v1 API, field for field: mail sent over SMTP with smtplib, read back over real
HTTP with httpx, curl and the ``mailpit-api-client`` library from PyPI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime
from email.message import EmailMessage

import httpx
import pytest
from tests.http.helpers import get_json, send

from mocksmtp import MockSMTPServer

PDF = b"%PDF-1.4 binary\x00\xff\r\n\x80 end"
PNG = b"\x89PNG\r\n\x1a\nnot really a png"


def report_mail(subject: str = "Monthly report") -> EmailMessage:
    """A message with text, HTML, an inline image (cid:logo@x) and a PDF attachment."""
    m = EmailMessage()
    m["From"] = "Ann Lee <ann@example.com>"
    m["To"] = "Bob <bob@example.com>"
    m["Cc"] = "carol@example.com"
    m["Reply-To"] = "replies@example.com"
    m["Subject"] = subject
    m["Message-ID"] = "<r1@example.com>"
    m["Date"] = "Sat, 05 Dec 2026 12:00:00 +0100"
    m["Delivered-To"] = "bob@example.com"  # the PyPI client's Headers model requires it
    m["Received"] = "from a by b; Sat, 05 Dec 2026 11:59:58 +0100"
    m["Received"] = "from c by d; Sat, 05 Dec 2026 11:59:59 +0100"
    m["List-Unsubscribe"] = "<https://example.com/u/1>, <mailto:u@example.com>"
    m.set_content("See the attached report.\n")
    m.add_alternative('<p>See <img src="cid:logo@x"> the report</p>', subtype="html")
    payload = m.get_payload()
    assert isinstance(payload, list)
    html_part = payload[1]
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(PNG, maintype="image", subtype="png", cid="<logo@x>")
    m.add_attachment(PDF, maintype="application", subtype="pdf", filename="report.pdf")
    return m


def send_report(server: MockSMTPServer, subject: str = "Monthly report") -> str:
    """Send :func:`report_mail` to two shown recipients and a hidden one; its id."""
    return send(
        server,
        report_mail(subject).as_bytes(),
        to=("bob@example.com", "carol@example.com", "secret@example.com"),
        sender="bounce@example.com",
    )


SUMMARY_KEYS = [
    "ID",
    "MessageID",
    "Read",
    "From",
    "To",
    "Cc",
    "Bcc",
    "ReplyTo",
    "Subject",
    "Created",
    "Username",
    "Tags",
    "Size",
    "Attachments",
    "Snippet",
]


def test_the_list_has_mailpits_envelope_and_summaries_newest_first(web: MockSMTPServer) -> None:
    """GET /api/v1/messages: snake_case counts, PascalCase items with every field, newest first;
    Attachments is a count and Created RFC 3339 with +00:00."""
    first = send_report(web, "first")
    second = send(web, "Subject: second\r\n\r\nplain\r\n")
    page = get_json(web, "/api/v1/messages")
    assert list(page) == ["total", "unread", "count", "messages_count", "messages_unread", "start", "tags", "messages"]
    assert (page["total"], page["unread"], page["count"], page["messages_count"], page["start"]) == (2, 2, 2, 2, 0)
    assert [m["ID"] for m in page["messages"]] == [second, first]
    item = page["messages"][1]
    assert list(item) == SUMMARY_KEYS
    assert item["From"] == {"Name": "Ann Lee", "Address": "ann@example.com"}
    assert item["To"] == [{"Name": "Bob", "Address": "bob@example.com"}]
    assert item["Bcc"] == [{"Name": "", "Address": "secret@example.com"}]
    assert item["ReplyTo"] == [{"Name": "", "Address": "replies@example.com"}]
    assert (item["MessageID"], item["Subject"], item["Attachments"], item["Read"]) == (
        "r1@example.com",
        "first",
        1,  # the PDF; the inline image is not counted (Mailpit counts Inlines apart)
        False,
    )
    assert item["Snippet"] == "See the attached report."
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", item["Created"]), item["Created"]
    datetime.fromisoformat(item["Created"])
    assert page["messages"][0]["From"] is None
    assert page["messages"][0]["To"] == []


def test_start_and_limit_page_the_list(web: MockSMTPServer) -> None:
    """start skips the newest, limit bounds the page; counts stay those of the mailbox."""
    ids = [send(web, f"Subject: n{n}\r\n\r\nx\r\n") for n in range(3)]
    page = get_json(web, "/api/v1/messages", start=1, limit=1)
    assert [m["ID"] for m in page["messages"]] == [ids[1]]
    assert (page["total"], page["count"], page["start"]) == (3, 1, 1)


def test_search_uses_the_query_language_and_bad_syntax_is_a_400(web: MockSMTPServer) -> None:
    """GET /api/v1/search?query=: messages_count counts the matches; a query that cannot be
    read is a 400 whose body is the parser's one line; no query is a 400."""
    send_report(web, "Invoice 42")
    send(web, "Subject: other\r\n\r\nx\r\n")
    found = get_json(web, "/api/v1/search", query='subject:"invoice 42" has:attachment')
    assert [m["Subject"] for m in found["messages"]] == ["Invoice 42"]
    assert (found["total"], found["messages_count"], found["messages_unread"]) == (2, 1, 1)
    bad = httpx.get(f"{web.http_url}/api/v1/search", params={"query": 'subject:"open'}, timeout=10)
    assert bad.status_code == 400
    assert bad.text == 'unterminated quote at position 8: add the closing `"`'
    assert httpx.get(f"{web.http_url}/api/v1/search", timeout=10).status_code == 400


def test_one_message_by_id_and_latest_and_reading_marks_it_read(web: MockSMTPServer) -> None:
    """GET /api/v1/message/{ID}: Mailpit's Message (ReturnPath the envelope sender, attachments
    and inline parts with part ids and checksums); latest is the newest; reading marks it read."""
    id = send_report(web)
    m = get_json(web, f"/api/v1/message/{id}")
    assert m["ID"] == id
    assert m["ReturnPath"] == "bounce@example.com"
    assert m["Date"] == "2026-12-05T12:00:00.000+01:00"
    assert m["Text"] == "See the attached report.\n"
    assert m["HTML"].startswith("<p>See <img")
    assert m["ListUnsubscribe"]["Links"] == ["https://example.com/u/1", "mailto:u@example.com"]
    (pdf,) = m["Attachments"]
    assert (pdf["PartID"], pdf["FileName"], pdf["ContentType"], pdf["Size"]) == (
        "2",
        "report.pdf",
        "application/pdf",
        len(PDF),
    )
    assert set(pdf["Checksums"]) == {"MD5", "SHA1", "SHA256"}
    (logo,) = m["Inline"]
    assert (logo["PartID"], logo["ContentID"], logo["ContentType"]) == ("1.2.2", "logo@x", "image/png")
    assert get_json(web, "/api/v1/messages")["unread"] == 0
    assert get_json(web, "/api/v1/message/latest")["ID"] == id
    missing = httpx.get(f"{web.http_url}/api/v1/message/nope", timeout=10)
    assert missing.status_code == 404
    assert "\n" not in missing.text


def test_headers_are_go_canonical_with_repeats_in_order(web: MockSMTPServer) -> None:
    """GET .../headers: {"Message-Id": [...]} as Go spells names; repeated headers in order."""
    id = send_report(web)
    headers = get_json(web, f"/api/v1/message/{id}/headers")
    assert headers["Message-Id"] == ["<r1@example.com>"]
    assert headers["Received"] == [
        "from a by b; Sat, 05 Dec 2026 11:59:58 +0100",
        "from c by d; Sat, 05 Dec 2026 11:59:59 +0100",
    ]
    assert headers["Subject"] == ["Monthly report"]


def test_raw_is_byte_exact(web: MockSMTPServer) -> None:
    """GET .../raw returns the message exactly as sent: bare LF, 8-bit bytes, a NUL."""
    raw = b"Subject: raw\r\nX-Odd: caf\xe9\r\n\r\nline\nbare\x00 \xff\r\n"
    id = send(web, raw)
    response = httpx.get(f"{web.http_url}/api/v1/message/{id}/raw", timeout=10)
    assert response.status_code == 200
    assert response.content == raw


def test_parts_are_served_decoded_with_their_content_type(web: MockSMTPServer) -> None:
    """GET .../part/{PartID}: the attachment's decoded bytes, exactly, with its Content-Type;
    an unknown part is a 404."""
    id = send_report(web)
    pdf = httpx.get(f"{web.http_url}/api/v1/message/{id}/part/2", timeout=10)
    assert pdf.status_code == 200
    assert pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    logo = httpx.get(f"{web.http_url}/api/v1/message/{id}/part/1.2.2", timeout=10)
    assert logo.content == PNG
    assert httpx.get(f"{web.http_url}/api/v1/message/{id}/part/9", timeout=10).status_code == 404


def test_put_marks_read_and_unread_by_ids_search_or_all(web: MockSMTPServer) -> None:
    """PUT /api/v1/messages: {IDs, Read}, {Search, Read}, or neither (every message); IDs
    with Search is a 400."""
    a, b = send(web, "Subject: a\r\n\r\nx\r\n"), send(web, "Subject: b\r\n\r\nx\r\n")
    url = f"{web.http_url}/api/v1/messages"

    def unread() -> int:
        return int(get_json(web, "/api/v1/messages")["unread"])

    assert httpx.put(url, json={"IDs": [a], "Read": True}, timeout=10).text == "ok"
    assert unread() == 1
    assert httpx.put(url, json={"Search": "subject:b", "Read": True}, timeout=10).status_code == 200
    assert unread() == 0
    assert httpx.put(url, json={"Read": False}, timeout=10).status_code == 200
    assert unread() == 2
    both = httpx.put(url, json={"IDs": [b], "Search": "subject:b", "Read": True}, timeout=10)
    assert both.status_code == 400


def test_delete_by_json_ids_by_form_ids_by_search_and_all(web: MockSMTPServer) -> None:
    """DELETE /api/v1/messages with {"IDs"} or a form (ids=) deletes those only; DELETE
    /api/v1/search deletes the matches; with no body, every message."""
    a, b, c, d = (send(web, f"Subject: {s}\r\n\r\nx\r\n") for s in "abcd")
    url = f"{web.http_url}/api/v1/messages"

    def left() -> list[str]:
        return sorted(m["ID"] for m in get_json(web, "/api/v1/messages")["messages"])

    assert httpx.request("DELETE", url, json={"IDs": [a]}, timeout=10).text == "ok"
    assert left() == sorted([b, c, d])
    assert httpx.request("DELETE", url, data={"ids": [b]}, timeout=10).status_code == 200
    assert left() == sorted([c, d])
    response = httpx.request("DELETE", f"{web.http_url}/api/v1/search", params={"query": "subject:c"}, timeout=10)
    assert response.status_code == 200
    assert left() == [d]
    assert httpx.request("DELETE", url, timeout=10).status_code == 200
    assert left() == []


def test_tags_set_list_rename_and_delete(web: MockSMTPServer) -> None:
    """PUT /api/v1/tags replaces a message's tags; GET lists them; PUT /api/v1/tags/{tag}
    renames; DELETE removes; the summaries and tag: searches follow."""
    a, b = send(web, "Subject: a\r\n\r\nx\r\n"), send(web, "Subject: b\r\n\r\nx\r\n")
    base = f"{web.http_url}/api/v1/tags"
    assert httpx.put(base, json={"IDs": [a, b], "Tags": ["signup", "urgent"]}, timeout=10).text == "ok"
    assert get_json(web, "/api/v1/tags") == ["signup", "urgent"]
    assert httpx.put(f"{base}/urgent", json={"Name": "later"}, timeout=10).status_code == 200
    assert get_json(web, "/api/v1/tags") == ["later", "signup"]
    assert httpx.delete(f"{base}/signup", timeout=10).status_code == 200
    assert get_json(web, "/api/v1/search", query="tag:later")["messages_count"] == 2
    assert get_json(web, "/api/v1/messages")["messages"][0]["Tags"] == ["later"]
    assert httpx.put(base, json={"IDs": [a], "Tags": ["two words"]}, timeout=10).status_code == 400


def test_info_webui_livez_and_readyz(web: MockSMTPServer) -> None:
    """info and webui have Mailpit's fields; /livez and /readyz answer 200."""
    send(web, "Subject: a\r\n\r\nx\r\n")
    info = get_json(web, "/api/v1/info")
    assert {
        "Version",
        "LatestVersion",
        "Database",
        "DatabaseSize",
        "Messages",
        "Unread",
        "Tags",
        "RuntimeStats",
    } <= set(info)
    assert (info["Messages"], info["Unread"], info["RuntimeStats"]["SMTPAccepted"]) == (1, 1, 1)
    webui = get_json(web, "/api/v1/webui")
    assert {"Label", "ChaosEnabled", "MessageRelay"} <= set(webui)
    for path in ("/livez", "/readyz"):
        assert httpx.get(f"{web.http_url}{path}", timeout=10).status_code == 200


def test_views_show_html_sandboxed_and_text(web: MockSMTPServer) -> None:
    """/view/{ID}.html: the HTML part with cid: images pointing at their parts, under a CSP
    that allows no script; .txt the text part; /view/latest and //view/... redirect."""
    id = send_report(web)
    page = httpx.get(f"{web.http_url}/view/{id}.html", timeout=10)
    assert page.status_code == 200
    assert f'src="/api/v1/message/{id}/part/1.2.2"' in page.text
    policy = page.headers["content-security-policy"]
    assert "sandbox" in policy
    assert "script-src" not in policy
    assert "default-src 'none'" in policy
    assert httpx.get(f"{web.http_url}/view/{id}.txt", timeout=10).text == "See the attached report.\n"
    latest = httpx.get(f"{web.http_url}/view/latest", timeout=10)
    assert latest.status_code == 302
    assert latest.headers["location"] == f"/view/{id}.html"
    double = httpx.get(f"{web.http_url}//view/{id}.html?embed=1", timeout=10)
    assert double.status_code == 301
    assert double.headers["location"] == f"/view/{id}.html?embed=1"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/api/v1/messages?start=-1", {}),
        ("GET", "/api/v1/messages?limit=lots", {}),
        ("PUT", "/api/v1/messages", {"content": b"{not json"}),
        ("PUT", "/api/v1/messages", {"json": ["a list"]}),
        ("PUT", "/api/v1/messages", {"json": {"IDs": "one", "Read": True}}),
        ("PUT", "/api/v1/messages", {"json": {"IDs": [], "Read": "maybe"}}),
        ("DELETE", "/api/v1/messages", {"json": {"IDs": [1, 2]}}),
        ("PUT", "/api/v1/tags/x", {"json": {}}),
        ("GET", "/api/v1/search?query=before:notadate", {}),
        ("GET", "/api/mocksmtp/wait?count=0", {}),
        ("GET", "/api/mocksmtp/wait?timeout=soon", {}),
        ("PUT", "/api/v1/messages", {"content": b"[" * 100_000}),
    ],
)
def test_bad_requests_are_4xx_with_one_line_and_the_server_lives_on(
    web: MockSMTPServer, method: str, path: str, kwargs: dict[str, object]
) -> None:
    """Every bad request is a 4xx with a one-line reason; the server keeps serving SMTP and HTTP."""
    response = httpx.request(method, f"{web.http_url}{path}", timeout=10, **kwargs)  # type: ignore[arg-type]
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.text, response.status_code
    assert "\n" not in response.text.strip(), response.text
    send(web, "Subject: still here\r\n\r\nx\r\n")
    assert get_json(web, "/api/v1/messages")["total"] == 1


# -- curl ---------------------------------------------------------------------------------------


def _curl() -> str:
    found = shutil.which("curl")
    if found is None:
        if os.environ.get("MOCKSMTP_REQUIRE_CLIENTS"):
            pytest.fail("curl is not installed (MOCKSMTP_REQUIRE_CLIENTS is set)")
        pytest.skip("curl is not installed")
    return found


def test_curl_lists_reads_raw_byte_exact_and_deletes(web: MockSMTPServer) -> None:
    """curl, as a CI script would: list, raw (byte-exact to a file), mark read, delete."""
    curl = _curl()
    raw = b"Subject: from curl\r\n\r\nbody \xff\r\n"
    id = send(web, raw)

    def run(*args: str) -> bytes:
        done = subprocess.run([curl, "--silent", "--show-error", "--fail", *args], capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert b'"messages_count":1' in run(f"{web.http_url}/api/v1/messages")
    assert run(f"{web.http_url}/api/v1/message/{id}/raw") == raw
    assert (
        run(
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/json",
            "--data",
            f'{{"IDs":["{id}"],"Read":true}}',
            f"{web.http_url}/api/v1/messages",
        )
        == b"ok"
    )
    assert run("-X", "DELETE", f"{web.http_url}/api/v1/messages") == b"ok"
    assert web.messages == []


# -- the mailpit-api-client library (PyPI) ------------------------------------------------------


def test_mailpit_api_client_lists_gets_reads_parts_marks_and_deletes(web: MockSMTPServer) -> None:
    """mailpit-api-client, unchanged: get_messages, get_message, get_message_headers,
    get_message_attachment, put_messages (a form) and delete_messages (a form of ids)."""
    api_module = pytest.importorskip("mailpit.client.api")
    keep = send(web, "Subject: keep\r\n\r\nx\r\n")
    id = send_report(web)
    api = api_module.API(web.http_url)
    listed = api.get_messages()
    assert listed.total == 2
    assert [m.id for m in listed.messages] == [id, keep]
    assert listed.messages[0].from_.address == "ann@example.com"
    message = api.get_message(id)
    assert message.subject == "Monthly report"
    assert message.read is True
    assert message.date.utcoffset().total_seconds() == 3600
    assert [a.file_name for a in message.attachments] == ["report.pdf"]
    assert message.bcc[0].address == "secret@example.com"
    headers = api.get_message_headers(id)
    assert headers.message_id == ["<r1@example.com>"]
    assert headers.delivered_to == ["bob@example.com"]
    assert api.get_message_attachment(id, message.attachments[0].part_id).startswith("%PDF-1.4")
    api.put_messages([id], "Read", False)
    assert api.get_messages().unread == 2
    api.delete_messages([id])
    assert [m.id for m in api.get_messages().messages] == [keep]
