"""The pytest plugin as a user's suite meets it: a separate pytest run that finds it through its entry point."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import requests

from sendcloud_logging.testing import PUBLIC_KEY, SECRET_KEY

from .conftest import SPARE_PLUGINS

USER_CONFTEST = '''
import pytest

@pytest.fixture
def sendcloud_options():
    return {"base_url": "https://myshop.example"}
'''

USER_TESTS = '''
import logging
import logging.config
import os

import requests

log = logging.getLogger("myshop.sync")


def fetch_order(shop_url, order_id):
    try:
        requests.get(f"{shop_url}/api/orders/{order_id}", timeout=5).raise_for_status()
    except requests.RequestException:
        log.exception("Could not fetch order %s", order_id)


def test_a_failed_call_is_sent(sendcloud, sendcloud_shop):
    fetch_order(sendcloud_shop.http_url, 404)
    (got,) = sendcloud.sent_logs()
    assert got["exception_type"] == "requests.exceptions.HTTPError"
    assert got["response_code"] == 404
    assert got["integration_id"] == 1
    assert got["base_url"] == "https://myshop.example"  # from this suite's sendcloud_options


def test_the_applications_own_handler_sends_to_the_inbox(sendcloud, sendcloud_shop):
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"sendcloud": {"class": "sendcloud_logging.SendcloudHandler"}},
        "loggers": {"myshop": {"handlers": ["sendcloud"], "level": "ERROR", "propagate": False}},
    })
    try:
        fetch_order(sendcloud_shop.http_url, 401)
        (got,) = sendcloud.sent_logs()
        assert got["response_code"] == 401
        assert got["base_url"] == sendcloud_shop.http_url
    finally:
        assert sendcloud.close_handlers() == 1  # the application's, not the fixture's
        assert logging.getLogger("myshop").handlers == []
        logging.getLogger("myshop").propagate = True


def test_nothing_logged_nothing_sent(sendcloud):
    logging.getLogger("myshop.sync").warning("below ERROR: not sent")
    assert sendcloud.sent_logs() == []


def test_an_expectation_that_fails(sendcloud):
    assert sendcloud.sent_logs(), "no log was sent"


def test_the_environment_is_restored():
    assert "SENDCLOUD_API_URL" not in os.environ


def test_leaves_the_applications_handler_open(sendcloud_inbox):
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"sendcloud": {"class": "sendcloud_logging.SendcloudHandler"}},
        "loggers": {"myshop.leaky": {"handlers": ["sendcloud"], "level": "ERROR"}},
    })
    logging.getLogger("myshop.leaky").error("sent by the application", extra={"base_url": "https://shop.example"})


def test_after_a_leaked_handler_nothing_waits(sendcloud):
    logging.getLogger("myshop.leaky").error("after the leak", extra={"base_url": "https://shop.example"})
    (got,) = sendcloud.sent_logs(timeout=30)
    assert got["exception"] == "after the leak"
'''


def test_a_users_suite_gets_the_fixtures_from_the_entry_point(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(textwrap.dedent(USER_CONFTEST), encoding="utf-8")
    (tmp_path / "test_user_logging.py").write_text(textwrap.dedent(USER_TESTS), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDCLOUD_", "PYTEST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SPARE_PLUGINS, str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "1 failed, 6 passed" in out, out
    assert "FAILED test_user_logging.py::test_an_expectation_that_fails" in out, out
    assert "AssertionError: no log was sent" in out, out
    # The failing test's report names the web page of its Inbox, and how to keep it up.
    assert re.search(r"the logs of this test: http://127\.0\.0\.1:\d+/ \(web view of its Inbox; .*--sendcloud-keep", out), out
    # The handler left open by one test was closed while its Inbox was up, and said so; nothing was lost at exit.
    assert "SendcloudHandlerLeftOpen: a SendcloudHandler sending to this test's Inbox" in out, out
    assert "'myshop.leaky'" in out, out
    assert "were not delivered" not in out, out
    assert "did not deliver" not in out, out


def test_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys; import sendcloud_logging.testing; "
        "heavy = [m for m in ('jsonschema', 'sendcloud_logging.inbox', 'httpx', 'aiohttp') if m in sys.modules]; "
        "print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


KEEP_TESTS = '''
import logging


def test_fails_after_logging(sendcloud):
    logging.getLogger("myshop").error("looked at in the web view", extra={"base_url": "https://shop.example"})
    assert sendcloud.sent_logs() == [], "fails on purpose"


def test_passes(sendcloud):
    assert sendcloud.sent_logs() == []
'''


def test_sendcloud_keep_keeps_the_inbox_of_a_failed_test_up_until_enter(tmp_path: Path) -> None:
    (tmp_path / "test_keep.py").write_text(textwrap.dedent(KEEP_TESTS), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDCLOUD_", "PYTEST_"))}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SPARE_PLUGINS, "--sendcloud-keep",
               str(tmp_path)]
    with subprocess.Popen(command, cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as run:
        assert run.stdin is not None and run.stdout is not None
        lines = []
        for line in run.stdout:  # bounded by the test's timeout; the line comes before any wait
            lines.append(line)
            if "Press Enter" in line:
                break
        found = re.search(r"test_fails_after_logging failed; its Inbox stays up at (http://127\.0\.0\.1:\d+/) "
                          r"\(API (http://\S+/api/v3)\)", "".join(lines))
        assert found, "".join(lines)
        # The run waits; meanwhile the Inbox still answers and holds the failed test's log.
        answer = requests.get(f"{found.group(2)}/integrations/logs", auth=(PUBLIC_KEY, SECRET_KEY), timeout=10)
        assert [log["exception"] for log in answer.json()["data"]] == ["looked at in the web view"]
        rest, _ = run.communicate("\n", timeout=60)
    out = "".join(lines) + rest
    assert run.returncode == 1, out
    assert "1 failed, 1 passed" in out, out
    assert out.count("Press Enter") == 1, out  # only after the failing test
    assert "it stays up until you press Enter" in out, out


SESSION_CONFTEST = '''
from sendcloud_logging.testing import session_inbox

session_inbox()  # before the application is imported: its import-time handler sends to this Inbox
'''

IMPORT_TIME_APP = '''
import logging.config

logging.config.dictConfig({
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"sendcloud": {"class": "sendcloud_logging.SendcloudHandler", "base_url": "https://shop.example"}},
    "loggers": {"myapp": {"handlers": ["sendcloud"], "level": "ERROR", "propagate": False}},
})
log = logging.getLogger("myapp")
'''

SESSION_TESTS = '''
import myapp


def test_first(sendcloud):
    myapp.log.error("the first test's failure")
    assert [log["exception"] for log in sendcloud.sent_logs()] == ["the first test's failure"]


def test_second_sees_only_its_own(sendcloud):
    myapp.log.error("the second test's failure")
    assert [log["exception"] for log in sendcloud.sent_logs()] == ["the second test's failure"]
'''


def test_session_inbox_serves_an_application_that_configures_logging_at_import(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(SESSION_CONFTEST, encoding="utf-8")
    (tmp_path / "myapp.py").write_text(IMPORT_TIME_APP, encoding="utf-8")
    (tmp_path / "test_app.py").write_text(SESSION_TESTS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDCLOUD_", "PYTEST_"))}
    env["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SPARE_PLUGINS, str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "2 passed" in out, out
    assert "sendcloud-logging:" not in out, out  # no drop reported at exit
