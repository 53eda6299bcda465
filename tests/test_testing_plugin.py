"""The pytest plugin as a user's suite meets it: a separate pytest run that finds it through its entry point."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

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

import pytest
import requests

from sendcloud_logging.shop import Shop

log = logging.getLogger("myshop.sync")


@pytest.fixture(scope="module")
def shop():
    with Shop() as running:
        yield running


def fetch_order(shop_url, order_id):
    try:
        requests.get(f"{shop_url}/api/orders/{order_id}", timeout=5).raise_for_status()
    except requests.RequestException:
        log.exception("Could not fetch order %s", order_id)


def test_a_failed_call_is_sent(sendcloud, shop):
    fetch_order(shop.http_url, 404)
    (got,) = sendcloud.sent_logs()
    assert got["exception_type"] == "requests.exceptions.HTTPError"
    assert got["response_code"] == 404
    assert got["integration_id"] == 1
    assert got["base_url"] == "https://myshop.example"  # from this suite's sendcloud_options


def test_the_applications_own_handler_sends_to_the_inbox(sendcloud, shop):
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"sendcloud": {"class": "sendcloud_logging.SendcloudHandler"}},
        "loggers": {"myshop": {"handlers": ["sendcloud"], "level": "ERROR", "propagate": False}},
    })
    try:
        fetch_order(shop.http_url, 401)
        (got,) = sendcloud.sent_logs()
        assert got["response_code"] == 401
        assert got["base_url"] == shop.http_url
    finally:
        for handler in logging.getLogger("myshop").handlers:
            handler.close()
        logging.getLogger("myshop").handlers.clear()


def test_nothing_logged_nothing_sent(sendcloud):
    logging.getLogger("myshop.sync").warning("below ERROR: not sent")
    assert sendcloud.sent_logs() == []


def test_an_expectation_that_fails(sendcloud):
    assert sendcloud.sent_logs(), "no log was sent"


def test_the_environment_is_restored():
    assert "SENDCLOUD_API_URL" not in os.environ
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
    assert "1 failed, 4 passed" in out, out
    assert "FAILED test_user_logging.py::test_an_expectation_that_fails" in out, out
    assert "AssertionError: no log was sent" in out, out


def test_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys; import sendcloud_logging.testing; "
        "heavy = [m for m in ('jsonschema', 'sendcloud_logging.inbox', 'httpx', 'aiohttp') if m in sys.modules]; "
        "print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
