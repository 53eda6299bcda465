"""``build_payload`` / ``payload_from_record``: the mapping rules, and a schema-valid body whatever a record holds."""

from __future__ import annotations

import dataclasses
import decimal
import enum
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any, ClassVar, Optional

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from sendcloud_logging._capture import EXTRA_FIELDS, HTTPParts, Snapshot, snapshot_record
from sendcloud_logging._payload import build_payload, conform, payload_from_record
from sendcloud_logging._types import API_FIELDS
from sendcloud_logging.errors import MissingBaseURLError

from .conftest import SHOP, URL, assert_valid_body, make_record, make_response, payload_with


def assert_valid(payload: Any) -> None:
    """Schema-valid, only API fields, and sendable: strict JSON that encodes to UTF-8."""
    assert_valid_body(payload)
    assert set(payload) <= set(API_FIELDS)
    json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")


def payload(record: logging.LogRecord, **defaults: Any) -> dict[str, Any]:
    result = payload_from_record(record, **defaults)
    assert_valid(result)
    return result


def parts_payload(
    request: Optional[HTTPParts] = None, response: Optional[HTTPParts] = None, **fields: Any
) -> dict[str, Any]:
    snap = Snapshot("msg", 1_700_000_000.0, None, None, request, response, {"base_url": SHOP, **fields})
    result = build_payload(snap)
    assert_valid(result)
    return result


def response_body(body: Any, content_type: Optional[str] = None, encoding: Optional[str] = None) -> Any:
    headers = {"Content-Type": content_type} if content_type else {}
    return (
        parts_payload(response=HTTPParts(headers=headers, body=body, encoding=encoding)).get("response", {}).get("body")
    )


def request_payload(body: Any, content_type: Optional[str] = None) -> Any:
    headers = {"Content-Type": content_type} if content_type else {}
    return parts_payload(request=HTTPParts(headers=headers, body=body)).get("request", {}).get("payload")


def test_logged_http_error() -> None:
    request = requests.Request(
        "POST", URL, json={"order_note": {"note": "Shipped"}}, headers={"Accept": "application/json"}
    ).prepare()
    response = make_response(request=request, headers={"Content-Type": "application/json", "X-Request-Id": "r1"})
    try:
        response.raise_for_status()
    except requests.HTTPError:
        record = make_record(exc_info=sys.exc_info())
    result = payload(record)
    assert result == {
        "base_url": SHOP,
        "full_url": URL,
        "method": "POST",
        "response_code": 404,
        "response": {
            "headers": {"Content-Type": "application/json", "X-Request-Id": "r1"},
            "body": {"error": "not found"},
        },
        "request": {
            "headers": {"Accept": "application/json", "Content-Length": "35", "Content-Type": "application/json"},
            "payload": {"order_note": {"note": "Shipped"}},
        },
        "created_at": result["created_at"],
        "exception_type": "requests.exceptions.HTTPError",
        "exception": f"Could not post the order note: 404 Client Error: None for url: {URL}",
    }
    assert list(result) == [name for name in API_FIELDS if name in result]
    assert "Traceback" not in result["exception"]


def test_minimal_record() -> None:
    result = payload(make_record("plain"), base_url=SHOP)
    assert result == {"base_url": SHOP, "created_at": result["created_at"], "exception": "plain"}


def test_payload_from_record_is_build_payload_of_the_snapshot() -> None:
    record = make_record(response=make_response())
    assert payload_from_record(record, base_url="https://d.example") == build_payload(
        snapshot_record(record), {"base_url": "https://d.example"}
    )


def test_only_api_fields() -> None:
    record = make_record(integration_id=7, user_id=3, protected=True, additional_data={"a": 1}, order_id=42, id=1)
    assert set(payload(record, base_url=SHOP, integration_id=5, secret_key="x")) == {
        "base_url",
        "created_at",
        "exception",
    }


def test_foreign_objects_give_no_request_or_response() -> None:
    class DjangoRequest:
        method = "GET"
        headers: ClassVar[dict[str, str]] = {"Host": "x"}

    result = payload(make_record(request=DjangoRequest(), response=object()), base_url=SHOP)
    assert "request" not in result and "response" not in result and "method" not in result


