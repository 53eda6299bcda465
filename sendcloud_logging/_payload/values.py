"""The scalar fields' values: URL, origin, method, status, exception type and text, and ``created_at``.

Each function takes anything a record may hold and answers the field's value or ``None`` ("not usable,
try the next source"); none raises on a value of the wrong type. Foreign objects are touched only through
``str()`` of URL objects, which is guarded here.

``created_at`` is an RFC 3339 ``date-time`` with an explicit offset, as the API's schema requires. A given
string that is one is sent as given; a leap second is one only as ``23:59:60`` UTC once its offset is
applied (``15:59:60-08:00``); any other ``:60``, an impossible date or a bad offset is not a date-time, and
the field falls back to the record's own time, as when none is given. A ``datetime`` is formatted from its
fields, never by its own ``isoformat()`` (a subclass may override it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Optional
from urllib.parse import urlsplit

from .._capture import exception_type_name
from .._capture.parts import status_code
from .limits import MAX_EXCEPTION_TYPE_BYTES, MAX_METHOD_BYTES, MAX_URL_BYTES, clip

__all__ = [
    "clean",
    "created_at",
    "exception",
    "exception_type",
    "is_rfc3339",
    "method",
    "origin",
    "response_code",
    "rfc3339",
    "text",
    "timestamp",
    "url",
]

_MAX_DATE_TIME = 100  # characters of the longest date-time text worth parsing
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
#: What ``clean`` takes out: C0 (but tab and newline), DEL, C1, bidi embeddings/overrides/isolates; a CR with
#: the newline after it is one match.
_CONTROL = re.compile(r"\r\n?|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_METHOD_WORD = re.compile(r"[A-Za-z\-]{1,32}")
_LAST_MINUTE = 23 * 60 + 59  # of a UTC day: the only minute a leap second may end
#: A datetime's own fields, read through datetime's descriptors: a subclass's properties cannot change them.
_DATE_FIELDS = (date.year, date.month, date.day)
_TIME_FIELDS = (datetime.hour, datetime.minute, datetime.second, datetime.microsecond)


def clean(value: str) -> str:
    """A plain ``str`` that encodes to UTF-8 (lone surrogates become ``?``) and holds no control characters
    but newline and tab: what merchants and support staff read cannot move their cursor, recolour their
    terminal, write their clipboard (OSC 52) or reverse the text it shows.

    ``\r\n`` and a lone ``\r`` become ``\n``; other C0 and C1 controls and DEL are left out (``ESC[31m``
    arrives as ``[31m``); bidi embeddings, overrides and isolates become U+FFFD. Nothing grows: a text
    already cut to its bound stays within it.
    """
    if not str.isascii(value):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    elif _ASCII_CONTROL.search(value) is None:
        return value if type(value) is str else str.__str__(value)
    if _CONTROL.search(value) is not None:
        value = _CONTROL.sub(_visible, value)
    return value if type(value) is str else str.__str__(value)


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    if char[0] == "\r":
        return "\n"
    return "\ufffd" if char >= "\u2000" else ""


def text(value: Any) -> Optional[str]:
    """A non-blank string value, cleaned (blank once its control characters are out counts as blank); None
    for anything else."""
    if isinstance(value, str) and value.strip():
        cleaned = clean(value)
        return cleaned if cleaned.strip() else None
    return None


def url(value: Any) -> Optional[str]:
    """A URL as text: strings, bytes, and URL objects (``httpx.URL``, ``yarl.URL``) by their ``str()``."""
    if value is None or isinstance(value, (bool, int, float, Mapping, list, tuple, set, frozenset)):
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    elif not isinstance(value, str):
        try:
            value = str(value)
        except Exception:  # noqa: BLE001  # a foreign object's __str__: not a URL then
            return None
    return text(value)


def origin(full_url: Optional[str]) -> Optional[str]:
    """``scheme://host[:port]`` of an http(s) URL with a host; credentials, path and query dropped."""
    if not full_url:
        return None
    try:
        parts = urlsplit(full_url.strip()[:MAX_URL_BYTES])  # the origin is at the start: a huge URL costs no more
        port = parts.port
    except ValueError:  # a bad port or bracketed host: no origin from this URL
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"


def method(value: Any) -> Optional[str]:
    """An HTTP method, upper case, at most ``MAX_METHOD_BYTES``; strings and bytes only.

    Only a word of letters is upper-cased: other text a record gives keeps its case, so that a token in it
    is still recognised by its format (``shpat_...``) when it is redacted.
    """
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value[: MAX_METHOD_BYTES * 2]).decode("latin-1")
    found = text(value[: MAX_METHOD_BYTES * 2] if isinstance(value, str) else value)  # a method is a short word
    if not found:
        return None
    found = found.strip()
    return clip(found.upper() if _METHOD_WORD.fullmatch(found) else found, MAX_METHOD_BYTES)


def response_code(value: Any) -> Optional[int]:
    """The status rule capture uses too (``parts.status_code``): 0 to 999, digit strings converted."""
    return status_code(value)


def exception_type(value: Any) -> Optional[str]:
    """A dotted class path, or any text a record gives, at most ``MAX_EXCEPTION_TYPE_BYTES``."""
    if isinstance(value, type):
        value = exception_type_name(value)
    found = text(value)
    return clip(found.strip(), MAX_EXCEPTION_TYPE_BYTES) if found else None


def exception(message: Any, detail: Any) -> Optional[str]:
    """The message, then the exception's own text when it adds something: ``"message: text"``."""
    message = message if isinstance(message, str) else ""
    detail = detail.strip() if isinstance(detail, str) else ""
    if detail and detail not in message:
        if not message.strip():
            return clean(detail)
        separator = " " if message.rstrip().endswith(":") else ": "
        return clean(f"{message.rstrip()}{separator}{detail}")
    return text(message)


def timestamp(created: Any) -> Optional[str]:
    """An epoch time as RFC 3339 with the local UTC offset; None when it names no representable time."""
    if isinstance(created, bool) or not isinstance(created, (int, float)) or not math.isfinite(created):
        return None
    try:
        return rfc3339(datetime.fromtimestamp(created, timezone.utc).astimezone())
    except (OverflowError, OSError, ValueError):  # beyond the years datetime and the C library know
        return None


def created_at(value: Any) -> Optional[str]:
    """RFC 3339 with an offset: a datetime (naive = local time), a date, an epoch number, or a date-time string."""
    if isinstance(value, datetime):
        return _from_datetime(value)
    if isinstance(value, date):
        day = date(*(part.__get__(value) for part in _DATE_FIELDS))
        return _from_datetime(datetime.combine(day, time()))
    if isinstance(value, (int, float)):
        return timestamp(value)
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value[:_MAX_DATE_TIME]).decode("utf-8", "replace")
    if not isinstance(value, str) or len(value) > _MAX_DATE_TIME:  # longer is no date-time: not parsed
        return None
    stripped = value.strip()
    if is_rfc3339(stripped):
        return clean(stripped)
    try:
        parsed = datetime.fromisoformat(stripped)  # "2026-11-28 05:00:00" and other ISO forms
    except ValueError:
        return None
    return _from_datetime(parsed)


