"""The web UI driven in Debian's Chromium: live mail, search, the tabs, downloads, safety, keys."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest

from mocksmtp import MockSMTPServer
from mocksmtp.store import MessageState

from .conftest import screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\r\n%%EOF\r\n"


def mail(
    subject: str, *, text: str = "Hello there.", html: str | None = None, attach: bytes | None = None
) -> EmailMessage:
    m = EmailMessage()
    m["From"] = "Ada Lovelace <ada@example.com>"
    m["To"] = "bob@example.com"
    m["Subject"] = subject
    m.set_content(text)
    if html is not None:
        m.add_alternative(html, subtype="html")
    if attach is not None:
        m.add_attachment(attach, maintype="application", subtype="pdf", filename="report.pdf")
    return m


def send(server: MockSMTPServer, message: EmailMessage) -> None:
    with smtplib.SMTP(server.host, server.port) as client:
        client.send_message(message)


def open_inbox(page: Page, server: MockSMTPServer) -> None:
    page.goto(f"{server.http_url}/")
    page.wait_for_function("() => document.getElementById('count').textContent !== ''")


def rows(page: Page) -> list[str]:
    return page.locator("#list .subject").all_inner_texts()


def expect_rows(page: Page, subjects: list[str]) -> None:
    """Wait (Playwright's retrying assertion) until the list shows exactly these subjects."""
    from playwright.sync_api import expect

    expect(page.locator("#list .subject")).to_have_text(subjects)


def test_a_message_sent_over_smtp_appears_without_reload(page: Page, web: MockSMTPServer) -> None:
    open_inbox(page, web)
    send(web, mail("First"))
    expect_rows(page, ["First"])
    send(web, mail("Second"))
    expect_rows(page, ["Second", "First"])  # newest first
    assert "2 messages" in page.locator("#count").inner_text()
    assert page.locator("#list li.unread").count() == 2


def test_search_narrows_the_list_and_counts(page: Page, web: MockSMTPServer) -> None:
    for n in range(3):
        send(web, mail(f"Invoice {n}"))
    send(web, mail("Welcome aboard", attach=PDF))
    open_inbox(page, web)
    assert len(rows(page)) == 4
    page.keyboard.press("/")
    page.keyboard.type("has:attachment")
    expect_rows(page, ["Welcome aboard"])
    assert "of 1 matching" in page.locator("#count").inner_text()
    page.locator("#q").fill('subject:"invoice 1"')
    expect_rows(page, ["Invoice 1"])
    page.locator("#q").fill("larger:lots")
    page.locator("#status").filter(has_text="Search failed: 400: bad size").wait_for()


def test_tabs_show_html_text_headers_and_source(page: Page, web: MockSMTPServer) -> None:
    html = '<h1 id="greeting">Hi Bob</h1><p>Your <b>order</b> shipped: <a href="https://shop.example/o/1">track</a></p>'
    send(web, mail("Order shipped", text="Plain: your order shipped.", html=html))
    open_inbox(page, web)
    page.locator("#list .subject", has_text="Order shipped").click()
    frame = page.frame_locator("iframe.preview")
    assert frame.locator("#greeting").inner_text() == "Hi Bob"
    page.locator("#count", has_text="0 unread").wait_for()  # opening it marked it read
    assert web.store.state(web.messages[0].id) == MessageState(read=True)
    page.get_by_role("tab", name="Text").click()
    assert page.locator("#panel pre").inner_text().strip() == "Plain: your order shipped."
    page.get_by_role("tab", name="Headers").click()
    assert page.locator("#panel tr", has_text="Subject").locator("td").nth(1).inner_text() == "Order shipped"
    page.get_by_role("tab", name="Raw").click()
    raw = page.locator("#panel pre").inner_text()
    assert "Content-Type: multipart/alternative" in raw
    assert "Subject: Order shipped" in raw
    page.get_by_role("tab", name=re.compile("Envelope")).click()
    panel = page.locator("#panel")
    assert "<ada@example.com>" in panel.inner_text()
    assert "https://shop.example/o/1" in panel.get_by_role("link").all_inner_texts()


def test_an_attachment_downloads_byte_exact(page: Page, web: MockSMTPServer) -> None:
    send(web, mail("With a PDF", attach=PDF))
    open_inbox(page, web)
    page.locator("#list .subject", has_text="With a PDF").click()
    page.get_by_role("tab", name=re.compile("Attachments")).click()
    with page.expect_download() as info:
        page.get_by_role("link", name="report.pdf").click()
    download = info.value
    assert download.suggested_filename == "report.pdf"
    with open(download.path(), "rb") as f:
        assert f.read() == PDF


def test_a_script_in_a_mail_never_runs_and_remote_images_wait(
    page: Page, web: MockSMTPServer, remote: tuple[str, list[str]]
) -> None:
    internet, fetched = remote
    html = (
        f"<h1 id='t'>Hostile</h1><script>fetch('{internet}/script', {{mode: 'no-cors'}});"
        f"parent.document.title = 'pwned'; fetch('/api/v1/messages', {{method: 'DELETE'}});</script>"
        f"<img src='x' onerror=\"new Image().src='{internet}/onerror'\">"
        f"<img src='{internet}/remote.png' alt='remote'>"
    )
    send(web, mail("Hostile", html=html))
    open_inbox(page, web)
    page.locator("#list .subject", has_text="Hostile").click()
    page.frame_locator("iframe.preview").locator("#t").wait_for()
    notice = page.get_by_role("note")
    assert "1 remote resource is blocked" in notice.inner_text()
    assert fetched == []
    with page.expect_response(f"{internet}/remote.png"):
        page.get_by_role("button", name="Load remote images").click()
    # The allowed image was fetched, and nothing else: had the script or the handler run (in the
    # first rendering or this one), their requests would have come first.
    assert fetched == ["/remote.png"]
    assert page.evaluate("document.title") == "mocksmtp"
    assert len(web.messages) == 1
    assert "Remote resources loaded" in page.get_by_role("note").inner_text()


def test_delete_one_and_delete_all(page: Page, web: MockSMTPServer) -> None:
    for subject in ("one", "two", "three"):
        send(web, mail(subject))
    open_inbox(page, web)
    page.locator("#list .row", has_text="two").locator("input").check()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect_rows(page, ["three", "one"])
    assert [m.subject for m in web.messages] == ["one", "three"]
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete all").click()
    page.locator("#empty").wait_for()
    assert web.messages == []


def test_keyboard_moves_between_messages_and_deletes(page: Page, web: MockSMTPServer) -> None:
    for subject in ("oldest", "middle", "newest"):
        send(web, mail(subject))
    open_inbox(page, web)
    page.keyboard.press("j")
    page.locator("h1", has_text="newest").wait_for()
    page.keyboard.press("j")
    page.locator("h1", has_text="middle").wait_for()
    page.keyboard.press("ArrowDown")
    page.locator("h1", has_text="oldest").wait_for()
    page.keyboard.press("k")
    page.locator("h1", has_text="middle").wait_for()
    assert page.locator("#list .row[aria-current=true] .subject").inner_text() == "middle"
    page.keyboard.press("Delete")
    page.locator("h1", has_text="oldest").wait_for()
    expect_rows(page, ["newest", "oldest"])
    assert [m.subject for m in web.messages] == ["oldest", "newest"]
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"


NEWSLETTER = """<div style="font-family: sans-serif; max-width: 560px">
<h1 style="color: #2458d3">Your December digest</h1>
<p>Hi Bob, here is what happened on <b>Example Shop</b> this month.</p>
<ul><li>3 orders shipped</li><li>1 invoice to pay</li></ul>
<p><a href="https://shop.example/account">Open your account</a></p></div>"""


@pytest.mark.parametrize(
    ("page", "background"), [("light", "rgb(255, 255, 255)"), ("dark", "rgb(20, 23, 28)")], indirect=["page"]
)
def test_the_theme_follows_the_system_setting(page: Page, web: MockSMTPServer, background: str) -> None:
    send(web, mail("Welcome to Example Shop", text="Thanks for signing up. Your account is ready."))
    send(web, mail("Invoice INV-2041", text="Your invoice for November is attached.", attach=PDF))
    send(web, mail("Your December digest", text="Hi Bob, here is what happened this month.", html=NEWSLETTER))
    open_inbox(page, web)
    expect_rows(page, ["Your December digest", "Invoice INV-2041", "Welcome to Example Shop"])
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == background
    scheme = "dark" if background != "rgb(255, 255, 255)" else "light"
    screenshot(page, f"inbox-{scheme}")
    page.locator("#list .subject", has_text="December").click()
    page.frame_locator("iframe.preview").locator("h1").wait_for()
    screenshot(page, f"message-{scheme}")


def test_at_phone_width_the_list_and_the_message_take_turns(page: Page, web: MockSMTPServer) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    send(web, mail("Small screen"))
    open_inbox(page, web)
    page.locator("#list .subject", has_text="Small screen").click()
    page.locator("h1", has_text="Small screen").wait_for()
    assert not page.locator("#inbox").is_visible()
    page.keyboard.press("Escape")
    page.locator("#inbox").wait_for()
    assert not page.locator("#view").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_server_page_shows_version_statistics_and_retention(page: Page, web: MockSMTPServer) -> None:
    from mocksmtp import __version__

    send(web, mail("Counted"))
    page.goto(f"{web.http_url}/#/server")
    server = page.locator("#server")
    server.get_by_text("SMTP statistics").wait_for()
    text = server.inner_text()
    assert __version__ in text
    assert "none: messages are kept until deleted" in text
    assert "1 (1 unread)" in text


def test_faults_are_added_and_removed_on_the_server_page(page: Page, web: MockSMTPServer) -> None:
    page.goto(f"{web.http_url}/#/server")
    form = page.get_by_role("form", name="Add a fault")
    form.get_by_label("Stage").select_option("rcpt")
    form.get_by_label("Code").fill("550")
    form.get_by_label("Match").fill("blocked@example.com")
    form.get_by_role("button", name="Add fault").click()
    page.locator("#faults tbody tr", has_text="rcpt").wait_for()
    assert len(web.faults) == 1
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(web, _to(mail("Refused"), "blocked@example.com"))
    page.get_by_role("button", name=re.compile("Remove fault")).click()
    page.get_by_text("No faults").wait_for()
    assert web.faults == []


def _to(message: EmailMessage, recipient: str) -> EmailMessage:
    message.replace_header("To", recipient)
    return message
