"""The Inbox under hostile input: generated requests, headers and bodies never get a 5xx or break the server.

Bad input is answered 400 (411, 413, 401...) with the API's JSON:API error body; what is accepted is answered
in the API's shape and stored; credentials are compared in constant time; the server binds 127.0.0.1 unless
told otherwise. ``FUZZ_EXAMPLES`` sets the examples per fuzz test (default 100, for ``make test``); a long
run: ``FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/test_inbox_fuzz.py -k fuzz``.
"""

from __future__ import annotations

import base64
import hmac
import json
import operator
import os
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sendcloud_logging._cli.arguments import build_parser
from sendcloud_logging.inbox import Inbox

from .conftest import FIELDS, assert_matches, exchange

PK, SK = "pk-fuzz", "sk-fuzz-secret"
AUTH = "Basic " + base64.b64encode(f"{PK}:{SK}".encode()).decode()
TIMEOUT = 10
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
BUG_LINES = ("internal error", "unexpected error", "Traceback")


@pytest.fixture
def inbox(capfd: pytest.CaptureFixture[str]) -> Iterator[Inbox]:
    """An Inbox that must survive the test: still answering afterwards, and no bug report on its stderr."""
    with Inbox(public_key=PK, secret_key=SK, max_body_bytes=64 * 1024) as server:
        yield server
        answer = requests.get(f"{server.api_url}/integrations/logs", headers={"Authorization": AUTH}, timeout=TIMEOUT)
        assert answer.status_code == 200
    err = capfd.readouterr().err
    assert not any(line in err for line in BUG_LINES), err


def answers(raw: bytes) -> list[tuple[int, Any]]:
    """(status, JSON body) of each answer in a raw byte stream."""
    out = []
    for match in re.finditer(rb"HTTP/1\.[01] ([0-9]{3}) [^\r\n]*\r\n(.*?)\r\n\r\n", raw, re.S):
        status, head = int(match.group(1)), match.group(2)
        if status < 200:  # "100 Continue" to an Expect header: an interim answer, the real one follows
            continue
        length = re.search(rb"(?i)content-length: *([0-9]+)", head)
        body = raw[match.end(): match.end() + int(length.group(1))] if length else b""
        if body.startswith(b"HTTP/"):  # an answer to HEAD: headers only, the next answer follows
            body = b""
        kind = re.search(rb"(?i)content-type: *([^\r\n;]+)", head)
        if kind is not None and kind.group(1).strip().lower() != b"application/json":  # the web page at "/"
            assert status == 200 and kind.group(1).startswith(b"text/"), head
            body = b""
        out.append((status, json.loads(body) if body else None))
    return out


def assert_error_body(status: int, body: Any) -> None:
    """The API's v3 error shape: ``{"errors": [{"status", "code", "detail", ...}]}``."""
    assert isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"], body
    first = body["errors"][0]
    assert first["status"] == status and isinstance(first["code"], str) and isinstance(first["detail"], str)


JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
LOG_BODIES = st.dictionaries(
    st.sampled_from([*FIELDS, "id", "integration_id"]) | st.text(max_size=10),
    JSON_VALUES | st.sampled_from(["https://shop.example", "2026-11-28T05:00:00Z", "9999-12-31T23:59:59-23:59",
                                   "0001-01-01T00:00:00+00:00", "\ud800", 10**30, -1]),
    max_size=8,
).map(lambda body: {"base_url": "https://shop.example", **body} if len(body) % 2 else body)
SPECIAL_BODIES = st.sampled_from([
    b"", b"{", b"[]", b"null", b'"text"', b"NaN", b'{"base_url": NaN}', b'{"base_url": 1e999}',
    b'{"base_url": "x", "response_code": ' + b"9" * 5000 + b"}",
    b'{"base_url": "\\ud800\\udc00\\ud800"}', b'{"base_url": "caf\xe9"}', b"\xff\xfe{}", b"\xef\xbb\xbf{}",
    b"[" * 30_000 + b"]" * 30_000, b'{"a":' * 101 + b"1" + b"}" * 101, b"{" * 20_000,
    b'{"base_url": "x", "base_url": "y"}', b'{"base_url": "x"} trailing', b"\x00" * 100,
])
BODIES = SPECIAL_BODIES | st.binary(max_size=300) | LOG_BODIES.map(lambda b: json.dumps(b).encode("utf-8", "surrogatepass"))
HEADER_NAMES = st.sampled_from([
    "Authorization", "Content-Type", "Content-Length", "Transfer-Encoding", "Host", "Expect", "Connection",
    "Accept", "Cookie", "X-Anything", "Content-Encoding",
]) | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=":"), min_size=1, max_size=20)
HEADER_VALUES = (
    st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
    | st.sampled_from([
        AUTH.encode(), b"Basic", b"Basic " + b"A" * 5000, b"Basic !!!", b"Bearer x", b"Basic " +
        base64.b64encode(f"{PK}:{SK}x".encode()), b"Basic " + base64.b64encode(b"\xff\xfe:\x00"),
        b"application/json", b"chunked", b"100-continue", b"-1", b"99999999999999999999", b"1, 2", b"gzip",
        "caf\u00e9".encode("latin-1"), b"\xc3\x28",
    ])
)
METHODS = st.sampled_from([b"GET", b"POST", b"PUT", b"HEAD", b"DELETE", b"OPTIONS", b"PATCH", b"BREW", b"get"])
QUERIES = st.dictionaries(st.sampled_from(["page_size", "cursor", "cursor_id", "x"]), st.text(max_size=30), max_size=3)
PATHS = st.builds(
    lambda path, query: path + b"?" + urlencode(query).encode(),
    st.sampled_from([b"/api/v3/integrations/logs", b"/api/v3/integrations/1/logs", b"/api/v3/integrations/x/logs"]),
    QUERIES,
) | st.sampled_from([
    b"/api/v3/integrations/1/logs", b"/api/v3/integrations/logs", b"/api/v3/integrations/0/logs",
    b"/api/v3/integrations/99999999999999999999/logs", b"/api/v3/integrations/1/logs/", b"/api/v3/oauth2/token",
    b"/api/v3/integrations/logs?page_size=0&cursor=bad&cursor_id=-1", b"/api/v3/integrations/logs?cursor=2026-11-28T05:00:00Z&cursor_id=1",
    b"http://x/api/v3/integrations/logs", b"*", b"/%ff%fe", b"/api/v3/integrations/%31/logs", b"/\xff\xfe",
]) | st.binary(max_size=40).map(lambda b: b"/" + b.replace(b" ", b"").replace(b"\r", b"").replace(b"\n", b""))
VERSIONS = st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.1x", b""])
#: Beginnings of requests followed by any bytes at all: cut-off heads, bodies shorter than announced, pipelining.
TRUNCATED = st.builds(
    operator.add,
    st.sampled_from([
        b"",
        b"GET /api/v3/integrations/logs HTTP/1.1\r\n",
        b"POST /api/v3/integrations/1/logs HTTP/1.1\r\nContent-Length: 20\r\n",
        b"POST /api/v3/integrations/1/logs HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\nGET /api HTTP/1.1\r\n",
    ]),
    st.binary(max_size=200),
)


@st.composite
def raw_requests(draw: st.DrawFn) -> bytes:
    method, path, version = draw(METHODS), draw(PATHS), draw(VERSIONS)
    body = draw(BODIES)
    headers = [(b"Authorization", AUTH.encode())] if draw(st.booleans()) else []
    headers += [(name.encode(), value) for name, value in draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=5))]
    length = draw(st.sampled_from(["exact", "exact", "none", "short", "long"]))
    if length == "exact":
        headers.append((b"Content-Length", str(len(body)).encode()))
    elif length == "short":
        headers.append((b"Content-Length", str(max(0, len(body) - 3)).encode()))
    elif length == "long":
        headers.append((b"Content-Length", str(len(body) + 5).encode()))
    lines = [b" ".join(part for part in (method, path, version) if part)]
    lines += [name + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def test_fuzz_raw_requests(inbox: Inbox) -> None:
    seen: list[int] = []

    @FUZZ
    @given(raw_requests() | TRUNCATED, st.integers(min_value=1, max_value=2))
    def check(request: bytes, repeat: int) -> None:
        got = answers(exchange(inbox, request * repeat, TIMEOUT))  # twice: the keep-alive loop reads a second request
        for status, body in got:
            seen.append(status)
            assert status < 500, (status, body)
            if status >= 400 and body is not None:
                assert_error_body(status, body)

    check()
    assert seen and min(seen) >= 200  # answers were read and parsed, not just connections closed
    print(f"raw fuzz: {len(seen)} answers, statuses {dict(Counter(seen))}")  # shown with -s, for the record


def test_fuzz_log_bodies(inbox: Inbox) -> None:
    counts = {201: 0, 400: 0, 415: 0}
    with requests.Session() as session:
        session.headers["Authorization"] = AUTH

        # One of each answer whatever the draw (100 drawn bodies may hold no valid log): a log, bad JSON, no JSON.
        @FUZZ
        @given(BODIES, st.sampled_from(["application/json", "text/plain", "", "application/json; charset=latin-1",
                                        "Application/JSON", "application/jsonx", "text/json"]))
        @example(b'{"base_url": "https://shop.example"}', "application/json")
        @example(b"{", "application/json")
        @example(b"{}", "text/plain")
        def check(body: bytes, content_type: str) -> None:
            answer = session.post(
                f"{inbox.api_url}/integrations/7/logs", data=body, headers={"Content-Type": content_type}, timeout=TIMEOUT
            )
            json_sent = content_type.split(";", maxsplit=1)[0].lower() == "application/json"
            assert answer.status_code in ((201, 400) if json_sent else (415,)), answer.text[:300]
            assert answer.headers["Content-Type"] == "application/json"
            counts[answer.status_code] += 1
            if answer.status_code in (400, 415):
                assert_error_body(answer.status_code, answer.json())
                assert_matches("errors", answer.json())
            else:
                assert_matches("createResponse", answer.json())  # the stored log, in the API's shape
                assert answer.json()["data"]["id"] >= 1

        check()
    assert counts[201] and counts[400] and counts[415]  # every kind was generated
    print(f"body fuzz: {sum(counts.values())} POSTs, {counts}")
    assert len(inbox.logs(7)) == counts[201]  # what was accepted is stored, and readable back as JSON


def post(inbox: Inbox, body: bytes, **headers: str) -> requests.Response:
    return requests.post(
        f"{inbox.api_url}/integrations/1/logs", data=body,
        headers={"Authorization": AUTH, "Content-Type": "application/json", **headers}, timeout=TIMEOUT
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"base_url": ', "not valid JSON"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b'{"base_url": "caf\xe9"}', "not valid UTF-8"),
        (b'{"base_url": NaN}', "not valid JSON"),
        (b'{"base_url": 1e999}', "out of range"),
        (b'{"base_url": "x", "response_code": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b"[" * 30_000 + b"]" * 30_000, "nested too deeply"),
        (b'{"base_url": "x", "request": {"payload": ' + b'{"a":' * 100 + b"1" + b"}" * 101 + b"}", "more than 100 levels"),
    ],
)
def test_malformed_bodies_get_400_with_the_error_body(inbox: Inbox, body: bytes, detail: str) -> None:
    answer = post(inbox, body)
    assert answer.status_code == 400
    assert_error_body(400, answer.json())
    assert detail in answer.json()["errors"][0]["detail"]
    assert answer.json()["errors"][0]["code"] == "parse_error"


def test_deep_but_allowed_nesting_and_lone_surrogates_are_stored(inbox: Inbox) -> None:
    deep = b'{"base_url": "x", "request": {"payload": ' + b'{"a":' * 90 + b"1" + b"}" * 91 + b"}"
    assert post(inbox, deep).status_code == 201
    assert post(inbox, b'{"base_url": "\\ud800 half a pair"}').status_code == 201
    got = requests.get(f"{inbox.api_url}/integrations/1/logs", headers={"Authorization": AUTH}, timeout=TIMEOUT)
    assert got.status_code == 200 and len(got.json()["data"]) == 2


def test_bodies_over_the_limit_get_413(capfd: pytest.CaptureFixture[str]) -> None:
    with Inbox(public_key=PK, secret_key=SK, max_body_bytes=1_000) as inbox:
        answer = post(inbox, json.dumps({"base_url": "https://shop.example", "exception": "x" * 2_000}).encode())
        assert answer.status_code == 413
        assert_error_body(413, answer.json())
        assert answer.json()["errors"][0]["code"] == "request_too_large"
        raw = exchange(inbox, b"POST /api/v3/integrations/1/logs HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n{", TIMEOUT)
        assert [status for status, _ in answers(raw)] == [413]
        assert inbox.count() == 0
    assert "Traceback" not in capfd.readouterr().err


def test_credentials_are_compared_in_constant_time(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    wrong = "Basic " + base64.b64encode(f"{PK}:{SK[:-1]}".encode()).decode()
    assert post(inbox, b'{"base_url": "x"}', Authorization=wrong).status_code == 401
    assert post(inbox, b'{"base_url": "x"}').status_code == 201
    assert calls and all(isinstance(a, bytes) and isinstance(b, bytes) for a, b in calls)


def test_binds_loopback_by_default() -> None:
    with Inbox() as inbox:
        assert inbox.host == "127.0.0.1"
        assert inbox.api_url.startswith("http://127.0.0.1:")
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
