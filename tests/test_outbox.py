"""The two outboxes keep one contract: memory and the SQLite spool, shared by processes."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sendcloud_logging._delivery.outbox import Leftovers, MemoryOutbox, Outbox
from sendcloud_logging._delivery.spool import SpoolOutbox
from sendcloud_logging._types import Drop
from tests.fakes import FakeClock


@dataclass
class Box:
    outbox: Outbox
    clock: FakeClock


@pytest.fixture(params=["memory", "spool"])
def box(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Box]:
    """Each outbox on a fake clock: monotonic for memory; for the spool its wall and monotonic clocks at once."""
    outbox: Outbox
    if request.param == "memory":
        clock = FakeClock(50.0)
        outbox = MemoryOutbox(100, clock=clock)
    else:
        clock = FakeClock(time.time())
        outbox = SpoolOutbox(str(tmp_path / "spool.sqlite"), 10_000_000, 3600, clock=clock, monotonic=clock)
    yield Box(outbox, clock)
    outbox.close()


def payload(n: int) -> dict[str, Any]:
    return {"base_url": "https://shop.example", "exception": f"e{n}"}


def test_claims_in_order_and_done_removes(box: Box) -> None:
    outbox = box.outbox
    for i in range(3):
        outbox.add(1, payload(i), time.time())
    claimed = [outbox.claim() for _ in range(4)]
    assert [c.payload["exception"] if c else None for c in claimed] == ["e0", "e1", "e2", None]
    assert len(outbox) == 3
    for entry in claimed[:3]:
        assert entry is not None
        outbox.done(entry)
    assert len(outbox) == 0
    assert outbox.next_ready() is None


def test_retry_later_counts_attempts(box: Box) -> None:
    outbox = box.outbox
    outbox.add(1, payload(0), time.time())
    entry = outbox.claim()
    assert entry is not None
    outbox.retry(entry, 0.3)
    assert outbox.claim() is None
    assert outbox.next_ready() == pytest.approx(0.3)
    box.clock.advance(0.299)
    assert outbox.claim() is None
    box.clock.advance(0.001)
    again = outbox.claim()
    assert again is not None
    assert again.attempts == 1
    outbox.retry(again, 0, count_attempt=False)
    third = outbox.claim()
    assert third is not None
    assert third.attempts == 1


def test_summary_rows_wait_and_fold(box: Box) -> None:
    outbox = box.outbox
    t0 = time.time()
    ref = outbox.add(7, payload(1), t0, hold_for=60)
    assert outbox.unsettled() == 0  # an open summary is not waited for by flush()
    assert outbox.fold(ref, t0 + 1, payload(2))
    assert outbox.fold(ref, t0 + 2)  # counted only: the payload stays e2
    assert outbox.fold(ref, t0 + 3, payload(4))  # the newest occurrence it carries
    assert outbox.records() == 4
    assert outbox.claim() is None
    outbox.release_waiting()
    assert outbox.unsettled() == 1
    entry = outbox.claim()
    assert entry is not None
    assert entry.integration_id == 7
    assert entry.payload["exception"] == "e4"
    assert entry.more == 3
    assert entry.first == t0
    assert entry.last == t0 + 3
    assert not outbox.fold(ref, t0 + 4)  # in flight: a new summary row is needed


def test_a_held_summary_is_ready_when_its_window_closes(box: Box) -> None:
    outbox = box.outbox
    ref = outbox.add(7, payload(1), time.time(), hold_for=60)
    outbox.fold(ref, time.time(), payload(2))
    assert outbox.next_ready() == pytest.approx(60)
    box.clock.advance(59.9)
    assert outbox.claim() is None
    box.clock.advance(0.1)
    entry = outbox.claim()
    assert entry is not None
    assert entry.more == 1


def test_close_out_says_what_is_lost_and_what_stays(box: Box) -> None:
    outbox = box.outbox
    ref = outbox.add(1, payload(0), time.time(), hold_for=60)
    outbox.fold(ref, time.time())
    outbox.add(1, payload(1), time.time())
    assert outbox.claim() is not None  # in flight at close
    if isinstance(outbox, MemoryOutbox):
        assert outbox.close_out() == Leftovers(lost=3, kept=0, folded=1)  # the summary stands for two
    else:
        assert outbox.close_out() == Leftovers(lost=0, kept=2)
        assert outbox.claim() is not None  # the claim was given back for the next process


def test_memory_outbox_is_bounded_and_keeps_monotonic_time() -> None:
    clock = FakeClock(5.0)
    box = MemoryOutbox(2, clock=clock)
    box.add(1, payload(0), time.time())
    assert box.has_room()
    box.add(1, payload(1), time.time(), hold_for=10)
    assert not box.has_room()
    assert box.full()
    assert box.next_ready() == 0.0
    entry = box.claim()
    assert entry is not None
    box.done(entry)
    assert box.next_ready() == 10.0  # by its own clock, whatever the wall clock says
    assert box.counts_as is None
    assert box.idle_poll is None


def test_spool_caps_size_and_age(tmp_path: Path) -> None:
    spool = SpoolOutbox(str(tmp_path / "s.sqlite"), 64 * 1024, max_age=60)
    big = {"base_url": "https://shop.example", "exception": "x" * 4000}
    while not spool.full():
        spool.add(1, big, time.time())
    assert 5 <= len(spool) < 40  # about 64 KiB of 4 KB rows, counted in SQLite pages
    assert spool.has_room()  # the intake never waits for a spool: what is over its size is dropped
    with pytest.raises(Drop) as full:
        spool.add(1, big, time.time())
    assert full.value.reason == "spool_full"
    clock = FakeClock(time.time())
    old = SpoolOutbox(str(tmp_path / "old.sqlite"), 10_000_000, max_age=60, clock=clock, monotonic=clock)
    old.add(1, payload(0), clock() - 120)
    old.add(1, payload(1), clock())
    entry = old.claim()
    assert entry is not None
    assert entry.payload["exception"] == "e1"
    assert old.expired() == 1
    assert old.expired() == 0
    clock.advance(61)
    old.retry(entry, 0)
    assert old.claim() is None  # e1 is now older than max_age as well
    assert old.expired() == 1
    assert (old.counts_as, old.idle_poll) == ("spooled", 1.0)
    spool.close()
    old.close()


def _claim_all(path: str, out: Any) -> None:
    spool = SpoolOutbox(path, 10_000_000, 3600)
    got = []
    while True:
        entry = spool.claim()
        if entry is None:
            break
        got.append(entry.payload["exception"])
        spool.done(entry)
    out.put(got)
    spool.close()


def test_processes_sharing_a_spool_never_take_the_same_row(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    spool = SpoolOutbox(path, 10_000_000, 3600)
    for i in range(300):
        spool.add(1, payload(i), time.time())
    spool.close()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(path, out)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    everything = [e for got in results for e in got]
    assert sorted(everything) == sorted(f"e{i}" for i in range(300))
    assert len(everything) == len(set(everything))


def test_a_dead_processes_claim_is_taken_over(tmp_path: Path) -> None:
    path = str(tmp_path / "dead.sqlite")
    spool = SpoolOutbox(path, 10_000_000, 3600)
    spool.add(1, payload(0), time.time())
    # Another process claims the row and dies without answering.
    script = f"from sendcloud_logging._delivery.spool import SpoolOutbox; assert SpoolOutbox({path!r}, 10**7, 3600).claim()"
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    entry = spool.claim()
    assert entry is not None
    assert entry.payload["exception"] == "e0"
    spool.close()
