"""Memory has one bound in bytes over the caller's queue and the outbox; far oversized bodies are cut at capture."""

from __future__ import annotations

import gzip
import random
import threading
from typing import Any, ClassVar

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from sendcloud_logging import payload_from_record
from sendcloud_logging._capture import CutBody, capture_record
from sendcloud_logging._capture.adapters import requests as requests_adapter
from sendcloud_logging._capture.parts import cut_body
from sendcloud_logging._delivery.budget import MemoryBudget, payload_size
from sendcloud_logging._delivery.intake import Intake
from sendcloud_logging._delivery.outbox import MemoryOutbox
from sendcloud_logging._delivery.stages import Job
from sendcloud_logging._delivery.stats import Stats
from sendcloud_logging._payload import build_payload
from sendcloud_logging._types import Drop
from sendcloud_logging.inbox import Inbox

from .conftest import SHOP, AppLogger, make_record, make_response

MAX_BODY = 64 * 1024


@pytest.mark.parametrize("body", [b'{"a": "' + b"x" * 5_000_000 + b'"}', "<p>" + "y" * 5_000_000, b"\x00\xff" * 3_000_000,
                                  gzip.compress(random.Random(7).randbytes(700_000))],
                         ids=["json-5MB", "html-5MB", "binary-6MB", "gzip-700KB"])  # named: a value in an id differs per worker
def test_a_body_far_beyond_the_bound_keeps_only_its_head_and_makes_the_same_log(body: Any) -> None:
    content = "text/html" if isinstance(body, str) else "application/json"
    response = make_response(500, body if isinstance(body, bytes) else body.encode(), {"Content-Type": content})
    request = {"method": "POST", "url": "https://shop.example/api/x", "payload": body}
    record = make_record("boom", request=request, response=response)
    whole = capture_record(record)
    cut = capture_record(record, max_body_bytes=MAX_BODY)
    assert cut.request is not None and cut.response is not None
    assert isinstance(cut.request.body, CutBody) and isinstance(cut.response.body, CutBody)
    assert len(cut.request.body.head) == len(cut.response.body.head) == MAX_BODY
    assert cut.response.body.total == len(response.content)
    assert 2 * MAX_BODY < cut.held < 3 * MAX_BODY < 2 * len(body) < whole.held
    defaults = {"base_url": SHOP}
    assert build_payload(cut.snapshot(), defaults) == build_payload(whole.snapshot(), defaults)


def test_a_body_within_eight_times_the_bound_is_kept_whole() -> None:
    body = b"z" * (8 * MAX_BODY)
    cut = capture_record(make_record("ok", request={"payload": body}), max_body_bytes=MAX_BODY)
    assert cut.request is not None and cut.request.body is body


def test_the_outbox_charges_its_entries_and_gives_them_back() -> None:
    budget = MemoryBudget(10_000)
    outbox = MemoryOutbox(100, budget=budget)
    payload = {"base_url": SHOP, "exception": "e" * 4000}
    outbox.add(1, payload, 0.0)
    outbox.add(1, payload, 0.0)
    assert budget.used == 2 * payload_size(payload)
    with pytest.raises(Drop) as dropped:
        outbox.add(1, payload, 0.0)  # the third does not fit
    assert dropped.value.reason == "memory_full"
    for _ in range(2):
        entry = outbox.claim()
        assert entry is not None
        outbox.done(entry)
    assert budget.used == 0


class Latest:
    def __init__(self, text: str, size: int) -> None:
        self.text, self.size = text, size

    def __call__(self) -> dict[str, Any]:
        return {"base_url": SHOP, "exception": self.text}


def test_a_latest_repeat_that_does_not_fit_is_not_kept_but_counted() -> None:
    budget = MemoryBudget(10_000)
    outbox = MemoryOutbox(100, budget=budget)
    ref = outbox.add(1, {"base_url": SHOP, "exception": "first"}, 0.0, hold_for=60)
    assert outbox.fold(ref, 1.0, latest=Latest("second", 3000))
    assert outbox.fold(ref, 2.0, latest=Latest("too big", 20_000))  # counted, not kept
    assert outbox.fold(ref, 3.0, latest=Latest("fourth", 3000))  # replaces "second": its charge is given back
    charged = budget.used
    outbox.release_waiting()
    entry = outbox.claim()
    assert entry is not None and entry.more == 3
    assert entry.latest_payload()["exception"] == "fourth"
    outbox.done(entry)
    assert charged == payload_size({"base_url": SHOP, "exception": "first"}) + 3000
    assert budget.used == 0


