"""A request or response as captured on the caller's thread, and the copies capture makes of foreign values.

Every adapter builds ``HTTPParts`` from what its client library holds, with the helpers here; the payload
builder reads them on the worker thread. Nothing here parses a body or encodes a value: it copies what may
change after the logging call returns and keeps references to what cannot (``bytes``, ``str``).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Mapping
from typing import Any, NamedTuple, Optional, Union

__all__ = [
    "FILES_BODY",
    "HEADER_BYTES",
    "PARSE_FACTOR",
    "STREAMED_REQUEST",
    "UNREAD_RESPONSE",
    "CutBody",
    "HTTPParts",
    "Unreadable",
    "copy_body",
    "copy_headers",
    "cut_body",
    "pairs_to_dict",
    "status_code",
]

#: HTTP status codes have three digits; anything else is not a status.
MAX_STATUS = 999
#: A text or bytes body longer than this many times ``max_body_bytes`` is never parsed: only its head is sent,
#: so capture keeps only that head (``cut_body``) and such a body never waits in memory whole.
PARSE_FACTOR = 8
#: What an item of a structured body or a header pair costs beyond its texts, as ``cut_body`` counts.
ITEM_BYTES = 32
#: What a header (name, value) pair costs beyond its texts.
HEADER_BYTES = ITEM_BYTES * 2
#: Items of a structured body whose sizes are looked at; the rest are taken to be like them.
SAMPLED_ITEMS = 32
_getsizeof = sys.getsizeof


class Unreadable(str):
    """A body that could not be captured, described for a person (``"<streamed body not captured>"``).

    A ``str`` subclass so that the payload sends it as it is instead of parsing it as JSON or a form.
    """

    __slots__ = ()


STREAMED_REQUEST = Unreadable("<streamed body not captured>")
UNREAD_RESPONSE = Unreadable("<streamed body not read>")
FILES_BODY = Unreadable("<multipart body with files not captured>")


class HTTPParts(NamedTuple):
    """One request or response as captured; unparsed.

    A named tuple: made on every logging call that carries one, and a tuple is the cheapest object to make.
    """

    method: Optional[str] = None
    url: Optional[str] = None
    #: Responses only.
    status: Optional[int] = None
    #: A copy when taken from a live object: a dict, or a tuple of (name, value) pairs (requests' headers,
    #: whose names are unique); a raw string is kept as given.
    headers: Optional[Union[Mapping[str, Any], tuple[tuple[str, str], ...], str]] = None
    #: bytes, str, an already-structured dict/list, None, or an ``Unreadable`` description.
    body: Any = None
    #: The charset known for a response (requests' ``Response.encoding``, from its headers).
    encoding: Optional[str] = None


class CutBody(NamedTuple):
    """A ``str`` or ``bytes`` body far beyond ``max_body_bytes``, cut at capture: its head and its length before."""

    head: Union[str, bytes]
    total: int


def cut_body(part: HTTPParts, max_body_bytes: int) -> tuple[HTTPParts, int]:
    """``part`` with a body beyond ``PARSE_FACTOR`` times ``max_body_bytes`` cut to its head (a ``CutBody``), and
    the bytes it holds (``sys.getsizeof`` of its body, a fixed cost per header or structured item).

    0 for ``max_body_bytes`` cuts nothing. One look at the body's size: this runs on every logging call.
    """
    body, headers = part.body, part.headers
    kind = type(body)
    if kind is bytes or kind is str or (isinstance(body, (str, bytes)) and not isinstance(body, Unreadable)):
        if max_body_bytes and len(body) > max_body_bytes * PARSE_FACTOR:
            body = body[:max_body_bytes]
            part = part._replace(body=CutBody(body, len(part.body)))
        size = _getsizeof(body)
    elif kind is dict or kind is list or isinstance(body, (dict, list, tuple)):
        size = _items_size(body)
    else:
        size = 0
    if headers is not None:
        size += HEADER_BYTES * len(headers) if type(headers) is not str else _getsizeof(headers)
    return part, size


def _items_size(body: Any) -> int:
    """Bytes a structured body's top-level items hold, estimated from the first ``SAMPLED_ITEMS`` of them.

    A copy keeps references to the caller's values (a 4 MB string in a dict stays whole until the worker cuts
    it), so they count; nested items are not walked on the caller's thread.
    """
    n = len(body)
    if not n:
        return 0
    values = body.values() if isinstance(body, dict) else body
    sample = sum(_getsizeof(v) for v in itertools.islice(values, SAMPLED_ITEMS))
    return ITEM_BYTES * n + sample * n // min(n, SAMPLED_ITEMS)


def copy_headers(headers: Any) -> Any:
    """A dict copy of a mapping, a string kept, bytes decoded, pairs folded into a dict; anything else dropped."""
    if headers is None or isinstance(headers, str):
        return headers
    if type(headers) is dict:
        return dict(headers)
    if isinstance(headers, Mapping):
        return dict(headers.items())
    if isinstance(headers, (bytes, bytearray)):
        return bytes(headers).decode("latin-1")
    if isinstance(headers, (list, tuple)):
        return pairs_to_dict(headers)
    return None


def copy_body(body: Any) -> Any:
    """Mutable containers are copied one level deep; immutable values are kept by reference."""
    if isinstance(body, dict):
        return dict(body)
    if isinstance(body, list):
        return list(body)
    if isinstance(body, bytearray):
        return bytes(body)
    return body


def pairs_to_dict(pairs: Any) -> Any:
    """``[(key, value), ...]`` as a dict, repeated keys as lists; anything else is returned unchanged."""
    out: dict[Any, Any] = {}
    repeated: set[Any] = set()
    for item in pairs:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            return pairs
        key, value = item
        try:
            if key not in out:
                out[key] = value
            elif key in repeated:
                out[key].append(value)
            else:
                out[key] = [out[key], value]
                repeated.add(key)
        except TypeError:  # an unhashable key: not pairs after all
            return pairs
    return out


def status_code(value: Any) -> Optional[int]:
    """An HTTP status from 0 to 999 as a plain int; a string (or bytes) of up to three ASCII digits is
    converted. Bools, floats, other numbers and anything else are no status.

    The one rule for statuses: capture reads a dict response's ``status`` with it, and the payload the
    ``response_code`` field.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (str, bytes)):
        stripped = value.strip()
        if not stripped.isdigit() or not stripped.isascii() or len(stripped) > 3:
            return None
        return int(stripped)
    if isinstance(value, int) and 0 <= value <= MAX_STATUS:
        return int.__int__(value)
    return None
