"""Pacing of POSTs: a token bucket for the API's rate limit, a pause after 429, a circuit breaker.

Pure state machines over an injected clock: they answer "how long until I may send?" and never sleep
themselves, so the worker can wait on an Event that ``close()`` cuts short. The pause and the breaker's
cooldown grow by the policy's one ``backoff`` formula, without jitter.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

from .policy import backoff, no_jitter

Clock = Callable[[], float]

#: A token, give or take the rounding of clock arithmetic: a wait of exactly ``delay()`` must be enough.
WHOLE_TOKEN = 1.0 - 1e-9


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; ``delay()`` says how long until one is free.

    Sendcloud allows 100 POSTs a minute with bursts of 15 a second, so the default is
    ``TokenBucket(100 / 60, 15)``.
    """

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def delay(self) -> float:
        """Seconds until a token is available (0 when one is)."""
        self._refill()
        return 0.0 if self._tokens >= WHOLE_TOKEN else (1 - self._tokens) / self.rate

    def take(self) -> bool:
        """Spend a token if one is available."""
        self._refill()
        if self._tokens >= WHOLE_TOKEN:
            self._tokens -= 1
            return True
        return False


class Pause:
    """All sending waits until a moment, as after a 429; doubles its own backoff without Retry-After."""

    def __init__(self, base: float, cap: float, clock: Clock = time.monotonic) -> None:
        self._base = base
        self._cap = cap
        self._clock = clock
        self._until = 0.0
        self._strikes = 0

    def pause(self, retry_after: Optional[float]) -> float:
        """Pause for ``retry_after`` seconds, or an exponential backoff; returns the pause length."""
        if retry_after is None:
            seconds = backoff(self._strikes, self._base, self._cap, no_jitter)
        else:
            seconds = max(0.0, retry_after)
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

    States: closed (send freely); open (send nothing until the cooldown ends); half-open (one probe may
    go; its success closes the circuit, its failure opens it again with a doubled cooldown, capped).
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
