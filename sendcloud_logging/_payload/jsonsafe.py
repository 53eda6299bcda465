"""Any value as a bounded JSON-safe copy: dicts, lists, strings, ints, finite floats, bools and None.

Bodies and header values a record gives may hold anything: datetimes, UUIDs, Decimals, dataclasses, sets,
bytes, cycles, generators, objects whose ``__str__`` raises, ints with thousands of digits, NaN. The
``Converter`` turns each into what JSON can hold (python-json-logger's encoder names the common types), and
its work is bounded by its caps, not by the input.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping
from typing import Any

from pythonjsonlogger.json import JsonEncoder

from .._types import dumps
from .limits import MAX_ITEMS, MAX_KEY_BYTES, clip
from .values import clean

__all__ = ["MAX_DEPTH", "MAX_INLINE_BYTES", "TOO_DEEP", "Converter", "safe_repr"]

#: Containers nested deeper than this inside bodies and headers are replaced by a note.
MAX_DEPTH = 32
TOO_DEEP = "<nested too deep>"
#: Bytes inside a structure longer than this are described, not base64-encoded.
MAX_INLINE_BYTES = 1024
#: Ints outside this range are sent as their digits in a string (JSON readers lose them otherwise).
_INT_RANGE = range(-(2**63), 2**63)
_MAX_INT_BITS = 8000  # str() of bigger ints is refused by Python's digit limit: described instead

_ENCODER = JsonEncoder()  # stateless; its default() turns datetime, UUID, bytes, dataclasses... into JSON values
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 300
_REPR.maxlevel = 3


class Converter:
    """Make a copy of any value out of dict, list, str, int, finite float, bool and None; never raises.

    The work is bounded: strings are cut to ``max_text`` bytes, containers hold ``MAX_ITEMS`` items in all
    (a note counts the rest), nesting stops at ``MAX_DEPTH``. Nothing is iterated that is not a container
    (generators are described by their ``str``), and each foreign object costs at most its own place.
    One converter per value: it counts the items it has taken.
    """

    __slots__ = ("items", "max_text")

    def __init__(self, max_text: int) -> None:
        self.max_text = max_text
        self.items = MAX_ITEMS

    def convert(self, value: Any, depth: int = 0) -> Any:
        """The JSON-safe copy of ``value``; a value that cannot be converted becomes its (safe) repr."""
        try:
            return self._convert(value, depth)
        except Exception:  # noqa: BLE001  # odd containers and failing converters of foreign objects
            return safe_repr(value)

    def key(self, value: Any) -> str:
        """A value as text for a header or a dict key: strings as they are, the rest as their JSON text."""
        if isinstance(value, str):
            return clean(clip(value, MAX_KEY_BYTES))
        converted = self.convert(value, MAX_DEPTH - 2)
        return clip(converted if isinstance(converted, str) else dumps(converted), MAX_KEY_BYTES)

    def _convert(self, value: Any, depth: int) -> Any:
        if value is None or isinstance(value, bool):
            return bool(value) if value is not None else None
        if isinstance(value, int):
            return _integer(int.__int__(value))
        if isinstance(value, float):
            real = float.__float__(value)
            if math.isfinite(real):
                return real
            return "NaN" if math.isnan(real) else ("Infinity" if real > 0 else "-Infinity")
        if isinstance(value, str):
            return clean(clip(value, self.max_text))
        if depth >= MAX_DEPTH:
            return TOO_DEEP
        if isinstance(value, Mapping):
            return self._mapping(value, depth)
        if isinstance(value, (list, tuple)):
            return self._sequence(value, depth)
        if isinstance(value, (set, frozenset)):
            items = self._sequence(value, depth)
            try:
                return sorted(items, key=dumps)
            except (TypeError, ValueError):
                return items
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value[: MAX_INLINE_BYTES + 1])
            if len(data) > MAX_INLINE_BYTES:
                return f"<{len(value)} bytes>"
            value = data
        converted = _ENCODER.default(value)
        if converted is value or converted == "__could_not_encode__":
            return safe_repr(value)
        return self.convert(converted, depth + 1)

    def _mapping(self, value: Mapping[Any, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for seen, (key, item) in enumerate(value.items()):
            if self.items <= 0:
                out["…"] = f"<{_more(value, seen)} more keys>"
                break
            self.items -= 1
            out[self.key(key)] = self.convert(item, depth + 1)
        return out

    def _sequence(self, value: Any, depth: int) -> list[Any]:
        out: list[Any] = []
        for item in value:
            if self.items <= 0:
                out.append(f"<{_more(value, len(out))} more items>")
                break
            self.items -= 1
            out.append(self.convert(item, depth + 1))
        return out


def _integer(number: int) -> Any:
    if number in _INT_RANGE:
        return number
    bits = number.bit_length()
    return str(number) if bits <= _MAX_INT_BITS else f"<{bits}-bit integer>"


def _more(container: Any, seen: int) -> str:
    try:
        return str(len(container) - seen)
    except Exception:  # noqa: BLE001  # a foreign container without a working len()
        return "some"


def safe_repr(value: Any) -> str:
    """A short ``repr`` of any value; a broken ``__repr__`` still gives a description."""
    try:
        return clean(_REPR.repr(value))
    except Exception:  # noqa: BLE001  # foreign code
        try:
            name = type(value).__name__
        except Exception:  # noqa: BLE001
            name = "object"
        return f"<unrepresentable {name}>"
