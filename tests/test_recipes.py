"""Every recipe in docs/recipes runs for real: its example, the framework from the test extra, a real Inbox.

Each example runs in its own process (as it would in production), configured through the SENDCLOUD_*
environment to send to an Inbox of this test, and calls the local Shop, which fails on purpose.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest
import requests

from sendcloud_logging.inbox import Inbox
from sendcloud_logging.shop import Shop

from .conftest import INTEGRATION_ID, PUBLIC_KEY, SECRET_KEY, SPARE_PLUGINS, LineReader, free_port

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "recipes" / "examples"
BIN = Path(sys.executable).parent


@pytest.fixture
def env(inbox: Inbox, shop: Shop) -> dict[str, str]:
    """The environment of a deployed example: where to send, with which keys, and the shop it calls."""
    values = {k: v for k, v in os.environ.items() if not k.startswith(("SENDCLOUD_", "PYTEST_", "DJANGO_", "CELERY_"))}
    values.update(
        SENDCLOUD_INTEGRATION_ID=str(INTEGRATION_ID),
        SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY,
        SENDCLOUD_SECRET_KEY=SECRET_KEY,
        SENDCLOUD_API_URL=inbox.api_url,
        SHOP_URL=shop.http_url,
        PYTHONPATH=str(EXAMPLES),
    )
    return values


def run(args: list[str], env: dict[str, str], cwd: Path = EXAMPLES, timeout: float = 60) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sendcloud-logging:" not in result.stderr, result.stderr  # no drop was reported
    return result.stdout


def by_message(inbox: Inbox) -> dict[str, dict[str, Any]]:
    return {log["exception"].split(":")[0]: log for log in inbox.logs()}


def test_django_logging_setting(env: dict[str, str], inbox: Inbox, shop: Shop) -> None:
    env["DJANGO_SETTINGS_MODULE"] = "settings"
    code = (
        "from django.test import Client; c = Client(raise_request_exception=False); "
        "print(c.get('/orders/404/sync').status_code, c.post('/orders/7/note').status_code)"
    )
    out = run([sys.executable, "manage.py", "shell", "-c", code], env, cwd=EXAMPLES / "django_site")
    assert out.split()[-2:] == ["502", "500"]  # after whatever the shell says first
    logs = by_message(inbox)
    assert set(logs) == {"Could not fetch order 404", "Internal Server Error"}
    fetched = logs["Could not fetch order 404"]
    assert (fetched["exception_type"], fetched["response_code"]) == ("requests.exceptions.HTTPError", 404)
    unhandled = logs["Internal Server Error"]  # Django's own log of the view's exception, on django.request
    assert unhandled["exception"].startswith("Internal Server Error: /orders/7/note: 422 Client Error")
    assert unhandled["exception_type"] == "requests.exceptions.HTTPError"
    assert (unhandled["method"], unhandled["response_code"]) == ("POST", 422)
    assert unhandled["full_url"] == f"{shop.http_url}/api/orders/7/notes"
    assert unhandled["request"]["payload"] == {"order_note": {"note": "Shipped"}}  # not Django's HttpRequest
    assert unhandled["base_url"] == shop.http_url


def test_flask(env: dict[str, str], inbox: Inbox, shop: Shop) -> None:
    code = (
        "from flask_app import app; c = app.test_client(); "
        "print(c.get('/orders/404/sync').status_code, c.post('/orders/7/note').status_code)"
    )
    assert run([sys.executable, "-c", code], env).split() == ["502", "500"]
    logs = by_message(inbox)
    assert set(logs) == {"Could not fetch order 404", "Exception on /orders/7/note [POST]"}
    unhandled = logs["Exception on /orders/7/note [POST]"]
    assert (unhandled["exception_type"], unhandled["response_code"]) == ("requests.exceptions.HTTPError", 422)
    assert logs["Could not fetch order 404"]["full_url"] == f"{shop.http_url}/api/orders/404"


def test_celery_prefork_worker(env: dict[str, str], inbox: Inbox, tmp_path: Path) -> None:
    broker = tmp_path / "broker"
    broker.mkdir()
    env["CELERY_BROKER_FOLDER"] = str(broker)
    worker_command = [
        sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--pool=prefork", "--concurrency=2",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING",
    ]
    with subprocess.Popen(
        worker_command, cwd=EXAMPLES, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as worker:
        try:
            run([sys.executable, "-c", "from celery_app import post_note, sync_order; "
                 "sync_order.delay(404); post_note.delay(7)"], env)
            arrived = inbox.wait_for(2, timeout=30)
        finally:
            worker.send_signal(signal.SIGTERM)  # warm shutdown: the pool's children end, then the worker
            _, err = worker.communicate(timeout=30)
    assert arrived, err
    assert worker.returncode == 0, err
    assert "sendcloud-logging:" not in err, err
    logs = by_message(inbox)
    assert set(logs) == {"Could not fetch order 404", f"Task celery_app.post_note[{_task_id(logs)}] raised unexpected"}
    fetched = logs["Could not fetch order 404"]
    assert (fetched["exception_type"], fetched["response_code"]) == ("requests.exceptions.HTTPError", 404)
    unhandled = next(log for key, log in logs.items() if key.startswith("Task "))
    assert (unhandled["exception_type"], unhandled["method"]) == ("requests.exceptions.HTTPError", "POST")


def _task_id(logs: dict[str, dict[str, Any]]) -> Optional[str]:
    for key in logs:
        found = re.fullmatch(r"Task celery_app\.post_note\[([0-9a-f-]+)\] raised unexpected", key)
        if found:
            return found.group(1)
    return None


def test_gunicorn_preload_with_two_workers(env: dict[str, str], inbox: Inbox) -> None:
    port = free_port()
    command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "gunicorn_app:app"]
    base = f"http://127.0.0.1:{port}"
    pids: list[int] = []
    with subprocess.Popen(command, cwd=EXAMPLES, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True) as server:
        assert server.stderr is not None
        output = LineReader(server.stderr)
        try:
            output.expect(r"Listening at: http://127\.0\.0\.1:")  # bound: requests wait in the backlog for a worker
            for _ in range(2):  # both workers forked: a request is not left to the one that happened to boot first
                output.expect(r"Booting worker with pid")
            for order in range(1, 41):  # until both workers have failed calls to log, 40 requests at most
                answer = requests.get(f"{base}/orders/{1000 + order}/sync", headers={"Connection": "close"}, timeout=10)
                assert answer.status_code == 502
                pids.append(answer.json()["worker"])
                if len(set(pids)) == 2 and len(pids) >= 4:
                    break
        finally:
            server.send_signal(signal.SIGTERM)  # graceful: each worker delivers what it holds, then exits
            server.wait(timeout=30)
            err = output.text()
    assert server.returncode == 0, err
    assert "sendcloud-logging:" not in err, err
    assert len(set(pids)) == 2, pids
    logs = inbox.logs()
    # Each worker sent its first failure at once and folded the rest into one summary, sent as it stopped.
    represented = 0
    for log in logs:
        more = re.search(r"\(\+(\d+) more like this between", log["exception"])
        represented += 1 + (int(more.group(1)) if more else 0)
        assert log["exception"].startswith("Could not fetch order 1")
    assert represented == len(pids)
    assert len(logs) <= 4


def test_structlog_through_the_standard_library(env: dict[str, str], inbox: Inbox, shop: Shop) -> None:
    run([sys.executable, "structlog_app.py"], env)
    logs = by_message(inbox)
    assert set(logs) == {"Could not fetch order 404", "The shop refused the note"}
    assert logs["Could not fetch order 404"]["exception_type"] == "requests.exceptions.HTTPError"
    refused = logs["The shop refused the note"]
    assert (refused["response_code"], refused["method"], refused["exception_type"]) == (422, "POST", None)
    assert refused["request"]["payload"] == {"order_note": {"note": "Shipped"}}


def test_asyncio_service_with_aiohttp(env: dict[str, str], inbox: Inbox, shop: Shop) -> None:
    env["ORDER_URLS"] = f"{shop.http_url}/api/orders/404 {shop.refused_url}/api/orders/1 {shop.https_url}/api/orders/2"
    run([sys.executable, "asyncio_service.py"], env)
    types = {log["full_url"]: log["exception_type"] for log in inbox.logs()}
    assert types == {
        f"{shop.http_url}/api/orders/404": "aiohttp.ClientResponseError",
        shop.refused_url: "aiohttp.ClientConnectorError",
        shop.https_url: "aiohttp.ClientConnectorCertificateError",
    }


def test_file_config_ini(env: dict[str, str], inbox: Inbox, shop: Shop) -> None:
    env["SHOP_URL"] = shop.http_url.replace("127.0.0.1", "localhost")  # base_url comes from the INI's interpolation
    code = (
        "import logging, runpy; runpy.run_path('fileconfig_app.py', run_name='__main__'); "
        "h = logging.getLogger('myshop').handlers[0]; print(type(h).__name__, h.base_url)"
    )
    out = run([sys.executable, "-c", code], env)
    assert out.split() == ["SendcloudHandler", env["SHOP_URL"]]
    (log,) = inbox.logs()
    assert log["base_url"] == env["SHOP_URL"]
    assert log["exception_type"] == "requests.exceptions.HTTPError"


def test_multi_merchant_platform(env: dict[str, str], shop: Shop) -> None:
    accounts = {101: ("pk-north-7", "sk-north-secret-7"), 202: ("pk-south-9", "sk-south-secret-9")}
    merchants = {
        "101": {"shop_url": shop.http_url, "public_key": "pk-north-7", "secret_key": "sk-north-secret-7"},
        "202": {"shop_url": shop.refused_url, "public_key": "pk-south-9", "secret_key": "sk-south-secret-9"},
    }
    with Inbox(public_key="pk-platform", secret_key="sk-platform-unused", accounts=accounts) as platform:
        env.update(SENDCLOUD_API_URL=platform.api_url, MERCHANTS_JSON=json.dumps(merchants))
        env.pop("SENDCLOUD_INTEGRATION_ID")
        env.pop("SENDCLOUD_PUBLIC_KEY")
        env.pop("SENDCLOUD_SECRET_KEY")
        run([sys.executable, "merchant_platform.py"], env)  # dictConfig: "credentials": "ext://...keys_for"
        logs = {log["integration_id"]: log for log in platform.logs()}
        statuses = [post["status"] for post in platform.posts]
    assert statuses == [201, 201]  # each with its own merchant's keys: a wrong pair would be 404 here
    assert (logs[101]["base_url"], logs[101]["exception_type"]) == (shop.http_url, "requests.exceptions.HTTPError")
    assert (logs[202]["base_url"], logs[202]["exception_type"]) == (shop.refused_url, "requests.exceptions.ConnectionError")


def test_pytest_plugin_example(env: dict[str, str]) -> None:
    for name in [k for k in env if k.startswith("SENDCLOUD_")]:
        env.pop(name)
    out = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SPARE_PLUGINS, "test_order_sync.py"], env)
    assert "2 passed" in out
