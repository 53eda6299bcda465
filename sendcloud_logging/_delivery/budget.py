"""The memory bound in bytes: one budget over the caller's queue and the memory outbox together.

A record is charged what it holds when the caller queues it (``capture_size``: its bodies, headers and
texts); when the intake turns it into an outbox entry the capture's charge is given back and the payload's
taken (``payload_size``), and a summary's latest repeat is charged its capture. A record that does not fit
is dropped and counted (``memory_full``). The sizes are estimates of what the strings and bytes hold, not
of Python's object overhead: ``sys.getsizeof`` of each text (O(1), and a text with one character beyond
Latin-1, such as the cut marker's ellipsis, takes two or four bytes a character), a fixed cost per item.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import Any

from .._capture import CutBody

__all__ = ["MemoryBudget", "capture_size", "payload_size"]

#: What a record costs beyond its texts (the capture, its tuples, the queue's slot), a header pair, and an
#: item of a structured body (a pointer and a small object: its nested items are not walked on the caller's
#: thread, only counted at the top).
RECORD_OVERHEAD = 512
HEADER_OVERHEAD = 64
ITEM_OVERHEAD = 32


class MemoryBudget:
    """``take(n) -> bool`` (False: it does not fit, nothing taken), ``give(n)``, ``used``; thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        """Bytes charged now."""
        return self._used

    def take(self, n: int) -> bool:
        """Charge ``n`` bytes if they fit under ``max_bytes``; O(1), never waits for more than the lock."""
        with self._lock:
            if self._used + n > self.max_bytes:
                return False
            self._used += n
            return True

    def give(self, n: int) -> None:
        """Give back what ``take`` charged."""
        if n:
            with self._lock:
                self._used = max(0, self._used - n)


def capture_size(capture: Any) -> int:
    """Bytes a ``Capture`` holds: its message, exception text, and each request/response's URL, headers, body.

    Never raises (a body is any object a caller logged): what cannot be measured counts as the overhead.
    """
    try:
        return _capture_size(capture)
    except Exception:  # noqa: BLE001  # a hostile mapping or sequence in a body: counted as a bare record
        return RECORD_OVERHEAD


def _capture_size(capture: Any) -> int:
    size = RECORD_OVERHEAD + _getsizeof(capture.message) + _getsizeof(capture.exception_text or "")
    for part in (capture.request, capture.response):
        if part is not None:
            size += _text_size(part.url) + _text_size(part.body)
            headers = part.headers
            if headers is not None:
                size += _getsizeof(headers) if isinstance(headers, str) else HEADER_OVERHEAD * len(headers)
    return size


def payload_size(payload: Mapping[str, Any]) -> int:
    """Bytes a built payload holds: its strings (already cut to their bounds), nested objects included."""
    return RECORD_OVERHEAD + _value_size(payload, 4)


def _text_size(value: Any) -> int:
    if isinstance(value, (str, bytes)):
        return _getsizeof(value)
    if isinstance(value, CutBody):
        return _getsizeof(value.head)
    if isinstance(value, (dict, list, tuple)):
        return ITEM_OVERHEAD * len(value)
    return 0


def _value_size(value: Any, depth: int) -> int:
    if isinstance(value, (str, bytes)):
        return _getsizeof(value)
    if depth <= 0:
        return HEADER_OVERHEAD
    if isinstance(value, dict):
        return sum(HEADER_OVERHEAD + _value_size(k, 0) + _value_size(v, depth - 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sum(HEADER_OVERHEAD + _value_size(v, depth - 1) for v in value)
    return HEADER_OVERHEAD


_getsizeof = sys.getsizeof
