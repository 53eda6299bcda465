"""requests: ``PreparedRequest``, ``Request`` and ``Response``, also as ``.request``/``.response`` of its errors.

requests is the handler's own HTTP library, so it is imported, and its objects are the common case: their
headers are copied straight from ``CaseInsensitiveDict``'s store as a tuple of (name, value) pairs, ten
times faster than its ``items()`` and a third cheaper than a dict (names are unique in that store). The store
is an ``OrderedDict`` whose own ``values()`` walks its linked list: ``dict.values`` on it takes half the time
and the same order (requests never reorders the store).
A ``Response`` body is taken only when it was already read: ``.content`` on an unread streamed response
would read from the socket on the caller's thread.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any, Callable, Optional

import requests
from requests.structures import CaseInsensitiveDict

from ..parts import FILES_BODY, STREAMED_REQUEST, UNREAD_RESPONSE, HTTPParts, copy_body, copy_headers, pairs_to_dict

__all__ = ["STORE_VALUES", "request_parts", "response_parts"]

_PreparedRequest, _Request, _Response = requests.PreparedRequest, requests.Request, requests.Response
_new = tuple.__new__  # HTTPParts from its fields in order, without the keyword-parsing __new__: half the cost
#: The store's values in its order: dict's own view when the store is a dict (an OrderedDict in every requests).
STORE_VALUES: Callable[[Any], Iterable[Any]] = (
    dict.values if isinstance(CaseInsensitiveDict()._store, dict) else operator.methodcaller("values")  # type: ignore[attr-defined]
)


def request_parts(obj: Any) -> Optional[HTTPParts]:
    """A requests ``PreparedRequest`` or ``Request`` as ``HTTPParts``; None for anything else."""
    if type(obj) is not _PreparedRequest and not isinstance(obj, _PreparedRequest):
        return _unprepared(obj) if isinstance(obj, _Request) else None
    body = obj.body
    if body is not None and not isinstance(body, (bytes, str)):
        body = bytes(body) if isinstance(body, bytearray) else STREAMED_REQUEST
    headers = obj.headers  # inlined in both functions: this runs on every logging call that carries one
    store = headers._store if type(headers) is CaseInsensitiveDict else None  # type: ignore[attr-defined]
    copied = copy_headers(headers) if store is None else tuple(STORE_VALUES(store))  # store: {lower: (name, value)}
    return _new(HTTPParts, (obj.method, obj.url, None, copied, body, None))


def response_parts(obj: Any) -> Optional[HTTPParts]:
    """A requests ``Response`` as ``HTTPParts``, its body only if it was already read; None for anything else."""
    if type(obj) is not _Response and not isinstance(obj, _Response):
        return None
    content = getattr(obj, "_content", False)  # False until read; .content would read it now
    body = UNREAD_RESPONSE if content is False else content
    headers = obj.headers
    store = headers._store if type(headers) is CaseInsensitiveDict else None  # type: ignore[attr-defined]
    copied = copy_headers(headers) if store is None else tuple(STORE_VALUES(store))
    return _new(HTTPParts, (None, obj.url, obj.status_code, copied, body, obj.encoding))


def _unprepared(obj: requests.Request) -> HTTPParts:
    if obj.files:
        body: Any = FILES_BODY
    elif obj.data:
        data = obj.data
        if isinstance(data, (list, tuple)):  # requests' form pairs [(key, value), ...]
            body = pairs_to_dict(data)
            body = list(body) if isinstance(body, tuple) else body
        elif isinstance(data, (bytes, bytearray, str, dict)):
            body = copy_body(data)
        else:  # a file or an iterator: reading it here would consume the caller's stream
            body = STREAMED_REQUEST
    else:
        body = copy_body(obj.json)
    url = obj.url.decode("utf-8", "replace") if isinstance(obj.url, bytes) else obj.url
    return HTTPParts(method=obj.method, url=url, headers=copy_headers(obj.headers), body=body)

