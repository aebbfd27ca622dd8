"""Every example of the original mock server's document keeps working, unchanged.

The document (``tests/data/seed-mock-smtp-server.md``) uses fixed ports (1025, 2525), so each
example runs in a private network namespace with only loopback: it can never clash with
anything else on the machine, nor with parallel tests.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .processes import PYTHON, ROOT, in_netns, netns_available

SEED = Path(__file__).resolve().parents[1] / "data" / "seed-mock-smtp-server.md"
*PYTHON_BLOCKS, MESSAGE_FORMAT = re.findall(r"```python\n(.*?)```", SEED.read_text(), flags=re.S)
COMMAND_LINES = [
    line
    for block in re.findall(r"```bash\n(.*?)```", SEED.read_text(), flags=re.S)
    for line in block.splitlines()
    if line.startswith("python3 tests/mock_smtp_server.py")
]

pytestmark = pytest.mark.skipif(not netns_available(), reason="needs a private network namespace (root, unshare, ip)")


def run_in_netns(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        in_netns([PYTHON, "-c", code]),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )


def test_the_document_has_the_examples_we_check() -> None:
    """The seed document still holds its four Python examples, the message format and four
    command lines."""
    assert len(PYTHON_BLOCKS) == 4
    assert MESSAGE_FORMAT.lstrip().startswith("{")
    assert COMMAND_LINES == [
        "python3 tests/mock_smtp_server.py",
        "python3 tests/mock_smtp_server.py --port 2525",
        "python3 tests/mock_smtp_server.py --host 0.0.0.0",
        "python3 tests/mock_smtp_server.py --verbose",
    ]


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=["basic", "context-manager", "options", "smtplib"])
def test_python_example_runs_unchanged(block: str) -> None:
    """Each Python example of the seed document runs as written and exits cleanly."""
    code = block
    if "server = MockSMTPServer(\n" in code and "start()" not in code:
        # The options snippet continues the document (its import is the one shown above it)
        # and only constructs a server; prove the options are accepted by it.
        code = "from tests.mock_smtp_server import MockSMTPServer\n" + code
        code += "\nassert server.host == '0.0.0.0' and server.port == 2525 and server.verbose\n"
    result = run_in_netns(code)
    assert result.returncode == 0, result.stderr


def test_smtplib_example_sees_exactly_the_sent_message() -> None:
    """The smtplib example's assertions hold, and the message dict has the documented keys."""
    code = PYTHON_BLOCKS[3] + (
        "\nm = messages[0]\n"
        "assert set(m) >= {'peer', 'mail_from', 'rcpt_tos', 'data'}\n"
        "assert m['rcpt_tos'] == ['recipient@example.com']\n"
        "assert 'This is a test email' in m['data'] and 'Subject: Test Email' in m['data']\n"
        "assert not server.is_running() and server.get_messages() == []\n"
        "print('checked')\n"
    )
    result = run_in_netns(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "checked"


def test_message_dicts_have_the_documented_format() -> None:
    """``get_messages()`` returns dicts with the documented keys and value types."""
    keys = re.findall(r"'(\w+)':", MESSAGE_FORMAT)
    assert keys == ["peer", "mail_from", "rcpt_tos", "data"]
    code = (
        "import smtplib\nfrom mocksmtp import MockSMTPServer\n"
        "with MockSMTPServer() as server:\n"
        "    with smtplib.SMTP('localhost', 1025) as s:\n"
        "        s.sendmail('sender@example.com', ['recipient@example.com'], 'Subject: x\\r\\n\\r\\nbody')\n"
        "    (m,) = server.get_messages()\n"
        "host, port = m['peer']\n"
        "assert isinstance(host, str) and isinstance(port, int)\n"
        "assert m['mail_from'] == 'sender@example.com' and m['rcpt_tos'] == ['recipient@example.com']\n"
        "assert isinstance(m['data'], str) and m['data'].endswith('body\\r\\n')\n"
    )
    result = run_in_netns(code)
    assert result.returncode == 0, result.stderr


def test_install_command_of_the_document_names_a_real_file() -> None:
    """``pip install -r test-requirements.txt`` from the document points at a file we ship."""
    assert "pip install -r test-requirements.txt" in SEED.read_text()
    assert (ROOT / "test-requirements.txt").is_file()


@pytest.mark.parametrize("command", COMMAND_LINES)
def test_command_line_serves_and_stops_on_ctrl_c(command: str) -> None:
    """Each documented command line serves SMTP, shows a message arriving, and prints final
    statistics on Ctrl+C."""
    port = 2525 if "--port 2525" in command else 1025
    script = (
        f"import smtplib, subprocess, signal, sys\n"
        f"p = subprocess.Popen({command.split()!r}, stdout=subprocess.PIPE, text=True)\n"
        f"print(p.stdout.readline(), end='', flush=True)\n"
        f"with smtplib.SMTP('127.0.0.1', {port}) as s:\n"
        f"    s.sendmail('a@example.com', ['b@example.com'], 'Subject: seed\\r\\n\\r\\nhi\\r\\n')\n"
        f"print(p.stdout.readline(), end='', flush=True)\n"
        f"p.send_signal(signal.SIGINT)\n"
        f"out, _ = p.communicate(timeout=20)\n"
        f"print(out, end='')\n"
        f"sys.exit(p.returncode)\n"
    )
    result = run_in_netns(script)
    assert result.returncode == 0, result.stderr
    listening, arrival, *rest = result.stdout.splitlines()
    assert f":{port}" in listening
    assert "from <a@example.com>" in arrival
    assert '"seed"' in arrival
    assert "1 message," in rest[-1]
    assert "Traceback" not in result.stderr
