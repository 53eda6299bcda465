"""Fault injection for tests: injected error answers, dropped connections and latency.

Tests change these while requests are in flight, so every read and write goes through one lock.
Faults queue up in the order they were asked for: ``drop_next(1); fail_next(2, 429)`` drops the next
request and answers 429 to the two after it.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class Fault:
    """One injected fault: ``drop`` the connection, or answer ``status`` with an error body."""

    drop: bool = False
    status: int = 503
    retry_after: Optional[str] = None
    body: Optional[dict[str, Any]] = None


class Faults:
    """Thread-safe fault state of one Inbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[list[Any]] = deque()  # [Fault, how many requests it still applies to]
        self._latency = 0.0

    @property
    def latency(self) -> float:
        """Seconds to wait before answering each request."""
        with self._lock:
            return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        value = float(seconds)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"latency must be a finite number of seconds >= 0, not {seconds!r}")
        with self._lock:
            self._latency = value

    def add(self, n: int, fault: Fault) -> None:
        """Apply ``fault`` to the next ``n`` requests, after the faults already queued."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an int >= 0, not {n!r}")
        if not fault.drop and not 100 <= fault.status <= 599:
            raise ValueError(f"status must be an HTTP status 100..599, not {fault.status!r}")
        if fault.retry_after is not None and any(ch in fault.retry_after for ch in "\r\n"):
            raise ValueError("retry_after must be a single header line")
        if n:
            with self._lock:
                self._queue.append([fault, n])

    def take(self) -> Optional[Fault]:
        """The fault for the request being handled now, if any (consumes it)."""
        with self._lock:
            if not self._queue:
                return None
            entry = self._queue[0]
            entry[1] -= 1
            if entry[1] == 0:
                self._queue.popleft()
            fault: Fault = entry[0]
            return fault

    def reset(self) -> None:
        """Forget queued faults and set latency back to 0."""
        with self._lock:
            self._queue.clear()
            self._latency = 0.0
