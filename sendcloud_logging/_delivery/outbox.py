"""Payloads waiting to be sent: in memory by default, in a SQLite spool on disk (``spool.py``) on request.

Both keep the same small contract so that the intake and the sender do not care where entries live:
``add`` a payload (optionally held for a while, for summaries), ``fold`` a repeat into a held summary,
``claim`` the oldest ready entry, then ``done`` (delivered or refused for good) or ``retry`` it later.
Callers speak in seconds from now; each outbox keeps time by its own clock: monotonic in memory, wall-clock
in the spool, whose rows keep their meaning across processes.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Optional, Protocol

from .._diagnostics import logger
from .._types import Drop, Payload
from .budget import MemoryBudget, payload_size

#: Builds the payload of the latest repeat folded into a summary, when the summary is sent (not per repeat).
Latest = Callable[[], Payload]


@dataclass
class Entry:
    """One payload on its way. ``more``/``first``/``last`` describe repeats folded into it.

    ``created``, ``first`` and ``last`` are the records' wall-clock times (they are sent); ``not_before`` is
    in the outbox's own clock.
    """

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
    #: The latest repeat's payload, built only when the summary is sent (``Outbox.fold(latest=...)``).
    latest: Optional[Latest] = None
    #: Bytes charged to the memory bound for this entry (its payload and its latest repeat's capture).
    charge: int = 0

    def latest_payload(self) -> Payload:
        """The payload to send: the latest folded repeat's, built now (once), else the one it was kept with.

        A repeat that cannot become a log after all (its hook or build fails) leaves the earlier payload.
        """
        latest, self.latest = self.latest, None
        if latest is not None:
            try:
                self.payload = latest()
            except Exception:  # noqa: BLE001  # a Drop or a bug: the summary still goes, with the earlier text
                logger.debug("could not build the summary's latest repeat", exc_info=True)
        return self.payload


class Leftovers(NamedTuple):
    """What an outbox holds at close: records lost with the process, and entries kept for a later one.

    ``folded``: how many of the lost were repeats folded into summaries (counted ``summarised`` until now).
    """

    lost: int
    kept: int
    folded: int = 0


class Outbox(Protocol):
    """Where payloads wait between the intake thread and the sender thread."""

    @property
    def counts_as(self) -> Optional[str]:
        """The ``stats()`` counter the record just taken in counts under (the spool's ``spooled``, or its
        ``spool_error`` for one its memory fallback took), or None; read right after ``add``/``fold``."""
        ...

    #: Seconds the sender looks again when nothing is ready (others may add to a shared spool); None: it waits.
    idle_poll: Optional[float]
    #: True once ``close_out`` has counted what it holds: a record placed later was counted there already.
    closed_out: bool

    def add(self, integration_id: Any, payload: Payload, created: float, *, hold_for: float = 0.0) -> Any:
        """Keep a payload; ``hold_for`` seconds holds a storm summary until its window closes. Returns its ref.

        Raises:
            Drop: the outbox cannot keep it (a full spool: ``spool_full``).
        """
        ...

    def fold(self, ref: Any, created: float, payload: Optional[Payload] = None, *,
             latest: Optional[Latest] = None) -> bool:
        """Count one more occurrence (at ``created``) in a held summary, and carry ``payload`` if given.

        ``latest``: instead of a payload, what builds it once the summary is sent (``Entry.latest``): a storm
        repeat costs a count, not a payload. False when ``ref`` is gone or in flight: the caller then starts
        a new summary.
        """
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

    def close_out(self) -> Leftovers:
        """At close: give this process's claims back and say what is lost and what stays for a later process."""
        ...

    def unsettled(self) -> int:
        """Entries still to send, not counting summaries whose window is open."""
        ...

    def next_ready(self) -> Optional[float]:
        """Seconds until the next entry is ready; None when nothing waits."""
        ...

    def has_room(self) -> bool:
        """False while the intake must wait for the sender to make room (memory at its bound)."""
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


def latest_size(latest: Optional[Latest]) -> int:
    """Bytes a kept latest repeat holds (its capture), as the intake measured them."""
    return int(getattr(latest, "size", 0))


