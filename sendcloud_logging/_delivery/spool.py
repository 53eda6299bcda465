"""A disk spool in SQLite (WAL mode): logs survive crashes, restarts and API outages.

A payload is written here by the intake thread moments after ``emit`` and removed only when the API
answered 201 or refused it for good. Several processes (gunicorn workers) may share one file: a row is
claimed by one spool (process) at a time (``claimed_by``) inside ``BEGIN IMMEDIATE``, so no row is sent
twice while its claimer lives; a claim of a dead process (same host) or past its lease is taken over.

Guarantee: at least once. A process killed after the API stored a log but before the row was deleted sends
that log again at the next start (the API has no idempotency key).

Faults of the disk never drop everything: when SQLite fails (disk full, corrupt pages, a read-only or
deleted file, any ``sqlite3.Error``), the log waits in a memory fallback (``MemoryOutbox``) and is sent from
there; one stderr line says why, and ``stats()`` counts it under ``spool_error``. Each later log tries the
disk first again. A ``spool_path`` that cannot be a spool at all is refused at construction
(``spool_file``), with nothing left open.

Clocks: rows keep wall-clock times (``not_before``, ``created``), which other processes can read, and, for
the spool that wrote them, monotonic ones (``due``, ``born``) tagged with its ``run``. A spool judges its
own rows by the monotonic clock, so a wall clock set back an hour holds no retry, and one set forward
eight days expires nothing fresh; rows of other runs are judged by the wall clock.

Files are private: the spool is created mode 0600 whatever the umask, and SQLite gives its ``-wal`` and
``-shm`` files the same mode.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from typing import Any, Callable, Optional

from .._diagnostics import logger, report
from .._types import Drop, Payload, dumps
from .._validators import optional_path
from ..errors import ConfigurationError
from .budget import MemoryBudget
from .outbox import Entry, Latest, Leftovers, MemoryOutbox, latest_size

Clock = Callable[[], float]

SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created REAL NOT NULL,
    more INTEGER NOT NULL DEFAULT 0,
    first REAL,
    last REAL,
    not_before REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    held INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed_until REAL
);
CREATE INDEX IF NOT EXISTS spool_ready ON spool (not_before, id);
"""

#: Columns added since the first schema: a spool file of an older version gains them at open.
#: ``run``/``due``: which spool scheduled the row and when it is due on that spool's monotonic clock;
#: ``born_run``/``born``: which spool wrote it and the record's time on that spool's monotonic clock.
NEW_COLUMNS = {"run": "TEXT", "due": "REAL", "born_run": "TEXT", "born": "REAL"}

#: What SQLite or the file system raise when the spool cannot do its work.
FAULTS = (sqlite3.Error, OSError)

#: Record states of the memory fallback's entries, by the ref the fallback gives them.
_FALLBACK_TAG = "memory"


def spool_file(key: str, value: Any) -> Optional[str]:
    """A ``spool_path`` that can be a spool, or None: refused at construction with a ``ConfigurationError``.

    A missing directory, a directory, a file that is not a SQLite database, or one that cannot be read.
    A missing file is created (mode 0600); nothing stays open.
    """
    path = optional_path(key, value)
    if path is None:
        return None
    problem = _unusable(path)
    if problem is not None:
        raise ConfigurationError(key, f"{path!r} {problem}")
    return path


def _unusable(path: str) -> Optional[str]:
    if os.path.isdir(path):
        return "is a directory; give the path of a file in it"
    if os.path.exists(path) and not os.path.isfile(path):
        return "is not a regular file (a device, a pipe or a socket)"
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        return f"cannot be created: its directory {directory!r} does not exist"
    conn: Optional[sqlite3.Connection] = None
    try:
        _create_private(path)
        conn = sqlite3.connect(path, timeout=5.0)
        conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()  # reads the header and the schema
    except FAULTS as exc:
        return f"cannot be used as a SQLite spool ({type(exc).__name__}: {exc})"
    finally:
        if conn is not None:
            conn.close()
    return None


