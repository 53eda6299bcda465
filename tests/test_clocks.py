"""Clocks: retries, 429 pauses, summaries and spool schedules run on monotonic time.

A wall clock set back an hour holds no retry and no summary; one set forward eight days expires no fresh log.
The spool keeps wall-clock times for other processes and judges its own rows by the monotonic clock; the
seams are the spool's ``clock``/``monotonic`` and, for a running handler, ``time.time`` itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest
import requests

from sendcloud_logging import SendcloudClient, SendcloudHandler
from sendcloud_logging._delivery.outbox import MemoryOutbox, Outbox
from sendcloud_logging._delivery.sender import Sender
from sendcloud_logging._delivery.spool import SpoolOutbox
from sendcloud_logging._delivery.stats import Stats
from sendcloud_logging.inbox import Inbox
from tests.conftest import INTEGRATION_ID, PUBLIC_KEY, SECRET_KEY, SHOP, delivery_policy
from tests.fakes import FakeClock, FakeTransport, api_error, created

HOUR = 3600.0
DAYS_8 = 8 * 24 * HOUR


def payload(i: int = 0) -> dict[str, Any]:
    return {"base_url": SHOP, "exception": f"e{i}"}


@pytest.fixture
def clocks() -> tuple[FakeClock, FakeClock]:
    """(wall, monotonic)"""
    return FakeClock(1_700_000_000.0), FakeClock(500.0)


@pytest.fixture
def spool(tmp_path: Path, clocks: tuple[FakeClock, FakeClock]) -> Iterator[SpoolOutbox]:
    wall, mono = clocks
    box = SpoolOutbox(str(tmp_path / "s.sqlite"), 10_000_000, 7 * 24 * HOUR, clock=wall, monotonic=mono)
    yield box
    box.close()


@pytest.mark.parametrize("step", [-HOUR, -DAYS_8, +HOUR, +DAYS_8])
def test_a_retry_waits_its_delay_whatever_the_wall_clock_does(
    step: float, spool: SpoolOutbox, clocks: tuple[FakeClock, FakeClock]
) -> None:
    wall, mono = clocks
    spool.add(1, payload(), wall())
    entry = spool.claim()
    assert entry is not None
    spool.retry(entry, 5.0)
    wall.advance(step)
    mono.advance(4.0)
    assert spool.claim() is None  # not yet: by the monotonic clock
    assert spool.next_ready() == pytest.approx(1.0)
    mono.advance(1.0)
    again = spool.claim()
    assert again is not None and again.attempts == 1
    assert spool.expired() == 0


def test_a_held_summary_is_released_by_the_monotonic_clock(spool: SpoolOutbox, clocks: tuple[FakeClock, FakeClock]) -> None:
    wall, mono = clocks
    spool.add(1, payload(), wall(), hold_for=60.0)
    wall.advance(-HOUR)
    assert spool.claim() is None
    mono.advance(60.0)
    assert spool.claim() is not None


def test_a_wall_clock_eight_days_ahead_expires_no_fresh_log(spool: SpoolOutbox, clocks: tuple[FakeClock, FakeClock]) -> None:
    wall, mono = clocks
    for i in range(3):
        spool.add(1, payload(i), wall())
    wall.advance(DAYS_8)
    mono.advance(1.0)
    claimed = [spool.claim() for _ in range(3)]
    assert all(e is not None for e in claimed)
    assert spool.expired() == 0


def test_the_spools_own_logs_still_expire_by_their_real_age(
    spool: SpoolOutbox, clocks: tuple[FakeClock, FakeClock]
) -> None:
    wall, mono = clocks
    spool.add(1, payload(0), wall() - 8 * 24 * HOUR)  # a record already older than spool_max_age
    spool.add(1, payload(1), wall())
    wall.advance(-DAYS_8)  # a wall clock set back does not make the old one young
    entry = spool.claim()
    assert entry is not None and entry.payload["exception"] == "e1"
    assert spool.expired() == 1
    spool.retry(entry, 0.0)
    mono.advance(7 * 24 * HOUR + 1)
    assert spool.claim() is None
    assert spool.expired() == 1


def test_rows_of_an_earlier_process_are_judged_by_the_wall_clock(
    tmp_path: Path, clocks: tuple[FakeClock, FakeClock]
) -> None:
    wall, mono = clocks
    path = str(tmp_path / "shared.sqlite")
    earlier = SpoolOutbox(path, 10_000_000, HOUR, clock=wall, monotonic=mono)
    earlier.add(1, payload(0), wall())
    entry = earlier.claim()
    assert entry is not None
    earlier.retry(entry, 30.0)
    earlier.close_out()
    earlier.close()
    later = SpoolOutbox(path, 10_000_000, HOUR, clock=wall, monotonic=FakeClock(0.0))  # another run
    try:
        assert later.claim() is None  # its wall-clock not_before still holds
        wall.advance(31)
        assert later.claim() is not None
        later_entry = later.claim()
        assert later_entry is None
    finally:
        later.close()


def sender_on(outbox: Outbox, mono: FakeClock, answers: list[Any]) -> tuple[Sender, FakeTransport]:
    def answer(request: requests.PreparedRequest) -> Any:
        return answers.pop(0) if answers else created(request)

    transport = FakeTransport(answer)
    policy = delivery_policy(rate_limit_per_minute=None, max_backoff=4.0, rand=lambda: 1.0)

    def client() -> SendcloudClient:
        return SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url="https://api.test/api/v3", transport=transport)

    return Sender(client, outbox, Stats(), policy, clock=mono), transport


@pytest.mark.parametrize("kind", ["memory", "spool"])
@pytest.mark.parametrize("first", [api_error(503), api_error(429, "slow", **{"Retry-After": "3"})])
def test_a_retry_and_a_429_pause_ignore_a_wall_clock_set_back(
    kind: str, first: Any, tmp_path: Path, clocks: tuple[FakeClock, FakeClock]
) -> None:
    wall, mono = clocks
    outbox: Outbox
    if kind == "memory":
        outbox = MemoryOutbox(100, clock=mono)
    else:
        outbox = SpoolOutbox(str(tmp_path / "s.sqlite"), 10_000_000, HOUR, clock=wall, monotonic=mono)
    sender, transport = sender_on(outbox, mono, [first])
    outbox.add(INTEGRATION_ID, payload(), wall())
    wait: Optional[float] = sender.step()
    wall.advance(-HOUR)
    waited = 0.0
    try:
        while outbox.unsettled() and waited < 60:
            step = wait if wait else 0.0
            mono.advance(step)
            waited += step
            wait = sender.step()
        unsettled = outbox.unsettled()
    finally:
        if isinstance(outbox, SpoolOutbox):
            outbox.close()  # its SQLite connection, or Python 3.13 warns when it is collected
    assert unsettled == 0
    assert waited <= 4.0
    assert [r.method for r in transport.requests] == ["POST", "POST"]


def test_a_running_handler_with_a_spool_retries_although_the_wall_clock_went_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY) as inbox:
        inbox.fail_next(1, 503)
        handler = SendcloudHandler(
            integration_id=INTEGRATION_ID, public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=inbox.api_url,
            base_url=SHOP, spool_path=str(tmp_path / "spool.sqlite"), max_backoff=0.2, summary_window=0,
        )
        log = logging.getLogger("tests.clocks")
        log.propagate = False
        log.addHandler(handler)
        try:
            log.error("boom")
            assert inbox.wait_for_requests(1)
            real = time.time
            monkeypatch.setattr(time, "time", lambda: real() - HOUR)  # the wall clock steps back an hour
            assert handler.flush(5)
        finally:
            monkeypatch.undo()
            log.removeHandler(handler)
            handler.close()
        assert inbox.count() == 1


def test_a_wall_clock_seam_alone_moves_no_schedule_and_no_age(tmp_path: Path) -> None:
    """Only the wall clock is injected (the spool's one clock before): its steps change nothing of this spool's."""
    wall = FakeClock(1_700_000_000.0)
    box = SpoolOutbox(str(tmp_path / "s.sqlite"), 10_000_000, 7 * 24 * HOUR, clock=wall)
    try:
        box.add(1, payload(), wall())
        wall.advance(DAYS_8)
        entry = box.claim()
        assert entry is not None and box.expired() == 0
        box.retry(entry, 0.02)
        wall.advance(-DAYS_8 - HOUR)
        time.sleep(0.03)  # the retry's delay passes on the monotonic clock
        assert box.claim() is not None
    finally:
        box.close()
