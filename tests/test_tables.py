"""The CLI's text tables: one-line cells cut to their column, aligned rows."""

from __future__ import annotations

from sendcloud_logging._cli.tables import format_log_table, truncate


def test_log_table_cuts_long_cells() -> None:
    header, row = format_log_table(
        [{"id": 1, "method": "GET", "exception": "x" * 500, "full_url": None}], ("id", "method", "full_url", "exception")
    )
    assert header.split() == ["id", "method", "full_url", "exception"]
    assert row.split()[:3] == ["1", "GET", "-"]
    assert len(row.split()[3]) == 60
    assert truncate("a\n  b", 10) == "a b"
