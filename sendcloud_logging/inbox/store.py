"""SQLite storage of received logs, shared by the request threads and the test code that inspects them.

One connection (``check_same_thread=False``) guarded by one lock; the same lock backs a condition that
``wait_for`` sleeps on, so a waiting test wakes the moment a log is stored instead of polling.
Each row keeps the log as JSON text beside the columns we query by: ``integration_id``, ``created_at`` as
sent, and ``created_us`` (the instant in microseconds, UTC) which orders the API's pages. The web page's
filters read the other fields out of that JSON (SQLite's ``json_extract``).

A database file (and its ``-wal``/``-shm``) is created mode 0600: it holds what failing shops sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any, Optional

_SCHEMA = """
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    log TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_by_integration ON logs (integration_id, created_us, id);
CREATE INDEX IF NOT EXISTS logs_by_time ON logs (created_us, id);
"""


#: Suffixes of the files SQLite keeps beside a database.
_SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Filters:
    """What the web page's list shows: each given field must match; ``None`` lets everything through.

    ``exception_type`` and ``response_code`` given as ``""`` match logs without one. ``text`` matches, case
    insensitively, a part of ``base_url``, ``full_url`` or ``exception``.
    """

    integration_id: Optional[int] = None
    exception_type: Optional[str] = None
    response_code: Optional[str] = None
    text: Optional[str] = None


def is_file(db: str) -> bool:
    """Whether ``db`` names a database file (not ``":memory:"`` nor SQLite's private temporary database)."""
    return db not in (":memory:", "") and not db.startswith("file:")


def _create_private(path: str) -> None:
    """Create the database file mode 0600 before SQLite opens it (SQLite gives its side files the same mode)."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    except OSError:
        return  # a missing folder, no permission: SQLite reports it in its own words
    with contextlib.suppress(OSError):  # an existing file of another user's, or a file system without modes
        os.chmod(path, 0o600)


def _make_private(path: str) -> None:
    """Mode 0600 for the side files SQLite created (or found) beside the database."""
    for suffix in _SIDE_FILES:
        with contextlib.suppress(OSError):  # absent, or not ours
            os.chmod(path + suffix, 0o600)


def _contains(haystack: Optional[str], needle: Optional[str]) -> bool:
    """SQL ``inbox_contains(text, part)``: case-insensitive, for any alphabet (SQLite's ``lower`` knows ASCII only)."""
    return haystack is not None and needle is not None and needle.casefold() in haystack.casefold()


def _compose(log_id: int, integration_id: int, text: str) -> dict[str, Any]:
    """The log as the API returns it: id and integration first, then the stored fields."""
    return {"id": log_id, "integration_id": integration_id, **json.loads(text)}


class LogStore:
    """Thread-safe store of logs in SQLite (``":memory:"`` or a file path that outlives the process)."""

    def __init__(self, db: str = ":memory:") -> None:
        self.db = db
        if is_file(db):
            _create_private(db)
        self._db = sqlite3.connect(db, check_same_thread=False, isolation_level=None, timeout=10.0)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._version = 0  # counts changes (adds, clears): the web page's live view waits on it
        try:
            self._db.create_function("inbox_contains", 2, _contains, deterministic=True)
            with self._lock:
                if is_file(db):
                    self._db.execute("PRAGMA journal_mode=WAL")  # readers of the file do not block the Inbox
                self._db.executescript(_SCHEMA)
        except BaseException:
            self._db.close()
            raise
        if is_file(db):
            _make_private(db)

    @property
    def version(self) -> int:
        """A number that grows with every change (a log stored, the store cleared)."""
        with self._lock:
            return self._version

    def wait_change(self, version: int, timeout: float) -> int:
        """Block until ``version`` is out of date or ``timeout`` seconds pass; return the current version."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != version, timeout)
            return self._version

    def clear(self) -> int:
        """Delete every log; return how many there were. Ids go on growing (no id is handed out twice)."""
        with self._changed:
            gone = self._count(None)
            self._db.execute("DELETE FROM logs")
            self._version += 1
            self._changed.notify_all()
        return gone

    def get(self, log_id: int) -> Optional[dict[str, Any]]:
        """One log by id, or None."""
        with self._lock:
            row = self._db.execute("SELECT id, integration_id, log FROM logs WHERE id = ?", (log_id,)).fetchone()
        return None if row is None else _compose(*row)

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        with self._lock:
            self._db.close()

    def add(self, integration_id: int, fields: dict[str, Any], created_us: int) -> dict[str, Any]:
        """Store one log (``fields`` holds everything but ``id``/``integration_id``) and return it with its id."""
        text = json.dumps(fields)
        with self._changed:
            cursor = self._db.execute(
                "INSERT INTO logs (integration_id, created_at, created_us, log) VALUES (?, ?, ?, ?)",
                (integration_id, str(fields["created_at"]), created_us, text),
            )
            log_id = int(cursor.lastrowid or 0)
            self._version += 1
            self._changed.notify_all()
        return _compose(log_id, integration_id, text)

    def logs(self, integration_id: Optional[int] = None) -> list[dict[str, Any]]:
        """Stored logs in the order they were received (oldest first)."""
        where, args = self._filter(integration_id)
        with self._lock:
            rows = self._db.execute(f"SELECT id, integration_id, log FROM logs{where} ORDER BY id", args).fetchall()  # noqa: S608 - fixed SQL, values bound
        return [_compose(*row) for row in rows]

    def count(self, integration_id: Optional[int] = None) -> int:
        """How many logs are stored (for one integration, or all)."""
        with self._lock:
            return self._count(integration_id)

    def wait_for(self, n: int, timeout: float, integration_id: Optional[int] = None) -> bool:
        """Block until at least ``n`` logs are stored; False when ``timeout`` seconds pass first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._count(integration_id) >= n, timeout)

    def page(
        self,
        integration_id: Optional[int],
        limit: int,
        before: Optional[tuple[int, Optional[int]]] = None,
        filters: Optional[Filters] = None,
    ) -> list[tuple[dict[str, Any], int]]:
        """Up to ``limit`` logs, newest first (``created_us`` desc, then id desc), with their sort keys.

        ``before=(created_us, id)`` continues after that record; ``(created_us, None)`` starts at records
        created at or before that instant. ``filters`` narrow the logs down (the web page's list).
        """
        clauses, args = _where(filters or Filters(integration_id))
        if filters is not None and integration_id is not None:
            clauses.append("integration_id = ?")
            args.append(integration_id)
        if before is not None:
            created_us, log_id = before
            if log_id is None:
                clauses.append("created_us <= ?")
                args.append(created_us)
            else:
                clauses.append("(created_us < ? OR (created_us = ? AND id < ?))")
                args.extend((created_us, created_us, log_id))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT id, integration_id, log, created_us FROM logs{where} ORDER BY created_us DESC, id DESC LIMIT ?"  # noqa: S608 - fixed SQL, values bound
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [(_compose(log_id, owner, text), created_us) for log_id, owner, text, created_us in rows]

    def matching(self, filters: Filters) -> int:
        """How many logs pass ``filters``."""
        clauses, args = _where(filters)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            row = self._db.execute(f"SELECT COUNT(*) FROM logs{where}", args).fetchone()  # noqa: S608 - fixed SQL, values bound
        return int(row[0])

    def facets(self, limit: int = 200) -> dict[str, list[tuple[Any, int]]]:
        """The values the list can be filtered by, each with its count, most frequent first (``limit`` each)."""
        found: dict[str, list[tuple[Any, int]]] = {}
        with self._lock:
            for name, column in (
                ("integration_id", "integration_id"),
                ("exception_type", "json_extract(log, '$.exception_type')"),
                ("response_code", "json_extract(log, '$.response_code')"),
            ):
                sql = f"SELECT {column} AS v, COUNT(*) AS n FROM logs GROUP BY v ORDER BY n DESC, v LIMIT ?"  # noqa: S608 - fixed SQL
                found[name] = [(value, int(n)) for value, n in self._db.execute(sql, (limit,)).fetchall()]
        return found

    def _count(self, integration_id: Optional[int]) -> int:
        """Count with the lock already held."""
        where, args = self._filter(integration_id)
        row = self._db.execute(f"SELECT COUNT(*) FROM logs{where}", args).fetchone()  # noqa: S608 - fixed SQL, values bound
        return int(row[0])

    @staticmethod
    def _filter(integration_id: Optional[int]) -> tuple[str, tuple[Any, ...]]:
        if integration_id is None:
            return "", ()
        return " WHERE integration_id = ?", (integration_id,)


def _where(filters: Filters) -> tuple[list[str], list[Any]]:
    """SQL conditions (with their bound values) for ``filters``."""
    clauses: list[str] = []
    args: list[Any] = []
    if filters.integration_id is not None:
        clauses.append("integration_id = ?")
        args.append(filters.integration_id)
    for name, value in (("exception_type", filters.exception_type), ("response_code", filters.response_code)):
        if value is None:
            continue
        field = f"json_extract(log, '$.{name}')"
        if value == "":
            clauses.append(f"({field} IS NULL OR {field} = '')")
        else:
            clauses.append(f"CAST({field} AS TEXT) = ?")
            args.append(value)
    if filters.text:
        clauses.append(
            "(inbox_contains(json_extract(log, '$.full_url'), ?) OR inbox_contains(json_extract(log, '$.base_url'), ?)"
            " OR inbox_contains(json_extract(log, '$.exception'), ?))"
        )
        args.extend([filters.text] * 3)
    return clauses, args
