"""The intake stage: a queued record becomes an outbox entry, and storms fold into summaries.

Runs on the intake thread, so building the payload (redaction, truncation, JSON) never costs the caller's
thread. Repeats of one signature within the summary window are the one summary mechanism: the first goes
out at once, the second opens a held summary entry, and every later one folds into it until the window
closes (``summary.py``).

Fold before build: a repeat whose summary is already waiting in the outbox is only counted, from its
cheap signature; the summary keeps that repeat's snapshot (the latest replaces the one before) and its
payload is built once, when the summary is sent. So a storm costs a signature and a count per record, and a
payload is built, redacted and encoded only for a record that will be sent: the first of a window, the one
the summary is opened with, and the latest one it carries. With a ``before_send`` hook every record is still
prepared (the hook sees each). What the payload is made of is the pipeline's business.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional, Protocol

from .._types import Drop, Payload, Signature
from .budget import MemoryBudget
from .outbox import Outbox
from .stages import Job
from .stats import Stats
from .summary import Summariser, Window


class Pipeline(Protocol):
    """What the intake needs from the handler: a payload and a storm signature for a captured record.

    ``read`` turns a capture into what both steps read, once per record (the two would otherwise each
    build it). ``prepares_every_record``: True when each record must be prepared although it only adds to a
    count (a ``before_send`` hook sees every record).
    """

    prepares_every_record: bool

    def read(self, capture: Any) -> Any:
        """What ``prepare`` and ``signature`` read of a capture."""
        ...

    def prepare(self, read: Any) -> tuple[Any, Payload]:
        """``(integration_id, payload)`` of what ``read`` gave.

        Raises:
            Drop: the record cannot become a log (no base_url, no integration id, before_send said no).
        """
        ...

    def signature(self, read: Any, template: Any) -> Signature:
        """What makes two records the same problem (cheap: no payload is built)."""
        ...


class Intake:
    """Turns jobs into outbox entries; one per worker (and per process after a fork).

    ``clock`` is monotonic: it times the summary windows.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        outbox: Outbox,
        stats: Stats,
        *,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        budget: Optional[MemoryBudget] = None,
    ) -> None:
        self._pipeline = pipeline
        self._budget = budget
        self._slot_bytes = 0 if budget is None else budget.slot_bytes
        self._outbox = outbox
        self._stats = stats
        self._clock = clock
        self._summariser = Summariser(window, clock=clock)

    def admit(self, job: Job) -> bool:
        """Charge the job's bytes to the memory bound before it is queued; False (``memory_full``) when over.

        Runs on the caller's thread: what capture counted (``Capture.held``). A job that fits its queue slot
        (``MemoryBudget.slot_bytes``) is not charged, and takes no lock; a larger one is charged in full.
        """
        held = job.capture.held
        if held <= self._slot_bytes:
            return True
        budget = self._budget
        if budget is None:
            return True
        if not budget.take(held):
            self._stats.drop("memory_full", detail=f"max_memory_bytes={budget.max_bytes}")
            return False
        return True

    def has_room(self) -> bool:
        """False while the outbox is at its bound: the worker waits for the sender before the next job."""
        return self._outbox.has_room()

    def take(self, job: Job, *, behind: bool = False) -> bool:
        """Place a job in the outbox, or fold it into its summary; True when the sender has a new entry.

        ``behind`` (the queue is backing up) changes nothing any more: a repeat is always folded by its count.
        A ``Drop`` is counted under its reason.
        """
        del behind
        size = 0  # what a summary's latest repeat would be charged: the capture it keeps
        if self._budget is not None:  # it leaves the queue: what admit() charged is given back
            size = job.capture.held
            if size > self._slot_bytes:
                self._budget.give(size)
        try:
            created = float(job.capture.created)
            read = self._pipeline.read(job.capture)
            window = self._summariser.offer(self._pipeline.signature(read, job.template))
            ref = None if window is None or self._pipeline.prepares_every_record else window.ref
            if ref is not None and self._outbox.fold(ref, created, latest=_Latest(self._pipeline, read, size)):
                self._taken(summarised=True)
                return False
            integration_id, payload = self._pipeline.prepare(read)
            return self._place(window, integration_id, payload, created)
        except Drop as drop:
            if not self._outbox.closed_out:  # else close() counted it as left over (a hook outlived it)
                self._stats.drop(drop.reason, detail=drop.detail, reported=drop.reported)
            return False

    def finish(self) -> None:
        """At close: the open windows end now, so their summaries are sent with the rest."""
        self._outbox.release_waiting()
        self._summariser.clear()

    def _place(self, window: Optional[Window], integration_id: Any, payload: Payload, created: float) -> bool:
        if window is None:  # the first of its window, or summaries are off: send at once
            self._outbox.add(integration_id, payload, created)
            self._taken()
            return True
        if window.ref is not None and self._outbox.fold(window.ref, created, payload):
            self._taken(summarised=True)
            return False
        hold = max(0.0, window.closes - self._clock())  # the window's first repeat: a held summary entry
        window.ref = self._outbox.add(integration_id, payload, created, hold_for=hold)
        self._taken()
        return True  # held, but flush() and the sender's schedule must know of it

    def _taken(self, *, summarised: bool = False) -> None:
        if self._outbox.closed_out:  # close() counted this record as left over already (a hook outlived it)
            return
        if summarised:
            self._stats.add("summarised")
        if self._outbox.counts_as:
            self._stats.add(self._outbox.counts_as)


class _Latest:
    """A folded repeat's payload, built only when its summary is sent (``outbox.Entry.latest``)."""

    __slots__ = ("_pipeline", "_read", "size")

    def __init__(self, pipeline: Pipeline, read: Any, size: int) -> None:
        self._pipeline, self._read = pipeline, read
        self.size = size  # bytes its capture holds, charged to the memory bound while it is kept

    def __call__(self) -> Payload:
        return self._pipeline.prepare(self._read)[1]
