"""The pytest plugin, run with pytester: fixtures, isolation, options, factory, xdist."""

from __future__ import annotations

import sys

import pytest

SEND = """
import smtplib

def send(server, to, subject="hi"):
    with smtplib.SMTP(server.host, server.port) as client:
        client.sendmail("app@example.com", [to], f"To: {to}\\r\\nSubject: {subject}\\r\\n\\r\\nbody\\r\\n")
"""


def test_fixtures_are_documented(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """pytest --fixtures -v lists the three fixtures with their examples."""
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--fixtures", "-v", *plugin_args)
    result.stdout.fnmatch_lines(
        [
            "mocksmtp_options ?session scope? -- *",
            "*def mocksmtp_options():*",
            "mocksmtp -- *pytest_plugin.py:*",
            "*A running SMTP server on 127.0.0.1 and a free port*",
            "*def test_welcome_mail(mocksmtp):*",
            "mocksmtp_factory -- *",
            "*Start extra servers for one test*",
            "*primary = mocksmtp_factory()*",
        ]
    )


def test_a_complete_test_with_the_fixture(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """A test sends with smtplib and waits for the parsed message."""
    pytester.makepyfile(
        SEND
        + """
def test_welcome(mocksmtp):
    send(mocksmtp, "ann@example.com", "Welcome")
    (mail,) = mocksmtp.wait_for(to="ann@example.com")
    assert mail.subject == "Welcome"
    assert mocksmtp.host == "127.0.0.1" and mocksmtp.port > 0
"""
    )
    pytester.runpytest(*plugin_args).assert_outcomes(passed=1)


ISOLATION_TESTS = (
    SEND
    + """
PORTS = set()

@pytest.mark.parametrize("n", range(6))
def test_sees_only_its_own_mail(mocksmtp, n):
    PORTS.add(mocksmtp.port)
    mocksmtp.assert_nothing_sent()
    send(mocksmtp, f"user{n}@example.com", f"mail {n}")
    send(mocksmtp, f"user{n}@example.com", f"mail {n} again")
    assert [m.subject for m in mocksmtp.messages] == [f"mail {n}", f"mail {n} again"]

def test_one_server_per_process(mocksmtp):
    PORTS.add(mocksmtp.port)
    assert len(PORTS) == 1  # every test this process (or xdist worker) ran had the same server
"""
)


def test_tests_are_isolated(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """Each test starts with an empty mailbox on the shared session server."""
    pytester.makepyfile("import pytest\n" + ISOLATION_TESTS)
    pytester.runpytest(*plugin_args).assert_outcomes(passed=7)


def test_tests_are_isolated_under_xdist(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """Under pytest -n 2 each worker has its own server and tests still see only their mail."""
    pytest.importorskip("xdist")
    pytester.makepyfile("import pytest\n" + ISOLATION_TESTS)
    result = pytester.runpytest_subprocess("-n", "2", *plugin_args)
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["*2 workers*"])


def test_options_fixture_can_be_overridden(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """A session mocksmtp_options fixture in conftest configures the shared server."""
    pytester.makeconftest("""
import pytest

@pytest.fixture(scope="session")
def mocksmtp_options():
    return {"hostname": "mail.test", "max_recipients": 1}
""")
    pytester.makepyfile("""
import smtplib

def test_options(mocksmtp):
    assert mocksmtp.options.hostname == "mail.test"
    with smtplib.SMTP(mocksmtp.host, mocksmtp.port) as client:
        assert client.ehlo()[1].startswith(b"mail.test")
        client.mail("a@example.com")
        assert client.rcpt("b@example.com")[0] == 250
        assert client.rcpt("c@example.com")[0] == 452
""")
    pytester.runpytest(*plugin_args).assert_outcomes(passed=1)


def test_factory_servers_are_separate_and_stopped(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """mocksmtp_factory starts servers with options and stops them after the test."""
    pytester.makepyfile(
        SEND
        + """
STARTED = []

def test_uses_factory(mocksmtp, mocksmtp_factory):
    small = mocksmtp_factory(max_message_size=1000)
    other = mocksmtp_factory()
    STARTED.extend([small, other])
    assert len({mocksmtp.port, small.port, other.port}) == 3
    assert small.options.max_message_size == 1000
    send(other, "x@example.com")
    assert len(other.messages) == 1 and mocksmtp.messages == [] and small.messages == []

def test_factory_servers_were_stopped():
    assert STARTED and not any(s.is_running() for s in STARTED)
"""
    )
    pytester.runpytest(*plugin_args).assert_outcomes(passed=2)


def test_a_stopped_shared_server_serves_the_next_test(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """If a test stops the shared server, the next test still gets a running one."""
    pytester.makepyfile(
        SEND
        + """
def test_stops_it(mocksmtp):
    mocksmtp.stop()

def test_still_works(mocksmtp):
    assert mocksmtp.is_running()
    send(mocksmtp, "a@example.com")
    mocksmtp.wait_for(to="a@example.com")
"""
    )
    pytester.runpytest(*plugin_args).assert_outcomes(passed=2)


def test_failed_wait_reads_as_an_assertion_failure(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """A timed-out wait fails the test (not an error) and shows what arrived."""
    pytester.makepyfile(
        SEND
        + """
def test_waits(mocksmtp):
    send(mocksmtp, "alice@example.com", "Welcome")
    mocksmtp.wait_for(to="bob@example.com", timeout=0.01)
"""
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "WaitTimeout: waited 0.01 s for 1 message matching to='bob@example.com'" in output
    assert "missed to='bob@example.com': got ['alice@example.com']" in output
    assert "def wait_sync" not in output  # the library's frames are hidden


def test_entry_point_and_explicit_plugin_register_once(pytester: pytest.Pytester) -> None:
    """Installed as the pytest11 entry point, the plugin still loads once with -p or pytest_plugins."""
    dist = pytester.mkdir("site") / "mocksmtp_fake-0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mocksmtp-fake\nVersion: 0\n")
    (dist / "entry_points.txt").write_text("[pytest11]\nmocksmtp.pytest_plugin = mocksmtp.pytest_plugin\n")
    pytester.makepyfile("""
def test_fixture_available(mocksmtp):
    assert mocksmtp.is_running()
""")
    env_path = f"{dist.parent}{':' if sys.platform != 'win32' else ';'}"
    pytester._monkeypatch.setenv("PYTHONPATH", env_path + __import__("os").environ["PYTHONPATH"])
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    pytester.runpytest_subprocess("-p", "mocksmtp.pytest_plugin").assert_outcomes(passed=1)
    pytester.makeconftest('pytest_plugins = ["mocksmtp.pytest_plugin"]')
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


LEFT_OPEN = """
LEFT_OPEN = []

def teardown_module():  # after every test of the module: the order under test is unchanged
    for client in LEFT_OPEN:
        client.close()
"""

LEAKY_TEST = """
def test_leaves_state_behind(mocksmtp):
    mocksmtp.inject_fault("rcpt", code=451)  # without `with`: it stays registered
    client = smtplib.SMTP(mocksmtp.host, mocksmtp.port)  # left open, mid-transaction
    client.ehlo()
    client.mail("late@example.com")
    LEFT_OPEN.append(client)
"""

CLEAN_TEST = """
def test_gets_a_clean_server(mocksmtp):
    assert mocksmtp.faults == []
    assert mocksmtp.stats.connections == 0 and mocksmtp.stats.active_connections == 0
    assert mocksmtp.get_messages() == [] and mocksmtp.messages == []
    send(mocksmtp, "ann@example.com")
    assert [m["rcpt_tos"] for m in mocksmtp.get_messages()] == [["ann@example.com"]]
    assert mocksmtp.stats.messages == 1
"""


@pytest.mark.parametrize("order", ["leaky first", "clean first"])
def test_per_test_reset_clears_faults_connections_and_counters(
    pytester: pytest.Pytester, plugin_args: list[str], order: str
) -> None:
    """A fault injected without ``with``, a connection left open mid-transaction, messages,
    the get_messages() cursor and statistics never reach the next test, in either order."""
    tests = [LEAKY_TEST, CLEAN_TEST] if order == "leaky first" else [CLEAN_TEST, LEAKY_TEST]
    pytester.makepyfile(
        SEND
        + LEFT_OPEN
        + "\n".join(tests)
        + "\n"
        + CLEAN_TEST.replace("test_gets_a_clean_server", "test_gets_a_clean_server_again")
    )
    pytester.runpytest(*plugin_args).assert_outcomes(passed=3)


def test_the_shared_server_never_prunes(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """Retention options for the shared server are refused with a message saying why."""
    pytester.makeconftest("""
import pytest

@pytest.fixture(scope="session")
def mocksmtp_options():
    return {"max_messages": 5}
""")
    pytester.makepyfile("def test_it(mocksmtp):\n    pass\n")
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mocksmtp_options has max_messages, but the mocksmtp fixture never deletes*"])
