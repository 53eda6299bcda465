"""``SendcloudHandler``: the ``logging.Handler`` that wires capture, pipeline, worker and client together.

``emit`` runs on the caller's thread: it takes a cheap snapshot of the record, appends it to a bounded
queue and returns. It never touches the network and never raises. Building the payload and sending it
happen on the worker's threads, through two small seams: a ``RecordPipeline`` (capture -> payload, and the
storm signature) for the intake, and a client factory for the sender.

Importing this module costs little beyond requests: the payload, delivery and spool modules are imported
when the first handler is built, so an application that only imports the class, or a CLI
command that never builds one, does not pay for them.
"""

from __future__ import annotations

import functools
import logging
import time
import weakref
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ._capture import capture_record, message
from ._capture.reentry import MAX_DEPTH, Reentry
from ._delivery import exit, fork
from ._delivery.stages import Job, Stages
from ._settings import DEFAULTS, OPTIONS, new_client, resolve
from ._validators import TimeoutArg
from .auth import Credentials, key_pair

if TYPE_CHECKING:
    from ._delivery.outbox import Outbox
    from .client import SendcloudClient

#: Loggers whose records never enter the handler: our own, and the HTTP stack below the client.
OWN_LOGGERS = ("sendcloud_logging", "urllib3", "requests", "charset_normalizer")
#: Logger names whose answer ``_is_own`` remembers; beyond them (records made with ever new names) it asks anew.
OWN_NAMES_KEPT = 1024
_new = tuple.__new__  # a Job from its fields in order, without the keyword-parsing __new__


