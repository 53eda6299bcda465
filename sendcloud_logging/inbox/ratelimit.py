"""The API's rate limit, played by the Inbox: POSTs over budget get 429, as Sendcloud answers them."""

from __future__ import annotations

import math
import threading
from typing import Optional

from .._delivery.pacing import TokenBucket


class RateLimit:
    """``per_minute`` POSTs a minute with bursts of ``burst``; thread-safe.

    The same token bucket the handler paces itself with, so a handler at the API's limits (100 a minute,
    bursts of 15) must never see a 429 from an Inbox started with ``rate_limit=(100, 15)``.
    """

    def __init__(self, per_minute: float, burst: int, *, retry_after: bool = True) -> None:
        if not per_minute > 0 or not math.isfinite(per_minute):
            raise ValueError(f"per_minute must be a positive number, not {per_minute!r}")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be a positive int, not {burst!r}")
        self._bucket = TokenBucket(per_minute / 60.0, burst)
        self._lock = threading.Lock()
        self._retry_after = retry_after

    def admit(self) -> Optional[str]:
        """None when the POST may pass, else the ``Retry-After`` value to answer 429 with ("" for none)."""
        with self._lock:
            if self._bucket.take():
                return None
            wait = self._bucket.delay()
        return str(max(1, math.ceil(wait))) if self._retry_after else ""
