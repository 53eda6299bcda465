"""Logs as text for a terminal: one-line cells and aligned tables, for ``logs``, ``serve`` and the demo."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .terminal import printable


def truncate(text: Any, width: int) -> str:
    """One line of at most ``width`` characters, control characters escaped (``printable``); ``None`` becomes "-"."""
    if text is None or text == "":
        return "-"
    line = printable(" ".join(str(text).split()), one_line=True)
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


LOG_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", "id", 8),
    ("integration_id", "integration", 12),
    ("method", "method", 7),
    ("response_code", "code", 4),
    ("exception_type", "exception_type", 40),
    ("full_url", "full_url", 48),
    ("exception", "exception", 60),
)


def format_log_table(logs: Iterable[Mapping[str, Any]], columns: Sequence[str] = ()) -> list[str]:
    """Logs as aligned text rows (header first), each cell cut to its column's width."""
    chosen = [c for c in LOG_COLUMNS if not columns or c[0] in columns]
    rows = [[truncate(log.get(key), width) for key, _, width in chosen] for log in logs]
    header = [title for _, title, _ in chosen]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
