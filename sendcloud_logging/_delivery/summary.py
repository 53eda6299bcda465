"""Error storms: one problem seen many times becomes two logs, the first and a summary.

A shop outage makes thousands of identical errors a minute while the API takes about 100 logs a minute.
Records are grouped by a signature, as error trackers group events: the same integration, shop, method,
path (ids replaced by a placeholder), status, exception type and message template. The first record of a
signature goes out at once; the repeats within the window are counted, and when the window closes one
more log carries the latest of them with "(+N more like this between HH:MM:SS and HH:MM:SS)".
Pure code: the intake owns the clock and the outbox.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .._types import Payload, Signature


def summary_text(exception: Optional[str], more: int, first: float, last: float) -> str:
    """The latest occurrence's text plus how many more happened and between which local times."""
    stamp = time.strftime("%H:%M:%S", time.localtime(first)), time.strftime("%H:%M:%S", time.localtime(last))
    note = f"(+{more} more like this between {stamp[0]} and {stamp[1]})"
    return f"{exception} {note}" if exception else note


def with_summary(payload: Payload, more: int, first: float, last: float) -> Payload:
    """A copy of ``payload`` whose ``exception`` says how many repeats it stands for."""
    if more <= 0:
        return payload
    out = dict(payload)
    out["exception"] = summary_text(payload.get("exception"), more, first, last)
    return out


@dataclass
class Window:
    """One signature's open window; ``ref`` names its held summary in the outbox, once there is one."""

    closes: float
    ref: Any = None


class Summariser:
    """Decide per record: send now, or fold into the signature's pending summary.

    ``window`` seconds (0 turns summaries off). At most ``max_windows`` signatures are tracked at once;
    beyond that records pass through unsummarised rather than growing memory without bound.
    """

    def __init__(self, window: float, max_windows: int = 1000, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.max_windows = max_windows
        self._clock = clock
        self._open: dict[Signature, Window] = {}

    def offer(self, key: Signature) -> Optional[Window]:
        """None: send this record now (it opened a window, or summaries are off); else its open window."""
        if self.window <= 0:
            return None
        now = self._clock()
        current = self._open.get(key)
        if current is not None and now < current.closes:
            return current
        if len(self._open) >= self.max_windows:
            self._expire(now)
            if len(self._open) >= self.max_windows:
                return None
        self._open[key] = Window(closes=now + self.window)
        return None

    def open_windows(self) -> list[Window]:
        """The windows still open, for tests and diagnostics."""
        return list(self._open.values())

    def clear(self) -> None:
        """Forget every window (at close, after their summaries were released)."""
        self._open.clear()

    def _expire(self, now: float) -> None:
        for key in [k for k, w in self._open.items() if w.closes <= now]:
            del self._open[key]