def _create_private(path: str) -> None:
    """Create the spool file with mode 0600 if it does not exist (a umask can only narrow ``0o600``)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _parse_owner(owner: str) -> tuple[str, str]:
    """The host and pid of a claim: ``host:pid:run`` (or ``host:pid`` of older versions)."""
    parts = owner.split(":")
    if len(parts) >= 3 and not parts[-1].isdigit():
        return ":".join(parts[:-2]), parts[-2]
    host, _, pid = owner.rpartition(":")
    return host, pid


def _owner_alive(owner: Optional[str], host: str) -> bool:
    """Whether the process named in a claim still runs (only knowable on this host)."""
    if not owner:
        return False
    owner_host, pid_text = _parse_owner(owner)
    if owner_host != host or not pid_text.isdigit():
        return True  # another host: trust the lease
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SpoolOutbox:
    """The outbox contract (see ``outbox.py``) over one SQLite file shared by processes.

    ``clock`` is wall-clock time (default ``time.time``, read at each call): ``not_before``, leases and ages
    as other processes read them. ``monotonic`` times this spool's own rows (default ``time.monotonic``): a
    step of ``clock`` alone moves none of their schedules or ages. ``fallback_entries``: entries the memory fallback
    keeps while the disk fails. ``on_connect``: called with each new SQLite connection (a test's seam to make
    the disk fail).
    """

    idle_poll: Optional[float] = 1.0  # other processes may add rows to a shared spool

    def __init__(
        self,
        path: str,
        max_bytes: int,
        max_age: float,
        lease: float = 120.0,
        clock: Optional[Clock] = None,
        *,
        monotonic: Optional[Clock] = None,
        fallback_entries: int = 1000,
        on_connect: Optional[Callable[[sqlite3.Connection], None]] = None,
        budget: Optional[MemoryBudget] = None,
    ) -> None:
        self.path = path
        self._clock: Clock = clock or _wall
        self._mono: Clock = monotonic or time.monotonic
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.lease = lease
        self._on_connect = on_connect
        self._host = socket.gethostname()
        self._token = uuid.uuid4().hex[:12]
        self._local = threading.local()
        self._conns: list[tuple[int, sqlite3.Connection]] = []  # (pid, connection) of every thread, for close()
        self._conns_lock = threading.Lock()
        self._closed = False
        self.closed_out = False
        self._expired = 0
        self._expired_lock = threading.Lock()
        self._budget = budget  # the memory bound: for the fallback's entries and the kept latest repeats
        self._fallback = MemoryOutbox(max(1, fallback_entries), clock=self._mono, tag=_FALLBACK_TAG, budget=budget)
        self._fault_reported = False
        self._undeleted: set[int] = set()  # rows sent whose delete failed: never claimed again by this spool
        self._unreadable: set[int] = set()  # rows whose payload is damaged: skipped
        #: Summary rows' latest repeat, built when the row is sent; in memory only (the row keeps an earlier one).
        self._latest: dict[int, Latest] = {}
        try:
            _create_private(path)
            db = self._db()
            db.executescript(SCHEMA)
            have = {row[1] for row in db.execute("PRAGMA table_info(spool)").fetchall()}
            for name, kind in NEW_COLUMNS.items():
                if name not in have:
                    db.execute(f"ALTER TABLE spool ADD COLUMN {name} {kind}")
        except FAULTS as exc:
            self.close()
            raise ConfigurationError(
                "spool_path", f"{path!r} cannot be used as a SQLite spool ({type(exc).__name__}: {exc})"
            ) from exc

    @property
    def _owner(self) -> str:
        """This spool in this process: claims and schedules carry it (a forked child is another run)."""
        return f"{self._host}:{os.getpid()}:{self._token}"

    @property
    def counts_as(self) -> Optional[str]:
        """``spooled`` for a record the last ``add``/``fold`` of this thread wrote to disk, ``spool_error``
        for one that went to the memory fallback (the intake reads it right after, on the same thread)."""
        return "spool_error" if getattr(self._local, "fell_back", False) else "spooled"

    def _db(self) -> sqlite3.Connection:
        """One connection a thread and a process (a forked child must not reuse its parent's)."""
        conn: Optional[sqlite3.Connection] = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            if self._closed:  # a thread left behind at close: it must not open a connection nobody closes
                raise sqlite3.ProgrammingError("the spool is closed")
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            with self._conns_lock:
                self._conns.append((os.getpid(), conn))
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            if self._on_connect is not None:
                self._on_connect(conn)
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    def _fault(self, exc: BaseException) -> None:
        """The disk failed: say so once on stderr, then at DEBUG; the caller falls back to memory."""
        if not self._fault_reported:
            self._fault_reported = True
            report(
                f"the disk spool {self.path!r} failed ({type(exc).__name__}: {exc}); logs wait in memory until "
                "it works again (counted as spool_error in stats())"
            )
            logger.warning("spool access failed: %s", exc)
        else:
            logger.debug("spool access failed: %s", exc)

    def _is_fallback(self, entry_or_ref: Any) -> bool:
        ref = entry_or_ref.ref if isinstance(entry_or_ref, Entry) else entry_or_ref
        return isinstance(ref, tuple) and ref[:1] == (_FALLBACK_TAG,)

    def __len__(self) -> int:
        try:
            spooled = int(self._db().execute("SELECT COUNT(*) FROM spool").fetchone()[0])
        except FAULTS as exc:
            self._fault(exc)
            spooled = 0
        return spooled + len(self._fallback)

    def records(self) -> int:
        """Log records behind the rows: a summary row stands for ``1 + more`` of them."""
        try:
            spooled = int(self._db().execute("SELECT COALESCE(SUM(1 + more), 0) FROM spool").fetchone()[0])
        except FAULTS as exc:
            self._fault(exc)
            spooled = 0
        return spooled + self._fallback.records()

    def size_bytes(self) -> int:
        """Bytes in use by the database (pages minus free pages), the measure of ``max_bytes``."""
        db = self._db()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def full(self) -> bool:
        """At ``max_bytes``: ``add`` then drops and counts (``spool_full``)."""
        return self.size_bytes() >= self.max_bytes

    def has_room(self) -> bool:
        """Always: a full spool drops what is over its size (``add``) rather than stall the intake."""
        return True

    def add(self, integration_id: Any, payload: Payload, created: float, *, hold_for: float = 0.0) -> Any:
        """See ``Outbox.add``: one row, committed before this returns; ``Drop`` when the spool is full.

        When the disk fails the entry goes to the memory fallback (``Drop('spool_error')`` only when that is
        full too).
        """
        self._local.fell_back = False
        try:
            if self.full():
                raise Drop("spool_full", "raise spool_max_bytes or check the API")
            text = dumps(payload)
            wall, mono = self._clock(), self._mono()
            held = hold_for > 0
            cur = self._db().execute(
                "INSERT INTO spool (integration_id, payload, created, not_before, held, run, due, born_run, born)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(integration_id), text, created, wall + hold_for if held else 0.0, 1 if held else 0,
                    self._owner, mono + hold_for if held else 0.0, self._owner, mono - max(0.0, wall - created),
                ),
            )
            return int(cur.lastrowid or 0)
        except FAULTS as exc:
            self._fault(exc)
            return self._to_memory(exc, integration_id, payload, created, hold_for)

    def _to_memory(self, exc: BaseException, integration_id: Any, payload: Payload, created: float,
                   hold_for: float) -> Any:
        if self._fallback.full():
            raise Drop(
                "spool_error",
                f"{type(exc).__name__}: {exc}; the memory fallback holds {len(self._fallback)} logs already",
            ) from exc
        self._local.fell_back = True
        return self._fallback.add(integration_id, payload, created, hold_for=hold_for)

    def fold(self, ref: Any, created: float, payload: Optional[Payload] = None, *,
             latest: Optional[Latest] = None) -> bool:
        """See ``Outbox.fold``: only an unclaimed row is folded into.

        A ``latest`` is kept in memory beside the row: after a crash the row is sent with an earlier repeat.
        """
        if self._is_fallback(ref):
            folded = self._fallback.fold(ref, created, payload, latest=latest)
            self._local.fell_back = True
            return folded
        self._local.fell_back = False
        text = None if payload is None else dumps(payload)
        try:
            cur = self._db().execute(
                "UPDATE spool SET more = more + 1, payload = COALESCE(?, payload), first = COALESCE(first, created),"
                " created = ?, last = ? WHERE id = ? AND claimed_by IS NULL",
                (text, created, created, ref),
            )
        except FAULTS as exc:
            self._fault(exc)
            return False  # the intake starts a new summary, which goes to memory if the disk still fails
        if cur.rowcount != 1:
            return False
        if payload is not None:
            self._forget_latest(ref)
        elif latest is not None and (self._budget is None or self._budget.take(latest_size(latest))):
            self._forget_latest(ref)
            self._latest[ref] = latest
        return True

    def _forget_latest(self, ref: Any) -> None:
        kept = self._latest.pop(ref, None)
        if kept is not None and self._budget is not None:
            self._budget.give(latest_size(kept))

    def claim(self) -> Optional[Entry]:
        """See ``Outbox.claim``: the memory fallback's entries first (they die with the process), then the rows."""
        entry = self._fallback.claim()
        if entry is not None:
            return entry
        try:
            return self._claim_row()
        except FAULTS as exc:
            self._fault(exc)
            return None

    def _claim_row(self) -> Optional[Entry]:
        """In a ``BEGIN IMMEDIATE`` transaction; claims of dead owners, or past their lease, are taken over."""
        wall, mono, me = self._clock(), self._mono(), self._owner
        db = self._db()
        for ref in list(self._undeleted):
            db.execute("DELETE FROM spool WHERE id = ?", (ref,))
            self._undeleted.discard(ref)
        db.execute("BEGIN IMMEDIATE")
        try:
            if self.max_age > 0:
                gone = db.execute(
                    "DELETE FROM spool WHERE claimed_by IS NULL AND ("
                    " (born_run = ? AND born < ?) OR (born_run IS NOT ? AND created < ?))",
                    (me, mono - self.max_age, me, wall - self.max_age),
                ).rowcount
                if gone:
                    with self._expired_lock:
                        self._expired += gone
            rows = db.execute(
                "SELECT id, integration_id, payload, created, more, first, last, not_before, attempts,"
                " claimed_by, claimed_until FROM spool"
                " WHERE (run = ? AND due <= ?) OR (run IS NOT ? AND not_before <= ?) ORDER BY id LIMIT 50",
                (me, mono, me, wall),
            ).fetchall()
            for row in rows:
                owner, until = row[9], row[10]
                if owner and until and until > wall and (owner == me or _owner_alive(owner, self._host)):
                    continue  # in flight here, or claimed by a live process within its lease
                if row[0] in self._unreadable:
                    continue
                try:
                    data = json.loads(row[2])
                except ValueError:  # a damaged row must not stop the rows behind it; spool_max_age ends it
                    self._unreadable.add(row[0])
                    logger.warning("spool row %s is not readable JSON; it is left until it expires", row[0])
                    continue
                db.execute(
                    "UPDATE spool SET claimed_by = ?, claimed_until = ?, held = 0 WHERE id = ?",
                    (me, wall + self.lease, row[0]),
                )
                db.execute("COMMIT")
                return Entry(
                    ref=row[0],
                    integration_id=_integration(row[1]),
                    payload=data,
                    created=row[3],
                    more=row[4],
                    first=row[5],
                    last=row[6],
                    not_before=row[7],
                    attempts=row[8],
                    latest=self._latest.get(row[0]),
                )
            db.execute("COMMIT")
            return None
        except BaseException:
            with contextlib.suppress(*FAULTS):  # no transaction left open: nothing to roll back
                db.execute("ROLLBACK")
            raise

    def done(self, entry: Entry) -> None:
        """See ``Outbox.done``: the row is deleted (later, if the disk fails now: never claimed again here)."""
        if self._is_fallback(entry):
            self._fallback.done(entry)
            return
        self._forget_latest(entry.ref)
        try:
            self._db().execute("DELETE FROM spool WHERE id = ?", (entry.ref,))
        except FAULTS as exc:
            self._fault(exc)
            self._undeleted.add(entry.ref)

    def retry(self, entry: Entry, delay: float, *, count_attempt: bool = True) -> None:
        """See ``Outbox.retry``: the claim is given up and the row waits ``delay`` seconds.

        If the disk fails now the row keeps its claim, which is taken over once its lease has passed.
        """
        if self._is_fallback(entry):
            self._fallback.retry(entry, delay, count_attempt=count_attempt)
            return
        entry.attempts += 1 if count_attempt else 0
        delay = max(0.0, delay)
        try:
            self._db().execute(
                "UPDATE spool SET claimed_by = NULL, claimed_until = NULL, attempts = ?, not_before = ?, run = ?,"
                " due = ? WHERE id = ?",
                (entry.attempts, self._clock() + delay, self._owner, self._mono() + delay, entry.ref),
            )
        except FAULTS as exc:
            self._fault(exc)

    def release_waiting(self) -> None:
        """See ``Outbox.release_waiting``, for the rows and the memory fallback."""
        self._fallback.release_waiting()
        try:
            self._db().execute(
                "UPDATE spool SET not_before = 0, due = 0, held = 0"
                " WHERE (not_before > 0 OR due > 0) AND claimed_by IS NULL"
            )
        except FAULTS as exc:
            self._fault(exc)

    def close_out(self) -> Leftovers:
        """Give back this spool's claims so another process may send them; every row stays on disk.

        What waits in the memory fallback is lost with the process.
        """
        self.closed_out = True
        memory = self._fallback.close_out()
        self._store_latest()
        try:
            db = self._db()
            db.execute("UPDATE spool SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?", (self._owner,))
            kept = int(db.execute("SELECT COUNT(*) FROM spool").fetchone()[0])
        except FAULTS as exc:
            self._fault(exc)
            kept = 0
        return Leftovers(lost=memory.lost, kept=kept, folded=memory.folded)

    def _store_latest(self) -> None:
        """At close: the rows that stay take their latest repeat's payload along to the next process."""
        latest, self._latest = self._latest, {}
        if self._budget is not None:
            self._budget.give(sum(latest_size(build) for build in latest.values()))
        for ref, build in latest.items():
            try:
                text = dumps(build())
            except Exception:  # noqa: BLE001  # the row keeps its earlier repeat's payload
                logger.debug("could not build the summary's latest repeat", exc_info=True)
                continue
            try:
                self._db().execute("UPDATE spool SET payload = ? WHERE id = ?", (text, ref))
            except FAULTS as exc:
                self._fault(exc)
                return

    def unsettled(self) -> int:
        """Rows still to send, not counting summaries whose window is open (the fallback's too)."""
        try:
            spooled = int(self._db().execute("SELECT COUNT(*) FROM spool WHERE held = 0").fetchone()[0])
        except FAULTS as exc:
            self._fault(exc)
            spooled = 0
        return spooled + self._fallback.unsettled()

    def next_ready(self) -> Optional[float]:
        """See ``Outbox.next_ready``: this spool's rows by its monotonic clock, other runs' by the wall clock."""
        waits = []
        memory = self._fallback.next_ready()
        if memory is not None:
            waits.append(memory)
        try:
            row = self._db().execute(
                "SELECT MIN(CASE WHEN run = ? THEN COALESCE(due, 0) - ? ELSE not_before - ? END) FROM spool"
                " WHERE claimed_by IS NULL",
                (self._owner, self._mono(), self._clock()),
            ).fetchone()
        except FAULTS as exc:
            self._fault(exc)
            row = None
        if row is not None and row[0] is not None:
            waits.append(float(row[0]))
        return max(0.0, min(waits)) if waits else None

    def expired(self) -> int:
        """Rows deleted for age since the last call."""
        with self._expired_lock:
            n, self._expired = self._expired, 0
        return n

    def close(self) -> None:
        """Close the connections this process opened, from any thread (a parent's are left alone)."""
        pid = os.getpid()
        with self._conns_lock:
            self._closed = True
            mine = [conn for owner, conn in self._conns if owner == pid]
            self._conns = []
        for conn in mine:
            conn.close()
        self._local = threading.local()


def _wall() -> float:
    return time.time()


def _integration(text: str) -> Any:
    return int(text) if text.isdigit() else text
