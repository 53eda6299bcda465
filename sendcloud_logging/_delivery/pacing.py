"""Pacing of POSTs: a sliding window for the API's rate limit, a pause after 429, a circuit breaker.

Pure state machines over an injected clock: they answer "how long until I may send?" and never sleep
themselves, so the worker can wait on an Event that ``close()`` cuts short. The pause and the breaker's
cooldown grow by the policy's one ``backoff`` formula, without jitter.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Callable, Optional

from .policy import backoff, no_jitter

Clock = Callable[[], float]

class SendWindow:
    """At most ``per_minute`` POSTs in any 60 seconds and ``burst`` in any one second, as Sendcloud counts them.

    The API publishes its limit as counts over time (100 a minute, bursts of 15 a second that never lift the
    minute's total), so the sender keeps the times of its recent POSTs and waits until the oldest that fills
    a window has left it. A token bucket of the same numbers would send 115 in the first minute. A rate
    below one a minute becomes one POST per ``60 / per_minute`` seconds.
    """

    def __init__(self, per_minute: float, burst: int, clock: Clock = time.monotonic) -> None:
        if not per_minute > 0 or burst < 1:
            raise ValueError("per_minute must be > 0 and burst >= 1")
        self.count = max(1, math.floor(per_minute))
        self.window = 60.0 * self.count / per_minute
        self.burst = burst
        self._clock = clock
        self._sent: deque[float] = deque(maxlen=max(self.count, burst))

    def delay(self) -> float:
        """Seconds until a POST may go (0 when one may now)."""
        now = self._clock()
        wait = 0.0
        if len(self._sent) >= self.count:
            wait = self._sent[-self.count] + self.window - now
        if len(self._sent) >= self.burst:
            wait = max(wait, self._sent[-self.burst] + 1.0 - now)
        return max(0.0, wait)

    def take(self) -> bool:
        """Count a POST now if one may go."""
        if self.delay() > 0:
            return False
        self._sent.append(self._clock())
        return True


class Pause:
    """All sending waits until a moment, as after a 429; doubles its own backoff without Retry-After."""

    def __init__(self, base: float, cap: float, clock: Clock = time.monotonic) -> None:
        self._base = base
        self._cap = cap
        self._clock = clock
        self._until = 0.0
        self._strikes = 0

    def pause(self, retry_after: Optional[float]) -> float:
        """Pause for ``retry_after`` seconds, or an exponential backoff; returns the pause length.

        Either is capped at ``cap`` (the policy's ``max_backoff``): one ``Retry-After: 86400``, or an HTTP date
        far ahead, must not stop delivery for a day. A 429 after the pause pauses again, at no attempt's cost.
        """
        if retry_after is None:
            seconds = backoff(self._strikes, self._base, self._cap, no_jitter)
        else:
            seconds = min(max(0.0, retry_after), self._cap)
        self._strikes += 1
        self._until = max(self._until, self._clock() + seconds)
        return seconds

    def succeeded(self) -> None:
        """A POST went through: the next 429 without ``Retry-After`` starts from the base wait again."""
        self._strikes = 0

    def remaining(self) -> float:
        """Seconds until sending may resume (0 when not paused)."""
        return max(0.0, self._until - self._clock())


class CircuitBreaker:
    """Stop hammering a dead endpoint: open after ``threshold`` failures in a row, then probe once.

    States: closed (send freely); open (send nothing until the cooldown ends); half-open (one real POST
    may go; any answer but an outage closes the circuit, an outage opens it again with a doubled cooldown,
    capped).
    """

    def __init__(self, threshold: int, cooldown: float, max_cooldown: float, clock: Clock = time.monotonic) -> None:
        self.threshold = max(1, threshold)
        self._cooldown = cooldown
        self._max_cooldown = max(cooldown, max_cooldown)
        self._clock = clock
        self._failures = 0
        self._opened = 0
        self._until = 0.0

    @property
    def is_open(self) -> bool:
        """True while failures have reached the threshold (including the half-open probe phase)."""
        return self._failures >= self.threshold

    def remaining(self) -> float:
        """Seconds until a probe may go (0 when closed or half-open)."""
        return max(0.0, self._until - self._clock()) if self.is_open else 0.0

    def failed(self) -> bool:
        """Count a failure; True when this failure opened (or re-opened) the circuit."""
        self._failures += 1
        if self._failures < self.threshold:
            return False
        seconds = backoff(self._opened, self._cooldown, self._max_cooldown, no_jitter)
        self._opened += 1
        self._until = self._clock() + seconds
        return True

    def succeeded(self) -> None:
        """The API answered: close the circuit and forget the failures."""
        self._failures = 0
        self._opened = 0
        self._until = 0.0
