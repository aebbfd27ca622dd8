"""The JavaScript example of README.md ("Use it from any language") runs as written in Node,
against a live server: the fault it injects refuses one RCPT, and its wait sees the retry."""

from __future__ import annotations

import re
import selectors
import smtplib
import subprocess
from pathlib import Path

import pytest
from tests.integration.clients import require

from mocksmtp import MockSMTPServer

README = Path(__file__).resolve().parents[2] / "README.md"
APP_SENDS = "// ... the app under test sends its mail, retries, ...\n"
MAIL = "To: x@example.com\r\nSubject: reset\r\n\r\nReset your password\r\n"


def example() -> str:
    found = re.search(r"## Use it from any language.*?```javascript\n(.*?)```", README.read_text(), re.DOTALL)
    assert found, "README.md has no JavaScript example under 'Use it from any language'"
    return found.group(1)


def test_the_readme_javascript_example_works(web: MockSMTPServer) -> None:
    """Run in Node, the example's fault fails the first RCPT with 451 and its wait answers 200
    with the mail the retry delivered; its DELETE removes the fault."""
    node = require("node", "Debian: apt-get install nodejs")
    code = example()
    assert APP_SENDS in code
    assert web.http_url is not None
    # Where the app would send, the script says so and waits for this test to do it.
    code = code.replace("http://127.0.0.1:8025", web.http_url).replace(
        APP_SENDS, 'console.log("fault", fault.id);\nawait new Promise((sent) => process.stdin.once("data", sent));\n'
    )
    with subprocess.Popen(
        [node, "--input-type=module", "-e", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as script:
        assert script.stdout is not None
        assert script.stdin is not None
        try:
            with selectors.DefaultSelector() as ready:  # a script that hangs fails the test, not CI
                ready.register(script.stdout, selectors.EVENT_READ)
                assert ready.select(30), "the script printed nothing within 30 s"
            line = script.stdout.readline()
            assert line.startswith("fault "), (line, script.stderr.read() if script.stderr else "")
            with smtplib.SMTP(web.host, web.port) as client:
                with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                    client.sendmail("app@example.com", ["x@example.com"], MAIL)
                assert refused.value.recipients["x@example.com"][0] == 451
                client.sendmail("app@example.com", ["x@example.com"], MAIL)
            out, err = script.communicate("sent\n", timeout=30)
        finally:
            script.kill()
    assert script.returncode == 0, err
    assert out == "200 reset\n"
    assert web.faults == []
    assert [m.subject for m in web.messages] == ["reset"]
