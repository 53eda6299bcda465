"""The API's rate limits, played by the Inbox: requests over budget get 429, as Sendcloud answers them.

Sendcloud publishes its limits as counts over time (https://sendcloud.dev/docs/getting-started/rate-limits):
POST, PATCH, PUT and DELETE 100 a minute, with a burst allowance of 15 a second that never lifts the
minute's total; GET 1000 a minute. ``RateLimit`` checks those numbers literally, over sliding windows: a
request is refused when the 60 seconds before it already hold ``per_minute`` admitted requests, or the
second before it ``burst``. Refused requests do not count.

This is on purpose not the handler's own pacing (nothing here comes from the runtime): the Inbox is the
oracle that pacing is tested against, so a handler that sends too fast meets 429s here as it would at the API.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable, Optional

#: Seconds in the two windows the API counts over.
MINUTE = 60.0
SECOND = 1.0


def _count(name: str, value: object) -> int:
    """A whole number of requests, at least 1 (``100`` or ``100.0``, not ``True`` or ``0.5``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a whole number of requests >= 1, not {value!r}")
    if value < 1 or value != int(value):
        raise ValueError(f"{name} must be a whole number of requests >= 1, not {value!r}")
    return int(value)


class RateLimit:
    """At most ``per_minute`` requests in any 60 seconds and, if given, ``burst`` in any one second; thread-safe.

    Args:
        per_minute: Requests admitted in any 60 seconds (the API: 100 POSTs, 1000 GETs).
        burst: Requests admitted in any one second (the API: 15 POSTs); ``None``: no limit of its own.
        clock: Monotonic seconds; tests pass a fake one.
        retry_after: Whether a refusal says when to come back (``Retry-After``).
    """

    def __init__(
        self,
        per_minute: float,
        burst: Optional[int] = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        retry_after: bool = True,
    ) -> None:
        self.per_minute = _count("per_minute", per_minute)
        self.burst = None if burst is None else _count("burst", burst)
        self._clock = clock
        self._retry_after = retry_after
        self._lock = threading.Lock()
        self._admitted: deque[float] = deque()  # when admitted requests came, oldest first; the last minute only

    def admit(self) -> Optional[str]:
        """None when the request may pass (it is counted), else the ``Retry-After`` value to answer 429 with.

        The value is whole seconds until a request would pass, at least 1; ``""`` when ``retry_after`` is off.
        """
        with self._lock:
            now = self._clock()
            while self._admitted and self._admitted[0] <= now - MINUTE:
                self._admitted.popleft()
            wait = self._wait(now)
            if wait <= 0:
                self._admitted.append(now)
                return None
        return str(max(1, math.ceil(wait))) if self._retry_after else ""

    def _wait(self, now: float) -> float:
        """Seconds until the oldest request that fills a window leaves it (0 when neither window is full)."""
        wait = 0.0
        if len(self._admitted) >= self.per_minute:
            wait = self._admitted[-self.per_minute] + MINUTE - now
        if self.burst is not None and len(self._admitted) >= self.burst:
            wait = max(wait, self._admitted[-self.burst] + SECOND - now)
        return wait
