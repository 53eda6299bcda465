"""Size bounds: texts cut on UTF-8 boundaries with a marker, bodies and the whole POST body capped."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sendcloud_logging._delivery.summary import with_summary
from sendcloud_logging._payload import PayloadPolicy
from sendcloud_logging._payload.limits import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_PAYLOAD_BYTES,
    MAX_HEADER_VALUE_BYTES,
    MAX_HEADERS,
    SUMMARY_ROOM,
    clip,
    fit_payload,
    json_size,
    shrink,
    utf8_len,
)
from sendcloud_logging.inbox import Inbox

from .conftest import SHOP, AppLogger, payload_with

MARKER = re.compile(r" …\[(\d+) bytes cut\]$")


def cut_of(text: str) -> tuple[str, int]:
    """The kept head of a clipped text and the number of bytes its marker says were cut."""
    match = MARKER.search(text)
    assert match, text[-60:]
    return text[: match.start()], int(match.group(1))


@pytest.mark.parametrize("char", ["a", "é", "€", "😀"])  # 1, 2, 3 and 4 bytes of UTF-8
def test_clip_cuts_on_a_character_boundary_and_counts_what_it_cut(char: str) -> None:
    text = char * 1000
    out = clip(text, 301)
    assert utf8_len(out) <= 301
    kept, cut = cut_of(out)
    assert set(kept) == {char}
    assert utf8_len(kept) + cut == utf8_len(text)
    assert utf8_len(out) > 301 - 4 - len(" …[0000 bytes cut]".encode())  # nothing wasted but a partial character


def test_clip_keeps_what_fits() -> None:
    assert clip("é" * 100, 200) == "é" * 100
    assert clip("", 0) == ""


def test_a_text_cut_twice_has_one_marker_counting_both_cuts() -> None:
    once = clip("x" * 10_000, 5_000)
    twice = clip(once, 1_000)
    kept, cut = cut_of(twice)
    assert "…" not in kept and len(kept) + cut == 10_000


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers(min_value=40, max_value=400), st.integers(min_value=0, max_value=10**6))
def test_clip_property(text: str, max_bytes: int, missing: int) -> None:
    out = clip(text, max_bytes, missing)
    assert utf8_len(out) <= max_bytes
    out.encode("utf-8", "surrogatepass")
    if utf8_len(text) <= max_bytes and not missing:
        assert out == text
    else:
        kept, cut = cut_of(out)
        assert text.startswith(kept)
        assert utf8_len(kept) + cut == utf8_len(text) + missing


def test_shrink_cuts_the_largest_strings_first_and_keeps_the_shape() -> None:
    value = {"big": "x" * 50_000, "medium": "y" * 5_000, "small": "z" * 10, "n": [1, 2, 3]}
    out = shrink(value, 20_000)
    assert json_size(out) <= 20_000
    assert out["small"] == "z" * 10 and out["n"] == [1, 2, 3] and out["medium"] == "y" * 5_000
    kept, cut = cut_of(out["big"])
    assert utf8_len(kept) + cut == 50_000


def test_shrink_gives_cut_json_text_when_the_items_are_too_many() -> None:
    value = {str(i): i for i in range(10_000)}
    out = shrink(value, 5_000)
    assert isinstance(out, str) and out.startswith('{"0":0,"1":1')
    assert json_size(out) <= 5_000
    assert shrink(value, 5_000, as_text=False) is None


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.text(max_size=300) | st.integers() | st.none(),
        lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5),
        max_leaves=30,
    ),
    st.integers(min_value=60, max_value=2_000),
)
def test_shrink_property(value: Any, max_bytes: int) -> None:
    out = shrink(value, max_bytes)
    if isinstance(value, (dict, list, str)):
        assert json_size(out) <= max_bytes or out is None


def test_fit_payload_trims_the_largest_part_first() -> None:
    body = {
        "base_url": SHOP,
        "exception": "e" * 3_000,
        "request": {"headers": {"A": "a"}, "payload": "p" * 20_000},
        "response": {"headers": {"B": "b"}, "body": "b" * 200_000},
    }
    out = fit_payload(body, 100_000)
    assert json_size(out) <= 100_000 - SUMMARY_ROOM
    assert out["exception"] == body["exception"] and out["request"] == body["request"]
    kept, cut = cut_of(out["response"]["body"])
    assert len(kept) > 70_000 and len(kept) + cut == 200_000


def test_fit_payload_cuts_the_two_largest_to_the_same_size() -> None:
    body = {"base_url": SHOP, "request": {"payload": "p" * 90_000}, "response": {"body": "b" * 100_000}}
    out = fit_payload(body, 60_000)
    assert json_size(out) <= 60_000 - SUMMARY_ROOM
    request, response = json_size(out["request"]["payload"]), json_size(out["response"]["body"])
    assert abs(request - response) < 100


def test_a_storm_summary_still_fits_under_the_cap() -> None:
    body = fit_payload({"base_url": SHOP, "exception": "x" * 300_000}, 20_000)
    summarised = with_summary(body, 123_456_789, 1_700_000_000.0, 1_700_003_600.0)
    assert json_size(summarised) <= 20_000


def test_bodies_are_capped_at_max_body_bytes() -> None:
    policy = PayloadPolicy(max_body_bytes=2_048)
    result = payload_with(policy, request={"payload": "€" * 5_000}, response={"body": b"<html>" + b"x" * 100_000})
    for text in (result["request"]["payload"], result["response"]["body"]):
        assert utf8_len(text) <= 2_048
    kept, cut = cut_of(result["request"]["payload"])
    assert utf8_len(kept) + cut == 15_000
    kept, cut = cut_of(result["response"]["body"])
    assert kept.startswith("<html>xxx") and cut == 100_006 - utf8_len(kept)


def test_the_default_body_cap_is_64_kib() -> None:
    result = payload_with(response={"body": "x" * 1_000_000}, request={"payload": {"text": "y" * 100_000, "n": 1}})
    assert DEFAULT_MAX_BODY_BYTES == 64 * 1024
    assert utf8_len(result["response"]["body"]) <= DEFAULT_MAX_BODY_BYTES
    assert json_size(result["request"]["payload"]) <= DEFAULT_MAX_BODY_BYTES
    assert result["request"]["payload"]["n"] == 1  # an object keeps its shape: its largest string was cut
    assert cut_of(result["request"]["payload"]["text"])[1] > 30_000


def test_the_whole_post_body_is_capped() -> None:
    policy = PayloadPolicy(max_body_bytes=64 * 1024, max_payload_bytes=32 * 1024)
    headers = {f"X-{i}": "h" * 1_000 for i in range(30)}
    result = payload_with(
        policy,
        msg="m" * 100_000,
        request={"headers": headers, "payload": "p" * 100_000},
        response={"headers": headers, "body": "b" * 100_000},
        full_url=SHOP + "/" + "u" * 10_000,
    )
    assert json_size(result) <= 32 * 1024 - SUMMARY_ROOM
    assert DEFAULT_MAX_PAYLOAD_BYTES == 256 * 1024


def test_binary_bodies_are_described() -> None:
    gif = b"GIF89a\x01\x00\x01\x00"  # decodes as text, but the content type says it is an image
    assert payload_with(response={"headers": {"Content-Type": "image/gif"}, "body": gif})["response"]["body"] == (
        f"<{len(gif)} bytes of image/gif>"
    )
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    assert payload_with(response={"body": png})["response"]["body"] == f"<{len(png)} bytes of binary data>"
    assert payload_with(request={"headers": {"Content-Type": "application/pdf"}, "payload": b"%PDF-1.7 " * 500})[
        "request"
    ]["payload"] == "<4500 bytes of application/pdf>"
    big = b"\x00\x01" * 1_000_000  # not parsed, not decoded beyond its head
    assert payload_with(response={"body": big})["response"]["body"] == "<2000000 bytes of binary data>"
    assert payload_with(request={"payload": {"blob": b"\x00" * 5_000}})["request"]["payload"] == {"blob": "<5000 bytes>"}


def test_header_values_and_counts_are_capped() -> None:
    headers = {f"X-{i}": str(i) for i in range(100)}
    headers["X-0"] = "v" * 10_000
    result = payload_with(request={"headers": headers, "payload": "x"})["request"]["headers"]
    assert len(result) == MAX_HEADERS + 1 and result["…"] == f"{100 - MAX_HEADERS} more headers cut"
    assert utf8_len(result["X-0"]) <= MAX_HEADER_VALUE_BYTES and cut_of(result["X-0"])


def test_bounds_through_the_inbox(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger(max_body_bytes="4096", max_payload_bytes=20_000)  # strings work too (fileConfig)
    log.error(
        "Upload failed",
        extra={
            "request": {"headers": {"Content-Type": "application/json"}, "payload": json.dumps({"data": "d" * 50_000})},
            "response": {"headers": {"Content-Type": "text/html"}, "body": "<p>" + "é" * 30_000},
        },
    )
    assert handler.flush(10)
    [post] = inbox.posts
    assert json_size(post["body"]) <= 20_000
    [got] = inbox.logs()
    assert utf8_len(got["response"]["body"]) <= 4096 and cut_of(got["response"]["body"])
    request_payload = got["request"]["payload"]  # a JSON text too long to parse: cut as text
    assert request_payload.startswith('{"data": "ddd') and utf8_len(request_payload) <= 4096
    kept, cut = cut_of(request_payload)
    assert utf8_len(kept) + cut == 50_012
    assert handler.stats()["sent"] == 1