class MemoryOutbox:
    """A bounded heap ordered by (not_before, arrival) in monotonic time; lost with the process.

    ``budget``: the memory bound in bytes it shares with the caller's queue; an entry that does not fit is
    refused (``Drop('memory_full')``), a latest repeat that does not fit is not kept (the count still is).
    """

    counts_as: Optional[str] = None
    idle_poll: Optional[float] = None
    closed_out = False

    def __init__(
        self, max_entries: int, clock: Callable[[], float] = time.monotonic, *, tag: Optional[str] = None,
        budget: Optional[MemoryBudget] = None,
    ) -> None:
        self._max = max_entries
        self._budget = budget
        self._clock = clock
        self._tag = tag  # refs become (tag, n): the spool's fallback tells its entries from rows by it
        self._lock = threading.Lock()
        self._entries: dict[Any, Entry] = {}
        self._heap: list[tuple[float, Any]] = []
        self._claimed: set[Any] = set()
        self._seq = itertools.count(1)

    def __len__(self) -> int:
        return len(self._entries)

    def full(self) -> bool:
        """At ``max_entries`` entries (the handler's ``queue_size``)."""
        return len(self._entries) >= self._max

    def has_room(self) -> bool:
        """Below ``max_entries``: the intake waits for the sender otherwise, and the caller's queue buffers."""
        return not self.full()

    def records(self) -> int:
        """Log records behind the waiting entries: a summary stands for ``1 + more`` of them."""
        with self._lock:
            return sum(1 + e.more for e in self._entries.values())

    def add(self, integration_id: Any, payload: Payload, created: float, *, hold_for: float = 0.0) -> Any:
        """See ``Outbox.add``."""
        not_before = self._clock() + hold_for if hold_for > 0 else 0.0
        charge = 0
        if self._budget is not None:
            charge = payload_size(payload)
            if not self._budget.take(charge):
                raise Drop("memory_full", f"max_memory_bytes={self._budget.max_bytes}")
        with self._lock:
            ref: Any = next(self._seq) if self._tag is None else (self._tag, next(self._seq))
            self._entries[ref] = Entry(
                ref, integration_id, payload, created, not_before=not_before, held=hold_for > 0, charge=charge
            )
            heapq.heappush(self._heap, (not_before, ref))
            return ref

    def fold(self, ref: Any, created: float, payload: Optional[Payload] = None, *,
             latest: Optional[Latest] = None) -> bool:
        """See ``Outbox.fold``."""
        with self._lock:
            entry = self._entries.get(ref)
            if entry is None or ref in self._claimed:
                return False
            if entry.first is None:
                entry.first = entry.created
            entry.more += 1
            entry.created = entry.last = created
            if payload is not None:
                entry.payload, entry.latest = payload, None
            elif latest is not None:
                self._keep_latest(entry, latest)
            return True

    def _keep_latest(self, entry: Entry, latest: Latest) -> None:
        """Keep ``latest`` instead of the entry's earlier one if its capture fits the memory bound (lock held)."""
        if self._budget is not None:
            if not self._budget.take(latest_size(latest)):
                return  # the summary carries an earlier repeat; its count is whole
            self._budget.give(latest_size(entry.latest))
            entry.charge += latest_size(latest) - latest_size(entry.latest)
        entry.latest = latest

    def claim(self) -> Optional[Entry]:
        """See ``Outbox.claim``: the first entry of the heap whose time has come."""
        now = self._clock()
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
            gone = self._entries.pop(entry.ref, None)
            self._claimed.discard(entry.ref)
        if gone is not None and self._budget is not None:
            self._budget.give(gone.charge)

    def retry(self, entry: Entry, delay: float, *, count_attempt: bool = True) -> None:
        """See ``Outbox.retry``."""
        with self._lock:
            if count_attempt:
                entry.attempts += 1
            entry.not_before = self._clock() + max(0.0, delay)
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
        return max(0.0, min(times) - self._clock())

    def close_out(self) -> Leftovers:
        """Nothing outlives the process in memory: every waiting record is lost, those folded into summaries too."""
        self.closed_out = True
        with self._lock:
            folded = sum(e.more for e in self._entries.values())
        return Leftovers(lost=len(self) + folded, kept=0, folded=folded)

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
