"""The Inbox over real HTTP on 127.0.0.1: API answers, paging, faults, keep-alive and storage (fuzzing: test_inbox_fuzz)."""

from __future__ import annotations

import base64
import gc
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

import sendcloud_logging.inbox as inbox_package
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.inbox.timestamps import parse_rfc3339

from .conftest import FIELDS, SCHEMA, assert_matches

PK = "pk-inbox-test"
SK = "sk-inbox-test"
AUTH = (PK, SK)
TIMEOUT = 5.0

def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def error_codes(response: requests.Response) -> list[str]:
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert_matches("errors", body)
    return [error["code"] for error in body["errors"]]


def raw_exchange(inbox: Inbox, data: bytes) -> bytes:
    """Send raw bytes, end our side, and read everything the server answers until it closes."""
    with socket.create_connection((inbox.host, inbox.port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65_536)
                if not chunk:
                    break
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def statuses(raw: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"(?:^|\r\n)HTTP/[0-9.]+ ([0-9]{3})", raw)]


@pytest.fixture
def server() -> Iterator[Inbox]:
    with Inbox(public_key=PK, secret_key=SK) as inbox:
        yield inbox


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.auth = AUTH
        yield s


def logs_url(inbox: Inbox, integration_id: int | str | None = None) -> str:
    if integration_id is None:
        return f"{inbox.api_url}/integrations/logs"
    return f"{inbox.api_url}/integrations/{integration_id}/logs"



def test_post_answers_201_with_the_log_in_the_api_shape(server: Inbox, session: requests.Session) -> None:
    assert list(SCHEMA["$defs"]["createRequest"]["properties"]) == FIELDS
    body = SCHEMA["$defs"]["createRequest"]["examples"][0]
    response = session.post(logs_url(server, 7), json=body, timeout=TIMEOUT)
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    created = response.json()
    assert_matches("createResponse", created)
    log = created["data"]
    assert list(log) == ["id", "integration_id", *FIELDS, "protected", "additional_data"]
    assert log == {"id": 1, "integration_id": 7, **body, "protected": False, "additional_data": ""}
    assert server.logs() == [log]
    assert server.logs(7) == [log]
    assert server.logs(8) == []


def test_minimal_post_gets_defaults_and_the_servers_time(server: Inbox, session: requests.Session) -> None:
    before = datetime.now(timezone.utc)
    response = session.post(logs_url(server, 1), json={"base_url": "https://shop.example"}, timeout=TIMEOUT)
    assert response.status_code == 201
    log = response.json()["data"]
    assert_matches("log", log)
    assert log["method"] == ""
    assert all(log[name] is None for name in FIELDS if name not in ("base_url", "method", "created_at"))
    created = datetime.fromisoformat(log["created_at"])
    assert created.utcoffset() is not None
    assert before <= created <= datetime.now(timezone.utc)


def test_trailing_slash_is_accepted(server: Inbox, session: requests.Session) -> None:
    response = session.post(logs_url(server, 1) + "/", json={"base_url": "https://shop.example"}, timeout=TIMEOUT)
    assert response.status_code == 201
    assert session.get(logs_url(server) + "/", timeout=TIMEOUT).status_code == 200


