"""Redaction: secrets in headers, bodies, URLs and texts become ``[Filtered]`` before a log is queued or sent."""

from __future__ import annotations

import json
import logging
import logging.config
import math
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests

from sendcloud_logging import SendcloudHandler
from sendcloud_logging._payload import PayloadPolicy, detectors, payload_from_record
from sendcloud_logging._payload.redact import FILTERED, Redactor
from sendcloud_logging._payload.secret_names import DEFAULT_HEADER_WORDS, DEFAULT_HEADERS, DEFAULT_KEYS
from sendcloud_logging.inbox import Inbox

from .conftest import INTEGRATION_ID, PUBLIC_KEY, SECRET_KEY, SHOP, AppLogger, make_record, payload_with

R = Redactor()


@pytest.mark.parametrize(
    "name",
    [
        *DEFAULT_HEADERS,
        "authorization",
        "COOKIE",
        "set-cookie",
        "x-API-key",
        "X-Shopify-Access-Token",
        "X-Client-Secret",
        "X-Password",
        "X-Passwd",
        "X-Hub-Signature-256",
        "X-Api_Key",
        "X-Apikey",
        "X-Session-Id",
        "X-Auth-User",
        "Proxy-Authenticate",
    ],
)
def test_secret_headers_are_filtered_in_any_case(name: str) -> None:
    result = payload_with(request={"headers": {name: "s3cr3t-value", "Accept": "application/json"}, "payload": "x"})
    assert result["request"]["headers"] == {name: FILTERED, "Accept": "application/json"}
    result = payload_with(response={"headers": {name: "s3cr3t-value"}, "body": "x"})
    assert result["response"]["headers"] == {name: FILTERED}


@pytest.mark.parametrize("name", ["Accept", "Content-Type", "User-Agent", "X-Request-Id", "Retry-After", "Location"])
def test_ordinary_headers_are_kept(name: str) -> None:
    assert payload_with(request={"headers": {name: "value-1"}})["request"]["headers"] == {name: "value-1"}


def test_default_header_lists_are_what_the_readme_says() -> None:
    assert DEFAULT_HEADERS == ("Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key")
    assert DEFAULT_HEADER_WORDS == (
        "token", "secret", "password", "passwd", "signature", "api-key", "apikey", "session", "auth", "access-key",
        "subscription-key",
    )


def test_raw_header_blocks_are_redacted_line_by_line() -> None:
    raw = "Accept: */*\r\nAuthorization: Basic dXNlcjpwYXNz\r\nX-Shop-Token:abc\r\nReferer: https://a.example/?token=t1\r\n"
    result = payload_with(request={"headers": raw, "payload": "x"})
    assert result["request"]["headers"] == (
        f"Accept: */*\nAuthorization: {FILTERED}\nX-Shop-Token: {FILTERED}\n"
        f"Referer: https://a.example/?token={FILTERED}\n"
    )


def test_urls_in_header_values_lose_their_secrets() -> None:
    headers = {"Location": "https://u:p@shop.example/cb?code=1&access_token=abc", "Link": "<https://x/?apikey=k>"}
    result = payload_with(response={"headers": headers, "body": "moved"})
    assert result["response"]["headers"] == {
        "Location": f"https://{FILTERED}@shop.example/cb?code=1&access_token={FILTERED}",
        "Link": f"<https://x/?apikey={FILTERED}>",
    }


def test_requests_objects_are_redacted() -> None:
    request = requests.Request(
        "POST",
        "https://shop.example/oauth/token?client_secret=cs-secret-1",
        data={"grant_type": "client_credentials", "client_id": "id", "client_secret": "cs-secret-2"},
        headers={"Authorization": "Basic Zm9vOmJhcg==", "Cookie": "session=sess-secret-3"},
    ).prepare()
    result = payload_with(request=request)
    text = json.dumps(result)
    for secret in ("-secret-", "Zm9vOmJhcg=="):
        assert secret not in text
    assert result["full_url"] == f"https://shop.example/oauth/token?client_secret={FILTERED}"
    assert result["request"]["payload"] == {"grant_type": "client_credentials", "client_id": "id", "client_secret": FILTERED}


