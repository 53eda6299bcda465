"""BackgroundWorker with stand-in stages: the bounded queue, the threads, flush, close and fork.

The stages here do nothing but record what the worker asks of them, so each test pins one promise of the
worker itself. Waits are on Events with bounds; nothing depends on how fast the machine is.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from typing import Any, Callable, Optional

import pytest

from sendcloud_logging._delivery.stages import Stages
from sendcloud_logging._delivery.stats import Stats
from sendcloud_logging._delivery.worker import BackgroundWorker
from tests.conftest import within
from tests.fakes import FakeClock

BOUND = 10.0  # seconds any wait for a thread may take at most before the test fails


class Intake:
    """Takes jobs into a list; ``gate`` holds it inside ``take`` until set; ``room`` False makes it wait."""

    def __init__(self, gate: Optional[threading.Event] = None) -> None:
        self.taken: list[Any] = []
        self.behind: list[bool] = []
        self.gate = gate
        self.entered = threading.Event()
        self.room = True
        self.finished = False

    def admit(self, job: Any) -> bool:
        return True

    def has_room(self) -> bool:
        return self.room

    def take(self, job: Any, *, behind: bool) -> bool:
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(BOUND)
        if job == "boom":
            raise RuntimeError("a bug in the stage")
        self.taken.append(job)
        self.behind.append(behind)
        return True

    def finish(self) -> None:
        self.finished = True


class Sender:
    """Steps without sending; ``wait`` is what each step asks for, ``pending`` what flush() waits for."""

    def __init__(self, wait: Optional[float] = None) -> None:
        self.wait = wait
        self.pending_entries = 0
        self.steps = 0
        self._stepped = threading.Condition()
        self.raises = 0
        self.deadline: Optional[float] = None
        self.finished: Optional[tuple[int, float, bool]] = None
        self.why: Optional[str] = None

    def step(self) -> Optional[float]:
        with self._stepped:
            self.steps += 1
            self._stepped.notify_all()
        if self.raises:
            self.raises -= 1
            raise RuntimeError("a bug in a step")
        return self.wait

    def reached(self, steps: int) -> bool:
        """Wait (at most ``BOUND``) until the worker called ``step()`` this many times."""
        with self._stepped:
            return self._stepped.wait_for(lambda: self.steps >= steps, BOUND)

    def pending(self) -> int:
        return self.pending_entries

    def records(self) -> int:
        return self.pending_entries

    def closing(self, deadline: float) -> None:
        self.deadline = deadline

    def finish(self, unprocessed: int, timeout: float, *, release: bool, why: Optional[str] = None) -> tuple[int, int]:
        self.finished = (unprocessed, timeout, release)
        self.why = why
        return unprocessed, 0


class Built:
    """The stage factory: every call (at construction, and in a forked child) makes fresh stages."""

    def __init__(
        self,
        gate: Optional[threading.Event] = None,
        wait: Optional[float] = None,
        sender: Optional[Callable[[], Sender]] = None,
    ) -> None:
        self.gate = gate
        self.new_sender = sender or (lambda: Sender(wait))
        self.stages: list[tuple[Intake, Sender]] = []

    def __call__(self) -> Stages:
        intake, sender = Intake(self.gate), self.new_sender()
        self.stages.append((intake, sender))
        return Stages(intake, sender)

    @property
    def intake(self) -> Intake:
        return self.stages[-1][0]

    @property
    def sender(self) -> Sender:
        return self.stages[-1][1]


def make(built: Built, *, queue_size: int = 10, clock: Any = time.monotonic) -> tuple[BackgroundWorker, Stats]:
    stats = Stats()
    return BackgroundWorker(built, queue_size=queue_size, stats=stats, clock=clock), stats


def test_a_full_queue_is_a_counted_drop() -> None:
    gate = threading.Event()
    built = Built(gate)
    worker, stats = make(built, queue_size=2)
    assert worker.submit("a")
    assert built.intake.entered.wait(BOUND)  # the intake holds "a": the queue is empty again
    assert worker.submit("b")
    assert worker.submit("c")
    assert not worker.submit("d")
    assert not worker.submit("e")
    snapshot = stats.snapshot()
    assert snapshot["queued"] == 5  # every record emit accepted, dropped ones included
    assert snapshot["dropped"] == {"queue_full": 2}
    gate.set()
    assert worker.flush(BOUND)
    assert built.intake.taken == ["a", "b", "c"]
    assert worker.close(BOUND) == 0


def test_flush_and_close_with_a_sender_that_has_nothing_to_do() -> None:
    built = Built()
    worker, stats = make(built)
    for job in ("a", "b", "c"):
        assert worker.submit(job)
    assert worker.flush(BOUND)
    assert built.intake.taken == ["a", "b", "c"]
    assert worker.close(BOUND) == 0
    assert built.intake.finished
    assert built.sender.finished == (0, BOUND, True)  # nothing left, and the threads are gone: release
    assert not any(t.is_alive() for t in threading.enumerate() if t.ident in worker.thread_idents)
    assert not worker.submit("late")
    assert stats.snapshot()["dropped"] == {"closed": 1}
    assert worker.flush(BOUND) is True  # after close: whether everything went out
    assert worker.close(BOUND) == 0  # closing twice is harmless


def test_flush_waits_for_the_senders_pending_entries() -> None:
    built = Built(wait=0.01)
    worker, _ = make(built)
    worker.submit("a")
    built.sender.pending_entries = 1
    assert worker.flush(0.05) is False
    built.sender.pending_entries = 0
    assert worker.flush(BOUND) is True
    worker.close(BOUND)


def test_close_cuts_a_long_wait_short() -> None:
    built = Built(wait=3600.0)  # every step asks for an hour's wait
    worker, _ = make(built)
    worker.submit("a")
    assert built.sender.reached(1)
    # An hour's wait and an hour's close budget: only close() waking the sender can end it before the bound.
    assert within(BOUND, lambda: worker.close(3600.0)) == 0
    assert built.sender.finished is not None
    assert built.sender.finished[2] is True  # the threads were gone: woken and ended, not left waiting


class Ticking(Sender):
    """Entries that never settle (the API is down): once closing, each step costs a second of ``clock``."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.pending_entries = 1
        self.steps_closing = 0

    def step(self) -> Optional[float]:
        super().step()
        if self.deadline is None:
            return None  # until woken
        self.steps_closing += 1
        self.clock.advance(1.0)
        return 0.0


