"""The background side: an intake thread and a sender thread between the caller's queue and the API.

The caller's thread only appends to a bounded deque and, when the intake thread sleeps, sets an Event.
The intake thread builds payloads (pure code), folds repeats into storm summaries and puts the result in
the outbox (memory, or the SQLite spool). The sender thread takes ready entries from the outbox, paces
them to the API's rate limit, and retries what can be retried. Two threads keep a slow or dead API from
delaying the spool: a record reaches disk moments after ``emit`` whatever the network does.

Every wait is an ``Event.wait`` that ``close()`` cuts short, so closing never takes longer than its
timeout. A worker that finds itself in a forked child starts afresh (queue, locks, threads, HTTP session);
the parent's pending records stay the parent's.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from typing import Any, Callable, Optional

from .._diagnostics import logger, report
from .._types import Drop, Payload
from ..client import SendcloudClient
from ..errors import (
    APIError,
    AuthenticationError,
    MissingBaseURLError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    SendcloudError,
    ServerError,
    TransportError,
)
from .outbox import Entry, Outbox
from .pacing import CircuitBreaker, Pause, TokenBucket
from .policy import RETRYABLE_STATUS, DeliveryOptions, backoff
from .stats import Stats
from .summary import Signature, Summariser, with_summary


class Job:
    """One record on the caller's queue: its snapshot, message template and merged repeats."""

    __slots__ = ("first", "key", "last", "merged", "snap", "template")

    def __init__(self, snap: Any, template: Any) -> None:
        self.snap = snap
        self.template = template
        self.key: Optional[Signature] = None
        self.merged = 0
        self.first = 0.0
        self.last = 0.0


#: Builds (integration_id, payload) from a snapshot; pure, runs on the intake thread.
Prepare = Callable[[Any], "tuple[Any, Payload]"]
#: The storm signature of a job, from its snapshot (cheap: also used on the caller's thread when full).
KeyOf = Callable[[Job], Signature]
#: The account (key pair) an integration's logs are sent with, when one handler sends for many accounts.
AccountOf = Callable[[Any], Any]