def test_extra_beats_objects_beats_defaults() -> None:
    request = requests.Request("GET", "https://req.example/a").prepare()
    response = make_response(status=404, url="https://resp.example/b", request=request)
    exc = requests.HTTPError("boom", response=response)
    record = make_record(exc_info=(type(exc), exc, None))
    defaults = {
        "base_url": "https://default.example",
        "full_url": "https://default.example/c",
        "method": "PUT",
        "response_code": 499,
        "exception_type": "default.Error",
        "created_at": "2000-01-01T00:00:00+00:00",
        "exception": "default text",
    }
    derived = payload(record, **defaults)
    assert derived["base_url"] == "https://default.example"  # base_url: defaults before deriving it
    assert derived["full_url"] == "https://resp.example/b"
    assert (derived["method"], derived["response_code"]) == ("GET", 404)
    assert derived["exception_type"] == "requests.exceptions.HTTPError"
    assert derived["created_at"] != "2000-01-01T00:00:00+00:00"
    assert derived["exception"] == "Could not post the order note: boom"

    explicit = {
        "base_url": "https://extra.example",
        "full_url": "https://extra.example/d",
        "method": "delete",
        "response_code": 418,
        "exception_type": "shop.Teapot",
        "created_at": "2026-11-28T05:00:00+01:00",
    }
    record = make_record(exc_info=(type(exc), exc, None), **explicit)
    result = payload(record, **defaults)
    assert result["base_url"] == "https://extra.example"
    assert result["full_url"] == "https://extra.example/d"
    assert (result["method"], result["response_code"]) == ("DELETE", 418)
    assert result["exception_type"] == "shop.Teapot"
    assert result["created_at"] == "2026-11-28T05:00:00+01:00"

    only_defaults = payload(make_record(""), **defaults)
    assert only_defaults == {**defaults, "created_at": only_defaults["created_at"]}


def test_full_url_falls_back_to_the_request() -> None:
    result = payload(make_record(request=requests.Request("get", "https://req.example:8443/x?y=1").prepare()))
    assert (result["full_url"], result["base_url"], result["method"]) == (
        "https://req.example:8443/x?y=1",
        "https://req.example:8443",
        "GET",
    )


def test_invalid_explicit_values_fall_through() -> None:
    record = make_record(response={"status": 502}, response_code=True, method=5, full_url=["x"], base_url="  ")
    result = payload(record, base_url=SHOP)
    assert result["response_code"] == 502
    assert result["base_url"] == SHOP
    assert "method" not in result and "full_url" not in result


def test_url_objects_are_used_by_their_text() -> None:
    class URLObject:
        def __str__(self) -> str:
            return "https://obj.example/p"

    assert payload(make_record(full_url=URLObject()))["base_url"] == "https://obj.example"
    assert payload(make_record(full_url=b"https://bytes.example/p"))["base_url"] == "https://bytes.example"


@pytest.mark.parametrize(
    ("full_url", "base_url"),
    [
        ("https://shop.example/a/b?c=1#d", "https://shop.example"),
        ("HTTP://Shop.Example:8080/x", "http://shop.example:8080"),
        ("https://user:secret@shop.example/x", "https://shop.example"),
        ("http://[::1]:5000/x", "http://[::1]:5000"),
    ],
)
def test_base_url_from_full_url(full_url: str, base_url: str) -> None:
    result = payload(make_record(full_url=full_url))
    assert result["base_url"] == base_url
    assert result["full_url"] == full_url.replace("user:secret@", "[Filtered]@")  # user information redacted


@pytest.mark.parametrize(
    "full_url", [None, "ftp://shop.example/x", "/relative/path", "https://", "https://h:99999/", "mailto:a@b"]
)
def test_missing_base_url(full_url: Optional[str]) -> None:
    with pytest.raises(MissingBaseURLError, match="base_url="):
        payload_from_record(make_record(full_url=full_url))


def test_missing_base_url_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="base_url"):
        build_payload(Snapshot("m", 0.0, None, None, None, None, {}), {"base_url": None})


