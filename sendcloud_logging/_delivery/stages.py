"""The contract between the worker and its two stages, so that ``worker.py`` needs nothing else of them.

The worker owns the queue, the threads, the waits and the lifecycle; the stages own what a job means.
``intake.Intake`` and ``sender.Sender`` are the stages the handler builds; tests use stand-ins.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Protocol


class Job(NamedTuple):
    """One record on the caller's queue: its capture and the log call's message template.

    A named tuple, made on every logging call; what it is charged against the memory bound while it waits
    is its capture's ``held`` (``IntakeStage.admit``).
    """

    capture: Any
    template: Any


class IntakeStage(Protocol):
    """Turns jobs into outbox entries on the intake thread."""

    def admit(self, job: Any) -> bool:
        """On the caller's thread, before the job is queued: False (counted) when it does not fit in memory."""
        ...

    def has_room(self) -> bool:
        """False while the outbox is at its bound: the worker waits before the next job."""
        ...

    def take(self, job: Any, *, behind: bool) -> bool:
        """Process one job; True when the sender has a new entry. ``behind``: the queue is backing up."""
        ...

    def finish(self) -> None:
        """At close, after the last job."""
        ...


class SenderStage(Protocol):
    """Sends outbox entries on the sender thread, one ``step()`` at a time."""

    def step(self) -> Optional[float]:
        """Deliver at most one entry; seconds to wait before the next step (None: until woken)."""
        ...

    def pending(self) -> int:
        """Entries still to send: what ``flush()`` waits for."""
        ...

    def records(self) -> int:
        """Log records behind the entries still to send (a summary stands for every record it carries)."""
        ...

    def closing(self, deadline: float) -> None:
        """The worker closes: no request may outlive ``deadline`` (in the worker's clock)."""
        ...

    def finish(self, unprocessed: int, timeout: float, *, release: bool, why: Optional[str] = None) -> tuple[int, int]:
        """At close: count and report what is left; ``(left, kept)``. ``why``: what ended the delivery."""
        ...


class Stages(NamedTuple):
    """The two stages of one worker, sharing one outbox; built again in a forked child."""

    intake: IntakeStage
    sender: SenderStage
