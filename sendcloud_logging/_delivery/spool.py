"""A disk spool in SQLite (WAL mode): logs survive crashes, restarts and API outages.

A payload is written here by the intake thread moments after ``emit`` and removed only when the API
answered 201 or refused it for good. Several processes (gunicorn workers) may share one file: a row is
claimed by one process at a time (``claimed_by``) inside ``BEGIN IMMEDIATE``, so no row is sent twice
while its claimer lives; a claim of a dead process (same host) or past its lease is taken over.

Guarantee: at least once. A process killed after the API stored a log but before the row was deleted sends
that log again at the next start (the API has no idempotency key).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from typing import Any, Callable, Optional

from .._types import Drop, Payload, dumps
from .outbox import Entry, Leftovers

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


def _owner_alive(owner: Optional[str], host: str) -> bool:
    """Whether the process named in a claim still runs (only knowable on this host)."""
    if not owner:
        return False
    owner_host, _, pid_text = owner.rpartition(":")
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

    ``clock`` is wall-clock time: ``not_before``, leases and ages are compared across processes.
    """

    counts_as: Optional[str] = "spooled"
    idle_poll: Optional[float] = 1.0  # other processes may add rows to a shared spool

    def __init__(
        self, path: str, max_bytes: int, max_age: float, lease: float = 120.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self._clock = clock
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.lease = lease
        self._host = socket.gethostname()
        self._local = threading.local()
        self._conns: list[tuple[int, sqlite3.Connection]] = []  # (pid, connection) of every thread, for close()
        self._conns_lock = threading.Lock()
        self._closed = False
        self._expired = 0
        self._expired_lock = threading.Lock()
        with self._db() as db:
            db.executescript(SCHEMA)

    @property
    def _owner(self) -> str:
        return f"{self._host}:{os.getpid()}"

    def _db(self) -> sqlite3.Connection:
        """One connection a thread and a process (a forked child must not reuse its parent's)."""
        conn: Optional[sqlite3.Connection] = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            if self._closed:  # a thread left behind at close: it must not open a connection nobody closes
                raise sqlite3.ProgrammingError("the spool is closed")
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            self._local.pid = os.getpid()
            with self._conns_lock:
                self._conns.append((os.getpid(), conn))
        return conn

    def __len__(self) -> int:
        row = self._db().execute("SELECT COUNT(*) FROM spool").fetchone()
        return int(row[0])

    def records(self) -> int:
        """Log records behind the rows: a summary row stands for ``1 + more`` of them."""
        return int(self._db().execute("SELECT COALESCE(SUM(1 + more), 0) FROM spool").fetchone()[0])

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

    def add(self, integration_id: Any, payload: Payload, created: float, *, hold_for: float = 0.0) -> int:
        """See ``Outbox.add``: one row, committed before this returns; ``Drop`` when the spool is full."""
        if self.full():
            raise Drop("spool_full", "raise spool_max_bytes or check the API")
        text = dumps(payload)
        not_before = self._clock() + hold_for if hold_for > 0 else 0.0
        cur = self._db().execute(
            "INSERT INTO spool (integration_id, payload, created, not_before, held) VALUES (?, ?, ?, ?, ?)",
            (str(integration_id), text, created, not_before, 1 if hold_for > 0 else 0),
        )
        return int(cur.lastrowid or 0)

    def fold(self, ref: Any, created: float, payload: Optional[Payload] = None) -> bool:
        """See ``Outbox.fold``: only an unclaimed row is folded into."""
        text = None if payload is None else dumps(payload)
        cur = self._db().execute(
            "UPDATE spool SET more = more + 1, payload = COALESCE(?, payload), first = COALESCE(first, created),"
            " created = ?, last = ? WHERE id = ? AND claimed_by IS NULL",
            (text, created, created, ref),
        )
        return cur.rowcount == 1

    def claim(self) -> Optional[Entry]:
        """See ``Outbox.claim``: in a ``BEGIN IMMEDIATE`` transaction; claims of dead owners are taken over."""
        now = self._clock()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            if self.max_age > 0:
                gone = db.execute(
                    "DELETE FROM spool WHERE created < ? AND claimed_by IS NULL", (now - self.max_age,)
                ).rowcount
                if gone:
                    with self._expired_lock:
                        self._expired += gone
            rows = db.execute(
                "SELECT id, integration_id, payload, created, more, first, last, not_before, attempts,"
                " claimed_by, claimed_until FROM spool WHERE not_before <= ? ORDER BY not_before, id LIMIT 50",
                (now,),
            ).fetchall()
            for row in rows:
                owner, until = row[9], row[10]
                if owner and owner != self._owner and until and until > now and _owner_alive(owner, self._host):
                    continue
                if owner == self._owner:
                    continue  # in flight in this process
                db.execute(
                    "UPDATE spool SET claimed_by = ?, claimed_until = ?, held = 0 WHERE id = ?",
                    (self._owner, now + self.lease, row[0]),
                )
                db.execute("COMMIT")
                return Entry(
                    ref=row[0],
                    integration_id=_integration(row[1]),
                    payload=json.loads(row[2]),
                    created=row[3],
                    more=row[4],
                    first=row[5],
                    last=row[6],
                    not_before=row[7],
                    attempts=row[8],
                )
            db.execute("COMMIT")
            return None
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def done(self, entry: Entry) -> None:
        """See ``Outbox.done``: the row is deleted."""
        self._db().execute("DELETE FROM spool WHERE id = ?", (entry.ref,))

    def retry(self, entry: Entry, delay: float, *, count_attempt: bool = True) -> None:
        """See ``Outbox.retry``: the claim is given up and the row waits ``delay`` seconds."""
        entry.attempts += 1 if count_attempt else 0
        self._db().execute(
            "UPDATE spool SET claimed_by = NULL, claimed_until = NULL, attempts = ?, not_before = ? WHERE id = ?",
            (entry.attempts, self._clock() + max(0.0, delay), entry.ref),
        )

    def release_waiting(self) -> None:
        """See ``Outbox.release_waiting``, for this process's summary rows."""
        self._db().execute(
            "UPDATE spool SET not_before = 0, held = 0 WHERE not_before > 0 AND claimed_by IS NULL"
        )

    def close_out(self) -> Leftovers:
        """Give back this process's claims so another process may send them; every row stays on disk."""
        db = self._db()
        db.execute("UPDATE spool SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?", (self._owner,))
        return Leftovers(lost=0, kept=len(self))

    def unsettled(self) -> int:
        """Rows still to send, not counting summaries whose window is open."""
        return int(self._db().execute("SELECT COUNT(*) FROM spool WHERE held = 0").fetchone()[0])

    def next_ready(self) -> Optional[float]:
        """See ``Outbox.next_ready``."""
        row = self._db().execute("SELECT MIN(not_before) FROM spool WHERE claimed_by IS NULL").fetchone()
        if row is None or row[0] is None:
            return None
        return max(0.0, float(row[0]) - self._clock())

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


def _integration(text: str) -> Any:
    return int(text) if text.isdigit() else text
