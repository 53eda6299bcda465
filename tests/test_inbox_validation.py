"""The Inbox refuses bad requests as the API does: 400 (411, 413, 414, 431) with a JSON:API error body.

Every test here sends a bad request on purpose, so the ``inbox`` fixture does not check the bodies it saw.
"""

from __future__ import annotations

import json
import re
import socket
from typing import Any

import pytest
import requests

from sendcloud_logging.inbox import Inbox

from .conftest import PUBLIC_KEY, SECRET_KEY, TIMEOUT, assert_matches, error_codes, exchange, logs_url

pytestmark = pytest.mark.invalid_posts


def statuses(raw: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"(?:^|\r\n)HTTP/[0-9.]+ ([0-9]{3})", raw)]


def answer_while_sending(inbox: Inbox, data: bytes) -> bytes:
    """Send ``data`` and keep our side open, as a client still sending its body would; read until the server
    hangs up. A server waiting for the rest of the body never does: the socket timeout (a hang guard) fails the test.
    """
    with socket.create_connection((inbox.host, inbox.port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65_536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_unknown_keys_are_400_extra_forbidden_with_pointers(inbox: Inbox, session: requests.Session) -> None:
    body = {"base_url": "https://x.example", "user_id": 5, "integration_id": 1}
    response = session.post(logs_url(inbox, 1), json=body, timeout=TIMEOUT)
    assert response.status_code == 400
    assert error_codes(response) == ["extra_forbidden", "extra_forbidden"]
    assert [e["source"] for e in response.json()["errors"]] == [{"pointer": "body/integration_id"}, {"pointer": "body/user_id"}]
    assert inbox.count() == 0


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
    inbox: Inbox, session: requests.Session, body: dict[str, Any], code: str, pointer: str
) -> None:
    response = session.post(logs_url(inbox, 1), json=body, timeout=TIMEOUT)
    assert response.status_code == 400
    assert error_codes(response) == [code]
    error = response.json()["errors"][0]
    assert error["source"] == {"pointer": pointer}
    assert error["detail"]


def test_every_problem_is_reported(inbox: Inbox, session: requests.Session) -> None:
    body = {"response_code": "x", "method": 1, "extra": True}
    response = session.post(logs_url(inbox, 1), json=body, timeout=TIMEOUT)
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
    inbox: Inbox, session: requests.Session, data: bytes, code: str, detail: str
) -> None:
    response = session.post(logs_url(inbox, 1), data=data, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert response.status_code == 400
    assert error_codes(response) == [code]
    assert detail in response.json()["errors"][0]["detail"]
    assert response.json()["errors"][0]["source"] == {"pointer": "body"}


def test_body_over_the_limit_is_413(session: requests.Session) -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, max_body_bytes=100) as inbox:
        response = session.post(logs_url(inbox, 1), json={"base_url": "https://x.example", "exception": "x" * 5000}, timeout=TIMEOUT)
        assert response.status_code == 413
        assert error_codes(response) == ["request_too_large"]
        assert response.headers["Connection"] == "close"
        assert session.post(logs_url(inbox, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201
        raw = answer_while_sending(inbox, f"POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: localhost\r\nContent-Length: {10**15}\r\n\r\n{{".encode())
        assert statuses(raw) == [413]  # answered, and hung up on, with the body still to come
        assert inbox.count() == 1


@pytest.mark.parametrize(
    "head,status",
    [
        ("POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: localhost\r\n", 411),
        ("POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: localhost\r\nContent-Length: ten\r\n", 400),
        ("POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 3\r\n", 400),
        ("POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n", 411),
        ("BREW /api/v3/integrations/1/logs HTTP/1.1\r\nHost: localhost\r\n", 405),
        ("GET /api/v3/integrations/logs HTTP/2.0\r\nHost: localhost\r\n", 400),
        ("GET /api/v3/integrations/logs HTTP/1.1\r\n" + "X: y\r\n" * 200, 431),
        ("GET /" + "a" * 70_000 + " HTTP/1.1\r\n", 414),
    ],
)
def test_framing_errors_get_json_answers(inbox: Inbox, head: str, status: int) -> None:
    raw = exchange(inbox, head.encode() + b"\r\n")
    assert statuses(raw) == [status]
    headers, _, body = raw.partition(b"\r\n\r\n")
    assert b"\r\nContent-Type: application/json" in headers
    assert_matches("errors", json.loads(body))


def test_chunked_posts_are_refused_cleanly(inbox: Inbox, session: requests.Session) -> None:
    response = session.post(logs_url(inbox, 1), data=iter([b'{"base_url": ', b'"https://x.example"}']), timeout=TIMEOUT)
    assert response.status_code == 411
    assert error_codes(response) == ["length_required"]
    assert session.post(logs_url(inbox, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201
