"""RFC 3339 date-times for ``created_at`` and the paging cursor: parse, order and print.

Records are ordered by the instant they name, not by their text: ``10:00+02:00`` is older than ``09:00Z``.
The instant is kept as whole microseconds since the epoch (UTC), an integer SQLite can index and compare,
whatever year it falls in: ``0001-01-01T00:30:00+01:00`` is valid RFC 3339 although its UTC instant lies
in year 0. Our own parser (not ``datetime.fromisoformat``) so every Python accepts exactly the same strings,
and so the schema's ``date-time`` check and the store agree on what a date-time is. The Inbox checks what
the API's clients send; it imports nothing from them.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Optional

_RFC3339 = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?P<fraction>\.[0-9]+)?"
    r"(?:(?P<zulu>[Zz])|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))"
)
_MICROS_PER_MINUTE = 60_000_000
_MICROS_PER_DAY = 24 * 60 * _MICROS_PER_MINUTE
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MAX_ORDINAL = date.max.toordinal()
#: The widest offset RFC 3339 can write, in minutes: 23:59.
_MAX_OFFSET = 23 * 60 + 59


def parse_rfc3339(text: str) -> Optional[int]:
    """The instant an RFC 3339 date-time names, in microseconds since 1970-01-01T00:00:00Z, or ``None``
    when ``text`` is not one.

    An offset is required (``Z`` or ``+hh:mm``); the date must exist; a leap second (``:60``) only at 23:59
    UTC, as RFC 3339 section 5.7 has it, counted as the last microsecond of that minute. Digits after the
    sixth of a fraction are dropped.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    part = match.groupdict()
    hour, minute, second = int(part["hour"]), int(part["minute"]), int(part["second"])
    try:
        ordinal = date(int(part["year"]), int(part["month"]), int(part["day"])).toordinal()
    except ValueError:
        return None
    offset = 0
    if part["zulu"] is None:
        off_hour, off_minute = int(part["off_hour"]), int(part["off_minute"])
        if off_hour > 23 or off_minute > 59:
            return None
        offset = (off_hour * 60 + off_minute) * (-1 if part["sign"] == "-" else 1)
    if hour > 23 or minute > 59 or second > 60:
        return None
    micro = int((part["fraction"] or ".")[1:7].ljust(6, "0"))
    if second == 60:
        if (hour * 60 + minute - offset) % (24 * 60) != 23 * 60 + 59:
            return None  # a leap second ends a UTC day, nothing else
        second, micro = 59, 999_999
    local = (ordinal - _EPOCH_ORDINAL) * _MICROS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1_000_000 + micro
    return local - offset * _MICROS_PER_MINUTE


def format_micros(micros: int) -> str:
    """Print an instant as RFC 3339 with microseconds: in UTC (``...T05:00:00.000000Z``), or for instants
    before year 1 or after year 9999 in UTC with the offset (``+23:59`` / ``-23:59``) that brings them into
    the calendar, so every instant ``parse_rfc3339`` accepts prints and parses back to itself."""
    for offset, suffix in ((0, "Z"), (_MAX_OFFSET, "+23:59"), (-_MAX_OFFSET, "-23:59")):
        days, rest = divmod(micros + offset * _MICROS_PER_MINUTE, _MICROS_PER_DAY)
        if 1 <= _EPOCH_ORDINAL + days <= _MAX_ORDINAL:
            local = datetime.fromordinal(_EPOCH_ORDINAL + days) + timedelta(microseconds=rest)
            return local.isoformat(timespec="microseconds") + suffix
    raise ValueError(f"no RFC 3339 date-time names the instant {micros}")


def now_rfc3339() -> str:
    """The current time in RFC 3339, UTC, with microseconds: the server's ``created_at`` default."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
