"""BackgroundWorker: a bounded queue and two daemon threads that know nothing of what their jobs do.

The caller's thread appends to a bounded deque (full: a counted drop); near full, it first lets the intake
thread run (``time.sleep(0)``), which a thread logging flat out would otherwise outpace. The intake thread
hands jobs to the intake stage; the sender thread calls the sender stage's ``step()`` and waits as long as
it says, on an Event that new entries and ``close()`` cut short. A forked child starts afresh.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from typing import Any, Callable, Optional

from .._diagnostics import logger
from .exit import INTERRUPTED
from .stages import Stages
from .stats import Stats

YIELD_AT = 0.9  # share of queue_size from which a caller lets the intake run before it queues
BEHIND_AT = 0.1  # share of queue_size from which the intake is behind: its stage defers what can wait
ROOM_POLL = 1.0  # longest wait for room in the outbox; the sender wakes the intake after every step anyway
FLUSH_POLL = 0.25  # longest wait of flush() between looks (other processes may empty a shared spool)
STEP_ERROR_WAIT = 0.2  # after a stage raised, before the sender steps again
JOIN_GRACE = 0.05  # beyond the close deadline, for a thread to notice it


class BackgroundWorker:
    """``submit(job) -> bool``, ``flush(timeout) -> bool``, ``close(timeout) -> int``, ``thread_idents``.

    ``clock`` (monotonic) times the deadlines; ``start_now`` starts the threads before the first job.
    """

    def __init__(self, stages: Callable[[], Stages], *, queue_size: int, stats: Stats,
                 clock: Callable[[], float] = time.monotonic, start_now: bool = False) -> None:
        self._build, self._queue_size, self._stats, self._clock = stages, queue_size, stats, clock
        self._reset()
        if start_now:
            self._start()

    def _reset(self) -> None:
        """Fresh state: at construction, and in a forked child (inherited locks may be held)."""
        self._pid = os.getpid()
        self._stats.reset()  # the parent's counts are the parent's; its lock may be held
        self._stages = self._build()
        self._admit = self._stages.intake.admit
        self._jobs: deque[Any] = deque()
        self._stats.count_waiting(self._jobs.__len__)  # queued counts the jobs still in the queue too
        self._yield_at = self._queue_size * YIELD_AT
        self._progress = threading.Condition(threading.Lock())
        self._wake_intake, self._wake_sender, self._intake_done = (threading.Event() for _ in range(3))
        self._start_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        #: Idents of the worker threads: their records never re-enter the handler. A plain attribute, replaced
        #: whole under ``_idents_lock``: the handler reads it on every logging call.
        self.thread_idents: frozenset[Optional[int]] = frozenset()
        self._idents_lock = threading.Lock()
        self._holding = self._sending = False  # a job may be out of the queue; a step is running
        self._room_wait = False  # the intake waits for the sender: the caller's turn would not help
        self._deadline: Optional[float] = None  # set by close()
        self._left_at_close: Optional[int] = None

    def submit(self, job: Any) -> bool:
        """Queue a job without blocking; False (and a counted drop) when the queue is full or closed.

        The counters' lock is not taken for a job accepted: it counts as queued when it leaves the queue
        again, on the intake thread, and the queue's length counts the ones still in it (``Stats.snapshot``).
        The stage's ``admit`` takes the memory bound's lock only for a job larger than its queue slot.
        """
        if self._pid != os.getpid():  # a forked child: the parent's queue, threads and sockets are the parent's
            self._reset()
        jobs = self._jobs
        if self._deadline is not None:
            return self._refuse("closed")
        if len(jobs) >= self._yield_at:
            if not self._room_wait:
                time.sleep(0)  # not a wait for anything: the intake thread's turn of the GIL
            if len(jobs) >= self._queue_size:  # callers racing past this check overshoot by one each at most
                return self._refuse("queue_full", f"queue_size={self._queue_size}")
        if not self._admit(job):  # over the memory bound in bytes: the drop is counted by the stage
            self._stats.add("queued")
            return False
        jobs.append(job)
        if self._deadline is not None and self._unqueue(job):  # close() began meanwhile and may have swept
            return self._refuse("closed")
        if not self._threads:
            self._start()
        if not self._wake_intake.is_set():
            self._wake_intake.set()
        return True

    def _refuse(self, reason: str, detail: str = "") -> bool:
        """A job that never enters the queue: queued and dropped at once, so queued = sent + summarised + dropped."""
        self._stats.add("queued")
        self._stats.drop(reason, detail=detail)
        return False

    def _left_queue(self, n: int = 1) -> None:
        """Jobs out of the queue (to the intake, or swept at close) now count as queued by number."""
        self._stats.add("queued", n)

    def flush(self, timeout: float) -> bool:
        """Wait until every queued job was delivered or finally failed (open summaries aside); False on timeout."""
        if self._pid != os.getpid():
            return True  # a forked child has nothing of its own queued yet
        if self._left_at_close is not None:  # closed: delivered, counted as dropped, or left in the spool
            return self._left_at_close == 0
        deadline = self._clock() + max(0.0, timeout)
        with self._progress:
            # In this order: a job is held before it leaves the queue, an entry sent only while busy.
            while self._jobs or self._holding or self._stages.sender.pending() or self._sending:
                remaining = deadline - self._clock()
                if remaining <= 0 or not any(t.is_alive() for t in self._threads):
                    return False
                self._progress.wait(min(remaining, FLUSH_POLL))
        return True

    @property
    def closed(self) -> bool:
        """True once ``close()`` began: nothing more is accepted or waited for."""
        return self._deadline is not None and self._pid == os.getpid()

    def waiting(self) -> int:
        """Records neither delivered nor dropped yet: queued, being prepared, or behind the outbox's entries."""
        return len(self._jobs) + self._holding + self._stages.sender.records()

    def close(self, timeout: float, *, spent: float = 0.0, why: Optional[str] = None) -> int:
        """Deliver what is queued within ``timeout`` seconds, then stop; return how many logs were left.

        ``spent``: seconds of ``timeout`` a ``flush()`` right before already used (``logging.shutdown()``).
        ``why``: what the stderr line says ended the delivery (default: the timeout passed). A
        KeyboardInterrupt during the wait ends it at once: what is left is counted, then it is raised again.
        """
        if self._pid != os.getpid():
            self._reset()
        if self._deadline is not None:
            return 0
        self._deadline = self._clock() + max(0.0, timeout - spent)
        self._stages.sender.closing(self._deadline)
        self._wake_intake.set()
        self._wake_sender.set()
        interrupted = False
        try:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join(self._remaining() + JOIN_GRACE)
        except KeyboardInterrupt:
            interrupted, why = True, INTERRUPTED
            self._deadline = self._clock()
        unprocessed = self._holding + self._sweep()  # never reached the intake stage, or stuck in it
        # An interrupted join() marks a thread that still runs as stopped (CPython's bpo-45274): do not trust it.
        alive = interrupted or any(t.is_alive() for t in self._threads)
        left, kept = self._stages.sender.finish(unprocessed, timeout, release=not alive, why=why)
        self._left_at_close = left + kept
        if interrupted:
            raise KeyboardInterrupt
        return left

    def _sweep(self) -> int:
        """Empty the queue at close, counting each job once (a caller may still be appending)."""
        swept = 0
        while True:
            try:
                self._jobs.popleft()
            except IndexError:
                self._left_queue(swept)
                return swept
            swept += 1

    def _unqueue(self, job: Any) -> bool:
        """Take back a job appended while ``close()`` ran; False when the sweep (or the intake) had it already."""
        try:
            self._jobs.remove(job)
        except ValueError:
            return False
        return True

    def _start(self) -> None:
        with self._start_lock:
            if self._threads:
                return
            loops = {"intake": self._intake_loop, "sender": self._sender_loop}
            threads = [threading.Thread(target=f, name=f"sendcloud-logging-{n}", daemon=True) for n, f in loops.items()]
            try:
                for thread in threads:
                    thread.start()
            except RuntimeError as exc:  # interpreter shutting down: no new threads
                self._deadline = self._clock()
                left = self._sweep()
                self._stats.drop("shutdown", left, detail=f"no worker thread could start ({exc})")
                return
            self._threads = threads
            self._known(*(t.ident for t in threads))

    def _known(self, *idents: Optional[int]) -> None:
        with self._idents_lock:
            self.thread_idents = self.thread_idents.union(idents)

    def _intake_loop(self) -> None:
        self._known(threading.get_ident())  # before the first job: a record its user code logs is known as ours
        stage = self._stages.intake
        while self._remaining():
            self._room_wait = self._deadline is None and not stage.has_room()
            if self._room_wait or not self._jobs:
                if self._deadline is not None:
                    break
                self._rest()
                continue
            self._holding = True  # before the job leaves the queue: flush() must never see it nowhere
            try:
                job = self._jobs.popleft()
                self._left_queue()
                if stage.take(job, behind=len(self._jobs) >= self._queue_size * BEHIND_AT):
                    self._wake_sender.set()
            except Exception as exc:  # noqa: BLE001  # one bad record never kills the thread; it is counted
                logger.debug("could not prepare a log", exc_info=True)
                self._stats.drop("payload_error", detail=f"{type(exc).__name__}: {exc}")
            finally:
                self._holding = False
        try:
            if self._remaining():
                stage.finish()
        except Exception:  # noqa: BLE001  # a broken spool must not end the thread: its rows stay on disk
            logger.warning("could not release the held summaries", exc_info=True)
        self._intake_done.set()
        self._wake_sender.set()  # the sender ends once nothing is pending

    def _rest(self) -> None:
        """Wait for a job, or for room in the outbox (the caller's queue buffers meanwhile)."""
        with self._progress:  # flush() may be waiting for the intake to go idle
            self._progress.notify_all()
        self._wake_intake.clear()
        if not self._jobs or self._room_wait:
            self._wake_intake.wait(ROOM_POLL if self._room_wait else None)  # the sender wakes it after each step

    def _sender_loop(self) -> None:
        self._known(threading.get_ident())
        stage = self._stages.sender
        while True:
            self._wake_sender.clear()  # before the look: a wake-up set after it is kept for the wait below
            if not self._remaining() or (self._intake_done.is_set() and not stage.pending()):
                return
            self._sending = True
            try:
                wait = stage.step()
            except Exception:  # noqa: BLE001  # the sender thread outlives any bug of a step
                logger.warning("the sender failed", exc_info=True)
                wait = STEP_ERROR_WAIT
            finally:
                self._sending = False
                if self._room_wait:
                    self._wake_intake.set()
                with self._progress:  # flush() may be waiting for this step
                    self._progress.notify_all()
            wait = self._remaining() if wait is None else min(wait, self._remaining())  # None: until woken
            self._wake_sender.wait(None if math.isinf(wait) else wait)

    def _remaining(self) -> float:
        """Seconds left until the close deadline (infinite before close)."""
        return math.inf if self._deadline is None else max(0.0, self._deadline - self._clock())
