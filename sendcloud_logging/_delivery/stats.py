"""Counters of what became of each record, and the drop reasons a person reads on stderr.

Nothing is lost silently: every record ends as sent, or dropped under a named reason. The first drop of each
reason goes to stderr in one line a person understands and to the ``sendcloud_logging`` logger (which the
handler never sends) at WARNING. Later drops of a reason are summed and said on that logger at most once a
minute per reason ("dropped 2,999 logs in the last 60 s: queue_full"), and what is left at close in one last
line, so a storm into a full queue does not write thousands of lines into the application's own log.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any, Callable

from .._diagnostics import logger, report

#: Drop reasons and what each means for the person reading stderr.
DROP_REASONS = {
    "queue_full": "the queue was full (the API is slower than the error rate)",
    "memory_full": "the records waiting in memory reached max_memory_bytes (large bodies, or a slow API)",
    "no_base_url": "the record has no base_url (pass base_url= to the handler or in extra)",
    "rejected": "the API rejected the log (400)",
    "too_large": "the API refused the log as too large (413)",
    "unauthorized": "the API refused the credentials (401/403)",
    "unknown_integration": "the integration id is unknown to the API (404)",
    "retries_exhausted": "the API stayed unreachable through every retry",
    "shutdown": "the handler closed before they could be delivered",
    "closed": "they were logged after the handler was closed",
    "before_send": "before_send dropped them",
    "payload_error": "the record could not be turned into a log",
    "no_integration_id": "the record has no integration_id and the handler none either",
    "spool_full": "the disk spool was full",
    "spool_error": "the disk spool failed and its memory fallback was full too",
    "misconfigured": "the handler's configuration cannot reach the API (a bad URL or id)",
    "expired": "they waited in the spool longer than spool_max_age",
    "own_thread": "they were logged by code the handler itself runs (a hook, a __str__, a finalizer) and would loop",
}

#: Seconds between two of the logger's lines about one drop reason.
LINE_EVERY = 60.0


class Stats:
    """Thread-safe counters; ``snapshot()`` is what ``SendcloudHandler.stats()`` returns.

    ``clock`` (monotonic) spaces the logger's lines about drops.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._waiting: Callable[[], int] = int  # no queue told of yet: none waiting
        self.reset()

    def count_waiting(self, waiting: Callable[[], int]) -> None:
        """``waiting()`` jobs sit in a queue and count as queued: the queue counts the rest as they leave it."""
        self._waiting = waiting

    def reset(self) -> None:
        """Start from zero (also in a forked child, where the inherited lock may be held).

        Re-entrant: a finalizer or signal handler that logs while this thread counts counts on this thread.
        """
        self._lock = threading.RLock()
        self._counts: Counter[str] = Counter()
        self._dropped: Counter[str] = Counter()
        self._reported: set[str] = set()
        self._unsaid: Counter[str] = Counter()  # drops not yet in a logger line, by reason
        self._said_at: dict[str, float] = {}  # when the last logger line about a reason was written

    def add(self, name: str, n: int = 1) -> None:
        """Count ``n`` more of ``name`` (sent, retried, summarised, ...)."""
        with self._lock:
            self._counts[name] += n

    def drop(self, reason: str, n: int = 1, detail: str = "", *, reported: bool = False) -> None:
        """Count ``n`` dropped logs; say so on stderr (and at WARNING) the first time this reason happens.

        Later drops of the reason are summed into one WARNING a minute at most. ``reported``: the caller
        already told stderr in its own words.
        """
        now = self._clock()
        with self._lock:
            self._dropped[reason] += n
            first = reason not in self._reported
            self._reported.add(reason)
            due = None
            if first:
                self._said_at[reason] = now
            else:
                self._unsaid[reason] += n
                if now - self._said_at[reason] >= LINE_EVERY:
                    due = self._take(reason, now)
        if first:
            suffix = f": {detail}" if detail else ""
            if not reported:
                why = DROP_REASONS.get(reason, reason)
                report(f"dropped {n} log(s) because {why}{suffix} (reason '{reason}', counted in stats())")
            logger.warning("dropped %d log(s): %s%s", n, reason, suffix)
        elif due is not None:
            _say(reason, *due)

    def say_unsaid(self) -> None:
        """Write the logger's line for every reason with drops not yet said (at close)."""
        now = self._clock()
        with self._lock:
            due = {reason: self._take(reason, now) for reason in list(self._unsaid)}
        for reason, (count, seconds) in due.items():
            _say(reason, count, seconds)

    def _take(self, reason: str, now: float) -> tuple[int, float]:
        """The unsaid drops of a reason and the seconds they came in; they count as said from now (lock held)."""
        count, seconds = self._unsaid.pop(reason), now - self._said_at[reason]
        self._said_at[reason] = now
        return count, seconds

    def snapshot(self) -> dict[str, Any]:
        """The counters as a plain dict, with ``dropped`` by reason and ``dropped_total``."""
        with self._lock:
            counts, dropped = dict(self._counts), dict(self._dropped)  # copies: a re-entrant add may come
        # A job between the queue and its count (on the intake thread) is missed for that moment.
        counts["queued"] = counts.get("queued", 0) + self._waiting()
        out: dict[str, Any] = {
            name: counts.get(name, 0) for name in ("queued", "sent", "retried", "failed", "summarised", "spooled")
        }
        out.update({k: v for k, v in counts.items() if k not in out})
        out["dropped"] = dropped
        out["dropped_total"] = sum(dropped.values())
        return out


def _say(reason: str, count: int, seconds: float) -> None:
    logs = "log" if count == 1 else "logs"
    logger.warning("dropped %s %s in the last %.0f s: %s", f"{count:,}", logs, seconds, reason)