@pytest.mark.parametrize(
    ("message", "text", "expected"),
    [
        ("Could not post", "timed out", "Could not post: timed out"),
        ("Could not post: timed out", "timed out", "Could not post: timed out"),
        ("Could not post", "", "Could not post"),
        ("Could not post", None, "Could not post"),
        ("Could not post:", "timed out", "Could not post: timed out"),
        ("", "timed out", "timed out"),
        ("Could not post", "  ", "Could not post"),
        ("", None, None),
    ],
)
def test_exception_text(message: str, text: Optional[str], expected: Optional[str]) -> None:
    snap = Snapshot(message, 0.0, None, text, None, None, {})
    assert build_payload(snap, {"base_url": SHOP}).get("exception") == expected


def test_logged_exception_never_carries_a_traceback() -> None:
    try:
        {"present": 1}["missing"]
    except KeyError:
        record = make_record("Lookup failed", exc_info=sys.exc_info())
    result = payload(record, base_url=SHOP)
    assert result["exception"] == "Lookup failed: 'missing'"
    assert result["exception_type"] == "KeyError"


def test_exception_type_given_as_class() -> None:
    assert payload(make_record(exception_type=requests.ConnectTimeout), base_url=SHOP)["exception_type"] == (
        "requests.exceptions.ConnectTimeout"
    )


def test_created_at_is_the_records_time_with_local_offset() -> None:
    record = make_record()
    result = payload(record, base_url=SHOP)
    parsed = datetime.fromisoformat(result["created_at"])
    assert parsed.utcoffset() is not None
    assert parsed.timestamp() == pytest.approx(record.created, abs=1e-6)
    assert parsed.utcoffset() == datetime.fromtimestamp(record.created).astimezone().utcoffset()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-11-28T05:00:00Z", "2026-11-28T05:00:00Z"),
        ("2026-11-28T05:00:00.123+02:00", "2026-11-28T05:00:00.123+02:00"),
        (datetime(2026, 11, 28, 5, 0, tzinfo=timezone(timedelta(hours=-3))), "2026-11-28T05:00:00-03:00"),
        (datetime(2026, 11, 28, 5, 0, tzinfo=timezone.utc), "2026-11-28T05:00:00+00:00"),
        (datetime(2026, 11, 28, 5, 0, tzinfo=timezone(timedelta(seconds=3661))), "2026-11-28T03:58:59+00:00"),
    ],
)
def test_created_at_given(given: Any, expected: str) -> None:
    assert payload(make_record(created_at=given), base_url=SHOP)["created_at"] == expected


def test_created_at_naive_is_local_time() -> None:
    naive = datetime(2026, 11, 28, 5, 0)
    expected = naive.astimezone().isoformat()
    assert payload(make_record(created_at=naive), base_url=SHOP)["created_at"] == expected
    assert payload(make_record(created_at="2026-11-28 05:00:00"), base_url=SHOP)["created_at"] == expected
    assert (
        payload(make_record(created_at=date(2026, 11, 28)), base_url=SHOP)["created_at"]
        == datetime(2026, 11, 28).astimezone().isoformat()
    )
    assert payload(make_record(created_at=naive.timestamp()), base_url=SHOP)["created_at"] == expected


@pytest.mark.parametrize(
    "given", ["yesterday", "2026-13-01T00:00:00Z", "2026-11-28T25:00:00Z", "", True, {"a": 1}, float("nan")]
)
def test_created_at_unusable_falls_back_to_record_time(given: Any) -> None:
    record = make_record(created_at=given)
    result = payload(record, base_url=SHOP)
    assert datetime.fromisoformat(result["created_at"]).timestamp() == pytest.approx(record.created, abs=1e-6)


@pytest.mark.parametrize(("given", "expected"), [(404, 404), ("404", 404), (" 503 ", 503), (0, 0), (600, 600)])
def test_response_code(given: Any, expected: int) -> None:
    result = payload(make_record(response_code=given), base_url=SHOP)
    assert result["response_code"] == expected
    assert type(result["response_code"]) is int