class SendcloudHandler(logging.Handler):
    """Send error records to Sendcloud's connection issue log, from a background thread.

    Every argument is a keyword with a default, so ``logging.config.dictConfig`` and ``fileConfig`` can
    build it; text such as ``"false"`` or ``"30"`` (what ``fileConfig`` gives) is read as the value it spells.
    A keyword left at None falls back to its environment variable: ``SENDCLOUD_INTEGRATION_ID``,
    ``SENDCLOUD_PUBLIC_KEY``, ``SENDCLOUD_SECRET_KEY``, ``SENDCLOUD_CLIENT_ID``, ``SENDCLOUD_CLIENT_SECRET``,
    ``SENDCLOUD_TOKEN_URL`` and ``SENDCLOUD_API_URL``.

    Args:
        level: Records below this level are ignored (default ERROR).
        integration_id: The Sendcloud integration the logs belong to; a record's
            extra={'integration_id': N} overrides it.
        public_key: API public key.
        secret_key: API secret key.
        client_id: OAuth2 client id (client credentials), instead of public_key/secret_key; the token is
            cached and renewed before it expires and once on a 401.
        client_secret: OAuth2 client secret.
        token_url: OAuth2 token endpoint (default https://account.sendcloud.com/oauth2/token); plain http
            only to loopback hosts.
        credentials: For platforms holding a key pair per merchant: a callable integration_id ->
            (public_key, secret_key), or its dotted path, asked on the worker thread before each POST;
            integration_id is then optional, and pacing and refused keys are kept per key pair.
        api_url: API v3 base URL (default https://panel.sendcloud.sc/api/v3); plain http only to loopback
            hosts.
        base_url: The shop URL used when a record carries none.
        queue_size: Records waiting at most in the caller's queue, and again as logs in the outbox; more are
            dropped and counted (queue_full).
        max_memory_bytes: Bytes the waiting records may hold in memory at most, queue and outbox together (at
            least 1048576); more are dropped and counted (memory_full).
        shutdown_timeout: Seconds close() (and so interpreter exit) may spend delivering what is queued.
        timeout: HTTP timeout in seconds, or a (connect, read) pair.
        max_retries: Retries of a log after a transport error, 408, 429 or 5xx (full-jitter exponential
            backoff).
        max_backoff: Upper bound in seconds of one wait between retries.
        verify: TLS verification: True or a CA bundle path (it cannot be turned off).
        allow_insecure_http: Permit a plain http api_url or token_url to a non-loopback host.
        rate_limit_per_minute: POSTs in any 60 seconds at most (the API's limit); None (or off) turns pacing off.
        rate_limit_burst: POSTs in any one second at most (API: 15).
        summary_window: Seconds in which repeats of one problem become one summary log; 0 turns it off.
        breaker_threshold: Failures in a row that open the circuit (no POSTs, then one probe).
        breaker_cooldown: First wait in seconds of an open circuit; doubles per failed probe up to
            max_backoff.
        spool_path: A SQLite file that keeps logs until the API took them, across crashes and restarts.
        spool_max_bytes: Size of the spool at most; more logs are dropped (spool_full).
        spool_max_age: Seconds a log may wait in the spool before it is dropped (expired).
        redact_keys: More body, form, JSON, XML and query key words to redact besides the defaults; a
            list, or one comma-separated string.
        redact_headers: More header names, or words of names, to redact besides the defaults.
        keep_keys: Keys never redacted: a default word listed here is switched off (token), a full key
            name is kept although it contains a word (token_type).
        keep_headers: The same for headers (WWW-Authenticate).
        redact_defaults: False switches every built-in redaction list off (redact_keys/redact_headers
            still apply).
        send_pii: True sends customers' personal data (e-mail addresses, phone numbers, IP addresses, names,
            street addresses); by default it is redacted.
        before_send: f(payload, record) -> payload or None, called on the worker thread with the redacted
            payload; None drops the record (before_send). A callable or its dotted path.
        max_body_bytes: Bytes of request.payload, response.body and exception at most (at least 1024).
        max_payload_bytes: Bytes of the whole POST body at most (at least 16384); the largest parts are
            cut first.

    Raises:
        ConfigurationError: a ``ValueError`` naming the missing or bad keyword.
    """

    def __init__(  # the defaults are the option table's (``_settings.DEFAULTS``); None means "not given"
        self,
        level: Union[int, str] = DEFAULTS["level"],
        *,
        integration_id: Union[int, str, None] = None,
        public_key: Optional[str] = None,
        secret_key: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        token_url: Optional[str] = None,
        credentials: Union[Credentials, str, None] = None,
        api_url: Optional[str] = None,
        base_url: Optional[str] = None,
        queue_size: int = DEFAULTS["queue_size"],
        max_memory_bytes: int = DEFAULTS["max_memory_bytes"],
        shutdown_timeout: float = DEFAULTS["shutdown_timeout"],
        timeout: TimeoutArg = DEFAULTS["timeout"],
        max_retries: int = DEFAULTS["max_retries"],
        max_backoff: float = DEFAULTS["max_backoff"],
        verify: Union[bool, str] = DEFAULTS["verify"],
        allow_insecure_http: Union[bool, str] = DEFAULTS["allow_insecure_http"],
        rate_limit_per_minute: Optional[float] = DEFAULTS["rate_limit_per_minute"],
        rate_limit_burst: int = DEFAULTS["rate_limit_burst"],
        summary_window: float = DEFAULTS["summary_window"],
        breaker_threshold: int = DEFAULTS["breaker_threshold"],
        breaker_cooldown: float = DEFAULTS["breaker_cooldown"],
        spool_path: Optional[str] = None,
        spool_max_bytes: int = DEFAULTS["spool_max_bytes"],
        spool_max_age: float = DEFAULTS["spool_max_age"],
        redact_keys: Union[list[str], str, None] = None,
        redact_headers: Union[list[str], str, None] = None,
        keep_keys: Union[list[str], str, None] = None,
        keep_headers: Union[list[str], str, None] = None,
        redact_defaults: Union[bool, str] = DEFAULTS["redact_defaults"],
        send_pii: Union[bool, str] = DEFAULTS["send_pii"],
        before_send: Union[Callable[..., Any], str, None] = None,
        max_body_bytes: int = DEFAULTS["max_body_bytes"],
        max_payload_bytes: int = DEFAULTS["max_payload_bytes"],
    ) -> None:
        given = locals()  # first statement: exactly the arguments
        settings = resolve({name: given[name] for name in OPTIONS})
        super().__init__(settings.level)
        # The handler's parts come with the first handler, on the thread that builds it: none is imported
        # later on a worker thread, whose import lock a fork could leave held in the child.
        from . import client  # noqa: F401, PLC0415
        from ._delivery.stats import Stats  # noqa: PLC0415
        from ._delivery.worker import BackgroundWorker  # noqa: PLC0415
        from ._payload.pipeline import RecordPipeline  # noqa: PLC0415

        self._settings = settings
        self._keep_records = settings.before_send is not None  # the hook gets the record: keep it while it waits
        self._max_body_bytes = settings.policy.max_body_bytes  # a body far beyond it is cut at capture
        self._pipeline = RecordPipeline(
            settings.integration_id, settings.base_url, settings.policy, settings.before_send
        )
        spool = self._spooled = settings.spool_path is not None
        self._stats = Stats()
        self._drain: Optional[tuple[float, int]] = None  # how long the last flush() waited, and records queued then
        self._reentry = Reentry(self._count_nested)
        self._own_names: dict[str, bool] = {}  # logger name -> its records are ours (``_is_own``)
        exit.install()  # before any exit: logging.shutdown() must know it is the exit's
        self._worker = BackgroundWorker(
            _weakly(self._stages),  # the worker's threads must not keep the handler alive (see below)
            queue_size=settings.queue_size,
            stats=self._stats,
            start_now=spool,  # a spool may hold what an earlier process left: send it without waiting for a record
        )
        # Dropped without close() (no logger holds it any more): closed when collected, without waiting on the
        # collecting thread, so its threads end after delivering what they hold. Exit is logging.shutdown()'s.
        self._collected = weakref.finalize(
            self, exit.close_later, functools.partial(self._worker.close, settings.shutdown_timeout),
            settings.shutdown_timeout, self._worker.waiting,
        )
        self._collected.atexit = False

    @property
    def integration_id(self) -> Optional[int]:
        """The default integration (``None`` with ``credentials`` when none was given); records may name another."""
        return self._settings.integration_id

    @property
    def api_url(self) -> str:
        """The API v3 base URL logs are sent to."""
        return self._settings.api_url

    @property
    def base_url(self) -> Optional[str]:
        """The shop URL used for records that carry none."""
        return self._settings.base_url

    def handle(self, record: logging.LogRecord) -> bool:
        """Filter the record, then ``emit`` it, without ``logging.Handler.handle``'s I/O lock.

        ``emit`` only appends to the worker's thread-safe queue: the lock would make every logging call
        of every thread take turns for nothing. A record logged while this thread is already in here (a
        filter, Formatter or finalizer that logs, a signal handler) is put aside and handled right after.
        """
        return bool(self._reentry.run(record, self._filtered if self.filters else self._emit))

    def emit(self, record: logging.LogRecord) -> None:
        """Capture the record and queue it; never blocks on the network, never raises.

        Only copies of what may change after the call are taken here (``capture_record``); the snapshot,
        the payload, redaction and JSON are built on the worker thread.
        """
        self._reentry.run(record, self._emit)

    def _filtered(self, record: logging.LogRecord) -> bool:
        rv = self.filter(record)
        if isinstance(rv, logging.LogRecord):  # Python 3.12+: a filter may hand back a replacement record
            record = rv
        if rv:
            self._emit(record)
        return bool(rv)

    def _emit(self, record: logging.LogRecord) -> bool:
        """``emit``'s work; True: the record was handled (``handle`` says so to ``logging``)."""
        try:
            name = record.name
            try:
                own = self._own_names[name]
            except (KeyError, TypeError):  # a logger name seen for the first time (or no name at all)
                own = self._is_own(name)
            if own:
                return True
            if record.thread in self._worker.thread_idents:  # logged by user code the worker runs: it would loop
                self._stats.add("queued")  # accepted, so queued = sent + summarised + dropped holds
                self._stats.drop("own_thread", detail=f"logger {name!r}")
                return True
            # The formatted message, never a traceback: merchants read it. Without a formatter, what
            # message() does first, unless the record's %-arguments do not fit its template.
            formatter = self.formatter
            if formatter is None:
                try:
                    text = record.getMessage()
                except Exception:  # noqa: BLE001  # message() shows the template and what was given
                    text = message(record)
            else:
                text = message(record, formatter)
            capture = capture_record(record, text, keep_record=self._keep_records, max_body_bytes=self._max_body_bytes)
            self._worker.submit(_new(Job, (capture, record.msg)))
        except Exception:  # noqa: BLE001  # the caller never sees our errors; logging reports them
            self.handleError(record)
        return True

    def flush(self, timeout: Optional[float] = None) -> bool:  # type: ignore[override]  # public API returns bool
        """Wait until everything queued was delivered or finally failed.

        Args:
            timeout: Seconds to wait at most; ``None`` means ``shutdown_timeout``.

        Returns:
            True when nothing is left queued or in flight.
        """
        if timeout is not None:
            return self._worker.flush(float(timeout))
        if exit.holds_logging_lock():  # dictConfig/fileConfig replacing us: close() hands the wait to a thread
            return self._worker.flush(0.0)
        queued, began = self._queued(), time.monotonic()
        if exit.exiting():
            done = self._exit_wait(self._settings.shutdown_timeout)
        else:
            done = self._worker.flush(self._settings.shutdown_timeout)
        self._drain = (time.monotonic() - began, queued)
        return done

    def close(self) -> None:
        """Deliver what is queued within ``shutdown_timeout``, then stop the worker.

        ``logging.shutdown()`` calls this at interpreter exit, right after ``flush()``: a close that follows a
        ``flush()`` with nothing logged in between continues that flush's wait, so the pair costs one
        ``shutdown_timeout``. What cannot be delivered in time is counted as dropped (``shutdown``) and
        reported in one line on stderr.
        """
        spent = 0.0
        if self._drain is not None and self._drain[1] == self._queued():
            spent = self._drain[0]  # the flush's own wait, not the time since: an early flush() costs nothing
        timeout = self._settings.shutdown_timeout
        self._collected.detach()
        try:
            if exit.holds_logging_lock():  # reconfiguration: the worker may need that lock to finish (exit.py)
                closing = functools.partial(self._worker.close, timeout, spent=spent)
                exit.close_later(closing, timeout - spent, self._worker.waiting)
            elif exit.exiting():
                self._exit_close(timeout, spent)
            else:
                self._worker.close(timeout, spent=spent)
        finally:
            super().close()

    def stats(self) -> dict[str, Any]:
        """Counters: queued, sent, retried, failed, summarised, and dropped by reason."""
        return self._stats.snapshot()

    def __repr__(self) -> str:
        level = logging.getLevelName(self.level)
        return f"<{type(self).__name__} integration_id={self._settings.integration_id} ({level})>"

    def _exit_wait(self, timeout: float) -> bool:
        """``flush()`` at exit: announced when it lasts, and Ctrl-C drops what is left with a count."""
        try:
            worker = self._worker
            return exit.wait_explained(worker.flush, timeout, worker.waiting, timeout, spooled=self._spooled)
        except KeyboardInterrupt:
            self._exit_close(0.0, 0.0, why=exit.INTERRUPTED)
            return False

    def _exit_close(self, timeout: float, spent: float, why: Optional[str] = None) -> None:
        """``close()`` at exit: the wait is announced as ``flush()``'s is, and Ctrl-C never ends in a traceback."""
        shown = self._settings.shutdown_timeout
        try:
            if self._worker.closed:  # Ctrl-C during flush() closed it already
                return
            if why is None and timeout - spent > 0 and not self._worker.flush(0.0):
                began = time.monotonic()
                worker = self._worker
                exit.wait_explained(worker.flush, timeout - spent, worker.waiting, shown, spooled=self._spooled)
                spent += time.monotonic() - began
            self._worker.close(timeout, spent=spent, why=why)
        except KeyboardInterrupt:
            self._worker.close(0.0, why=exit.INTERRUPTED)  # counts what is left, unless the close already did

    def _queued(self) -> int:
        """Records handed to the worker so far: a flush() and a close() with none in between are one drain."""
        return int(self._stats.snapshot()["queued"])

    def _is_own(self, name: object) -> bool:
        """Records of this library and the HTTP stack below it would loop; they are not the application's.

        Remembered per logger name (``_own_names``, read first by ``_emit``): a process has few of them.
        """
        own = str(name).partition(".")[0] in OWN_LOGGERS
        if type(name) is str and len(self._own_names) < OWN_NAMES_KEPT:
            self._own_names[name] = own
        return own

    def _count_nested(self, n: int) -> None:
        """Records caused by handling records, beyond ``reentry.MAX_DEPTH`` levels: counted, not handled."""
        self._stats.add("queued", n)  # accepted, so queued = sent + summarised + dropped holds
        self._stats.drop("own_thread", n, detail=f"logged while handling a log, {MAX_DEPTH} levels deep")

    def _stages(self) -> Stages:
        """One worker's intake and sender over a fresh outbox (again in a forked child).

        In a child of multiprocessing, which ends without ``logging.shutdown()``, the handler is also closed
        at the child's end (``fork.py``).
        """
        from ._delivery.budget import MemoryBudget  # noqa: PLC0415
        from ._delivery.intake import Intake  # noqa: PLC0415
        from ._delivery.outbox import MemoryOutbox  # noqa: PLC0415
        from ._delivery.sender import Sender  # noqa: PLC0415
        from ._delivery.spool import SpoolOutbox  # noqa: PLC0415  # sqlite3 only for a handler with a spool

        s = self._settings
        fork.at_child_exit(functools.partial(_close_if_alive, weakref.ref(self)))
        # one bound in bytes over the caller's queue (a slot per record it holds) and the outbox
        budget = MemoryBudget(s.max_memory_bytes, queue_slots=s.queue_size)
        outbox: Outbox
        if s.spool_path is None:
            outbox = MemoryOutbox(s.queue_size, budget=budget)
        else:
            outbox = SpoolOutbox(s.spool_path, s.spool_max_bytes, s.spool_max_age, budget=budget)
        # The stages hold settings, never the handler: the threads that run them keep them alive.
        account_of = None if s.credentials is None else functools.partial(_account_of, s.credentials)
        return Stages(
            Intake(self._pipeline, outbox, self._stats, window=s.summary_window, budget=budget),
            Sender(functools.partial(new_client, s), outbox, self._stats, s.delivery, account_of=account_of),
        )

    def _new_client(self) -> SendcloudClient:
        return new_client(self._settings)


def _weakly(method: Callable[[], Stages]) -> Callable[[], Stages]:
    """``method`` of an object, called through a weak reference: the caller does not keep the object alive."""
    ref = weakref.WeakMethod(method)

    def call() -> Stages:
        bound = ref()
        if bound is None:
            raise ReferenceError("the handler was garbage-collected")
        return bound()

    return call


def _account_of(credentials: Optional[Credentials], integration_id: Any) -> Hashable:
    """The key pair's public key an integration's logs go with: pacing and refusals are kept per account."""
    try:
        pair = credentials(integration_id) if credentials is not None else None
    except Exception:  # noqa: BLE001  # the client reports this when it sends; here only the account is sought
        pair = None
    keys = key_pair(pair)
    return keys[0] if keys is not None else ("integration", integration_id)



def _close_if_alive(ref: weakref.ref[SendcloudHandler]) -> None:
    """Close the handler ``ref`` points to, unless it is gone; for the end of a multiprocessing child."""
    handler = ref()
    if handler is not None:
        handler.close()
