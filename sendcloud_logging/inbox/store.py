"""SQLite storage of received logs, shared by the request threads and the test code that inspects them.

One connection (``check_same_thread=False``) guarded by one lock; the same lock backs a condition that
``wait_for`` sleeps on, so a waiting test wakes the moment a log is stored instead of polling.
Each row keeps the log as JSON text beside the columns we query by: ``integration_id``, ``created_at`` as
sent, and ``created_us`` (the instant in microseconds, UTC) which orders the API's pages.
"""

from __future__ import annotations

import json
import sqlite3
import threading
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


def _compose(log_id: int, integration_id: int, text: str) -> dict[str, Any]:
    """The log as the API returns it: id and integration first, then the stored fields."""
    return {"id": log_id, "integration_id": integration_id, **json.loads(text)}


class LogStore:
    """Thread-safe store of logs in SQLite (``":memory:"`` or a file path that outlives the process)."""

    def __init__(self, db: str = ":memory:") -> None:
        self._db = sqlite3.connect(db, check_same_thread=False, isolation_level=None, timeout=10.0)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        with self._lock:
            self._db.executescript(_SCHEMA)

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
    ) -> list[tuple[dict[str, Any], int]]:
        """Up to ``limit`` logs, newest first (``created_us`` desc, then id desc), with their sort keys.

        ``before=(created_us, id)`` continues after that record; ``(created_us, None)`` starts at records
        created at or before that instant.
        """
        clauses, args = [], []  # type: list[str], list[Any]
        if integration_id is not None:
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
