"""Headers as the API takes them: ``{name: value}`` strings, redacted and bounded; a raw block where allowed.

Headers arrive as a captured dict, (name, value) pairs (requests' own headers, repeated names possible in
pairs given by a record), a raw ``Name: value`` block (string or bytes), or a mapping of odd values; every
shape gives the same result. At most ``MAX_HEADERS`` names (a note counts the rest), each name and value
cut to its bound, repeated names joined with ``", "``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Optional

from .jsonsafe import Converter
from .limits import (
    MAX_HEADER_NAME_BYTES,
    MAX_HEADER_VALUE_BYTES,
    MAX_HEADERS,
    MAX_ITEMS,
    MAX_RAW_HEADERS_BYTES,
    clip,
)
from .redact import Redactor, bounded_text
from .values import clean, text

__all__ = ["header_value", "headers"]


def headers(value: Any, allow_text: bool, redactor: Optional[Redactor]) -> Any:
    """Headers as ``{str: str}``, redacted and bounded; a raw string stays a string where the API allows it
    (``allow_text``: request headers)."""
    if value is None:
        return None
    missing = 0
    if isinstance(value, (bytes, bytearray)):
        missing = max(0, len(value) - MAX_RAW_HEADERS_BYTES)
        value = bytes(value[:MAX_RAW_HEADERS_BYTES]).decode("latin-1")
    if isinstance(value, str):
        if allow_text:
            block = text(value)
            return None if block is None else bounded_text(block, MAX_RAW_HEADERS_BYTES, redactor, missing,
                                                           header_block=True)
        out = _header_dict(_header_lines(clip(value, MAX_RAW_HEADERS_BYTES)))
    elif isinstance(value, Mapping):
        out = _header_dict(value.items(), len(value))
    elif isinstance(value, (list, tuple)):
        pairs = itertools.islice(value, MAX_ITEMS)
        out = _header_dict((item for item in pairs if isinstance(item, (list, tuple)) and len(item) == 2), len(value))
    else:
        return None
    if out is not None and redactor is not None:
        out = redactor.headers(out)
    return out


def header_value(value: Any) -> str:
    """One header name or value as bounded text: bytes as ISO-8859-1, lists joined, anything else as JSON."""
    if isinstance(value, str):
        return clean(clip(value, MAX_HEADER_VALUE_BYTES))
    if isinstance(value, (bytes, bytearray)):
        return clean(bytes(value[: MAX_HEADER_VALUE_BYTES + 1]).decode("latin-1"))  # header bytes are ISO-8859-1
    if isinstance(value, (list, tuple)):
        return clip(", ".join(header_value(item) for item in value[:MAX_HEADERS]), MAX_HEADER_VALUE_BYTES)
    return clip(Converter(MAX_HEADER_VALUE_BYTES).key(value), MAX_HEADER_VALUE_BYTES)


def _header_lines(block: str) -> list[tuple[str, str]]:
    """``Name: value`` lines of a raw header block; a status line and anything else without a colon skipped."""
    pairs = []
    for line in block.splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip() and not name.lstrip().upper().startswith("HTTP/"):
            pairs.append((name.strip(), value.strip()))
    return pairs


def _header_dict(items: Any, total: int = 0) -> Optional[dict[str, str]]:
    """At most ``MAX_HEADERS`` headers (a note counts the rest); names and values cut to their bounds.

    ``total``: how many items there are, when known (only ``MAX_HEADERS`` of them are looked at then).
    """
    out: dict[str, str] = {}
    seen = more = 0
    for name, value in items:
        seen += 1
        if value is None:
            continue
        key = clip(header_value(name), MAX_HEADER_NAME_BYTES)
        if key not in out and len(out) >= MAX_HEADERS:
            more += 1
            if total:
                break
            continue
        value_text = header_value(value)
        out[key] = clip(f"{out[key]}, {value_text}" if key in out else value_text, MAX_HEADER_VALUE_BYTES)
    if total and more:
        more = total - seen + 1
    if more:
        out["…"] = f"{more} more headers cut"
    return out or None