def _from_datetime(value: datetime) -> Optional[str]:
    """A datetime rebuilt from its own fields as a plain one (naive = local time), then printed."""
    year, month, day, hour, minute, second, micro = (part.__get__(value) for part in (*_DATE_FIELDS, *_TIME_FIELDS))
    offset = datetime.utcoffset(value)  # datetime's own method: checks what the tzinfo answers
    try:
        plain = datetime(year, month, day, hour, minute, second, micro)
        return rfc3339(plain.astimezone() if offset is None else plain.replace(tzinfo=timezone(offset)))
    except (OverflowError, ValueError):  # local time of year 1 or 9999 moved past the calendar's edge
        return None


def rfc3339(moment: datetime) -> str:
    """A plain aware datetime as RFC 3339 (``isoformat``); offsets with seconds, which RFC 3339 cannot
    write, are moved to UTC."""
    offset = moment.utcoffset()
    if offset is not None and offset % timedelta(minutes=1):
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat()


def is_rfc3339(value: str) -> bool:
    """Whether ``value`` is an RFC 3339 ``date-time`` (section 5.6, with 5.7's restrictions).

    Upper or lower case ``T`` and ``Z``; an offset is required; a real calendar date; hours 00-23, minutes
    00-59, seconds 00-59, or 60 only at 23:59 UTC (a leap second).
    """
    match = _RFC3339.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    sign, offset_hour, offset_minute = match.group(7), match.group(8), match.group(9)
    try:
        date(year, month, day)
    except ValueError:
        return False
    if hour > 23 or minute > 59 or second > 60:
        return False
    offset = 0
    if sign is not None:
        if int(offset_hour) > 23 or int(offset_minute) > 59:
            return False
        offset = (int(offset_hour) * 60 + int(offset_minute)) * (1 if sign == "+" else -1)
    return second < 60 or (hour * 60 + minute - offset) % (24 * 60) == _LAST_MINUTE
