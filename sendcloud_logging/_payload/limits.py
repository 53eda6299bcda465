"""Size bounds: every text cut on a UTF-8 boundary with a marker, the whole POST body kept under a cap.

Pure code over JSON-safe values, run on the worker thread. Two kinds of bound:

- a text (a body, a header value, a URL) keeps at most ``n`` bytes of UTF-8: ``clip`` cuts it on a
  character boundary and ends it with a marker saying how many bytes were cut: ``" …[1234 bytes cut]"``;
- a JSON value keeps its encoding (``_types.dumps``, as the client sends it) under ``n`` bytes: ``shrink``
  cuts the largest strings first and keeps the structure; only when many small items are too many is the
  value sent as its cut JSON text. ``fit_payload`` does the same over the parts of a whole POST body.

``bounded_text`` puts redaction and cutting together for one text: only the head that will be kept is
redacted, so a 50 MB text costs what its bound costs.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from .._types import dumps
from .._validators import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_PAYLOAD_BYTES

__all__ = [
    "CUT_MARKER",
    "CUT_MARKER_PATTERN",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "clip",
    "fit_payload",
    "head",
    "json_size",
    "shrink",
    "utf8_len",
]


#: Fixed bounds of the small fields; they keep a log readable, not the wire small.
MAX_HEADER_VALUE_BYTES = 4096
MAX_HEADER_NAME_BYTES = 256
MAX_HEADERS = 64
MAX_RAW_HEADERS_BYTES = 16 * 1024
MAX_URL_BYTES = 8192
MAX_BASE_URL_BYTES = 2048
MAX_METHOD_BYTES = 64
MAX_EXCEPTION_TYPE_BYTES = 512
MAX_KEY_BYTES = 256
#: Containers inside one body hold this many items in all at most (a 64 KiB body holds fewer); the rest are
#: counted in a note.
MAX_ITEMS = 5_000
#: Room kept free under the payload cap for a storm summary's note, appended after the cap.
SUMMARY_ROOM = 160

#: What ends a cut text, and the pattern that finds it (redaction looks for it too: a cut URL lost its "@").
CUT_MARKER = " …[{} bytes cut]"
CUT_MARKER_PATTERN = r" …\[(?P<cut>\d{1,20}) bytes cut\]"
_PLAIN = re.compile(r'[^"\\\x00-\x1f\x7f-\U0010ffff]*\Z')  # JSON writes these characters as they are
_MARKED = re.compile(CUT_MARKER_PATTERN + r"\Z")
_MIN_LEAF = 48  # a cut string shorter than this says nothing but its marker

#: The parts of a POST body that may be cut to fit, as (field, key inside it or None).
PAYLOAD_PARTS = (
    ("response", "body"),
    ("request", "payload"),
    ("exception", None),
    ("response", "headers"),
    ("request", "headers"),
    ("full_url", None),
)


def utf8_len(text: str) -> int:
    """Bytes of ``text`` in UTF-8 (lone surrogates count as the 3 bytes they would take)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def clip(text: str, max_bytes: int, missing: int = 0) -> str:
    """``text`` if it has at most ``max_bytes`` bytes of UTF-8; else its head, cut on a character boundary,
    and a marker saying how many bytes were cut, together at most ``max_bytes`` bytes.

    ``missing``: bytes already cut off the end before (see ``head``); they are counted in the marker. A text
    cut before keeps one marker, counting both cuts.
    """
    if not missing and len(text) * 4 <= max_bytes:
        return text
    total = utf8_len(text)
    if not missing and total <= max_bytes:
        return text
    marked = _MARKED.search(text, max(0, len(text) - 40))
    if marked:
        text = text[: marked.start()]
        missing += int(marked.group("cut"))
        total = utf8_len(text)
    keep = max_bytes - utf8_len(CUT_MARKER.format(total + missing))
    if keep <= 0:
        return "…" if max_bytes >= 3 else ""
    kept = text if total <= keep else _prefix(text, keep)
    return kept + CUT_MARKER.format(total - utf8_len(kept) + missing)


def head(text: str, max_bytes: int) -> tuple[str, int]:
    """The first ``max_bytes`` bytes of ``text`` (on a character boundary) and how many bytes were left off."""
    if len(text) * 4 <= max_bytes:
        return text, 0
    total = utf8_len(text)
    if total <= max_bytes:
        return text, 0
    kept = _prefix(text, max_bytes)
    return kept, total - utf8_len(kept)


def _prefix(text: str, max_bytes: int) -> str:
    return text[:max_bytes].encode("utf-8", "surrogatepass")[:max_bytes].decode("utf-8", "ignore")


def json_size(value: Any) -> int:
    """Bytes of ``value``'s JSON encoding as the client sends it."""
    return utf8_len(dumps(value))


