"""Records logged while their own thread is inside the handler: put aside, handled after, never waited on.

Code can log while a thread is in the middle of ``handle()``/``emit()``: a Formatter or a filter that logs,
a ``__str__`` of a message argument, a finalizer the garbage collector runs mid-emit, a signal handler that
interrupts the main thread there. The interrupted frame may hold one of the handler's locks, so such a
record must not go through the handler there and then (a second acquire of a lock by the thread that holds
it waits for ever). ``Reentry`` puts it aside, which is a ``deque.append`` and takes no lock, and the
outermost call handles it once the frame it interrupted is done.

A record put aside may itself cause records (a ``__str__`` that logs each time it is called): they are
handled up to ``MAX_DEPTH`` levels deep, and deeper ones are counted (``own_thread``) instead, so a loop of
records that cause records ends.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Callable

#: Levels of records caused by handling records that are still handled; deeper ones are counted.
MAX_DEPTH = 2

Handle = Callable[[logging.LogRecord], object]


def _nothing(record: logging.LogRecord) -> None:
    """What a run that only drains the records put aside handles first."""


class _ThreadState:
    """One thread's state: a plain slotted object, reached through one ``threading.local`` look-up per call
    (every attribute of a ``threading.local`` itself costs that look-up again)."""

    __slots__ = ("aside", "depth", "inside", "over")

    def __init__(self) -> None:
        self.inside = False  # this thread is in ``Reentry.run`` now
        self.depth = 0  # of the record being handled: 0 for the caller's own, 1 for one it caused, ...
        self.aside: deque[tuple[int, logging.LogRecord, Handle]] = deque()
        self.over = 0  # records beyond MAX_DEPTH, counted when the outermost call ends


class Reentry:
    """``run(record, handle)``: ``handle(record)`` now, or after the call this thread is already in.

    ``count(n)`` is told of records that were not handled (beyond ``MAX_DEPTH``); it is called with no
    record being handled, so it may take the handler's locks.
    """

    def __init__(self, count: Callable[[int], None]) -> None:
        self._local = threading.local()
        self._count = count

    def run(self, record: logging.LogRecord, handle: Handle) -> object:
        """``handle(record)``'s result; unless this thread is inside ``run`` already: then put aside, and None."""
        try:
            state: _ThreadState = self._local.state
        except AttributeError:  # this thread's first record
            state = self._local.state = _ThreadState()
        if state.inside:
            if state.depth >= MAX_DEPTH:
                state.over += 1
            else:
                state.aside.append((state.depth + 1, record, handle))
            return None
        state.inside = True
        try:
            result = handle(record)
            while state.aside:
                state.depth, item, fn = state.aside.popleft()
                fn(item)
        except BaseException:
            self._abandon(state)
            raise
        finally:
            state.depth = 0
            state.inside = False
            if state.over:
                over, state.over = state.over, 0
                self._count(over)
        if state.aside:  # a signal handler put one aside after the last look: a run of nothing drains it
            self.run(record, _nothing)
        return result

    @staticmethod
    def _abandon(state: _ThreadState) -> None:
        """An exception (KeyboardInterrupt) mid-handle: what waits aside is counted, not lost silently."""
        state.over += len(state.aside)
        state.aside.clear()
