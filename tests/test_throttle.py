"""Send window, 429 pause and circuit breaker over a fake clock: pure state machines."""

from __future__ import annotations

import pytest

from sendcloud_logging._delivery.pacing import CircuitBreaker, Pause, SendWindow
from sendcloud_logging.inbox.ratelimit import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_allows_the_burst_then_waits_for_the_second() -> None:
    clock = Clock()
    window = SendWindow(100, 15, clock)
    assert sum(window.take() for _ in range(20)) == 15
    assert window.delay() == pytest.approx(1.0)  # the burst's first POST leaves the one-second window
    clock.now += 1.0
    assert sum(window.take() for _ in range(20)) == 15


def test_window_keeps_to_100_in_any_minute() -> None:
    clock = Clock()
    window = SendWindow(100, 15, clock)
    sent: list[float] = []
    for _ in range(180 * 100):  # three minutes in steps of 10 ms, always wanting to send
        while window.take():
            sent.append(clock.now)
        clock.now += 0.01
    assert len([t for t in sent if t < sent[0] + 60]) == 100  # the first minute: the whole budget, no more
    for i, start in enumerate(sent):  # and no 60 s, nor any second, anywhere, holds more
        assert len([t for t in sent[i:] if t < start + 60]) <= 100
        assert len([t for t in sent[i:i + 20] if t < start + 1]) <= 15
    assert len(sent) == 300


def test_a_window_is_what_the_inbox_admits() -> None:
    """The Inbox plays the API's limits with its own code: whatever the window lets go, it admits."""
    clock = Clock()
    window = SendWindow(100, 15, clock)
    api = RateLimit(100, 15, clock=clock)
    refused = 0
    for _ in range(120 * 50):  # two minutes in steps of 20 ms
        while window.take():
            refused += api.admit() is not None
        clock.now += 0.02
    assert refused == 0


@pytest.mark.parametrize(("per_minute", "gap"), [(0.5, 120.0), (1, 60.0), (30.5, 60.0 * 30 / 30.5)])
def test_slow_rates_space_their_posts(per_minute: float, gap: float) -> None:
    clock = Clock()
    window = SendWindow(per_minute, 1, clock)
    assert window.take()
    if window.count == 1:
        assert window.delay() == pytest.approx(gap)
    else:
        assert window.window == pytest.approx(gap)


def test_window_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        SendWindow(0, 1)
    with pytest.raises(ValueError):
        SendWindow(1, 0)


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
