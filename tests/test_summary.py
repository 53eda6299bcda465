"""Storm signatures and summary texts: pure functions."""

from __future__ import annotations

import re
import time
from typing import Any, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sendcloud_logging._delivery.intake import Intake, Job
from sendcloud_logging._delivery.outbox import MemoryOutbox
from sendcloud_logging._delivery.spool import SpoolOutbox
from sendcloud_logging._delivery.stats import Stats
from sendcloud_logging._delivery.summary import Summariser, summary_text, with_summary
from sendcloud_logging._payload.fields import is_id, normalise_path
from sendcloud_logging._types import Drop


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


class Capture:
    """Stands for ``_capture.Capture``: the intake reads only ``created``; the pipeline reads the rest."""

    def __init__(self, created: float, text: Optional[str]) -> None:
        self.created = created
        self.text = text


class Pipeline:
    """Payload = the capture's text (None: no base_url); signature = the message template."""

    def __init__(self, *, every_record: bool = False) -> None:
        self.prepares_every_record = every_record
        self.prepared: list[Optional[str]] = []
        self.read_count = 0

    def read(self, capture: Capture) -> Capture:
        self.read_count += 1
        return capture

    def prepare(self, capture: Capture) -> tuple[int, dict[str, Any]]:
        self.prepared.append(capture.text)
        if capture.text is None:
            raise Drop("no_base_url", "the record has none")
        return 9, {"base_url": "https://shop.example", "exception": capture.text}

    def signature(self, capture: Capture, template: Any) -> tuple[Any, ...]:
        return (template,)


def intake_on(pipeline: Pipeline, outbox: Any = None, window: float = 60.0) -> tuple[Intake, Any, Stats, Clock]:
    clock = Clock()
    box = outbox if outbox is not None else MemoryOutbox(100_000, clock=clock)
    stats = Stats()
    return Intake(pipeline, box, stats, window=window, clock=clock), box, stats, clock


def sent(outbox: MemoryOutbox) -> list[tuple[str, int]]:
    """Release the held summaries and claim everything: (payload text, records it stands for)."""
    outbox.release_waiting()
    out = []
    while (entry := outbox.claim()) is not None:
        out.append((entry.latest_payload()["exception"], 1 + entry.more))
        outbox.done(entry)
    return out


def test_a_storm_becomes_one_log_and_one_summary_per_signature() -> None:
    pipeline = Pipeline()
    intake, outbox, stats, _ = intake_on(pipeline)
    templates = [f"problem {k} at %s" for k in range(7)]
    n = 10_000
    for i in range(n):
        intake.take(Job(Capture(1_700_000_000.0 + i / 1000, f"problem {i % 7} at {i}"), templates[i % 7]))
    intake.finish()
    logs = sent(outbox)
    assert len(logs) == 14
    assert sum(count for _, count in logs) == n
    assert stats.snapshot()["summarised"] == n - 14
    firsts = {text for text, count in logs if count == 1}
    assert firsts == {f"problem {k} at {k}" for k in range(7)}
    summaries = {text for text, count in logs if count > 1}
    newest = {max(i for i in range(n) if i % 7 == k) for k in range(7)}
    assert summaries == {f"problem {i % 7} at {i}" for i in newest}  # each carries its newest repeat
    # Fold before build: the firsts, the summaries' openers, and each summary's newest repeat when it is sent.
    assert len(pipeline.prepared) == 14 + 7


def test_a_repeat_is_only_counted_and_its_payload_built_once_the_summary_is_sent() -> None:
    pipeline = Pipeline()
    intake, outbox, stats, _ = intake_on(pipeline)
    for i in range(1000):
        assert intake.take(Job(Capture(float(i), f"down {i}"), "down %s")) is (i < 2)  # new entries wake the sender
    assert pipeline.prepared == ["down 0", "down 1"]  # the first, and the first repeat, which opens the summary
    assert pipeline.read_count == 1000  # one read per record, for its signature
    assert stats.snapshot()["summarised"] == 998
    assert sent(outbox) == [("down 0", 1), ("down 999", 999)]  # the count is whole, the text the newest's
    assert pipeline.prepared == ["down 0", "down 1", "down 999"]


def test_a_newest_repeat_that_cannot_be_built_leaves_the_summary_its_earlier_text() -> None:
    pipeline = Pipeline()
    intake, outbox, _, _ = intake_on(pipeline)
    intake.take(Job(Capture(0.0, "down 0"), "down %s"))
    intake.take(Job(Capture(1.0, "down 1"), "down %s"))
    intake.take(Job(Capture(2.0, None), "down %s"))  # its payload would raise Drop
    assert sent(outbox) == [("down 0", 1), ("down 1", 2)]


def test_a_before_send_hook_sees_every_record_even_behind() -> None:
    pipeline = Pipeline(every_record=True)
    intake, outbox, _, _ = intake_on(pipeline)
    for i in range(5):
        intake.take(Job(Capture(float(i), f"down {i}"), "down %s"), behind=True)
    assert pipeline.prepared == [f"down {i}" for i in range(5)]
    assert sent(outbox) == [("down 0", 1), ("down 4", 4)]


def test_a_closed_window_starts_over() -> None:
    intake, outbox, _, clock = intake_on(Pipeline(), window=60.0)
    intake.take(Job(Capture(0.0, "a 0"), "a"))
    intake.take(Job(Capture(1.0, "a 1"), "a"))
    assert outbox.next_ready() == 0.0
    clock.now = 60.0
    intake.take(Job(Capture(60.0, "a 60"), "a"))  # a new first, sent at once
    claimed = [entry.payload["exception"] for entry in iter(outbox.claim, None)]
    assert claimed == ["a 0", "a 60", "a 1"]  # the summary of the closed window is ready now too


def test_a_summary_in_flight_is_left_alone_and_the_next_repeat_starts_another() -> None:
    intake, outbox, _, _ = intake_on(Pipeline())
    for i in range(2):
        intake.take(Job(Capture(float(i), f"a {i}"), "a"))
    outbox.release_waiting()
    first, held = outbox.claim(), outbox.claim()  # the summary goes out before its window closed
    assert first is not None
    assert held is not None
    assert held.latest_payload()["exception"] == "a 1"
    intake.take(Job(Capture(2.0, "a 2"), "a"))
    assert held.more == 0  # not folded into while in flight
    assert outbox.claim() is None  # a new summary, held until the window closes
    outbox.release_waiting()
    again = outbox.claim()
    assert again is not None
    assert again.latest_payload()["exception"] == "a 2"


def test_a_record_that_cannot_become_a_log_is_counted_and_opens_nothing() -> None:
    pipeline = Pipeline()
    intake, outbox, stats, _ = intake_on(pipeline)
    intake.take(Job(Capture(0.0, None), "same"))
    intake.take(Job(Capture(1.0, None), "same"))
    assert stats.snapshot()["dropped"] == {"no_base_url": 2}
    assert len(outbox) == 0


def test_summaries_off_send_every_record(tmp_path: Any) -> None:
    spool = SpoolOutbox(str(tmp_path / "s.sqlite"), 10_000_000, 3600)
    intake, _, stats, _ = intake_on(Pipeline(), outbox=spool, window=0)
    for i in range(3):
        intake.take(Job(Capture(float(i), f"x {i}"), "x"))
    assert len(spool) == 3
    assert stats.snapshot()["spooled"] == 3
    spool.close()
