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
import threading
import time
from typing import Any, Callable, Optional

from .._diagnostics import report

#: Seconds a wait at exit may last before one stderr line says what it waits for.
EXPLAIN_AFTER = 0.5
#: The stderr line's words for a wait cut short by Ctrl-C.
INTERRUPTED = "interrupted (Ctrl-C)"
#: Beyond a close's own deadline, for its thread to report and end.
CLOSE_GRACE = 0.5



class _Process:
    """Whether the exit hook is registered, whether the interpreter exits, and the closes handed to threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.installed = False
        self.exiting = False
        self.closing: list[tuple[threading.Thread, float]] = []  # each with the monotonic time it ends at the latest


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


def close_later(close: Callable[[], Any], timeout: float) -> None:
    """Run ``close`` (a worker's close within ``timeout`` seconds) on a thread of its own; exit waits for it.

    Where no thread may start (the interpreter is shutting down), ``close`` runs here.
    """
    thread = threading.Thread(target=close, name="sendcloud-logging-close", daemon=True)
    try:
        thread.start()
    except RuntimeError:
        close()
        return
    install()
    with _process.lock:
        _process.closing = [(t, end) for t, end in _process.closing if t.is_alive()]
        _process.closing.append((thread, time.monotonic() + max(0.0, timeout) + CLOSE_GRACE))


def wait_explained(wait: Callable[[float], bool], timeout: float, waiting: Callable[[], int], shown: float) -> bool:
    """``wait(timeout)`` at exit; past ``EXPLAIN_AFTER`` seconds, one stderr line says for what and how long.

    ``waiting()`` counts the logs still to deliver; ``shown`` is the timeout the line names (the configured
    ``shutdown_timeout``, which ``timeout`` may be the rest of).
    """
    if timeout <= EXPLAIN_AFTER:
        return wait(timeout)
    if wait(EXPLAIN_AFTER):
        return True
    count = waiting()
    if count:
        report(f"delivering {count} log(s) to Sendcloud, up to {shown:g} s (Ctrl-C drops them)")
    return wait(timeout - EXPLAIN_AFTER)


def _at_exit() -> None:
    _process.exiting = True
    with _process.lock:
        closing = list(_process.closing)
    try:
        for thread, end in closing:
            thread.join(max(0.0, end - time.monotonic()))
    except KeyboardInterrupt:  # the closes report their own leftovers once their deadline passes; none to wait for
        report(f"stopped waiting for closed handlers: {INTERRUPTED}")


def ended(timeout: Optional[float] = None) -> bool:
    """Wait up to ``timeout`` seconds for the closes handed to threads; True when none is left (for tests)."""
    end = None if timeout is None else time.monotonic() + timeout
    with _process.lock:
        closing = [t for t, _ in _process.closing]
    for thread in closing:
        thread.join(None if end is None else max(0.0, end - time.monotonic()))
    return not any(t.is_alive() for t in closing)
