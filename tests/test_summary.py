"""Storm signatures and summary texts: pure functions."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sendcloud_logging._delivery.summary import Summariser, is_id, normalise_path, summary_text, with_summary


@pytest.mark.parametrize(
    "url,expected",
    [
        ("https://shop.example/api/orders/123?page=2", "https://shop.example/api/orders/:id"),
        ("https://shop.example/api/orders/9f1c2d3e-1111-4a2b-8c3d-0123456789ab/notes",
         "https://shop.example/api/orders/:id/notes"),
        ("https://shop.example/files/deadbeef12345678", "https://shop.example/files/:id"),
        ("https://shop.example/t/AbCdEfGh1234567890xyz/ok", "https://shop.example/t/:id/ok"),
        ("https://user:pw@shop.example:8443/api/orders", "https://shop.example:8443/api/orders"),
        ("https://shop.example/api/products", "https://shop.example/api/products"),
        ("https://shop.example/api/facade", "https://shop.example/api/facade"),  # hex letters, no digit
        (None, ""),
        ("http://[::1", ""),
    ],
)
def test_normalise_path(url: str | None, expected: str) -> None:
    assert normalise_path(url) == expected


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**12))
def test_numeric_ids_share_a_path(a: int, b: int) -> None:
    assert normalise_path(f"https://s.example/o/{a}/x?q={b}") == normalise_path(f"https://s.example/o/{b}/x")


#: The id rules as four plain patterns; ``is_id`` takes short ways for speed and must agree with them.
REFERENCE = [
    re.compile(r"^[-+]?\d+(?:[.,]\d+)?$"),
    re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"),
    re.compile(r"^(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}$"),
    re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-.~=]{16,}$"),
]


@given(st.text(alphabet=st.sampled_from("0123456789abcdefXYZ-_.~=+,\n²٣é"), max_size=40))
def test_the_id_rule_agrees_with_its_reference_patterns(segment: str) -> None:
    assert is_id(segment) == any(p.match(segment) for p in REFERENCE)


def test_summary_text_says_how_many_and_when() -> None:
    first = time.mktime((2026, 11, 28, 10, 2, 11, 0, 0, -1))
    text = summary_text("Shop down", 57, first, first + 60)
    assert text == "Shop down (+57 more like this between 10:02:11 and 10:03:11)"
    assert summary_text(None, 1, first, first).startswith("(+1 more")


def test_with_summary_copies() -> None:
    payload = {"base_url": "https://s.example", "exception": "x"}
    assert with_summary(payload, 0, 0, 0) is payload
    out = with_summary(payload, 2, 0, 0)
    assert out is not payload
    assert payload["exception"] == "x"
    assert "(+2 more like this" in out["exception"]


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_summariser_windows() -> None:
    clock = Clock()
    s = Summariser(60, clock=clock)
    assert s.offer(("a",)) is None  # first: send now
    window = s.offer(("a",))
    assert window is not None  # repeat within the window
    assert s.offer(("b",)) is None  # another signature
    clock.now = 60.0
    assert s.offer(("a",)) is None  # the window closed: a new first
    assert Summariser(0).offer(("a",)) is None
    assert Summariser(0).offer(("a",)) is None


def test_summariser_is_bounded() -> None:
    clock = Clock()
    s = Summariser(60, max_windows=2, clock=clock)
    s.offer(("a",))
    s.offer(("b",))
    assert s.offer(("c",)) is None
    assert s.offer(("c",)) is None  # not tracked: passes through
    assert len(s.open_windows()) == 2
    clock.now = 61
    s.offer(("d",))
    assert len(s.open_windows()) == 1  # expired windows made room