@pytest.mark.parametrize("given", [-1, True, False, "abc", 404.0, "٤٠٤", None, [404]])
def test_response_code_dropped(given: Any) -> None:
    assert "response_code" not in payload(make_record(response_code=given), base_url=SHOP)


def test_method_upper_case() -> None:
    assert payload(make_record(request={"method": "patch"}), base_url=SHOP)["method"] == "PATCH"
    assert payload(make_record(method=b"get"), base_url=SHOP)["method"] == "GET"


def test_headers_become_strings() -> None:
    headers: dict[Any, Any] = {
        "Accept": "application/json",
        "X-Bytes": b"caf\xe9",
        "X-Count": 3,
        "X-None": None,
        "X-List": ["a", "b"],
        5: True,
    }
    result = parts_payload(request=HTTPParts(headers=headers), response=HTTPParts(headers=headers))
    expected = {"Accept": "application/json", "X-Bytes": "café", "X-Count": "3", "X-List": "a, b", "5": "true"}
    assert result["request"]["headers"] == expected
    assert result["response"]["headers"] == expected
    del headers[5]
    del expected["5"]
    live = parts_payload(response=HTTPParts(headers=CaseInsensitiveDict(headers), body="x"))
    assert live["response"]["headers"] == expected


def test_raw_header_strings() -> None:
    raw = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nbroken line\r\n"
    result = parts_payload(request=HTTPParts(headers=raw, body=b"x=1"), response=HTTPParts(headers=raw, body=b"gone"))
    # Set-Cookie is redacted by default; line ends arrive as newlines (no control characters but \n and \t).
    redacted = raw.replace("a=1", "[Filtered]").replace("b=2", "[Filtered]").replace("\r\n", "\n")
    assert result["request"] == {"headers": redacted, "payload": "x=1"}
    assert result["response"] == {"headers": {"Content-Type": "text/plain", "Set-Cookie": "[Filtered]"}, "body": "gone"}
    assert parts_payload(response=HTTPParts(headers="no headers here", body="x"))["response"]["headers"] is None


def test_header_pairs() -> None:
    result = parts_payload(response=HTTPParts(headers=[("Via", "a"), ("Via", "b"), "junk"], body="x"))  # type: ignore[arg-type]
    assert result["response"]["headers"] == {"Via": "a, b"}


def test_broken_header_mapping_costs_only_the_headers() -> None:
    class Broken(dict):  # type: ignore[type-arg]
        def items(self) -> Any:
            raise RuntimeError("no items")

    result = parts_payload(response=HTTPParts(headers=Broken(a=1), body="text", status=500))
    assert result["response"] == {"headers": None, "body": "text"}
    assert result["response_code"] == 500


def test_empty_request_and_response_are_left_out() -> None:
    result = parts_payload(request=HTTPParts(method="GET", headers={}), response=HTTPParts(status=204, body=b""))
    assert "request" not in result and "response" not in result
    assert (result["method"], result["response_code"]) == ("GET", 204)


def test_json_bodies() -> None:
    assert response_body(b'{"a": [1, 2], "b": null}', "application/json") == {"a": [1, 2], "b": None}
    assert response_body(b'{"a": 1}', "application/vnd.api+json; charset=utf-8") == {"a": 1}
    assert response_body('  {"a": 1}', None) == {"a": 1}  # text that parses as a JSON object
    assert response_body('{"a": 1}', "text/html") == {"a": 1}
    assert response_body(b'{"a": NaN, "b": Infinity, "c": -Infinity}', "application/json") == {
        "a": "NaN",
        "b": "Infinity",
        "c": "-Infinity",
    }
    assert response_body(b'{"broken": ', "application/json") == '{"broken": '


def test_json_arrays_and_scalars_are_sent_as_text() -> None:
    assert response_body(b"[1, 2, 3]", "application/json") == "[1, 2, 3]"
    assert response_body(b"42", "application/json") == "42"
    assert request_payload([1, {"a": 2}]) == '[1,{"a":2}]'
    assert request_payload((1, 2)) == "[1,2]"
    assert request_payload(7) == "7"
    assert request_payload({"nested": [1, 2]}) == {"nested": [1, 2]}