def test_close_keeps_to_its_timeout_on_the_workers_clock() -> None:
    """What shutdown_timeout promises: the sender goes on until the deadline, and not a step past it."""
    clock = FakeClock(100.0)
    built = Built(sender=lambda: Ticking(clock))
    worker, _ = make(built, clock=clock)
    worker.submit("a")
    assert built.sender.reached(1)
    assert within(BOUND, lambda: worker.close(5.0)) == 0
    sender = built.sender
    assert isinstance(sender, Ticking)
    assert sender.deadline == 105.0
    assert (sender.steps_closing, clock()) == (5, 105.0)  # five seconds of the clock: five steps
    assert sender.finished == (0, 5.0, True)


def test_close_counts_what_never_reached_the_outbox() -> None:
    gate = threading.Event()
    built = Built(gate)
    worker, _ = make(built)
    for job in ("a", "b", "c"):
        worker.submit(job)
    assert built.intake.entered.wait(BOUND)
    try:
        assert worker.close(0.1) == 3  # "a" held by a stuck intake, "b" and "c" still queued
        assert built.sender.finished == (3, 0.1, False)  # a thread outlived the deadline: nothing released
    finally:
        gate.set()


def test_queued_counts_each_job_once_in_the_queue_in_hand_or_swept() -> None:
    gate = threading.Event()
    built = Built(gate)
    worker, stats = make(built)
    for job in ("a", "b", "c"):
        worker.submit(job)
    assert built.intake.entered.wait(BOUND)  # "a" in the stage's hands, "b" and "c" in the queue
    assert stats.snapshot()["queued"] == 3
    try:
        assert worker.close(0.1) == 3  # "b" and "c" swept out of the queue
        assert stats.snapshot()["queued"] == 3
        assert not worker.submit("late")  # refused: queued and dropped at once
        snapshot = stats.snapshot()
        assert snapshot["queued"] == 4
        assert snapshot["dropped"] == {"closed": 1}
    finally:
        gate.set()


def test_one_bad_job_never_kills_the_intake() -> None:
    built = Built()
    worker, stats = make(built)
    worker.submit("boom")
    worker.submit("fine")
    assert worker.flush(BOUND)
    assert built.intake.taken == ["fine"]
    assert stats.snapshot()["dropped"] == {"payload_error": 1}
    worker.close(BOUND)


def test_a_step_that_raises_does_not_kill_the_sender() -> None:
    built = Built()
    worker, _ = make(built)
    built.sender.raises = 1
    worker.submit("a")
    assert built.sender.reached(2)  # the thread lived on and stepped again
    worker.close(BOUND)


