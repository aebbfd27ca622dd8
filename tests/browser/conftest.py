"""Debian's Chromium, headless, driven by Playwright, against a server with HTTP on a free port.

Skipped with the reason when Playwright or ``/usr/bin/chromium`` is missing, unless
``MOCKSMTP_REQUIRE_BROWSER=1`` (CI), which makes that a failure instead.
"""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

pytest.importorskip("starlette", reason="the [web] extra is not installed")

from mocksmtp import MockSMTPServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = os.environ.get("MOCKSMTP_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _missing(reason: str) -> None:
    if os.environ.get("MOCKSMTP_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (MOCKSMTP_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One browser per module, not per session: while Playwright's sync API is open, the thread
    has a running event loop, and a later test in another module calling ``asyncio.run`` fails."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed: pip install playwright (never 'playwright install')")
    if not shutil.which(CHROMIUM):
        _missing(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def web() -> Iterator[MockSMTPServer]:
    with MockSMTPServer("127.0.0.1", 0, http_port=0) as server:
        yield server


@pytest.fixture(params=["light"])
def page(request: pytest.FixtureRequest, browser: Browser, web: MockSMTPServer) -> Iterator[Page]:
    context = browser.new_context(
        color_scheme=request.param, accept_downloads=True, viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, errors


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def remote() -> Iterator[tuple[str, list[str]]]:
    """A web server standing for the internet: its base URL and the paths asked of it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    paths: list[str] = []
    server.paths = paths  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", paths
    server.shutdown()
    server.server_close()
    thread.join()


def screenshot(page: Page, name: str) -> None:
    """Save ``docs/screenshots/NAME.png`` when MOCKSMTP_SCREENSHOTS=1 (never in CI)."""
    if os.environ.get("MOCKSMTP_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
