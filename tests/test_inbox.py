"""The Inbox over real HTTP on 127.0.0.1: its answers, credentials, routes and storage.

Elsewhere: bad requests (``test_inbox_validation``), paging (``test_inbox_paging``), rate limits and injected
faults (``test_inbox_faults``), connections (``test_inbox_connections``), ids (``test_inbox_ids``), fuzzing
(``test_inbox_fuzz``).
"""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

import sendcloud_logging.inbox as inbox_package
from sendcloud_logging.inbox import Inbox

from .conftest import (
    AUTH,
    FIELDS,
    PUBLIC_KEY,
    SCHEMA,
    SECRET_KEY,
    TIMEOUT,
    assert_matches,
    error_codes,
    logs_url,
    within,
)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_post_answers_201_with_the_log_in_the_api_shape(inbox: Inbox, session: requests.Session) -> None:
    assert list(SCHEMA["$defs"]["createRequest"]["properties"]) == FIELDS
    body = SCHEMA["$defs"]["createRequest"]["examples"][0]
    response = session.post(logs_url(inbox, 7), json=body, timeout=TIMEOUT)
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    created = response.json()
    assert_matches("createResponse", created)
    log = created["data"]
    assert list(log) == ["id", "integration_id", *FIELDS, "protected", "additional_data"]
    assert log == {"id": 1, "integration_id": 7, **body, "protected": False, "additional_data": ""}
    assert inbox.logs() == [log]
    assert inbox.logs(7) == [log]
    assert inbox.logs(8) == []


def test_minimal_post_gets_defaults_and_the_servers_time(inbox: Inbox, session: requests.Session) -> None:
    before = datetime.now(timezone.utc)
    response = session.post(logs_url(inbox, 1), json={"base_url": "https://shop.example"}, timeout=TIMEOUT)
    assert response.status_code == 201
    log = response.json()["data"]
    assert_matches("log", log)
    assert log["method"] == ""
    assert all(log[name] is None for name in FIELDS if name not in ("base_url", "method", "created_at"))
    created = datetime.fromisoformat(log["created_at"])
    assert created.utcoffset() is not None
    assert before <= created <= datetime.now(timezone.utc)


def test_trailing_slash_is_accepted(inbox: Inbox, session: requests.Session) -> None:
    response = session.post(logs_url(inbox, 1) + "/", json={"base_url": "https://shop.example"}, timeout=TIMEOUT)
    assert response.status_code == 201
    assert session.get(logs_url(inbox) + "/", timeout=TIMEOUT).status_code == 200


