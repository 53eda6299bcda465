"""The two outboxes keep one contract: memory and the SQLite spool, shared by processes."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sendcloud_logging._delivery.outbox import MemoryOutbox, Outbox
from sendcloud_logging._delivery.spool import SpoolOutbox


@pytest.fixture(params=["memory", "spool"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outbox]:
    box: Outbox
    if request.param == "memory":
        box = MemoryOutbox(100)
    else:
        box = SpoolOutbox(str(tmp_path / "spool.sqlite"), 10_000_000, 3600)
    yield box
    box.close()


def payload(n: int) -> dict[str, Any]:
    return {"base_url": "https://shop.example", "exception": f"e{n}"}


def test_claims_in_order_and_done_removes(outbox: Outbox) -> None:
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


def test_retry_later_counts_attempts(outbox: Outbox) -> None:
    outbox.add(1, payload(0), time.time())
    entry = outbox.claim()
    assert entry is not None
    outbox.retry(entry, 0.3)
    assert outbox.claim() is None
    wait = outbox.next_ready()
    assert wait is not None
    assert 0.0 < wait <= 0.3
    time.sleep(wait + 0.01)
    again = outbox.claim()
    assert again is not None
    assert again.attempts == 1
    outbox.retry(again, 0, count_attempt=False)
    third = outbox.claim()
    assert third is not None
    assert third.attempts == 1


def test_summary_rows_wait_and_fold(outbox: Outbox) -> None:
    t0 = time.time()
    ref = outbox.add(7, payload(1), t0, not_before=t0 + 60)
    assert outbox.unsettled() == 0  # an open summary is not waited for by flush()
    assert outbox.fold(ref, payload(2), t0 + 1)
    assert outbox.fold(ref, payload(3), t0 + 2, extra=4)
    assert outbox.claim() is None
    outbox.release_waiting()
    assert outbox.unsettled() == 1
    entry = outbox.claim()
    assert entry is not None
    assert entry.integration_id == 7
    assert entry.payload["exception"] == "e3"
    assert entry.more == 6  # e1 and e2 folded, plus 4 merged repeats
    assert entry.first == t0
    assert entry.last == t0 + 2
    assert not outbox.fold(ref, payload(4), t0 + 3)  # in flight: a new summary row is needed


def test_memory_outbox_is_bounded() -> None:
    box = MemoryOutbox(2)
    box.add(1, payload(0), time.time())
    assert not box.full()
    box.add(1, payload(1), time.time())
    assert box.full()


def test_spool_caps_size_and_age(tmp_path: Path) -> None:
    spool = SpoolOutbox(str(tmp_path / "s.sqlite"), 64 * 1024, max_age=60)
    big = {"base_url": "https://shop.example", "exception": "x" * 4000}
    while not spool.full():
        spool.add(1, big, time.time())
    assert 5 <= len(spool) < 40  # about 64 KiB of 4 KB rows, counted in SQLite pages
    old = SpoolOutbox(str(tmp_path / "old.sqlite"), 10_000_000, max_age=60)
    old.add(1, payload(0), time.time() - 120)
    old.add(1, payload(1), time.time())
    entry = old.claim()
    assert entry is not None
    assert entry.payload["exception"] == "e1"
    assert old.expired() == 1
    assert old.expired() == 0
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