SECRET_KEYS = [
    *DEFAULT_KEYS,
    "Password",
    "customer_password",
    "newPassword",
    "API-KEY",
    "apiKey",
    "shopify_access_token",
    "refreshToken",
    "clientSecret",
    "cardNumber",
    "credit_card_number",
    "card-number",
    "CVV2",
    "cvc_code",
    "IBAN",
    "iban_number",
    "Authorization",
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_keys_are_filtered_at_any_depth(key: str) -> None:
    body = {"order": {"lines": [{"sku": "A1", key: "s3cr3t"}, {key: {"nested": 1}}]}, key: 12345}
    result = payload_with(request={"payload": body})
    assert result["request"]["payload"] == {
        "order": {"lines": [{"sku": "A1", key: FILTERED}, {key: FILTERED}]},
        key: FILTERED,
    }


@pytest.mark.parametrize(
    "key", ["name", "order_id", "note", "status", "sku", "passenger", "bypass", "author", "session", "signature"]
)
def test_other_keys_are_kept(key: str) -> None:
    assert payload_with(request={"payload": {key: "value-1"}})["request"]["payload"] == {key: "value-1"}


def test_empty_secret_values_stay_empty() -> None:
    body = {"password": None, "token": "", "secret": 0, "cvv": False}
    assert payload_with(request={"payload": body})["request"]["payload"] == {
        "password": None, "token": "", "secret": FILTERED, "cvv": FILTERED
    }


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"user=bob&password=hunter2&remember=1", "application/x-www-form-urlencoded",
         {"user": "bob", "password": FILTERED, "remember": "1"}),
        (b'{"user": "bob", "auth": {"access_token": "at1", "expires": 3}}', "application/json",
         {"user": "bob", "auth": {"access_token": FILTERED, "expires": 3}}),
        (b'[{"token": "t1"}, {"id": 2}]', "application/json", f'[{{"token":"{FILTERED}"}},{{"id":2}}]'),
        (b'[{"id": 2}]', "application/json", '[{"id": 2}]'),  # nothing secret: the sender's text is kept
        (b'{"user": "bob", "password": "hun', "application/json", f'{{"user": "bob", "password": "{FILTERED}"'),
        (b"<login><user>bob</user><ns:Password>pw1</ns:Password></login>", "application/xml",
         f"<login><user>bob</user><ns:Password>{FILTERED}</ns:Password></login>"),
        (b"client_id=x&client_secret=cs1", "text/plain", f"client_id=x&client_secret={FILTERED}"),
        (b"api_key: k1\nshop: demo\n", "application/yaml", f"api_key: {FILTERED}\nshop: demo\n"),
        (b"error for customer[password]=pw1 and iban=NL91ABNA0417164300", "text/plain",
         f"error for customer[password]={FILTERED} and iban={FILTERED}"),
    ],
)
def test_secrets_inside_form_json_xml_and_text_bodies(body: bytes, content_type: str, expected: Any) -> None:
    result = payload_with(response={"headers": {"Content-Type": content_type}, "body": body})
    assert result["response"]["body"] == expected


def test_json_strings_nested_in_values_are_redacted() -> None:
    body = {"data": '{"token": "t1", "ok": true}', "log": "retrying with apikey=k1"}
    assert payload_with(request={"payload": body})["request"]["payload"] == {
        "data": f'{{"token": "{FILTERED}", "ok": true}}',
        "log": f"retrying with apikey={FILTERED}",
    }