@pytest.mark.invalid_posts
def test_posts_records_every_post(inbox: Inbox, session: requests.Session) -> None:
    session.post(logs_url(inbox, 3), json={"base_url": "https://shop.example"}, timeout=TIMEOUT)
    session.post(logs_url(inbox, 3), data=b"not json", headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    session.get(logs_url(inbox, 3), timeout=TIMEOUT)
    posts = inbox.posts
    assert [(p["status"], p["integration_id"], p["body"]) for p in posts] == [
        (201, 3, {"base_url": "https://shop.example"}),
        (400, 3, None),
    ]
    assert posts[0]["time"] <= posts[1]["time"] <= time.monotonic()
    assert inbox.requests == 3


def test_on_log_is_called_and_its_failure_only_reported(capfd: pytest.CaptureFixture[str]) -> None:
    seen: list[dict[str, Any]] = []

    def on_log(log: dict[str, Any]) -> None:
        seen.append(log)
        if log["exception"] == "boom":
            raise RuntimeError("callback broke")

    with Inbox(public_key=None, secret_key=None, on_log=on_log) as inbox, requests.Session() as s:
        assert s.post(logs_url(inbox, 1), json={"base_url": "https://a.example"}, timeout=TIMEOUT).status_code == 201
        assert s.post(logs_url(inbox, 1), json={"base_url": "https://b.example", "exception": "boom"}, timeout=TIMEOUT).status_code == 201
        assert inbox.count() == 2
    assert [log["base_url"] for log in seen] == ["https://a.example", "https://b.example"]
    assert seen[0] == inbox.logs()[0]
    err = capfd.readouterr().err
    assert err.count("\n") == 1
    assert "on_log callback failed: RuntimeError: callback broke" in err


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": basic(PUBLIC_KEY, "wrong")},
        {"Authorization": basic("wrong", SECRET_KEY)},
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic " + base64.b64encode(PUBLIC_KEY.encode()).decode()},  # user name only, no colon
        {"Authorization": "Bearer some-token"},
        {"Authorization": ""},
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_missing_or_wrong_credentials_are_401(inbox: Inbox, headers: dict[str, str], method: str) -> None:
    with requests.Session() as s:
        response = s.request(method, logs_url(inbox, 1), json={"base_url": "https://x.example"}, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="sendcloud"'
    assert error_codes(response) == ["authentication_failed"]
    assert SECRET_KEY not in response.text
    assert inbox.count() == 0


def test_no_credentials_configured_means_no_auth_check() -> None:
    with Inbox(public_key=None, secret_key=None) as inbox, requests.Session() as s:
        assert s.post(logs_url(inbox, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201
        assert s.get(logs_url(inbox), timeout=TIMEOUT).status_code == 200


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="both"):
        Inbox(public_key="pk", secret_key=None)
    with pytest.raises(ValueError, match="integrations"):
        Inbox(integrations=[1, 0])
    with pytest.raises(ValueError, match="max_body_bytes"):
        Inbox(max_body_bytes=0)
    with pytest.raises(RuntimeError, match="start"):
        _ = Inbox().api_url


@pytest.mark.parametrize("integration", ["2", "0", "abc", "-1", "99999999999999999999"])
def test_unknown_integration_is_404(session: requests.Session, integration: str) -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, integrations=[1]) as inbox:
        for method in ("GET", "POST"):
            response = session.request(method, logs_url(inbox, integration), json={"base_url": "https://x.example"}, timeout=TIMEOUT)
            assert response.status_code == 404
            assert error_codes(response) == ["not_found"]
        assert session.post(logs_url(inbox, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201
        assert inbox.count() == 1


@pytest.mark.invalid_posts
@pytest.mark.parametrize("path", ["/api/v3/nope", "/api/v3/integrations", "/api/v2/integrations/1/logs", "/favicon.png", "/api/v3/integrations/1/logs/x"])
def test_unknown_route_is_404(inbox: Inbox, session: requests.Session, path: str) -> None:
    url = f"http://{inbox.host}:{inbox.port}{path}"
    for method in ("GET", "POST", "DELETE"):
        response = session.request(method, url, json={}, timeout=TIMEOUT)
        assert response.status_code == 404
        assert error_codes(response) == ["not_found"]


def test_wrong_method_on_a_known_route_is_405(inbox: Inbox, session: requests.Session) -> None:
    response = session.delete(logs_url(inbox, 1), timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert error_codes(response) == ["method_not_allowed"]
    response = session.post(logs_url(inbox), json={"base_url": "https://x.example"}, timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"


def test_file_database_persists_across_inboxes(tmp_path: Path) -> None:
    db = str(tmp_path / "inbox.sqlite3")
    with Inbox(db=db) as first, requests.Session() as s:
        s.auth = ("inbox-public", "inbox-secret")
        for i in range(3):
            s.post(logs_url(first, 4), json={"base_url": f"https://s{i}.example"}, timeout=TIMEOUT)
        stored = first.logs()
    with Inbox(db=db) as second, requests.Session() as s:
        assert second.logs() == stored
        s.auth = ("inbox-public", "inbox-secret")
        assert [log["id"] for log in s.get(logs_url(second, 4), timeout=TIMEOUT).json()["data"]] == [3, 2, 1]
        created = s.post(logs_url(second, 4), json={"base_url": "https://new.example"}, timeout=TIMEOUT).json()["data"]
        assert created["id"] == 4


def test_wait_for_wakes_when_logs_arrive(inbox: Inbox) -> None:
    def send() -> None:
        with requests.Session() as s:
            for i in range(3):
                s.post(logs_url(inbox, 2), json={"base_url": f"https://s{i}.example"}, auth=AUTH, timeout=TIMEOUT)

    thread = threading.Thread(target=send)
    thread.start()
    assert inbox.wait_for(3, timeout=TIMEOUT)
    assert inbox.wait_for(3, timeout=TIMEOUT, integration_id=2)
    thread.join()
    start = time.monotonic()
    assert not within(TIMEOUT, lambda: inbox.wait_for(4, timeout=0.2))  # gives up: the bound is a hang guard
    assert time.monotonic() - start >= 0.2  # and not before its timeout (a lower bound: a busy machine only adds)
    assert not inbox.wait_for(1, timeout=0.0, integration_id=3)


def test_exports() -> None:
    assert inbox_package.__all__ == ["Inbox"]


def test_missing_jsonschema_names_the_extra() -> None:
    code = "import sys; sys.modules['jsonschema'] = None\nimport sendcloud_logging.inbox"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "ImportError" in result.stderr
    assert "pip install 'sendcloud-logging[inbox]'" in result.stderr
