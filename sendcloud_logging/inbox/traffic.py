"""Counters and the POST history an Inbox keeps, so tests can check keep-alive, retries and bodies."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Traffic:
    """Thread-safe record of connections, requests and POSTs seen by one Inbox (over all its restarts)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()  # notified on each request, for wait_for_requests()
        self._connections = 0
        self._requests = 0
        self._posts: list[dict[str, Any]] = []
        self._statuses: Counter[int] = Counter()

    def connection_accepted(self) -> None:
        """Count a TCP connection."""
        with self._lock:
            self._connections += 1

    def request_seen(self) -> None:
        """Count an HTTP request (any request line, even one we reject)."""
        with self._lock:
            self._requests += 1
            self._lock.notify_all()

    def wait_for_requests(self, n: int, timeout: float) -> bool:
        """Block until at least ``n`` requests were seen; False when ``timeout`` seconds pass first."""
        with self._lock:
            return self._lock.wait_for(lambda: self._requests >= n, timeout)

    def post_answered(self, record: dict[str, Any]) -> None:
        """Remember a POST: called before its answer is sent, so a client that got it sees the record."""
        with self._lock:
            self._posts.append(record)

    def answered(self, status: int) -> None:
        """Count an answer sent with ``status`` (any method)."""
        with self._lock:
            self._statuses[status] += 1

    @property
    def status_counts(self) -> dict[int, int]:
        """How many answers of each HTTP status were sent."""
        with self._lock:
            return dict(self._statuses)

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        with self._lock:
            return self._connections

    @property
    def requests(self) -> int:
        """HTTP requests handled so far."""
        with self._lock:
            return self._requests

    @property
    def posts(self) -> list[dict[str, Any]]:
        """A copy of the POST records, in the order they were answered."""
        with self._lock:
            return [dict(post) for post in self._posts]