def shrink(value: Any, max_bytes: int, *, as_text: bool = True) -> Any:
    """``value`` with a JSON encoding of at most ``max_bytes`` bytes: the largest strings cut first.

    A dict or list keeps its shape while cutting its strings is enough; else it becomes its cut JSON text
    (``as_text``) or ``None``. Numbers, booleans and ``None`` are returned as they are.
    """
    if isinstance(value, str):
        return _shrink_text(value, max_bytes)
    if not isinstance(value, (dict, list)):
        return value
    size = json_size(value)
    if size <= max_bytes:
        return value
    sizes: list[int] = []
    _leaf_sizes(value, sizes)
    level = _level(sizes, max_bytes - (size - sum(sizes)))
    if level is not None and level >= _MIN_LEAF:
        cut = _cap_leaves(value, level)
        if json_size(cut) <= max_bytes:
            return cut
    if not as_text:
        return None
    return _shrink_text(dumps(value), max_bytes)


def fit_payload(payload: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """A POST body of at most ``max_bytes - SUMMARY_ROOM`` bytes: the largest parts are cut first.

    The parts are the request and response bodies and headers, the exception text and ``full_url``; the
    largest is cut down to the size of the next, and so on, until the whole fits.
    """
    budget = max_bytes - SUMMARY_ROOM
    size = json_size(payload)
    if size <= budget:
        return payload
    out = {name: dict(value) if isinstance(value, dict) else value for name, value in payload.items()}
    places = [(field, key) for field, key in PAYLOAD_PARTS if _get(out, field, key) is not None]
    sizes = [json_size(_get(out, field, key)) for field, key in places]
    level = _level(sizes, budget - (size - sum(sizes)))
    if level is not None:
        for (field, key), part_size in zip(places, sizes):
            if part_size > level:
                part = _get(out, field, key)
                if isinstance(part, str) or level >= _MIN_LEAF:
                    part = shrink(part, max(level, 2), as_text=key != "headers")  # response headers: no text
                else:
                    part = None
                _set(out, field, key, part)
    if json_size(out) > budget:  # only with tiny caps: keep the small fields, say what was cut
        for field in ("request", "response"):
            out.pop(field, None)
        for field, limit in (("exception", 1024), ("full_url", 1024)):
            text = out.get(field)
            if isinstance(text, str):
                out[field] = clip(text, limit)
    return {name: value for name, value in out.items() if value is not None}


def _shrink_text(text: str, max_bytes: int) -> str:
    """A string whose JSON encoding (quotes and escapes included) has at most ``max_bytes`` bytes."""
    size = json_size(text)
    if size <= max_bytes:
        return text
    ratio = size / max(1, utf8_len(text) + 2)  # escapes make JSON longer than the text
    target = int((max_bytes - 2) / ratio)
    for _ in range(6):
        cut = clip(text, max(0, target))
        if json_size(cut) <= max_bytes:
            return cut
        target = int(target * 0.8)
    return clip(text, 0)


def _string_size(text: str) -> int:
    """``json_size`` of a string, without encoding it when it has nothing to escape."""
    if text.isascii() and _PLAIN.match(text):
        return len(text) + 2
    return json_size(text)


def _leaf_sizes(value: Any, sizes: list[int]) -> None:
    if isinstance(value, str):
        sizes.append(_string_size(value))
    elif isinstance(value, dict):
        for item in value.values():
            _leaf_sizes(item, sizes)
    elif isinstance(value, list):
        for item in value:
            _leaf_sizes(item, sizes)


def _level(sizes: list[int], budget: int) -> Optional[int]:
    """The largest size ``t`` with ``sum(min(s, t) for s in sizes) <= budget``; None if no cut is needed."""
    if sum(sizes) <= budget:
        return None
    ordered = sorted(sizes, reverse=True)
    rest = sum(ordered)
    for k, top in enumerate(ordered, start=1):
        rest -= top
        level = (budget - rest) // k
        if k == len(ordered) or level >= ordered[k]:
            return level
    return None  # no sizes at all: nothing can be cut


def _cap_leaves(value: Any, level: int) -> Any:
    if isinstance(value, str):
        return _shrink_text(value, level) if _string_size(value) > level else value
    if isinstance(value, dict):
        return {key: _cap_leaves(item, level) for key, item in value.items()}
    if isinstance(value, list):
        return [_cap_leaves(item, level) for item in value]
    return value


def _get(payload: dict[str, Any], field: str, key: Optional[str]) -> Any:
    value = payload.get(field)
    if key is None:
        return value
    return value.get(key) if isinstance(value, dict) else None


def _set(payload: dict[str, Any], field: str, key: Optional[str], value: Any) -> None:
    if key is None:
        payload[field] = value
    else:
        payload[field][key] = value

