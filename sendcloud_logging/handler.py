"""``SendcloudHandler``: the ``logging.Handler`` that wires snapshot, queue, worker and client together.

``emit`` runs on the caller's thread: it takes a cheap snapshot of the record, appends it to a bounded
queue and returns. It never touches the network and never raises. Building the payload and sending it
happen on the worker thread.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any, Optional, Union

from ._types import Payload
from .client import SendcloudClient, TimeoutArg
from .config import Settings, resolve
from .extract import Snapshot, snapshot_record
from .outbox import MemoryOutbox, Outbox
from .payload import build_payload
from .spool import SpoolOutbox
from .stats import Stats
from .summary import Signature, snapshot_signature
from .worker import Job, Worker

#: Loggers whose records never enter the handler: our own, and the HTTP stack below the client.
OWN_LOGGERS = ("sendcloud_logging", "urllib3", "requests", "charset_normalizer")


class SendcloudHandler(logging.Handler):
    """Send error records to Sendcloud's connection issue log, from a background thread.

    Every argument is a keyword with a default, so ``logging.config.dictConfig`` and ``fileConfig`` can
    build it. ``integration_id``, ``public_key``, ``secret_key`` and ``api_url`` fall back to the
    environment variables ``SENDCLOUD_INTEGRATION_ID``, ``SENDCLOUD_PUBLIC_KEY``, ``SENDCLOUD_SECRET_KEY``
    and ``SENDCLOUD_API_URL``.

    Args:
        level: Records below this level are ignored (default ERROR).
        integration_id: The Sendcloud integration the logs belong to.
        public_key: API public key.
        secret_key: API secret key.
        api_url: API v3 base URL (default ``https://panel.sendcloud.sc/api/v3``).
        base_url: The shop URL used when a record carries none.
        queue_size: Records waiting at most; more are dropped and counted (``queue_full``).
        shutdown_timeout: Seconds ``close()`` (and so interpreter exit) may spend delivering what is queued.
        timeout: HTTP timeout in seconds, or a (connect, read) pair.
        max_retries: Retries of a log after a transport error, 408 or 5xx (full-jitter exponential backoff).
        max_backoff: Upper bound in seconds of one wait between retries.
        verify: TLS verification: ``True`` or a CA bundle path (it cannot be turned off).
        allow_insecure_http: Permit a plain http ``api_url`` to a non-loopback host.
        rate_limit_per_minute: POSTs a minute at most (API: 100); ``None`` turns pacing off.
        rate_limit_burst: POSTs that may go at once after a quiet spell (API: 15 a second).
        summary_window: Seconds in which repeats of one problem become one summary log; 0 turns it off.
        breaker_threshold: Failures in a row that open the circuit (no POSTs, then one probe).
        breaker_cooldown: First wait in seconds of an open circuit; doubles per failed probe up to max_backoff.
        spool_path: A SQLite file that keeps logs until the API took them, across crashes and restarts.
        spool_max_bytes: Size of the spool at most; more logs are dropped (``spool_full``).
        spool_max_age: Seconds a log may wait in the spool before it is dropped (``expired``).

    Raises:
        ConfigurationError: a ``ValueError`` naming the missing or bad keyword.
    """

    def __init__(
        self,
        level: Union[int, str] = logging.ERROR,
        *,
        integration_id: Union[int, str, None] = None,
        public_key: Optional[str] = None,
        secret_key: Optional[str] = None,
        api_url: Optional[str] = None,
        base_url: Optional[str] = None,
        queue_size: int = 1000,
        shutdown_timeout: float = 5.0,
        timeout: TimeoutArg = None,
        max_retries: int = 5,
        max_backoff: float = 30.0,
        verify: Union[bool, str] = True,
        allow_insecure_http: bool = False,
        rate_limit_per_minute: Optional[float] = 100,
        rate_limit_burst: int = 15,
        summary_window: float = 60.0,
        breaker_threshold: int = 5,
        breaker_cooldown: float = 1.0,
        spool_path: Optional[str] = None,
        spool_max_bytes: int = 50 * 1024 * 1024,
        spool_max_age: float = 7 * 24 * 3600.0,
    ) -> None:
        settings = resolve(
            integration_id=integration_id,
            public_key=public_key,
            secret_key=secret_key,
            api_url=api_url,
            base_url=base_url,
            queue_size=queue_size,
            shutdown_timeout=shutdown_timeout,
            timeout=timeout,
            max_retries=max_retries,
            max_backoff=max_backoff,
            verify=verify,
            allow_insecure_http=allow_insecure_http,
            rate_limit_per_minute=rate_limit_per_minute,
            rate_limit_burst=rate_limit_burst,
            summary_window=summary_window,
            breaker_threshold=breaker_threshold,
            breaker_cooldown=breaker_cooldown,
            spool_path=spool_path,
            spool_max_bytes=spool_max_bytes,
            spool_max_age=spool_max_age,
        )
        super().__init__(level)
        self._settings = settings
        self._defaults: Payload = {"base_url": settings.base_url} if settings.base_url else {}
        self._stats = Stats()
        self._flush_gave_up: Optional[float] = None
        self._worker = Worker(
            self._prepare,
            self._key_of,
            self._new_client,
            self._new_outbox,
            stats=self._stats,
            options=settings.delivery,
            start_now=settings.spool_path is not None,
        )

    @property
    def integration_id(self) -> int:
        return self._settings.integration_id

    @property
    def api_url(self) -> str:
        return self._settings.api_url

    @property
    def base_url(self) -> Optional[str]:
        return self._settings.base_url

    def emit(self, record: logging.LogRecord) -> None:
        """Snapshot the record and queue it; never blocks on the network, never raises."""
        try:
            if self._is_own(record):
                return
            self._worker.submit(Job(snapshot_record(record, self._message(record)), record.msg))
        except Exception:  # noqa: BLE001  # the caller never sees our errors; logging reports them
            self.handleError(record)

    def flush(self, timeout: Optional[float] = None) -> bool:  # type: ignore[override]  # public API returns bool
        """Wait until everything queued was delivered or finally failed.

        Args:
            timeout: Seconds to wait at most; ``None`` means ``shutdown_timeout``.

        Returns:
            True when nothing is left queued or in flight.
        """
        if timeout is not None:
            return self._worker.flush(float(timeout))
        done = self._worker.flush(self._settings.shutdown_timeout)
        # logging.shutdown() calls flush() then close(): together they keep to one shutdown_timeout.
        self._flush_gave_up = None if done else time.monotonic()
        return done

    def close(self) -> None:
        """Deliver what is queued within ``shutdown_timeout``, then stop the worker.

        ``logging.shutdown()`` calls this at interpreter exit. What cannot be delivered in time is counted
        as dropped (``shutdown``) and reported in one line on stderr.
        """
        budget = self._settings.shutdown_timeout
        if self._flush_gave_up is not None and time.monotonic() - self._flush_gave_up < 1.0:
            budget = min(budget, 0.2)  # flush() just spent the budget; only open summaries may still go
        try:
            self._worker.close(budget)
        finally:
            super().close()

    def stats(self) -> dict[str, Any]:
        """Counters: queued, sent, retried, failed, summarised, and dropped by reason."""
        return self._stats.snapshot()

    def __repr__(self) -> str:
        level = logging.getLevelName(self.level)
        return f"<{type(self).__name__} integration_id={self._settings.integration_id} ({level})>"

    # internals -------------------------------------------------------------------------------------

    def _is_own(self, record: logging.LogRecord) -> bool:
        """Records of this library, its worker thread and the HTTP stack below it would loop."""
        if str(record.name).partition(".")[0] in OWN_LOGGERS:
            return True
        return record.thread in self._worker.thread_idents

    def _message(self, record: logging.LogRecord) -> str:
        """The formatted message, never a traceback: merchants read it."""
        if self.formatter is None:
            return record.getMessage()
        bare = copy.copy(record)
        bare.exc_info = None
        bare.exc_text = None
        bare.stack_info = None
        return self.formatter.format(bare)

    def _prepare(self, snap: Snapshot) -> tuple[Any, Payload]:
        integration_id = snap.integration_id or self._settings.integration_id
        return integration_id, build_payload(snap, self._defaults)

    def _key_of(self, job: Job) -> Signature:
        return snapshot_signature(job.snap, self._settings.integration_id, self._settings.base_url, job.template)

    def _new_outbox(self) -> Outbox:
        s = self._settings
        if s.spool_path is None:
            return MemoryOutbox(s.delivery.queue_size)
        return SpoolOutbox(s.spool_path, s.spool_max_bytes, s.spool_max_age)

    def _new_client(self) -> SendcloudClient:
        s: Settings = self._settings
        return SendcloudClient(
            public_key=s.public_key,
            secret_key=s.secret_key,
            api_url=s.api_url,
            timeout=s.timeout,
            verify=s.verify,
            allow_insecure_http=s.allow_insecure_http,
        )