def test_json_escaped_inside_json_text_is_redacted() -> None:
    text = '{"event": "{\\"token\\": \\"t1\\", \\"id\\": 5}"}'  # as a raw body shows a JSON string in JSON
    assert R.text(text) == '{"event": "{\\"token\\": \\"[Filtered]\\", \\"id\\": 5}"}'
    headers = {"X-Debug": {"": '{"password": "pw1"}'}}  # a structured header value becomes its JSON text
    assert "pw1" not in json.dumps(payload_with(request={"headers": headers, "payload": "x"}))


def test_multipart_form_fields_are_redacted() -> None:
    body = (
        b'--xx\r\nContent-Disposition: form-data; name="username"\r\n\r\nbob\r\n'
        b'--xx\r\nContent-Disposition: form-data; name="password"\r\n\r\nhunter2\r\n--xx--\r\n'
    )
    result = payload_with(request={"headers": {"Content-Type": "multipart/form-data; boundary=xx"}, "payload": body})
    text = result["request"]["payload"]
    assert "hunter2" not in text and "bob" in text and FILTERED in text


def test_query_parameters_and_user_information_in_every_url_field() -> None:
    response = requests.Response()
    response.status_code = 401
    response.url = "https://shop.example/api/orders?page=2&access_token=at1"
    response._content = b"{}"
    result = payload_with(
        response=response,
        request={"url": "https://admin:pw1@shop.example/api/orders?page=2&apikey=k1", "method": "GET"},
    )
    assert result["full_url"] == f"https://shop.example/api/orders?page=2&access_token={FILTERED}"
    result = payload_with(full_url="https://admin:pw1@shop.example/x?a=1&token=t1&b=2#refresh_token=rt1")
    assert result["full_url"] == f"https://{FILTERED}@shop.example/x?a=1&token={FILTERED}&b=2#refresh_token={FILTERED}"
    result = payload_from_record(make_record(), base_url="https://admin:pw1@shop.example")
    assert result["base_url"] == f"https://{FILTERED}@shop.example"


def test_exception_text_is_redacted() -> None:
    try:
        raise requests.ConnectionError(
            "HTTPSConnectionPool(host='shop.example', port=443): Max retries exceeded with url: "
            "/api?access_token=at1 (Caused by ...)"
        )
    except requests.ConnectionError:
        record = make_record("Sync with token=t2 failed: %s", {"password": "pw1"}, exc_info=sys.exc_info())
    result = payload_from_record(record, base_url=SHOP)
    assert result["exception"] == (
        f"Sync with token={FILTERED} failed: {{'password': '{FILTERED}'}}: HTTPSConnectionPool(host='shop.example', "
        f"port=443): Max retries exceeded with url: /api?access_token={FILTERED} (Caused by ...)"
    )


def test_a_url_cut_before_its_at_sign_loses_its_authority() -> None:
    url = " https://admin:hunter2@shop.example/"
    for before in range(1_024 - 60, 1_024):  # wherever the cut falls in the URL, no part of the password goes
        text = "password=" + "s" * 60 + " " + "x" * (before - 70) + url + "y" * 100  # redaction frees 50 bytes
        result = payload_with(PayloadPolicy(max_body_bytes=1_024), request={"payload": text})
        got = result["request"]["payload"]
        assert "hun" not in got and "admin" not in got, got[-60:]
    assert R.text("go to https://shop.example:8080") == "go to https://shop.example:8080"  # not cut: kept
    assert R.text("go to https://shop.example:8080", cut=True) == f"go to https://{FILTERED}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("""{'order': '{"token": "t1"}'}""", """{'order': '{"token": "[Filtered]"}'}"""),
        ("retry url=https://x/cb?access_token=at1&page=2 now", "retry url=https://x/cb?access_token=[Filtered]&page=2 now"),
        ("a=b=c=token=t1", "a=b=c=token=[Filtered]"),
    ],
)
def test_pairs_inside_the_values_of_other_pairs(text: str, expected: str) -> None:
    assert R.text(text) == expected


def test_bearer_tokens_in_text() -> None:
    assert R.text("curl -H 'Authorization: Bearer eyJhbGciOi.x.y' https://a") == (
        f"curl -H 'Authorization: Bearer {FILTERED}' https://a"
    )


TOKENS = [":", " ", "\\", '"', "'", "=", "&", "<a>", "</a>", "://", "@", "\n", "\r\n", "Bearer ", "--", "x",
          'content-disposition: form-data; name="password"', " …[1 bytes cut]"]


#: Characters of each run: one linear pass over them takes at most a few milliseconds, a quadratic one (even
#: ``re.search(r"\s*x", " " * RUN)``) more than a second.
RUN = 40_000
#: Seconds one pass may take: far from both, so neither a slow machine nor a quadratic pattern is mistaken.
LINEAR = 0.25


def seconds(text: str) -> float:
    """Seconds one redaction of ``text`` took, or the fastest of three when over ``LINEAR``: a busy machine
    slows a run now and then, a quadratic pattern slows every run."""
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        R.text(text, multipart=True, cut=True)
        best = min(best, time.perf_counter() - start)
        if best < LINEAR:
            break
    return best


def test_redaction_time_is_linear() -> None:
    """Runs of one token, then another: the shape that makes a backtracking regex take quadratic time."""
    slowest = (0.0, "")
    for first in TOKENS:
        for second in TOKENS:
            text = first * (RUN // len(first)) + second + first * 20
            slowest = max(slowest, (seconds(text), f"{first!r} then {second!r}"))
    for prefix in ("a: x", '"token": "', "x://", '\\"token\\": \\"', "<token>", "token="):
        for run in TOKENS:
            for end in ("y", '"', "\n"):
                text = prefix + run * (RUN // len(run)) + end
                slowest = max(slowest, (seconds(text), f"{prefix!r}, {run!r}s, {end!r}"))
    assert slowest[0] < LINEAR, slowest


#: Runs that make the detectors by value work hardest: every rule's keywords (so a new rule is covered by
#: itself), followed by what continues a token, and the starts of cards, IBANs, e-mails, phones and IPs.
DETECTOR_RUNS = sorted(
    {f"{word}{more}" for words, _, _ in detectors._RULES for word in words for more in ("", "a", "aaaa.", " ")}
    | {"-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----a", "Header part (", "Header part (a) from (",
       "A" * 40 + " ", "AKIAAAAAAAAAAAAAAAAA ", "1", "1 ", "1-", "4", "4 ", "41", "NL91", "NL91 ", "NL91A", "AB12 ", "A",
       "a@", "a.", "@a.", "a@a.", "a@a", "+", "+1", "+1 ", "+1(", "(555) ", "(55", "0", "01 ", "06-", "00", "1.", "1.1.",
       "1.1.1.1.", "::", ":", "a:", "1:", "f:", "<a><![CDATA[", "<passwd><![CDATA[", "]", "]]", "<passwd>\n <![CDATA[",
       "first_name=", '"email": "', "<email>", "Email: "}
)
#: Characters of the shorter run; the longer is ``SCALE`` times as long.
SMALL, SCALE = 4_000, 4
#: A linear pass over a run ``SCALE`` times as long takes about ``SCALE`` times as long; a quadratic one
#: ``SCALE**2`` (16) times. The bound sits between, and a ratio over it is measured again before it counts.
RATIO = 9.0


def best_of(text: str, runs: int = 3) -> float:
    best = math.inf
    for _ in range(runs):
        start = time.perf_counter()
        R.text(text, multipart=True, cut=True)
        best = min(best, time.perf_counter() - start)
    return best


def growth(run: str, end: str) -> float:
    """How many times longer the redaction of a ``SCALE`` times longer run takes (the lowest of three tries:
    a busy machine slows one measurement now and then, a quadratic pattern slows every one)."""
    ratio = math.inf
    for _ in range(3):
        small = best_of(run * (SMALL // len(run)) + end)
        large = best_of(run * (SMALL * SCALE // len(run)) + end)
        ratio = min(ratio, large / max(small, 1e-6))
        if ratio < RATIO:
            break
    return ratio


def test_detectors_by_value_take_linear_time() -> None:
    """Each detector over long runs of its own start: the time grows with the length, not its square."""
    assert all(any(word in run for run in DETECTOR_RUNS) for words, _, _ in detectors._RULES for word in words)
    worst = max((growth(run, end), run, end) for run in DETECTOR_RUNS for end in ("", "\n"))
    assert worst[0] < RATIO, worst


def test_redact_keys_and_headers_extend_the_defaults() -> None:
    policy = PayloadPolicy(redactor=Redactor(keys=["shop_pin"], headers=["X-Shop-Pin"]))
    result = payload_with(
        policy, request={"headers": {"X-Shop-Pin": "1234", "Authorization": "a"}, "payload": {"shop_pin": 1, "token": 2}},
        full_url="https://shop.example/?shop_pin=99",
    )
    assert result["request"] == {
        "headers": {"X-Shop-Pin": FILTERED, "Authorization": FILTERED},
        "payload": {"shop_pin": FILTERED, "token": FILTERED},
    }
    assert result["full_url"] == f"https://shop.example/?shop_pin={FILTERED}"


def test_keep_keys_switch_a_word_off_or_keep_one_name() -> None:
    body = {"token_type": "bearer", "access_token": "at1", "csrf_token": "c1", "password": "p"}
    kept = payload_with(PayloadPolicy(redactor=Redactor(keep_keys=["token_type"])), request={"payload": body})
    assert kept["request"]["payload"] == {
        "token_type": "bearer", "access_token": FILTERED, "csrf_token": FILTERED, "password": FILTERED
    }
    no_token = payload_with(PayloadPolicy(redactor=Redactor(keep_keys=["token"])), request={"payload": body})
    assert no_token["request"]["payload"] == {
        "token_type": "bearer", "access_token": FILTERED, "csrf_token": "c1", "password": FILTERED
    }


def test_keep_headers() -> None:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"', "X-Session-Id": "s1", "Cookie": "c"}
    policy = PayloadPolicy(redactor=Redactor(keep_headers=["www-authenticate", "session"]))
    assert payload_with(policy, response={"headers": headers, "body": "x"})["response"]["headers"] == {
        "WWW-Authenticate": 'Bearer error="invalid_token"', "X-Session-Id": "s1", "Cookie": FILTERED
    }


def test_redact_defaults_off_keeps_only_the_given_lists() -> None:
    policy = PayloadPolicy(redactor=Redactor(defaults=False, keys=["pin"], headers=["X-Pin"]))
    result = payload_with(
        policy,
        request={"headers": {"Authorization": "a", "X-Pin": "1"}, "payload": {"password": "p", "pin": 1}},
        full_url="https://u:p@shop.example/?token=t",
    )
    assert result["request"] == {"headers": {"Authorization": "a", "X-Pin": FILTERED}, "payload": {"password": "p", "pin": FILTERED}}
    assert result["full_url"] == f"https://{FILTERED}@shop.example/?token=t"  # credentials in URLs always go


def test_exact_secret_values_are_replaced_anywhere() -> None:
    policy = PayloadPolicy(redactor=Redactor(values=["very-secret-1", "abc"]))  # too short values are ignored
    result = payload_with(policy, msg="key very-secret-1 refused, abc", request={"payload": {"note": "very-secret-1"}})
    assert result["exception"] == f"key {FILTERED} refused, abc"
    assert result["request"]["payload"] == {"note": FILTERED}
    assert "very-secret-1" not in repr(policy)


def test_policy_without_redactor_sends_as_given() -> None:
    result = payload_with(PayloadPolicy(redactor=None), request={"headers": {"Authorization": "a"}, "payload": {"token": "t"}})
    assert result["request"] == {"headers": {"Authorization": "a"}, "payload": {"token": "t"}}


def test_redaction_through_the_inbox_with_dictconfig(inbox: Inbox) -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {
                "sendcloud": {
                    "class": "sendcloud_logging.SendcloudHandler",
                    "integration_id": INTEGRATION_ID,
                    "public_key": PUBLIC_KEY,
                    "secret_key": SECRET_KEY,
                    "api_url": inbox.api_url,
                    "base_url": SHOP,
                    "redact_keys": ["shop_pin"],
                    "redact_headers": "X-Shop-Pin, X-Other",
                    "keep_keys": ["token_type"],
                    "keep_headers": ["WWW-Authenticate"],
                }
            },
            "loggers": {"redact.app": {"handlers": ["sendcloud"], "level": "ERROR", "propagate": False}},
        }
    )
    log = logging.getLogger("redact.app")
    log.error(
        "Token refresh failed for %s",
        f"secret {SECRET_KEY}",
        extra={
            "full_url": "https://admin:pw-secret-1@shop.example/oauth?refresh_token=rt-secret-2",
            "request": {
                "headers": {"Authorization": "Basic auth-secret-3", "X-Shop-Pin": "pin-secret-5", "Accept": "application/json"},
                "payload": {"grant_type": "refresh_token", "refresh_token": "rt-secret-2", "shop_pin": "pin-secret-6"},
            },
            "response": {
                "status_code": 401,
                "headers": {"WWW-Authenticate": 'Bearer error="invalid_token"', "Set-Cookie": "sid=cookie-secret-4"},
                "body": b'{"error": "invalid_grant", "token_type": "bearer", "access_token": "at-secret-7"}',
            },
        },
    )
    handler = next(h for h in log.handlers if isinstance(h, SendcloudHandler))
    assert handler.flush(10)
    [got] = inbox.logs()
    assert got["full_url"] == f"https://{FILTERED}@shop.example/oauth?refresh_token={FILTERED}"
    assert got["request"] == {
        "headers": {"Authorization": FILTERED, "X-Shop-Pin": FILTERED, "Accept": "application/json"},
        "payload": {"grant_type": "refresh_token", "refresh_token": FILTERED, "shop_pin": FILTERED},
    }
    assert got["response"]["headers"] == {"WWW-Authenticate": 'Bearer error="invalid_token"', "Set-Cookie": FILTERED}
    assert got["response"]["body"] == {"error": "invalid_grant", "token_type": "bearer", "access_token": FILTERED}
    assert got["exception"] == f"Token refresh failed for secret {FILTERED}"  # the handler's own key too
    for secret in ("-secret-", SECRET_KEY):  # every planted value above has it
        assert secret not in json.dumps(got)


def test_nothing_secret_reaches_the_spool_file(app_logger: AppLogger, inbox: Inbox, tmp_path: Path) -> None:
    spool = tmp_path / "spool.sqlite"
    inbox.latency = 3600.0  # the API holds the POST: its row stays on disk until the API answers
    log, handler = app_logger(spool_path=str(spool))
    log.error(
        "Could not sync",
        extra={"request": {"headers": {"Authorization": "Bearer tok-on-disk-1"}, "payload": {"password": "pw-on-disk-2"}}},
    )
    assert inbox.wait_for_requests(1)  # the sender took the log from the spool: its row is written
    with closing(sqlite3.connect(spool)) as db:  # the spool's own rows, as the next process would read them
        rows = [str(row) for row in db.execute("SELECT * FROM sqlite_master")]
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        stored = "".join(str(db.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)
    assert rows and FILTERED in stored
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"tok-on-disk-1" not in files and b"pw-on-disk-2" not in files
    inbox.latency = 0.0  # the held POST is answered now
    assert handler.flush(10)
    assert handler.stats()["sent"] == 1