def test_form_bodies() -> None:
    form = "application/x-www-form-urlencoded"
    assert request_payload(b"note=Shipped+today&tag=a&tag=b&tag=c&empty=", form) == {
        "note": "Shipped today",
        "tag": ["a", "b", "c"],
        "empty": "",
    }
    assert request_payload("flag&q=%C3%A9", form + "; charset=utf-8") == {"flag": "", "q": "é"}
    assert request_payload("a=1&b=2", "text/plain") == "a=1&b=2"  # only a form content type parses
    assert request_payload("&&", form) == "&&"


def test_text_and_charsets() -> None:
    assert response_body(b"caf\xe9", "text/plain", encoding="ISO-8859-1") == "café"
    assert response_body(b"caf\xe9", "text/plain; charset=latin-1") == "café"
    assert response_body("café".encode(), "text/plain") == "café"
    assert response_body(b"caf\xe9", "text/plain") == "caf\ufffd"  # utf-8 by default, replaced
    assert response_body(b"caf\xe9", "text/plain; charset=no-such-codec") == "caf\ufffd"
    assert response_body(b"caf\xe9", "text/plain; charset=base64") == "caf\ufffd"
    assert response_body(b"<p>hi</p>", None) == "<p>hi</p>"


def test_binary_bodies_are_described() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
    assert response_body(png, "image/png") == f"<{len(png)} bytes of image/png>"
    assert response_body(png, None) == f"<{len(png)} bytes of binary data>"
    assert (
        response_body(bytearray(png), "application/octet-stream") == f"<{len(png)} bytes of application/octet-stream>"
    )


@pytest.mark.parametrize("body", [None, b"", "", "   \n", bytearray()])
def test_empty_bodies(body: Any) -> None:
    assert response_body(body, "text/plain") is None


def test_descriptions_are_sent_as_they_are() -> None:
    request = requests.Request(
        "POST", URL, data=iter([b"x"]), headers={"Content-Type": "application/x-www-form-urlencoded"}
    ).prepare()
    unread = make_response(body=False, headers={"Content-Type": "application/json"})
    result = payload(make_record(request=request, response=unread))
    assert result["request"]["payload"] == "<streamed body not captured>"
    assert result["response"]["body"] == "<streamed body not read>"
    assert unread._content is False  # type: ignore[comparison-overlap]


def test_unprepared_request_bodies() -> None:
    result = payload(make_record(request=requests.Request("POST", URL, data=[("a", "1"), ("a", "2")])))
    assert result["request"] == {"headers": None, "payload": {"a": ["1", "2"]}}
    result = payload(make_record(request=requests.Request("POST", URL, json=[1, 2])))
    assert result["request"]["payload"] == "[1,2]"


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Parcel:
    weight: decimal.Decimal
    sent: datetime


def test_odd_values_are_encoded() -> None:
    when = datetime(2026, 11, 28, 5, 0, tzinfo=timezone.utc)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    body = {
        "when": when,
        "day": date(2026, 11, 28),
        "price": decimal.Decimal("9.95"),
        "id": ident,
        "raw": b"\x00\x01",
        "parcel": Parcel(decimal.Decimal("1.5"), when),
        "tags": {"b", "a"},
        "colour": Colour.RED,
        "nan": float("nan"),
        "inf": float("-inf"),
        "tuple": (1, 2),
        1: "int key",
        None: "none key",
        ("a", 1): "tuple key",
        "type": ValueError,
        "error": ValueError("bad"),
    }
    result = parts_payload(
        request=HTTPParts(headers={"X-When": when, "X-Id": ident, "X-Price": decimal.Decimal("1.0")}, body=body)
    )
    assert result["request"]["payload"] == {
        "when": "2026-11-28T05:00:00+00:00",
        "day": "2026-11-28",
        "price": "9.95",
        "id": "12345678-1234-5678-1234-567812345678",
        "raw": "AAE=",
        "parcel": {"weight": "1.5", "sent": "2026-11-28T05:00:00+00:00"},
        "tags": ["a", "b"],
        "colour": "red",
        "nan": "NaN",
        "inf": "-Infinity",
        "tuple": [1, 2],
        "1": "int key",
        "null": "none key",
        '["a",1]': "tuple key",
        "type": "ValueError",
        "error": "ValueError: bad",
    }
    assert result["request"]["headers"] == {
        "X-When": "2026-11-28T05:00:00+00:00",
        "X-Id": "12345678-1234-5678-1234-567812345678",
        "X-Price": "1.0",
    }