class Worker:
    """A bounded queue, an outbox and the two daemon threads between them and the API.

    With ``account_of`` (one handler, many Sendcloud accounts), each account has its own rate-limit bucket
    and its own pause after refused credentials; the 429 pause and the circuit breaker stay shared.
    """

    def __init__(
        self,
        prepare: Prepare,
        key_of: KeyOf,
        client_factory: Callable[[], SendcloudClient],
        outbox_factory: Callable[[], Outbox],
        *,
        stats: Stats,
        options: DeliveryOptions,
        start_now: bool = False,
        name: str = "sendcloud-logging",
        account_of: Optional[AccountOf] = None,
    ) -> None:
        self._prepare = prepare
        self._account_of = account_of
        self._key_of = key_of
        self._client_factory = client_factory
        self._outbox_factory = outbox_factory
        self._stats = stats
        self._opt = options
        self._name = name
        self._reset()
        if start_now:  # a spool may hold what an earlier process left: send it without waiting for a record
            self._start()

    def _reset(self) -> None:
        """Fresh state: at construction, and in a forked child (inherited locks may be held)."""
        opt = self._opt
        self._pid = os.getpid()
        self._queue: deque[Job] = deque()
        self._lock = threading.Lock()  # guards merging into queued jobs against the intake's pop
        self._cond = threading.Condition(threading.Lock())  # progress, for flush()
        self._wake_intake = threading.Event()
        self._wake_sender = threading.Event()
        self._start_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idents: frozenset[Optional[int]] = frozenset()
        self._intake_busy = False
        self._intake_done = False
        self._sender_busy = False
        self._closed = False
        self._abandoned = False
        self._left_at_close = 0
        self._spooled_at_close = 0
        self._deadline: Optional[float] = None
        self._client: Optional[SendcloudClient] = None
        self._outbox = self._outbox_factory()
        self._summariser = Summariser(opt.summary_window)
        self._bucket = (
            TokenBucket(opt.rate_limit_per_minute / 60.0, opt.rate_limit_burst)
            if opt.rate_limit_per_minute
            else None
        )
        self._pause = Pause(max(opt.backoff_base, 1.0), max(opt.max_backoff, 1.0))
        self._breaker = CircuitBreaker(opt.breaker_threshold, opt.breaker_cooldown, max(opt.max_backoff, 1.0))
        self._auth_refused_until = 0.0
        self._accounts: dict[Any, tuple[Optional[TokenBucket], list[float]]] = {}  # account: (bucket, [refused until])
        self._auth_reported = False
        self._unknown_integrations: set[Any] = set()
        self._last_error = ""

    # caller's side ---------------------------------------------------------------------------------

    def submit(self, job: Job) -> bool:
        """Queue a job without blocking; False (and a counted drop or merge) when full or closed."""
        if self._pid != os.getpid():
            self._after_fork()
        if self._closed:
            self._stats.drop("closed")
            return False
        if len(self._queue) >= self._opt.queue_size:
            return self._merge_or_drop(job)
        self._queue.append(job)
        self._stats.add("queued")
        if not self._threads:
            self._start()
        if not self._wake_intake.is_set():
            self._wake_intake.set()
        return True

    def _merge_or_drop(self, job: Job) -> bool:
        """The queue is full: fold a repeat into a waiting job of its signature, else drop it."""
        self._stats.add("queued")
        key = self._key_of(job)
        created = float(getattr(job.snap, "created", time.time()))
        with self._lock:
            for waiting in reversed(list(self._queue)):
                if waiting.key is None:
                    waiting.key = self._key_of(waiting)
                if waiting.key == key:
                    if not waiting.merged:
                        waiting.first = created
                    waiting.merged += 1
                    waiting.last = created
                    self._stats.add("merged")
                    return True
        self._stats.drop("queue_full", detail=f"queue_size={self._opt.queue_size}")
        return False

    @property
    def thread_idents(self) -> frozenset[Optional[int]]:
        """Idents of the worker threads: their records never re-enter the handler."""
        return self._idents

    def flush(self, timeout: float) -> bool:
        """Wait until every queued record was delivered or finally failed; False on timeout.

        Open storm summaries are not waited for: their windows close on time, or at ``close()``.
        """
        if self._pid != os.getpid():
            return True  # a forked child has nothing of its own queued yet
        if self._abandoned:  # closed: everything was delivered, counted as dropped, or left in the spool
            return self._left_at_close == 0
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while not self._settled():
                if not any(t.is_alive() for t in self._threads):
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.25))
        return True

    def _settled(self) -> bool:
        with self._lock:
            if self._queue or self._intake_busy or self._sender_busy:
                return False
        return self._outbox_unsettled() == 0

    def _outbox_unsettled(self) -> int:
        try:
            return self._outbox.unsettled()
        except Exception:  # noqa: BLE001  # a broken spool must not hang flush()
            logger.debug("could not count the outbox", exc_info=True)
            return 0

    def close(self, timeout: float) -> int:
        """Deliver what is queued within ``timeout`` seconds, then stop; return how many logs were left.

        Open summaries are sent now. Without a spool, what is left is counted (``shutdown``) and reported
        in one stderr line; with a spool it stays on disk for the next start.
        """
        if self._pid != os.getpid():
            self._reset()
        if self._closed:
            return 0
        self._deadline = time.monotonic() + max(0.0, timeout)
        self._closed = True
        self._wake_intake.set()
        self._wake_sender.set()
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                thread.join(max(0.0, self._deadline - time.monotonic()) + 0.05)
        self._abandoned = True  # from here on a late 201 is not counted as sent: its log is counted below
        left = self._account_for_leftovers(timeout)
        self._left_at_close = left + self._spooled_at_close
        return left

    def _account_for_leftovers(self, timeout: float) -> int:
        with self._lock:
            unspooled = len(self._queue) + (1 if self._intake_busy else 0)
            merged = sum(job.merged for job in self._queue)
            self._queue.clear()
        outbox = self._outbox
        waiting = 0 if outbox.persistent else outbox.records()
        left = unspooled + merged + waiting
        why = f"shutdown_timeout of {timeout:g} s passed"
        if self._last_error:
            why += f"; last error: {self._last_error}"
        if left:
            report(f"{left} log(s) were not delivered: {why}")
            self._stats.drop("shutdown", left, detail=why, reported=True)
        if outbox.persistent:
            stays = self._spool_call(outbox.release_claims)
            self._spooled_at_close = stays or 0
            if stays:
                report(f"{stays} log(s) stay in the spool and will be sent by the next process using it")
        if not any(t.is_alive() for t in self._threads):
            client, self._client = self._client, None
            if client is not None:
                client.close()
            outbox.close()
        return left

    def _after_fork(self) -> None:
        # The parent's queue, threads, pooled sockets and spool connections belong to the parent.
        self._reset()
        self._stats.reset()

    def _start(self) -> None:
        with self._start_lock:
            if self._threads:
                return
            threads = [
                threading.Thread(target=self._intake_loop, name=f"{self._name}-intake", daemon=True),
                threading.Thread(target=self._sender_loop, name=f"{self._name}-sender", daemon=True),
            ]
            try:
                for thread in threads:
                    thread.start()
            except RuntimeError as exc:  # interpreter shutting down: no new threads
                self._closed = True
                n = len(self._queue)
                self._queue.clear()
                self._stats.drop("shutdown", n, detail=f"no worker thread could start ({exc})")
                return
            self._threads = threads
            self._idents = frozenset(t.ident for t in threads)

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # intake thread ---------------------------------------------------------------------------------

    def _intake_loop(self) -> None:
        while True:
            self._wake_intake.clear()
            with self._lock:
                job = self._queue.popleft() if self._queue else None
                self._intake_busy = job is not None
            if job is None:
                self._notify()
                if self._closed:
                    self._spool_call(self._outbox.release_waiting)  # close the open summary windows
                    self._summariser.clear()
                    self._intake_done = True
                    self._wake_sender.set()
                    return
                self._wake_intake.wait()
                continue
            try:
                if self._outbox.persistent and self._spool_call(self._outbox.full):
                    self._stats.drop("spool_full", 1 + job.merged, detail="raise spool_max_bytes or check the API")
                    continue
                while self._outbox.full() and not self._closed:
                    self._wake_intake.wait(0.05)  # the sender makes room; meanwhile the caller's queue buffers
                    self._wake_intake.clear()
                self._take_in(job)
            except Exception as exc:  # noqa: BLE001  # one bad record never kills the thread
                logger.debug("could not prepare a log", exc_info=True)
                self._stats.drop("payload_error", 1 + job.merged, detail=f"{type(exc).__name__}: {exc}")
            finally:
                with self._lock:
                    self._intake_busy = False
            self._wake_sender.set()

    def _take_in(self, job: Job) -> None:
        try:
            integration_id, payload = self._prepare(job.snap)
        except MissingBaseURLError as exc:
            self._stats.drop("no_base_url", 1 + job.merged, detail=str(exc))
            return
        except Drop as exc:
            self._stats.drop(exc.reason, 1 + job.merged, detail=exc.detail, reported=exc.reported)
            return
        created = float(job.snap.created)
        outbox = self._outbox
        key = job.key if job.key is not None else self._key_of(job)
        window = self._summariser.offer(key)
        if window is None:  # the first of its window (or summaries are off): send at once
            if job.merged and self._summariser.window > 0:
                outbox.add(integration_id, payload, created)
                opened = self._summariser.offer(key)
                not_before = time.time() + (opened.closes - time.monotonic()) if opened else 0.0
                ref = outbox.add(integration_id, payload, job.last, not_before=not_before, more=job.merged - 1,
                                 first=job.first)
                if opened is not None:
                    opened.ref = ref
                self._stats.add("summarised", job.merged - 1)
            else:
                outbox.add(integration_id, payload, created, more=job.merged, first=job.first or None)
                self._stats.add("summarised", job.merged)
        else:
            folded = window.ref is not None and outbox.fold(window.ref, payload, created, extra=job.merged)
            if folded:
                self._stats.add("summarised", 1 + job.merged)
            else:
                not_before = time.time() + max(0.0, window.closes - time.monotonic())
                window.ref = outbox.add(integration_id, payload, created, not_before=not_before,
                                        more=job.merged, first=job.first or None)
                self._stats.add("summarised", job.merged)
        if outbox.persistent:
            self._stats.add("spooled")

    # sender thread ---------------------------------------------------------------------------------

    def _sender_loop(self) -> None:
        while True:
            if self._closed and (self._past_deadline() or (self._intake_done and self._outbox_unsettled() == 0)):
                return
            wait = self._pacing_delay()
            if wait > 0:
                self._sleep(wait)
                continue
            entry = self._spool_call(self._outbox.claim)
            self._count_expired()
            if entry is None:
                self._notify()
                if self._closed and self._intake_done:
                    nxt = self._spool_call(self._outbox.next_ready)
                    if nxt is None:
                        return
                    self._sleep(min(nxt, 0.05))
                    continue
                nxt = self._spool_call(self._outbox.next_ready)
                idle = 1.0 if self._outbox.persistent else None  # other processes may add to a shared spool
                self._sleep(idle if nxt is None else (nxt if idle is None else min(nxt, idle)))
                continue
            self._sender_busy = True
            try:
                self._deliver(entry)
            except Exception as exc:  # noqa: BLE001  # one bad entry never kills the thread
                logger.debug("unexpected error delivering a log", exc_info=True)
                self._spool_call(self._outbox.done, entry)
                self._stats.drop("payload_error", detail=f"{type(exc).__name__}: {exc}")
            finally:
                self._sender_busy = False
                self._notify()

    def _pacing_delay(self) -> float:
        """Seconds before the next POST may go: 429 pause, open circuit, rate limit."""
        waits = [self._pause.remaining(), self._breaker.remaining()]
        if self._bucket is not None and self._account_of is None:  # per-account buckets are checked per entry
            waits.append(self._bucket.delay())
        if self._outbox.persistent and self._auth_refused_until:
            waits.append(self._auth_refused_until - time.monotonic())
        return max(waits)

    def _deliver(self, entry: Entry) -> None:
        outbox = self._outbox
        if entry.integration_id in self._unknown_integrations:
            outbox.done(entry)
            self._stats.drop("unknown_integration", 1, detail=f"integration {entry.integration_id}")
            return
        bucket, refused_until = self._bucket, self._auth_refused_until
        if self._account_of is not None:
            bucket, refused = self._account(entry)
            refused_until = refused[0]
        if not outbox.persistent and time.monotonic() < refused_until:
            outbox.done(entry)
            self._stats.drop("unauthorized", 1, detail="the API refused the credentials; retrying later")
            return
        if self._breaker.is_open and not self._probe(entry.integration_id):
            self._breaker.failed()
            outbox.retry(entry, 0.0, count_attempt=False)
            return
        if bucket is not None:
            wait = bucket.delay() if self._account_of is not None else 0.0
            if wait > 0:  # this account is at its limit: others' entries go first
                outbox.retry(entry, wait, count_attempt=False)
                return
            bucket.take()
        payload = with_summary(entry.payload, entry.more, entry.first or entry.created, entry.last or entry.created)
        try:
            self._get_client().create_log(entry.integration_id, payload, timeout=self._request_timeout())
        except RateLimitedError as exc:
            seconds = self._pause.pause(exc.retry_after)
            self._last_error = f"{exc} (pausing {seconds:.1f} s)"
            self._stats.add("retried")
            self._stats.add("rate_limited")
            outbox.retry(entry, 0.0, count_attempt=False)
        except (TransportError, ServerError) as exc:
            self._failed(entry, exc)
        except APIError as exc:
            self._refused(entry, exc)
        else:
            outbox.done(entry)
            self._breaker.succeeded()
            self._pause.succeeded()
            if not self._abandoned:
                self._stats.add("sent")
                if entry.more:
                    self._stats.add("summaries_sent")

    def _refused(self, entry: Entry, exc: APIError) -> None:
        """The API answered an error other than 429/5xx: retry what may pass later, drop the rest."""
        outbox = self._outbox
        if isinstance(exc, PayloadTooLargeError):
            outbox.done(entry)
            self._stats.drop("too_large", detail=str(exc))
        elif isinstance(exc, AuthenticationError):
            if self._account_of is None:
                self._auth_refused_until = time.monotonic() + self._opt.auth_retry
            else:
                self._account(entry)[1][0] = time.monotonic() + self._opt.auth_retry
            if outbox.persistent:
                outbox.retry(entry, self._opt.auth_retry, count_attempt=False)
                if not self._auth_reported:
                    self._auth_reported = True
                    report(f"the API refused the credentials ({exc}); spooled logs wait and are retried later")
            else:
                outbox.done(entry)
                hint = "check the handler's keys, OAuth2 client or credentials callable"
                self._stats.drop("unauthorized", detail=f"{exc}; {hint}")
        elif isinstance(exc, NotFoundError):
            self._unknown_integrations.add(entry.integration_id)
            outbox.done(entry)
            self._stats.drop("unknown_integration", detail=f"integration {entry.integration_id}: {exc}")
        elif exc.status in RETRYABLE_STATUS:
            self._failed(entry, exc)
        else:
            outbox.done(entry)
            self._stats.drop("rejected", detail=str(exc))

    def _failed(self, entry: Entry, exc: SendcloudError) -> None:
        """A transport error or 5xx: retry with backoff; an outage opens the circuit and costs no attempt."""
        self._last_error = str(exc)
        self._breaker.failed()
        if self._breaker.is_open:
            self._outbox.retry(entry, 0.0, count_attempt=False)
        elif entry.attempts >= self._opt.max_retries:
            self._outbox.done(entry)
            self._stats.drop("retries_exhausted", detail=self._last_error)
            self._stats.add("failed")
        else:
            self._stats.add("retried")
            delay = backoff(entry.attempts, self._opt.backoff_base, self._opt.max_backoff)
            self._outbox.retry(entry, delay)

    def _probe(self, integration_id: Any) -> bool:
        """Half-open circuit: one cheap GET tells whether the API answers at all."""
        try:
            next(iter(self._get_client().iter_logs(integration_id, page_size=1)), None)
        except (TransportError, ServerError, RateLimitedError) as exc:
            self._last_error = str(exc)
            return False
        except SendcloudError:
            pass  # any other answer means the API is up
        self._breaker.succeeded()
        return True

    def _account(self, entry: Entry) -> tuple[Optional[TokenBucket], list[float]]:
        """The rate-limit bucket and refused-until time of the account an entry is sent with."""
        try:
            account = None if self._account_of is None else self._account_of(entry.integration_id)
        except Exception:  # noqa: BLE001  # an account that cannot be told is paced on its own
            account = ("integration", entry.integration_id)
        state = self._accounts.get(account)
        if state is None:
            rate = self._opt.rate_limit_per_minute
            bucket = TokenBucket(rate / 60.0, self._opt.rate_limit_burst) if rate else None
            state = self._accounts[account] = (bucket, [0.0])
        return state

    def _get_client(self) -> SendcloudClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _spool_call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Outbox calls may hit disk: a locked or broken spool file is logged and retried, never fatal."""
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001
            logger.warning("spool access failed: %s", exc)
            self._last_error = f"spool: {exc}"
            self._sleep(0.2)
            return None

    def _count_expired(self) -> None:
        n = self._outbox.expired()
        if n:
            self._stats.drop("expired", n)

    def _sleep(self, seconds: Optional[float]) -> None:
        """Wait on the sender's Event (``None``: until woken); close() and new entries cut it short."""
        if self._deadline is not None:
            cap = max(0.0, self._deadline - time.monotonic())
            seconds = cap if seconds is None else min(seconds, cap)
        if seconds is None or seconds > 0:
            self._wake_sender.wait(seconds)
        self._wake_sender.clear()

    def _request_timeout(self) -> Optional[float]:
        """While closing, no request may outlive the shutdown deadline."""
        if self._deadline is None:
            return None
        return max(0.05, self._deadline - time.monotonic())

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline
