"""RFC 3339 date-times for ``created_at`` and the paging cursor: parse, order and print.

Records are ordered by the instant they name, not by their text: ``10:00+02:00`` is older than ``09:00Z``.
The instant is kept as whole microseconds since the epoch (UTC), an integer SQLite can index and compare.
Our own parser (not ``datetime.fromisoformat``) so Python 3.9 and 3.11 accept exactly the same strings, and
so the schema's ``date-time`` check and the store agree on what a date-time is.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Optional

_RFC3339 = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?P<fraction>\.[0-9]+)?"
    r"(?:(?P<zulu>[Zz])|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_rfc3339(text: str) -> Optional[datetime]:
    """The UTC instant an RFC 3339 date-time names, or ``None`` when ``text`` is not one.

    An offset is required (``Z`` or ``+hh:mm``). A leap second (``:60``) counts as the last microsecond of
    its minute; digits after the sixth of a fraction are dropped. Values whose UTC instant falls outside
    years 1..9999 are refused, so every accepted value can be printed back.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    part = match.groupdict()
    second = int(part["second"])
    micro = int((part["fraction"] or ".")[1:7].ljust(6, "0"))
    if second == 60:
        second, micro = 59, 999_999
    offset = 0
    if part["zulu"] is None:
        off_hour, off_minute = int(part["off_hour"]), int(part["off_minute"])
        if off_hour > 23 or off_minute > 59:
            return None
        offset = (off_hour * 60 + off_minute) * (-1 if part["sign"] == "-" else 1)
    try:
        local = datetime(
            int(part["year"]), int(part["month"]), int(part["day"]),
            int(part["hour"]), int(part["minute"]), second, micro,
            tzinfo=timezone.utc,
        )
        return local - timedelta(minutes=offset)
    except (ValueError, OverflowError):
        return None


def to_micros(instant: datetime) -> int:
    """Microseconds since 1970-01-01T00:00:00Z: the sort key of a record."""
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_micros(micros: int) -> str:
    """Print a sort key as an RFC 3339 UTC date-time with microseconds (``...T05:00:00.000000Z``)."""
    instant = _EPOCH + timedelta(microseconds=micros)
    return instant.isoformat(timespec="microseconds").replace("+00:00", "Z")


def now_rfc3339() -> str:
    """The current time in RFC 3339, UTC, with microseconds: the server's ``created_at`` default."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