def test_the_intake_waits_for_room_while_the_queue_buffers() -> None:
    built = Built(wait=0.01)
    worker, _ = make(built)
    built.intake.room = False
    worker.submit("a")
    worker.submit("b")
    assert worker.flush(0.1) is False
    assert built.intake.taken == []
    built.intake.room = True  # the sender freed a place; it wakes the intake after every step
    assert worker.flush(BOUND)
    assert built.intake.taken == ["a", "b"]
    worker.close(BOUND)


def test_the_intake_stage_learns_when_the_queue_backs_up() -> None:
    gate = threading.Event()
    built = Built(gate)
    worker, _ = make(built, queue_size=20)
    worker.submit(0)
    assert built.intake.entered.wait(BOUND)
    for job in range(1, 6):
        worker.submit(job)
    gate.set()
    assert worker.flush(BOUND)
    # A tenth of queue_size (2 jobs) or more waiting behind a job: the stage may defer what can wait.
    assert built.intake.behind == [False, True, True, True, False, False]
    worker.close(BOUND)


@pytest.mark.parametrize("spent,deadline", [(0.0, 105.0), (3.5, 101.5), (5.0, 100.0), (9.0, 100.0)])
def test_close_keeps_to_what_a_flush_left_of_the_timeout(spent: float, deadline: float) -> None:
    """logging.shutdown() calls flush() then close(): the handler passes what the flush spent."""
    clock = FakeClock(100.0)
    built = Built()
    worker, _ = make(built, clock=clock)
    worker.submit("a")
    assert worker.flush(BOUND)
    worker.close(5.0, spent=spent)
    assert built.sender.deadline == deadline
    assert built.sender.finished == (0, 5.0, True)  # the report names the whole timeout


def test_the_threads_start_with_the_first_job_or_at_once() -> None:
    built = Built()
    worker, _ = make(built)
    assert worker.thread_idents == frozenset()
    worker.submit("a")
    names = {t.name for t in threading.enumerate() if t.ident in worker.thread_idents}
    assert names == {"sendcloud-logging-intake", "sendcloud-logging-sender"}
    worker.close(BOUND)
    eager = BackgroundWorker(Built(), queue_size=1, stats=Stats(), start_now=True)  # a spool's leftovers
    assert len(eager.thread_idents) == 2
    eager.close(BOUND)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_starts_afresh_and_leaves_the_parents_jobs_alone() -> None:
    gate = threading.Event()
    built = Built(gate)
    worker, stats = make(built)
    worker.submit("parent")
    assert built.intake.entered.wait(BOUND)  # the parent's intake is busy with its job while we fork
    worker.submit("parent queued")
    pid = os.fork()
    if pid == 0:  # the child: report by exit code, never through pytest
        code = 1
        try:
            assert worker.flush(0.0) is True  # nothing of its own yet
            gate.set()  # only the child's copy: the parent's thread does not exist here
            assert worker.submit("child")
            assert worker.flush(BOUND)
            assert len(built.stages) == 2
            assert built.intake.taken == ["child"]
            assert stats.snapshot()["queued"] == 1
            assert worker.close(BOUND) == 0
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    gate.set()
    assert worker.flush(BOUND)
    assert built.intake.taken == ["parent", "parent queued"]
    assert stats.snapshot()["queued"] == 2
    assert worker.close(BOUND) == 0



class Unscannable(deque):  # type: ignore[type-arg]
    """Stands in for the worker's deque: any walk over the waiting jobs fails the test."""

    def __iter__(self) -> Any:
        raise AssertionError("the queue was walked")

    def __contains__(self, item: object) -> bool:
        raise AssertionError("the queue was searched")


def test_a_full_queue_costs_each_call_the_same_few_steps_and_never_a_walk() -> None:
    gate = threading.Event()
    stats = Stats()
    built = Built(gate)
    worker = BackgroundWorker(built, queue_size=5_000, stats=stats)
    worker.submit("held")  # the intake holds it until the gate opens: the queue only fills
    intake = built.stages[-1][0]
    assert intake.entered.wait(BOUND)
    jobs = Unscannable(range(5_000))
    worker._jobs = jobs
    admitted: list[Any] = []
    worker._admit = admitted.append  # type: ignore[assignment]
    for i in range(1_000):
        assert worker.submit(i) is False
    assert stats.snapshot()["dropped"] == {"queue_full": 1_000}
    assert admitted == []  # refused before any per-record work
    assert len(jobs) == 5_000
    worker._jobs = deque()
    gate.set()
    worker.close(1.0)
