"""Token bucket, 429 pause and circuit breaker over a fake clock: pure state machines."""

from __future__ import annotations

import pytest

from sendcloud_logging._delivery.pacing import CircuitBreaker, Pause, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(100 / 60, 15, clock)
    assert sum(bucket.take() for _ in range(20)) == 15
    assert bucket.delay() == pytest.approx(0.6)
    clock.now += 0.6
    assert bucket.take()
    assert not bucket.take()


def test_bucket_keeps_to_100_a_minute_over_time() -> None:
    clock = Clock()
    bucket = TokenBucket(100 / 60, 15, clock)
    sent = 0
    for _ in range(60 * 100):  # one minute in steps of 10 ms, always wanting to send
        while bucket.take():
            sent += 1
        clock.now += 0.01
    assert 100 <= sent <= 115  # the burst plus the rate


def test_bucket_never_saves_more_than_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(1, 3, clock)
    clock.now += 3600
    assert sum(bucket.take() for _ in range(10)) == 3


def test_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
    with pytest.raises(ValueError):
        TokenBucket(1, 0)


def test_pause_uses_retry_after_then_backs_off_alone() -> None:
    clock = Clock()
    pause = Pause(1.0, 8.0, clock)
    assert pause.pause(2.0) == 2.0
    assert pause.remaining() == 2.0
    clock.now += 2.0
    assert pause.remaining() == 0.0
    assert [pause.pause(None) for _ in range(5)] == [2.0, 4.0, 8.0, 8.0, 8.0]
    pause.succeeded()
    assert pause.pause(None) == 1.0


def test_breaker_opens_after_threshold_and_doubles_its_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, 1.0, 4.0, clock)
    assert not breaker.failed()
    assert not breaker.failed()
    assert not breaker.is_open
    assert breaker.failed()
    assert breaker.is_open
    assert breaker.remaining() == 1.0
    clock.now += 1.0
    assert breaker.remaining() == 0.0  # half-open: a probe may go
    assert breaker.failed()  # the probe failed
    assert breaker.remaining() == 2.0
    clock.now += 2.0
    breaker.failed()
    assert breaker.remaining() == 4.0
    clock.now += 4.0
    breaker.failed()
    assert breaker.remaining() == 4.0  # capped
    breaker.succeeded()
    assert not breaker.is_open
    assert breaker.remaining() == 0.0