def test_dataclass_body_and_unencodable_objects() -> None:
    assert request_payload(Parcel(decimal.Decimal("2"), datetime(2026, 1, 1, tzinfo=timezone.utc))) == {
        "weight": "2",
        "sent": "2026-01-01T00:00:00+00:00",
    }

    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque>"

        def __str__(self) -> str:
            raise RuntimeError("no str")

    assert request_payload({"o": Opaque()}) == {"o": "<Opaque>"}
    assert request_payload(Opaque()) == "<Opaque>"


def test_cycles_and_depth_are_bounded() -> None:
    cyclic: dict[str, Any] = {"a": 1}
    cyclic["self"] = cyclic
    out = request_payload(cyclic)
    depth = 0
    while isinstance(out, dict):
        out = out["self"]
        depth += 1
    assert out == "<nested too deep>" and depth > 10


def test_lone_surrogates_are_replaced() -> None:
    result = parts_payload(
        request=HTTPParts(headers={"X": "a\udcff"}, body={"k\ud800": "v\udfff"}), exception_type="x\ud800"
    )
    assert result["request"] == {"headers": {"X": "a?"}, "payload": {"k?": "v?"}}
    assert result["exception_type"] == "x?"


LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.sampled_from(["\ud800", "https://shop.example/x", "2026-11-28T05:00:00Z", '{"a": 1}', "a=1&a=2", "404"])
)
VALUES = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=5) | st.integers() | st.none(), children, max_size=4)
    ),
    max_leaves=12,
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain; charset=latin-1",
        "image/png",
        "text/html; charset=bogus",
    ]
)
HEADERS = VALUES | st.dictionaries(st.just("Content-Type"), CONTENT_TYPES | VALUES, max_size=1)
REQUESTS = st.fixed_dictionaries({}, optional={"headers": HEADERS, "payload": VALUES, "method": VALUES, "url": VALUES})
RESPONSES = st.fixed_dictionaries(
    {},
    optional={
        "headers": HEADERS,
        "body": VALUES,
        "status": VALUES,
        "status_code": VALUES,
        "url": VALUES,
        "encoding": VALUES,
    },
)
EXTRAS = st.fixed_dictionaries({}, optional={name: VALUES for name in EXTRA_FIELDS})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    request=REQUESTS | VALUES,
    response=RESPONSES | VALUES,
    fields=EXTRAS,
    defaults=st.fixed_dictionaries({}, optional={"base_url": VALUES, "method": VALUES}),
    message=st.text(max_size=20),
)
def test_any_record_gives_a_valid_payload_or_missing_base_url(
    request: Any, response: Any, fields: dict[str, Any], defaults: dict[str, Any], message: str
) -> None:
    record = make_record(message, request=request, response=response, **fields)
    before = dict(record.__dict__)
    try:
        result: Optional[dict[str, Any]] = payload_from_record(record, **defaults)
    except MissingBaseURLError:
        result = None
    assert record.__dict__ == before  # same objects: NaN extras compare equal by identity
    if result is not None:
        assert_valid(result)
        assert result["base_url"].strip()


CONTROLS = "\x1b[31m" + "\x1b]52;c;aGk=\x07" + "\x00\x08\x0b\x0c\x7f\x85\x9b" + "\u202e\u2066\u2069" + "\r"
ALLOWED = {"\n", "\t"}


def has_controls(text: str) -> bool:
    return any(
        (ord(char) < 32 and char not in ALLOWED) or 0x7F <= ord(char) <= 0x9F or 0x202A <= ord(char) <= 0x202E
        or 0x2066 <= ord(char) <= 0x2069
        for char in text
    )