def test_posts_records_every_post(server: Inbox, session: requests.Session) -> None:
    session.post(logs_url(server, 3), json={"base_url": "https://shop.example"}, timeout=TIMEOUT)
    session.post(logs_url(server, 3), data=b"not json", timeout=TIMEOUT)
    session.get(logs_url(server, 3), timeout=TIMEOUT)
    posts = server.posts
    assert [(p["status"], p["integration_id"], p["body"]) for p in posts] == [
        (201, 3, {"base_url": "https://shop.example"}),
        (400, 3, None),
    ]
    assert posts[0]["time"] <= posts[1]["time"] <= time.monotonic()
    assert server.requests == 3


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
        {"Authorization": basic(PK, "wrong")},
        {"Authorization": basic("wrong", SK)},
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic " + "cGstaW5ib3gtdGVzdA=="},  # user name only, no colon
        {"Authorization": "Bearer some-token"},
        {"Authorization": ""},
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_missing_or_wrong_credentials_are_401(server: Inbox, headers: dict[str, str], method: str) -> None:
    with requests.Session() as s:
        response = s.request(method, logs_url(server, 1), json={"base_url": "https://x.example"}, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="sendcloud"'
    assert error_codes(response) == ["authentication_failed"]
    assert SK not in response.text
    assert server.count() == 0


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
    with Inbox(public_key=PK, secret_key=SK, integrations=[1]) as inbox:
        for method in ("GET", "POST"):
            response = session.request(method, logs_url(inbox, integration), json={"base_url": "https://x.example"}, timeout=TIMEOUT)
            assert response.status_code == 404
            assert error_codes(response) == ["not_found"]
        assert session.post(logs_url(inbox, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201
        assert inbox.count() == 1


@pytest.mark.parametrize("path", ["/api/v3/nope", "/api/v3/integrations", "/api/v2/integrations/1/logs", "/", "/api/v3/integrations/1/logs/x"])
def test_unknown_route_is_404(server: Inbox, session: requests.Session, path: str) -> None:
    url = f"http://{server.host}:{server.port}{path}"
    for method in ("GET", "POST", "DELETE"):
        response = session.request(method, url, json={}, timeout=TIMEOUT)
        assert response.status_code == 404
        assert error_codes(response) == ["not_found"]


def test_wrong_method_on_a_known_route_is_405(server: Inbox, session: requests.Session) -> None:
    response = session.delete(logs_url(server, 1), timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert error_codes(response) == ["method_not_allowed"]
    response = session.post(logs_url(server), json={"base_url": "https://x.example"}, timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"



def test_unknown_keys_are_400_extra_forbidden_with_pointers(server: Inbox, session: requests.Session) -> None:
    body = {"base_url": "https://x.example", "user_id": 5, "integration_id": 1}
    response = session.post(logs_url(server, 1), json=body, timeout=TIMEOUT)
    assert response.status_code == 400
    assert error_codes(response) == ["extra_forbidden", "extra_forbidden"]
    assert [e["source"] for e in response.json()["errors"]] == [{"pointer": "body/integration_id"}, {"pointer": "body/user_id"}]
    assert server.count() == 0


@pytest.mark.parametrize(
    "body,code,pointer",
    [
        ({}, "missing", "body/base_url"),
        ({"full_url": "https://x.example/a"}, "missing", "body/base_url"),
        ({"base_url": ""}, "invalid", "body/base_url"),
        ({"base_url": 5}, "invalid", "body/base_url"),
        ({"base_url": "https://x.example", "response_code": "404"}, "invalid", "body/response_code"),
        ({"base_url": "https://x.example", "response_code": -1}, "invalid", "body/response_code"),
        ({"base_url": "https://x.example", "request": {"headers": 5}}, "invalid", "body/request/headers"),
        ({"base_url": "https://x.example", "response": {"headers": "a: b"}}, "invalid", "body/response/headers"),
        ({"base_url": "https://x.example", "created_at": "yesterday"}, "invalid", "body/created_at"),
        ({"base_url": "https://x.example", "created_at": "2026-11-28T05:00:00"}, "invalid", "body/created_at"),
    ],
)
def test_schema_errors_are_400_with_code_and_pointer(
    server: Inbox, session: requests.Session, body: dict[str, Any], code: str, pointer: str
) -> None:
    response = session.post(logs_url(server, 1), json=body, timeout=TIMEOUT)
    assert response.status_code == 400
    assert error_codes(response) == [code]
    error = response.json()["errors"][0]
    assert error["source"] == {"pointer": pointer}
    assert error["detail"]


def test_every_problem_is_reported(server: Inbox, session: requests.Session) -> None:
    body = {"response_code": "x", "method": 1, "extra": True}
    response = session.post(logs_url(server, 1), json=body, timeout=TIMEOUT)
    assert response.status_code == 400
    pointers = {e["source"]["pointer"]: e["code"] for e in response.json()["errors"]}
    assert pointers == {"body/base_url": "missing", "body/extra": "extra_forbidden", "body/method": "invalid", "body/response_code": "invalid"}


@pytest.mark.parametrize(
    "data,code,detail",
    [
        (b"{not json", "parse_error", "not valid JSON"),
        (b"", "parse_error", "not valid JSON"),
        (b'{"base_url": "https://x.example", "response_code": NaN}', "parse_error", "NaN"),
        (b'{"base_url": "https://x.example", "response_code": 1e999}', "parse_error", "out of range"),
        (b"[" * 100_000, "parse_error", "not valid JSON"),
        (b'{"base_url": "\xff\xfe"}', "parse_error", "UTF-8"),
        (b'[{"base_url": "https://x.example"}]', "invalid", "array"),
        (b'"https://x.example"', "invalid", "object"),
        (b"null", "invalid", "object"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_400(
    server: Inbox, session: requests.Session, data: bytes, code: str, detail: str
) -> None:
    response = session.post(logs_url(server, 1), data=data, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert response.status_code == 400
    assert error_codes(response) == [code]
    assert detail in response.json()["errors"][0]["detail"]
    assert response.json()["errors"][0]["source"] == {"pointer": "body"}


def test_body_over_the_limit_is_413(session: requests.Session) -> None:
    with Inbox(public_key=PK, secret_key=SK, max_body_bytes=100) as inbox:
        response = session.post(logs_url(inbox, 1), json={"base_url": "https://x.example", "exception": "x" * 5000}, timeout=TIMEOUT)
        assert response.status_code == 413
        assert error_codes(response) == ["request_too_large"]
        assert response.headers["Connection"] == "close"
        assert session.post(logs_url(inbox, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201
        start = time.monotonic()
        raw = raw_exchange(inbox, f"POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: x\r\nContent-Length: {10**15}\r\n\r\n{{".encode())
        assert statuses(raw) == [413]
        assert time.monotonic() - start < 2.0
        assert inbox.count() == 1


@pytest.mark.parametrize(
    "head,status",
    [
        ("POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: x\r\n", 411),
        ("POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n", 400),
        ("POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n", 400),
        ("POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n", 411),
        ("BREW /api/v3/integrations/1/logs HTTP/1.1\r\nHost: x\r\n", 405),
        ("GET /api/v3/integrations/logs HTTP/2.0\r\nHost: x\r\n", 400),
        ("GET /api/v3/integrations/logs HTTP/1.1\r\n" + "X: y\r\n" * 200, 431),
        ("GET /" + "a" * 70_000 + " HTTP/1.1\r\n", 414),
    ],
)
def test_framing_errors_get_json_answers(server: Inbox, head: str, status: int) -> None:
    raw = raw_exchange(server, head.encode() + b"\r\n")
    assert statuses(raw) == [status]
    headers, _, body = raw.partition(b"\r\n\r\n")
    assert b"\r\nContent-Type: application/json" in headers
    assert_matches("errors", json.loads(body))


def test_chunked_posts_are_refused_cleanly(server: Inbox, session: requests.Session) -> None:
    response = session.post(logs_url(server, 1), data=iter([b'{"base_url": ', b'"https://x.example"}']), timeout=TIMEOUT)
    assert response.status_code == 411
    assert error_codes(response) == ["length_required"]
    assert session.post(logs_url(server, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201



def follow_pages(session: requests.Session, url: str, params: dict[str, Any] | None = None) -> list[list[dict[str, Any]]]:
    pages = []
    response = session.get(url, params=params, timeout=TIMEOUT)
    while True:
        assert response.status_code == 200
        assert_matches("listResponse", response.json())
        pages.append(response.json()["data"])
        next_url = response.links.get("next", {}).get("url")
        if next_url is None:
            return pages
        response = session.get(next_url, timeout=TIMEOUT)


def test_pages_follow_link_newest_first_without_gaps_or_repeats(server: Inbox, session: requests.Session) -> None:
    created_ats = (
        ["2026-01-01T00:00:00Z"] * 30
        + ["2026-01-01T01:00:00+01:00"] * 10  # the same instant written with another offset
        + [f"2026-01-0{1 + i % 3}T12:00:00.{i:06d}-02:00" for i in range(15)]
        + [None] * 5  # the server's now: newest of all
    )
    ids = []
    for i, created_at in enumerate(created_ats):
        body = {"base_url": f"https://s{i}.example", "created_at": created_at}
        response = session.post(logs_url(server, 5), json=body, timeout=TIMEOUT)
        assert response.status_code == 201
        ids.append(response.json()["data"]["id"])
    session.post(logs_url(server, 6), json={"base_url": "https://other.example"}, timeout=TIMEOUT)

    pages = follow_pages(session, logs_url(server, 5), {"page_size": 25})
    assert [len(page) for page in pages] == [25, 25, 10]
    seen = [log for page in pages for log in page]
    assert sorted(log["id"] for log in seen) == sorted(ids)
    keys = [(parse_rfc3339(log["created_at"]), log["id"]) for log in seen]
    assert keys == sorted(keys, reverse=True)
    assert {log["integration_id"] for log in seen} == {5}

    all_pages = follow_pages(session, logs_url(server), {"page_size": 7})
    assert len(all_pages) == 9
    assert sorted(log["id"] for page in all_pages for log in page) == list(range(1, 62))


def test_default_page_size_and_link_absent_on_the_last_page(server: Inbox, session: requests.Session) -> None:
    for i in range(26):
        session.post(logs_url(server, 1), json={"base_url": f"https://s{i}.example"}, timeout=TIMEOUT)
    response = session.get(logs_url(server, 1), timeout=TIMEOUT)
    assert len(response.json()["data"]) == 25
    link = response.links["next"]["url"]
    assert link.startswith(f"{server.api_url}/integrations/1/logs?")
    assert "cursor=" in link
    last = session.get(link, timeout=TIMEOUT)
    assert len(last.json()["data"]) == 1
    assert "Link" not in last.headers


def test_a_bare_cursor_starts_at_that_instant(server: Inbox, session: requests.Session) -> None:
    for stamp in ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"):
        session.post(logs_url(server, 1), json={"base_url": "https://x.example", "created_at": stamp}, timeout=TIMEOUT)
    response = session.get(logs_url(server, 1), params={"cursor": "2026-01-02T01:00:00+01:00"}, timeout=TIMEOUT)
    assert [log["created_at"] for log in response.json()["data"]] == ["2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"]


def test_get_one_integration_or_all(server: Inbox, session: requests.Session) -> None:
    for integration in (1, 2, 1):
        session.post(logs_url(server, integration), json={"base_url": f"https://i{integration}.example"}, timeout=TIMEOUT)
    one = session.get(logs_url(server, 1), timeout=TIMEOUT).json()["data"]
    assert [log["integration_id"] for log in one] == [1, 1]
    assert [log["id"] for log in one] == [3, 1]
    every = session.get(logs_url(server), timeout=TIMEOUT).json()["data"]
    assert [log["id"] for log in every] == [3, 2, 1]
    assert session.get(logs_url(server, 9), timeout=TIMEOUT).json() == {"data": []}
    assert server.count() == 3
    assert server.count(1) == 2
    assert [log["id"] for log in server.logs()] == [1, 2, 3]


@pytest.mark.parametrize(
    "params,parameter",
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page_size": "-5"}, "page_size"),
        ({"page_size": ""}, "page_size"),
        ({"cursor": "yesterday"}, "cursor"),
        ({"cursor": "2026-01-01T00:00:00Z", "cursor_id": "x"}, "cursor_id"),
        ({"cursor_id": "5"}, "cursor_id"),
    ],
)
def test_bad_query_parameters_are_400(server: Inbox, session: requests.Session, params: dict[str, str], parameter: str) -> None:
    response = session.get(logs_url(server, 1), params=params, timeout=TIMEOUT)
    assert response.status_code == 400
    assert error_codes(response) == ["invalid"]
    assert response.json()["errors"][0]["source"] == {"parameter": parameter}



def test_fail_next_429_with_retry_after_stores_nothing(server: Inbox, session: requests.Session) -> None:
    server.fail_next(1, 429, retry_after="7")
    response = session.post(logs_url(server, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert error_codes(response) == ["hit_rate_limit"]
    assert server.count() == 0
    assert session.post(logs_url(server, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201
    assert [p["status"] for p in server.posts] == [429, 201]


def test_fail_next_counts_any_request_and_queues_in_order(server: Inbox, session: requests.Session) -> None:
    server.fail_next(2, 503)
    server.fail_next(1, 500, body={"custom": True})
    first = session.get(logs_url(server), timeout=TIMEOUT)
    assert first.status_code == 503
    assert "Retry-After" not in first.headers
    assert error_codes(first) == ["service_unavailable"]
    assert session.get(f"{server.api_url}/nowhere", timeout=TIMEOUT).status_code == 503
    third = session.post(logs_url(server, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT)
    assert (third.status_code, third.json()) == (500, {"custom": True})
    assert session.get(logs_url(server), timeout=TIMEOUT).status_code == 200
    assert server.connections == 1


def test_reset_faults(server: Inbox, session: requests.Session) -> None:
    server.fail_next(5, 502)
    server.latency = 3.0
    server.reset_faults()
    assert server.latency == 0.0
    assert session.get(logs_url(server), timeout=TIMEOUT).status_code == 200
    with pytest.raises(ValueError):
        server.fail_next(1, 99)
    with pytest.raises(ValueError):
        server.fail_next(1, 429, retry_after="1\r\nX-Evil: 1")
    with pytest.raises(ValueError):
        server.latency = -1


def test_drop_next_makes_requests_raise_connection_error(server: Inbox, session: requests.Session) -> None:
    server.drop_next(1)
    with pytest.raises(requests.ConnectionError):
        session.post(logs_url(server, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT)
    assert server.count() == 0
    assert session.post(logs_url(server, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201
    assert [p["status"] for p in server.posts] == [0, 201]
    assert server.connections == 2


def test_refuse_then_accept_on_the_same_port(server: Inbox, session: requests.Session) -> None:
    port, url = server.port, server.api_url
    assert session.get(logs_url(server), timeout=TIMEOUT).status_code == 200  # a keep-alive connection is open
    server.refuse()
    with pytest.raises(requests.ConnectionError):
        session.get(logs_url(server), timeout=TIMEOUT)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT):
        pass
    server.accept()
    server.accept()  # no-op while serving
    assert (server.port, server.api_url) == (port, url)
    assert session.post(logs_url(server, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201
    assert server.count() == 1


def test_refuse_and_accept_need_a_started_inbox() -> None:
    inbox = Inbox()
    with pytest.raises(RuntimeError):
        inbox.refuse()
    with pytest.raises(RuntimeError):
        inbox.accept()


def test_latency_holds_each_connection_without_blocking_the_others(server: Inbox) -> None:
    server.latency = 60.0
    statuses: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        with requests.Session() as s:
            response = s.get(logs_url(server), auth=AUTH, timeout=TIMEOUT)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert server.wait_for_requests(4, timeout=TIMEOUT)  # all four read while each is held: none waits for another
    with lock:
        assert statuses == []
    server.latency = 0.0
    for thread in threads:
        thread.join(TIMEOUT)
    assert statuses == [200] * 4
    assert server.connections == 4


def test_lowering_the_latency_releases_waiting_requests(server: Inbox) -> None:
    server.latency = 60.0
    statuses: list[int] = []

    def call() -> None:
        with requests.Session() as s:
            statuses.append(s.get(logs_url(server), auth=AUTH, timeout=TIMEOUT).status_code)

    thread = threading.Thread(target=call)
    thread.start()
    assert server.wait_for_requests(1, timeout=TIMEOUT)  # read, and waiting
    assert not server.wait_for_requests(2, timeout=0)
    server.latency = 0.0
    thread.join(TIMEOUT)
    assert statuses == [200]  # answered at once, not after the minute it arrived under


def test_stop_is_quick_while_a_handler_sleeps_in_latency() -> None:
    inbox = Inbox(public_key=None, secret_key=None).start()
    inbox.latency = 30.0
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            with requests.Session() as s:
                s.get(logs_url(inbox), timeout=TIMEOUT)
        except requests.RequestException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    assert inbox.wait_for_requests(1, timeout=TIMEOUT)  # it is read, and waits in latency
    start = time.monotonic()
    inbox.stop()
    assert time.monotonic() - start < 1.0
    thread.join(TIMEOUT)
    assert len(outcome) == 1
    assert isinstance(outcome[0], requests.ConnectionError)
    inbox.stop()  # idempotent
    inbox.start()  # and it can serve again, on the same port
    inbox.latency = 0
    with requests.Session() as s:
        assert s.get(logs_url(inbox), timeout=TIMEOUT).status_code == 200
    inbox.stop()



def test_keep_alive_serves_many_requests_on_one_connection(server: Inbox, session: requests.Session) -> None:
    for i in range(10):
        assert session.post(logs_url(server, 1), json={"base_url": f"https://s{i}.example"}, timeout=TIMEOUT).status_code == 201
    assert server.connections == 1
    assert server.requests == 10


def test_connection_close_is_honoured(server: Inbox, session: requests.Session) -> None:
    response = session.get(logs_url(server), headers={"Connection": "close"}, timeout=TIMEOUT)
    assert response.headers["Connection"] == "close"
    session.get(logs_url(server), timeout=TIMEOUT)
    assert server.connections == 2


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


def test_wait_for_wakes_when_logs_arrive(server: Inbox) -> None:
    def send() -> None:
        with requests.Session() as s:
            for i in range(3):
                s.post(logs_url(server, 2), json={"base_url": f"https://s{i}.example"}, auth=AUTH, timeout=TIMEOUT)

    thread = threading.Thread(target=send)
    thread.start()
    assert server.wait_for(3, timeout=TIMEOUT)
    assert server.wait_for(3, timeout=TIMEOUT, integration_id=2)
    thread.join()
    start = time.monotonic()
    assert not server.wait_for(4, timeout=0.2)
    assert not server.wait_for(1, timeout=0.0, integration_id=3)
    assert 0.2 <= time.monotonic() - start < 1.0



def test_exports() -> None:
    assert inbox_package.__all__ == ["Inbox"]


def test_missing_jsonschema_names_the_extra() -> None:
    code = "import sys; sys.modules['jsonschema'] = None\nimport sendcloud_logging.inbox"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "ImportError" in result.stderr
    assert "pip install 'sendcloud-logging[inbox]'" in result.stderr


def test_an_inbox_dropped_without_stop_is_stopped_when_collected() -> None:
    inbox = Inbox().start()
    port = inbox.port
    del inbox
    gc.collect()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT):
        pass
