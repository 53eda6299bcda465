"""Children of ``multiprocessing``: their end runs no ``atexit`` hook, so the handler joins what it does run.

A ``Process`` or ``Pool`` worker started with the fork method (forkserver's too) ends with ``os._exit``:
``logging.shutdown()`` never runs, and whatever the worker still held was lost without a word. What such a
child does run at its end is multiprocessing's own finalizers (``util.Finalize``, run by
``util._exit_function`` once its target returned), so ``at_child_exit`` registers the handler's close there.
``Pool.terminate()``, which ``with Pool(...)`` calls on leaving, ends the workers with SIGTERM instead; where
SIGTERM still has its default action, the child closes its handlers first (within ``shutdown_timeout``),
then ends by SIGTERM as before, with the same exit code.

Registration happens in the child itself (where the worker is built afresh on its first record, or where the
handler is built), and only in a process that multiprocessing started: an ``os.fork()`` child of your own,
gunicorn's or celery's workers keep their own exit and signal handling.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Callable

#: Order among multiprocessing's finalizers: after the application's own (which may still log), last of all.
EXIT_PRIORITY = -100

Close = Callable[[], None]


class _Closes:
    """What this process closes on SIGTERM, in the order registered; inherited lists are the parent's."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.items: list[Close] = []
        self.running = 0  # closes under way on this thread: the child's own end, which SIGTERM must not cut
        self.terminate = False  # SIGTERM came during one: the process ends by it once the closes are done


_closes = _Closes()


def in_multiprocessing_child() -> bool:
    """Whether multiprocessing started this process (it is imported there, so nothing is imported here)."""
    mp = sys.modules.get("multiprocessing")
    try:
        return mp is not None and mp.parent_process() is not None
    except Exception:  # noqa: BLE001  # a half-initialised multiprocessing: not one of its children
        return False


def at_child_exit(close: Close) -> bool:
    """In a multiprocessing child, run ``close`` at its end and on a default SIGTERM; False elsewhere.

    ``close`` must hold the handler weakly, never raise, and keep to the handler's ``shutdown_timeout``.
    """
    if not in_multiprocessing_child():
        return False
    from multiprocessing import util  # noqa: PLC0415  # imported already: in_multiprocessing_child says so

    if _closes.pid != os.getpid():  # a grandchild: the list is its parent's
        _closes.pid, _closes.items, _closes.running, _closes.terminate = os.getpid(), [], 0, False
    _closes.items.append(close)
    util.Finalize(None, _run, args=(close,), exitpriority=EXIT_PRIORITY)
    _catch_sigterm()
    return True


def _run(close: Close) -> None:
    _closes.running += 1
    try:
        close()
    finally:
        _closes.running -= 1
    if _closes.terminate and not _closes.running:
        _die()


def _catch_sigterm() -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set a signal handler; SIGTERM then stays as it is
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return  # the application's own (or ours, already): never replaced
        signal.signal(signal.SIGTERM, _sigterm)
    except (ValueError, OSError):  # not the main interpreter, or no such signal here
        return


def _sigterm(signum: int, frame: object) -> None:
    """Close this process's handlers, then end by SIGTERM as the default action would have.

    A close already under way (the child's own end, which this signal interrupted) is let finish first: it is
    bounded by ``shutdown_timeout``, and the process ends by SIGTERM right after it.
    """
    _closes.terminate = True
    if _closes.running:
        return
    for close in list(_closes.items):
        _run(close)  # the last one ends the process
    _die()


def _die() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
