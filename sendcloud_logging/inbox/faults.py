"""Fault injection for tests: injected error answers, dropped connections, stalls, latency and chaos.

Tests change these while requests are in flight, so every read and write goes through one lock.
Faults queue up in the order they were asked for: ``drop_next(1); fail_next(2, 429)`` drops the next
request and answers 429 to the two after it. Queued faults come before chaos, which fails a random
share of the remaining requests (seeded, so a failing test can be replayed).
``FaultInjection`` is the Inbox's public side of it: ``fail_next``, ``drop_next``, ``latency``, ``chaos``.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

#: What ``chaos`` can do to a request: answer 503, reset the connection, or stall past the client's timeout.
CHAOS_KINDS = ("503", "reset", "timeout")


@dataclass(frozen=True)
class Fault:
    """One injected fault: ``drop`` (or ``reset``) the connection, ``stall`` first, or answer ``status``."""

    drop: bool = False
    status: int = 503
    retry_after: Optional[str] = None
    body: Optional[dict[str, Any]] = None
    reset: bool = False  # drop with a TCP RST instead of a FIN
    stall: float = 0.0  # seconds to wait before handling the request as usual
    kind: str = "fail_next"


@dataclass(frozen=True)
class _Chaos:
    rate: float
    kinds: tuple[tuple[str, float], ...]
    stall: float
    rng: random.Random


class Faults:
    """Thread-safe fault state of one Inbox."""

    def __init__(self) -> None:
        self._lock = threading.Condition()  # notified when latency changes: waiting requests look again
        self._queue: deque[list[Any]] = deque()  # [Fault, how many requests it still applies to]
        self._latency = 0.0
        self._chaos: Optional[_Chaos] = None
        self._injected: Counter[str] = Counter()

    def chaos(self, rate: float, kinds: Optional[Mapping[str, float]], seed: Optional[int], stall: float) -> None:
        """Fail a share ``rate`` of requests, choosing the kind of failure by the weights in ``kinds``."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be from 0 to 1, not {rate!r}")
        weights = dict(kinds) if kinds is not None else {kind: 1.0 for kind in CHAOS_KINDS}
        unknown = set(weights) - set(CHAOS_KINDS)
        if unknown or not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError(f"kinds must map some of {CHAOS_KINDS} to weights >= 0, not {kinds!r}")
        if not math.isfinite(stall) or stall < 0:
            raise ValueError(f"stall must be a finite number of seconds >= 0, not {stall!r}")
        rng = random.Random(seed)  # noqa: S311 - replayable test faults, not security
        with self._lock:
            self._chaos = _Chaos(rate, tuple(weights.items()), stall, rng) if rate else None

    @property
    def injected(self) -> dict[str, int]:
        """How many requests got each kind of fault so far."""
        with self._lock:
            return dict(self._injected)

    @property
    def latency(self) -> float:
        """Seconds to wait before answering each request."""
        with self._lock:
            return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        value = float(seconds)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"latency must be a finite number of seconds >= 0, not {seconds!r}")
        with self._lock:
            self._latency = value
            self._lock.notify_all()

    def hold(self, since: float, stop: threading.Event) -> bool:
        """Wait out the latency of a request read at ``since`` (``time.monotonic()``); True if ``stop`` came first.

        The latency is read again whenever it changes, so lowering it (to 0, say) lets waiting requests go at once.
        """
        with self._lock:
            while not stop.is_set():
                remaining = since + self._latency - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
            return True

    def wake(self) -> None:
        """Make every request waiting in ``hold`` look at its ``stop`` event again (the server is closing)."""
        with self._lock:
            self._lock.notify_all()

    def add(self, n: int, fault: Fault) -> None:
        """Apply ``fault`` to the next ``n`` requests, after the faults already queued."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an int >= 0, not {n!r}")
        if not fault.drop and not 100 <= fault.status <= 599:
            raise ValueError(f"status must be an HTTP status 100..599, not {fault.status!r}")
        if fault.retry_after is not None and any(ch in fault.retry_after for ch in "\r\n"):
            raise ValueError("retry_after must be a single header line")
        if n:
            with self._lock:
                self._queue.append([fault, n])

    def take(self) -> Optional[Fault]:
        """The fault for the request being handled now, if any (consumes it)."""
        with self._lock:
            if not self._queue:
                fault = self._draw()
            else:
                entry = self._queue[0]
                entry[1] -= 1
                if entry[1] == 0:
                    self._queue.popleft()
                fault = entry[0]
            if fault is not None:
                self._injected[fault.kind] += 1
            return fault

    def _draw(self) -> Optional[Fault]:
        chaos = self._chaos
        if chaos is None or chaos.rng.random() >= chaos.rate:
            return None
        names = [name for name, _ in chaos.kinds]
        kind = chaos.rng.choices(names, weights=[w for _, w in chaos.kinds])[0]
        if kind == "reset":
            return Fault(drop=True, reset=True, kind=kind)
        if kind == "timeout":
            return Fault(stall=chaos.stall, kind=kind)
        return Fault(status=503, kind=kind)

    def reset(self) -> None:
        """Forget queued faults and chaos, and set latency back to 0."""
        with self._lock:
            self._queue.clear()
            self._latency = 0.0
            self._lock.notify_all()
            self._chaos = None


class FaultInjection:
    """The ``Inbox``'s methods that steer its faults (a mixin over the ``Faults`` in ``self._faults``)."""

    _faults: Faults

    @property
    def faults_injected(self) -> dict[str, int]:
        """Requests that got a fault, by kind: ``fail_next``, ``drop_next``, and the ``chaos`` kinds."""
        return self._faults.injected

    def fail_next(
        self,
        n: int,
        status: int = 503,
        *,
        retry_after: Optional[str] = None,
        body: Optional[dict[str, Any]] = None,
    ) -> None:
        """Answer the next ``n`` requests (any method or route) with ``status``; nothing is stored.

        Args:
            n: How many requests; queued after faults already pending.
            status: The HTTP status, e.g. 429 or 503.
            retry_after: Value of a ``Retry-After`` header to send (seconds or an HTTP date), if any.
            body: JSON body to send instead of the default ``{"errors": [{"status", "code", "detail"}]}``,
                whose code is ``hit_rate_limit`` for 429, ``server_error`` for 500, ``service_unavailable``
                for 503, else the reason phrase in snake case.

        Raises:
            ValueError: ``n`` < 0, a status outside 100..599, or a multi-line ``retry_after``.
        """
        self._faults.add(n, Fault(status=status, retry_after=retry_after, body=None if body is None else dict(body)))

    def drop_next(self, n: int) -> None:
        """Close the connection of the next ``n`` requests without answering (clients see a ConnectionError)."""
        self._faults.add(n, Fault(drop=True, kind="drop_next"))

    @property
    def latency(self) -> float:
        """Seconds to wait before answering each request (default 0).

        Only the request's own connection waits; ``stop()`` and ``refuse()`` cut the wait short (no answer). A
        new value applies to requests already waiting: ``latency = 0`` lets them all be answered at once.
        """
        return self._faults.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._faults.latency = seconds

    def chaos(
        self,
        rate: float,
        *,
        kinds: Optional[Mapping[str, float]] = None,
        seed: Optional[int] = None,
        stall: float = 1.0,
    ) -> None:
        """Fail a random share of the requests that no queued fault claims, until ``reset_faults()``.

        Args:
            rate: Share of requests to fail, 0 to 1 (0 turns chaos off).
            kinds: Weights of the kinds of failure: ``"503"`` (an error answer), ``"reset"`` (the connection
                is reset without an answer), ``"timeout"`` (the answer comes ``stall`` seconds late, after
                a client with a shorter read timeout gave up; the request is still handled, as a slow
                server would). Default: all three alike.
            seed: Seed of the random choices, so a run can be replayed.
            stall: Seconds a ``"timeout"`` request waits.

        Raises:
            ValueError: a rate outside 0..1, unknown kinds or negative weights.
        """
        self._faults.chaos(rate, kinds, seed, stall)

    def reset_faults(self) -> None:
        """Forget pending ``fail_next``/``drop_next`` faults and chaos, and set ``latency`` back to 0."""
        self._faults.reset()