def test_payloads_carry_no_control_or_bidi_characters() -> None:
    """Terminal escapes, C0/C1 controls and bidi overrides wherever a record puts them: only \\n and \\t arrive."""
    bad = f"x{CONTROLS}y\n\tz"
    result = payload_with(
        msg=f"failed {bad}",
        full_url=f"https://shop.example/{bad}",
        method=f"GET{bad}",
        exception_type=f"Shop{bad}Error",
        request={"headers": {f"X-{bad}": bad, "X-Bytes": bad.encode("latin-1", "replace")}, "payload": {bad: [bad]}},
        response={"headers": f"X-Raw: {bad}\r\nContent-Type: text/plain\r\n", "body": bad.encode("utf-8")},
    )
    assert not any(has_controls(text) for text in strings(result))  # keys and values, at any depth
    assert "x[31m" in result["exception"] and "\ufffd" in result["exception"] and "\n\tz" in result["exception"]
    hooked = conform({"base_url": SHOP, "exception": bad, "request": {"headers": {"X": bad}, "payload": {bad: bad}}})
    assert not any(has_controls(text) for text in strings(hooked))  # what before_send returns, too


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


GZIPPED = {"order": {"id": 42, "note": "Shipped"}, "password": "pw-in-gzip"}


def test_gzip_request_bodies_are_decoded_never_mojibake() -> None:
    import gzip
    import zlib

    raw = json.dumps(GZIPPED).encode()
    prepared = requests.Request(
        "POST", URL, data=gzip.compress(raw), headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    ).prepare()
    got = payload_from_record(make_record(request=prepared), base_url=SHOP)["request"]["payload"]
    assert got == {"order": {"id": 42, "note": "Shipped"}, "password": "[Filtered]"}
    deflated = {"headers": {"Content-Type": "application/json", "Content-Encoding": "deflate"}, "body": zlib.compress(raw)}
    assert payload_with(response=deflated)["response"]["body"] == got
    no_header = {"headers": {"Content-Type": "application/json"}, "payload": gzip.compress(raw)}  # the magic bytes tell
    assert payload_with(request=no_header)["request"]["payload"] == got
    decoded = {"headers": {"Content-Type": "application/json", "Content-Encoding": "gzip"}, "body": raw}  # requests'
    assert payload_with(response=decoded)["response"]["body"] == got


def test_compressed_bodies_that_cannot_be_read_are_described() -> None:
    import gzip

    broken = gzip.compress(json.dumps(GZIPPED).encode())[:30]
    got = payload_with(request={"headers": {"Content-Type": "application/json"}, "payload": broken})
    assert got["request"]["payload"] == "<30 bytes of gzip-compressed application/json>"
    huge = gzip.compress(b"a" * (2 * 1024 * 1024))  # more than eight times max_body_bytes once decompressed
    got = payload_with(request={"headers": {"Content-Type": "text/plain", "Content-Encoding": "gzip"}, "payload": huge})
    assert got["request"]["payload"] == f"<{len(huge)} bytes of gzip-compressed text/plain>"
    brotli = {"headers": {"Content-Type": "application/json", "Content-Encoding": "br"}, "body": b"\x8b\x05\x80\xff" * 8}
    assert payload_with(response=brotli)["response"]["body"] == "<32 bytes of br-compressed application/json>"
    archive = {"headers": {"Content-Type": "application/gzip"}, "body": huge}
    assert payload_with(response=archive)["response"]["body"] == f"<{len(huge)} bytes of application/gzip>"


def test_a_value_of_control_characters_only_counts_as_absent() -> None:
    result = payload_with(base_url="\x00\x1b", method="\x07", exception_type="\x1b\r", full_url=b"\x00")
    assert result["base_url"] == SHOP
    assert "method" not in result and "exception_type" not in result and "full_url" not in result


def test_a_described_body_type_is_redacted_like_any_text() -> None:
    result = payload_with(request={"headers": {"Content-Type": "image/png; x=4111 1111 1111 1111"}, "payload": b"\x89PNG"})
    assert result["request"]["payload"] == "<4 bytes of image/png>"
    odd = payload_with(request={"headers": {"Content-Type": "4111 1111 1111 1111"}, "payload": b"\x00"})
    assert odd["request"]["payload"] == "<1 bytes of [Filtered]>"
