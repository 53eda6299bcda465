"""The end of a handler's life: at interpreter exit, on reconfiguration, and when it is dropped unclosed.

Three rules live here, because each is about who may wait for the worker, and for how long:

- **Reconfiguration.** ``dictConfig``/``fileConfig`` called again closes the old handlers while it holds
  logging's module lock. The worker's threads may need that lock for any logging call (urllib3 logs at DEBUG
  on every request, and a logger whose level cache was cleared takes the lock to read its level), so a
  ``close()`` that waited for them there would wait its whole ``shutdown_timeout`` and drop the queue. Such a
  close hands the wait to a thread of its own (``close_later``) and returns at once; the old worker delivers
  as soon as the lock is free, within ``shutdown_timeout``.
- **A handler dropped without close()** is closed the same way when it is collected, so its threads end.
- **Exit.** ``logging.shutdown()`` (at exit) flushes each handler; a wait of more than ``EXPLAIN_AFTER`` is
  announced on stderr in one line first (``wait_explained``), and Ctrl-C during it drops what is left with
  a count, never a traceback. Closes handed to a thread are waited for too, each within its own deadline.

The state below is process-wide, as exit is: whether the interpreter is exiting, and the closes still under
way. The module hook runs before ``logging.shutdown()`` (``atexit`` runs the last registered first, and
``logging`` registers at its import, before this package's).
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import threading
import time
from typing import Any, Callable

from .._diagnostics import report

#: Seconds a wait at exit may last before one stderr line says what it waits for.
EXPLAIN_AFTER = 0.5
#: The stderr line's words for a wait cut short by Ctrl-C.
INTERRUPTED = "interrupted (Ctrl-C)"
#: Beyond a close's own deadline, for its thread to report and end.
CLOSE_GRACE = 0.5



class _Closing:
    """A close handed to a thread: when it ends at the latest, and how many records its worker still holds.

    ``done`` is an Event, not ``Thread.is_alive()``: a ``join()`` that Ctrl-C interrupts marks a thread that
    still runs as stopped (CPython 3.11's bpo-45274 handling).
    """

    def __init__(self, end: float, waiting: Callable[[], int]) -> None:
        self.end, self.waiting, self.done = end, waiting, threading.Event()
        self.pid = os.getpid()  # a forked child inherits the list, never the thread: not its to wait for

    def left(self) -> int:
        """Records its worker still holds; 0 once it is done (a count for one stderr line, never raising)."""
        if self.done.is_set():
            return 0
        try:
            return self.waiting()
        except Exception:  # noqa: BLE001  # a broken outbox counts nothing
            return 0


class _Process:
    """Whether the exit hook is registered, whether the interpreter exits, and the closes handed to threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.installed = False
        self.exiting = False
        self.closing: list[_Closing] = []


_process = _Process()


def install() -> None:
    """Register the exit hook once per process (the first handler does)."""
    with _process.lock:
        if _process.installed:
            return
        _process.installed = True
    atexit.register(_at_exit)


def exiting() -> bool:
    """True once the interpreter runs its exit hooks: ``logging.shutdown()`` is then the exit's."""
    return _process.exiting


def holds_logging_lock() -> bool:
    """Whether this thread holds logging's module lock: ``dictConfig``/``fileConfig`` closing old handlers.

    The worker's threads may be waiting for that lock, so nothing may wait for them here.
    """
    lock = getattr(logging, "_lock", None)
    is_owned = getattr(lock, "_is_owned", None)  # threading.RLock's, in C and in Python alike
    if is_owned is None:
        return False
    try:
        return bool(is_owned())
    except Exception:  # noqa: BLE001  # an unknown lock: assume nothing is held, the close waits as before
        return False


def close_later(close: Callable[[], Any], timeout: float, waiting: Callable[[], int] = lambda: 0) -> None:
    """Run ``close`` (a worker's close within ``timeout`` seconds) on a thread of its own; exit waits for it.

    ``waiting()`` counts the records the worker still holds (for the line when Ctrl-C ends that wait). Where
    no thread may start (the interpreter is shutting down), ``close`` runs here.
    """
    closing = _Closing(time.monotonic() + max(0.0, timeout) + CLOSE_GRACE, waiting)

    def run() -> None:
        try:
            close()
        finally:
            closing.done.set()

    thread = threading.Thread(target=run, name="sendcloud-logging-close", daemon=True)
    try:
        thread.start()
    except RuntimeError:
        close()
        return
    install()
    with _process.lock:
        _process.closing = [item for item in _process.closing if not item.done.is_set()]
        _process.closing.append(closing)


def wait_explained(
    wait: Callable[[float], bool], timeout: float, waiting: Callable[[], int], shown: float, *, spooled: bool = False
) -> bool:
    """``wait(timeout)`` at exit; past ``EXPLAIN_AFTER`` seconds, one stderr line says for what and how long.

    ``waiting()`` counts the logs still to deliver; ``shown`` is the timeout the line names (the configured
    ``shutdown_timeout``, which ``timeout`` may be the rest of); ``spooled``: what Ctrl-C leaves stays on disk.
    """
    if timeout <= EXPLAIN_AFTER:
        return wait(timeout)
    if wait(EXPLAIN_AFTER):
        return True
    count = waiting()
    if count:
        after = "leaves them in the spool" if spooled else "drops them"
        report(f"delivering {count} log(s) to Sendcloud, up to {shown:g} s (Ctrl-C {after})")
    return wait(timeout - EXPLAIN_AFTER)


def _at_exit() -> None:
    """Exit: ``logging.shutdown()`` comes next; first the closes handed to threads end, each by its deadline."""
    _process.exiting = True
    with _process.lock:
        closing = [item for item in _process.closing if not item.done.is_set() and item.pid == os.getpid()]
    if not closing:
        return
    try:
        if not _join(closing, time.monotonic() + EXPLAIN_AFTER):
            left = sum(item.left() for item in closing)
            longest = max(item.end for item in closing) - time.monotonic()
            if left:
                report(f"delivering {left} log(s) to Sendcloud, up to {max(0.0, longest):.0f} s (Ctrl-C drops them)")
            _join(closing, math.inf)
    except KeyboardInterrupt:  # the process ends now: the closes would report only at their deadline
        left = sum(item.left() for item in closing)
        if left:
            report(f"{left} log(s) were not delivered: {INTERRUPTED}")


def _join(closing: list[_Closing], until: float) -> bool:
    """Wait for each close until its own end or ``until``, whichever is first; True when all have ended."""
    for item in closing:
        item.done.wait(max(0.0, min(item.end, until) - time.monotonic()))
    return all(item.done.is_set() for item in closing)
