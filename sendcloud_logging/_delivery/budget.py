"""The memory bound in bytes: one budget over the caller's queue and the memory outbox together.

A record is charged what it holds when the caller queues it (``Capture.held``, counted as capture cuts its
bodies: its texts, bodies and headers); when the intake turns it into an outbox entry, the capture's charge
is given back and the log's taken (``payload_size``), and a summary's latest repeat is charged its capture.
A record that does not fit is dropped and counted (``memory_full``). The sizes are what the strings and
bytes hold (``sys.getsizeof``, O(1): a text with one character beyond Latin-1, such as the cut marker's
ellipsis, takes two or four bytes a character) and a fixed cost per item, not a deep walk.

A sixteenth of the bound (``QUEUE_SHARE``; 4 KiB a record with the defaults) is kept for the caller's queue,
one equal slot per record it may hold (``slot_bytes``): a record whose capture fits its slot is queued
without a charge, so the caller's thread takes no lock for it; a larger one is charged in full, against
the rest of the bound. The queue holds ``queue_size`` records at most (callers racing past its check
overshoot by one each, as they do the count), so the slots never hold more than their share.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["MemoryBudget", "payload_size"]

#: What a built log costs beyond its texts, and an item of it.
RECORD_OVERHEAD = 512
HEADER_OVERHEAD = 64
#: The share of the bound kept for the records in the caller's queue, one slot each.
QUEUE_SHARE = 0.0625


class MemoryBudget:
    """``take(n) -> bool`` (False: it does not fit, nothing taken), ``give(n)``, ``used``; thread-safe.

    ``queue_slots``: records the caller's queue holds at most; each has ``slot_bytes`` of the bound that it
    may hold without a charge, and ``take`` charges up to what is left.
    """

    def __init__(self, max_bytes: int, *, queue_slots: int = 0) -> None:
        self.max_bytes = max_bytes
        self.slot_bytes = int(max_bytes * QUEUE_SHARE) // queue_slots if queue_slots > 0 else 0
        self._limit = max_bytes - self.slot_bytes * queue_slots  # 0 slot bytes without slots
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        """Bytes charged now."""
        return self._used

    def take(self, n: int) -> bool:
        """Charge ``n`` bytes if they fit under ``max_bytes`` (less the queue's slots); O(1), never waits for more
        than the lock."""
        with self._lock:
            if self._used + n > self._limit:
                return False
            self._used += n
            return True

    def give(self, n: int) -> None:
        """Give back what ``take`` charged."""
        if n:
            with self._lock:
                self._used = max(0, self._used - n)


def payload_size(payload: Mapping[str, Any]) -> int:
    """Bytes a built payload holds: its strings (already cut to their bounds), nested objects included."""
    return RECORD_OVERHEAD + _value_size(payload, 4)


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
