"""Payloads waiting to be sent: in memory by default, in a SQLite spool on disk (``spool.py``) on request.

Both keep the same small contract so the sender does not care where entries live:
``add`` a payload (optionally not before a moment, for summaries), ``fold`` a repeat into a waiting summary,
``claim`` the oldest ready entry, then ``done`` (delivered or refused for good) or ``retry`` it later.
Times are wall-clock seconds (``time.time()``) so that spool rows keep their meaning across processes.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional, Protocol

from .._types import Payload


@dataclass
class Entry:
    """One payload on its way. ``more``/``first``/``last`` describe repeats folded into it."""

    ref: Any
    integration_id: Any
    payload: Payload
    created: float
    more: int = 0
    first: Optional[float] = None
    last: Optional[float] = None
    not_before: float = 0.0
    attempts: int = 0
    held: bool = False  # a storm summary waiting for its window to close


class Outbox(Protocol):
    """Where payloads wait between the intake thread and the sender thread."""

    persistent: bool

    def add(
        self,
        integration_id: Any,
        payload: Payload,
        created: float,
        *,
        not_before: float = 0.0,
        more: int = 0,
        first: Optional[float] = None,
    ) -> Any:
        """Keep a payload; ``not_before`` holds a storm summary until its window closes. Returns its ref."""
        ...

    def fold(self, ref: Any, payload: Payload, created: float, extra: int = 0) -> bool:
        """Make a waiting summary carry this later occurrence too; False when ``ref`` is gone or in flight."""
        ...

    def claim(self) -> Optional[Entry]:
        """Take the oldest ready entry for sending, so no other sender (or process) takes it."""
        ...

    def done(self, entry: Entry) -> None:
        """Forget a claimed entry: delivered, or refused for good."""
        ...

    def retry(self, entry: Entry, delay: float, *, count_attempt: bool = True) -> None:
        """Give a claimed entry back, ready again after ``delay`` seconds."""
        ...

    def release_waiting(self) -> None:
        """Make every held entry ready now (at close: send the open summaries)."""
        ...

    def release_claims(self) -> int:
        """Give this process's claims back at close; return how many entries stay for a later process."""
        ...

    def unsettled(self) -> int:
        """Entries still to send, not counting summaries whose window is open."""
        ...

    def next_ready(self) -> Optional[float]:
        """Seconds until the next entry is ready; None when nothing waits."""
        ...

    def full(self) -> bool:
        """True when no more entries fit (the intake waits, or counts a drop for a spool)."""
        ...

    def __len__(self) -> int: ...

    def records(self) -> int:
        """Log records behind the waiting entries: a summary stands for ``1 + more`` of them."""
        ...

    def expired(self) -> int:
        """Entries dropped for age since the last call (always 0 in memory)."""
        ...

    def close(self) -> None:
        """Release what the outbox holds open (connections); its entries stay where they are."""
        ...


class MemoryOutbox:
    """A bounded heap ordered by (not_before, arrival); lost with the process."""

    persistent = False

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: dict[int, Entry] = {}
        self._heap: list[tuple[float, int]] = []
        self._claimed: set[int] = set()
        self._seq = itertools.count(1)

    def __len__(self) -> int:
        return len(self._entries)

    def full(self) -> bool:
        """At ``max_entries`` entries (the handler's ``queue_size``)."""
        return len(self._entries) >= self._max

    def records(self) -> int:
        """Log records behind the waiting entries: a summary stands for ``1 + more`` of them."""
        with self._lock:
            return sum(1 + e.more for e in self._entries.values())

    def add(
        self,
        integration_id: Any,
        payload: Payload,
        created: float,
        *,
        not_before: float = 0.0,
        more: int = 0,
        first: Optional[float] = None,
    ) -> int:
        """See ``Outbox.add``."""
        with self._lock:
            ref = next(self._seq)
            self._entries[ref] = Entry(
                ref,
                integration_id,
                payload,
                created,
                more=more,
                first=first,
                last=created if more else None,
                not_before=not_before,
                held=not_before > 0,
            )
            heapq.heappush(self._heap, (not_before, ref))
            return ref

    def fold(self, ref: Any, payload: Payload, created: float, extra: int = 0) -> bool:
        """See ``Outbox.fold``."""
        with self._lock:
            entry = self._entries.get(ref)
            if entry is None or ref in self._claimed:
                return False
            if entry.first is None:
                entry.first = entry.created
            entry.more += 1 + extra
            entry.payload = payload
            entry.created = created
            entry.last = created
            return True

    def claim(self) -> Optional[Entry]:
        """See ``Outbox.claim``: the first entry of the heap whose time has come."""
        now = time.time()
        with self._lock:
            while self._heap:
                not_before, ref = self._heap[0]
                entry = self._entries.get(ref)
                if entry is None or ref in self._claimed or entry.not_before != not_before:
                    heapq.heappop(self._heap)  # stale: sent, in flight, or rescheduled
                    continue
                if not_before > now:
                    return None
                heapq.heappop(self._heap)
                self._claimed.add(ref)
                entry.held = False
                return entry
        return None

    def done(self, entry: Entry) -> None:
        """See ``Outbox.done``."""
        with self._lock:
            self._entries.pop(entry.ref, None)
            self._claimed.discard(entry.ref)

    def retry(self, entry: Entry, delay: float, *, count_attempt: bool = True) -> None:
        """See ``Outbox.retry``."""
        with self._lock:
            if count_attempt:
                entry.attempts += 1
            entry.not_before = time.time() + max(0.0, delay)
            self._claimed.discard(entry.ref)
            if entry.ref in self._entries:
                heapq.heappush(self._heap, (entry.not_before, entry.ref))

    def release_waiting(self) -> None:
        """Make every waiting entry ready now (at close: send the open summaries)."""
        with self._lock:
            self._heap = []
            for ref, entry in self._entries.items():
                entry.not_before = 0.0
                entry.held = False
                if ref not in self._claimed:
                    self._heap.append((0.0, ref))
            heapq.heapify(self._heap)

    def next_ready(self) -> Optional[float]:
        """Seconds until the next entry is ready; None when nothing waits."""
        with self._lock:
            times = [e.not_before for r, e in self._entries.items() if r not in self._claimed]
        if not times:
            return None
        return max(0.0, min(times) - time.time())

    def release_claims(self) -> int:
        """Nothing outlives the process in memory: 0."""
        return 0

    def unsettled(self) -> int:
        """Entries still to send, not counting summaries whose window is open."""
        with self._lock:
            return sum(1 for e in self._entries.values() if not e.held)

    def expired(self) -> int:
        """Memory entries never expire: 0."""
        return 0

    def close(self) -> None:
        """Nothing to release."""
        return None