def test_records_beyond_max_memory_bytes_are_dropped_as_memory_full_and_room_comes_back(
    app_logger: AppLogger, inbox: Inbox
) -> None:
    entered, release = threading.Event(), threading.Event()

    def hold(payload: dict[str, Any], record: Any) -> dict[str, Any]:
        entered.set()
        release.wait(10)  # the intake takes no more records meanwhile: they wait in the caller's queue
        return payload

    log, handler = app_logger(max_memory_bytes=1024 * 1024, before_send=hold, summary_window=0,
                              rate_limit_per_minute=None)
    body = b"b" * 300_000  # within 8 x max_body_bytes: kept whole while it waits
    log.error("first", extra={"request": {"payload": body}})
    assert entered.wait(10)
    for i in range(20):
        log.error(f"large {i}", extra={"request": {"payload": body}})  # distinct: nothing to summarise
    stats = handler.stats()
    assert 10 <= stats["dropped"].get("memory_full", 0) <= 19  # about 3 fit into 1 MiB beside the held one
    assert "queue_full" not in stats["dropped"]
    release.set()
    assert handler.flush(10)
    for i in range(3):
        log.error(f"again {i}", extra={"request": {"payload": body}})  # the bytes were given back
        assert handler.flush(10)
    stats = handler.stats()
    assert stats["queued"] == 24 == stats["sent"] + stats["dropped_total"]
    assert stats["sent"] == inbox.count() == 24 - stats["dropped"]["memory_full"]


def _accounted(stats: dict[str, Any]) -> int:
    return int(stats["sent"] + stats["summarised"] + stats["dropped_total"])


def test_a_summary_dropped_at_shutdown_counts_its_records_once(app_logger: AppLogger, inbox: Inbox) -> None:
    inbox.fail_next(10_000, status=503)  # the API is down for the whole test
    log, handler = app_logger(shutdown_timeout=0.3, max_backoff=0.05)
    for i in range(20):
        log.error("same problem %d", i)
    handler.close()
    stats = handler.stats()
    assert stats["queued"] == 20 == _accounted(stats), stats
    assert stats["dropped"] == {"shutdown": 20} and stats["summarised"] == stats["sent"] == 0  # each counted once


def test_close_racing_logging_threads_counts_every_record_once(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger(shutdown_timeout=0.2, queue_size=50, summary_window=0, rate_limit_per_minute=None)
    started, stop = threading.Barrier(5), threading.Event()
    logged = [0] * 4

    def flood(k: int) -> None:
        started.wait()
        while not stop.is_set() and logged[k] < 20_000:
            log.error(f"thread {k} record {logged[k]}")
            logged[k] += 1

    threads = [threading.Thread(target=flood, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    started.wait()
    while sum(logged) < 200:
        threading.Event().wait(0.001)
    handler.close()  # while the four threads still log
    stop.set()
    for thread in threads:
        thread.join(10)
    stats = handler.stats()
    assert stats["dropped"].get("closed", 0) > 0  # the race was run: some records came after close()
    assert stats["queued"] == sum(logged) == _accounted(stats), stats


def test_fifty_records_with_4_mb_bodies_wait_as_heads_and_are_all_delivered(
    app_logger: AppLogger, inbox: Inbox
) -> None:
    entered, release = threading.Event(), threading.Event()

    def hold(payload: dict[str, Any], record: Any) -> dict[str, Any]:
        entered.set()
        release.wait(10)  # every record waits in the caller's queue meanwhile
        return payload

    log, handler = app_logger(before_send=hold, summary_window=0, rate_limit_per_minute=None)
    body = b"q" * 4_000_000
    log.error("first", extra={"request": {"payload": body}})
    assert entered.wait(10)
    for i in range(50):
        log.error(f"large {i}", extra={"request": {"payload": body}})  # 200 MB whole; 3 MiB as heads
    assert handler.stats()["dropped"] == {}  # whole, 16 of them would fill 64 MiB: the rest memory_full
    release.set()
    assert handler.flush(20)
    logs = inbox.logs()
    assert len(logs) == 51
    whole = payload_from_record(make_record("x", request={"payload": body}), base_url=SHOP)["request"]["payload"]
    assert whole.endswith(" bytes cut]")
    assert all(log_["request"]["payload"] == whole for log_ in logs)  # the same log as from the whole body


def test_a_record_still_in_the_hook_when_close_gives_up_counts_once(app_logger: AppLogger, inbox: Inbox) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(payload: dict[str, Any], record: Any) -> None:
        entered.set()
        release.wait(10)  # past shutdown_timeout: close() counts it as shutdown and goes on
        return None  # and then the hook drops it

    log, handler = app_logger(before_send=slow, shutdown_timeout=0.2)
    log.error("slow")
    assert entered.wait(10)
    handler.close()
    release.set()
    handler._worker._threads[0].join(10)  # the intake thread ends once the hook returned
    stats = handler.stats()
    assert stats["queued"] == 1 == _accounted(stats), stats


def test_large_values_of_a_structured_body_count_toward_the_bound() -> None:
    big = {"note": "n" * 4_000_000, "id": 7}
    held = capture_record(make_record("x", request={"payload": big}), max_body_bytes=MAX_BODY).held
    assert held > 4_000_000  # referenced, not copied, until the worker cuts it: it waits whole
    many = capture_record(make_record("x", request={"payload": list(range(100_000))}), max_body_bytes=MAX_BODY)
    assert 100_000 * 28 < many.held < 100_000 * 100  # estimated from a sample, not walked


def _prepared(body: Any, headers: dict[str, str]) -> requests.PreparedRequest:
    prepared = requests.Request("POST", "https://shop.example/api/orders", headers=headers).prepare()
    prepared.body = body
    return prepared


@given(
    request_body=st.one_of(st.none(), st.binary(max_size=300), st.text(max_size=300)),
    response_body=st.binary(max_size=300),
    headers=st.dictionaries(st.sampled_from(["X-A", "X-B", "Accept", "Cookie"]), st.text("abc", max_size=5)),
    max_body_bytes=st.sampled_from([0, 8, 1024]),
)
def test_requests_own_objects_are_captured_as_their_adapter_and_cut_body_make_them(
    request_body: Any, response_body: bytes, headers: dict[str, str], max_body_bytes: int
) -> None:
    """capture_record describes and sizes requests' objects in one step on its hot path: what it makes of them
    is what the general way makes (the adapter, then ``cut_body``), cut bodies included."""
    prepared = _prepared(request_body, headers)
    response = make_response(502, response_body, headers)
    got = capture_record(make_record("down", request=prepared, response=response), "down",
                         max_body_bytes=max_body_bytes)
    request, request_size = cut_body(requests_adapter.request_parts(prepared), max_body_bytes)  # type: ignore[arg-type]
    expected, response_size = cut_body(requests_adapter.response_parts(response), max_body_bytes)  # type: ignore[arg-type]
    assert (got.request, got.response) == (request, expected)
    bare = capture_record(make_record("down"), "down", max_body_bytes=max_body_bytes)
    assert got.held == bare.held + request_size + response_size


def test_a_capture_that_fits_its_queue_slot_is_queued_without_a_charge() -> None:
    budget = MemoryBudget(160_000, queue_slots=10)  # a sixteenth kept for the queue: 1,000 bytes a slot
    assert budget.slot_bytes == 1_000
    intake = Intake(Pipeline(), MemoryOutbox(100, budget=budget), Stats(), window=0, budget=budget)
    small, large = Job(Sized(1_000), "small"), Job(Sized(100_000), "large")
    assert intake.admit(small) and budget.used == 0  # no lock, no charge: its slot holds it
    assert intake.admit(large) and budget.used == 100_000
    assert not intake.admit(Job(Sized(60_001), "over"))  # the rest of the bound is 150,000 bytes
    intake.take(small)
    intake.take(large)
    assert budget.used == 2 * payload_size(Pipeline.PAYLOAD)  # what admit charged is given back, no more


class Sized:
    """A capture of ``held`` bytes, for the intake: the pipeline below reads nothing else."""

    def __init__(self, held: int) -> None:
        self.held, self.created = held, 0.0


class Pipeline:
    PAYLOAD: ClassVar[dict[str, Any]] = {"base_url": SHOP, "exception": "boom"}
    prepares_every_record = False

    def read(self, capture: Any) -> Any:
        return capture

    def prepare(self, read: Any) -> tuple[int, Any]:
        return 1, dict(self.PAYLOAD)

    def signature(self, read: Any, template: Any) -> Any:
        return (template,)
