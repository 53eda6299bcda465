"""Take from a ``LogRecord`` what a log needs, cheaply, on the caller's thread.

``snapshot_record`` runs inside ``SendcloudHandler.emit``: it copies what may change after the call returns
(header dicts, the formatted message, the exception's text), keeps references to immutable things (``bytes``
and ``str`` bodies) and drops the rest, above all the traceback. It parses nothing: decoding bodies, JSON and
form parsing, URL parsing and encoding odd values happen later in ``payload.build_payload`` on the worker.

Where a request and a response come from, first match wins:

1. the record's ``extra``: ``request`` / ``response`` (a requests object or a dict);
2. with ``exc_info``: the exception, then its ``__cause__`` / ``__context__`` chain (``.request`` /
   ``.response``, as requests' ``RequestException`` carries them);
3. for the request only: the ``.request`` of a response found above.

Each HTTP client is one small adapter (a function returning ``HTTPParts`` or ``None``) in
``_REQUEST_ADAPTERS`` / ``_RESPONSE_ADAPTERS``; objects no adapter knows (Django's ``HttpRequest``, anything
else) are ignored. Nothing here raises on odd input, and nothing does I/O: an unread streamed response body is
described, never read.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

import requests
from requests.structures import CaseInsensitiveDict

__all__ = ["HTTPParts", "Snapshot", "Unreadable", "exception_type_name", "snapshot_record"]

#: API fields a record may give by their own name in ``extra`` (``request``/``response`` go through HTTPParts,
#: ``exception`` is always built from the message and the exception).
EXTRA_FIELDS = ("base_url", "full_url", "method", "response_code", "exception_type", "created_at")

#: How many exceptions of a ``__cause__``/``__context__`` chain are searched at most.
CHAIN_DEPTH = 16


class Unreadable(str):
    """A body that could not be captured, described for a person (``"<streamed body not captured>"``).

    A ``str`` subclass so that ``build_payload`` sends it as it is instead of parsing it as JSON or a form.
    """

    __slots__ = ()


STREAMED_REQUEST = Unreadable("<streamed body not captured>")
UNREAD_RESPONSE = Unreadable("<streamed body not read>")
FILES_BODY = Unreadable("<multipart body with files not captured>")


@dataclass(frozen=True)
class HTTPParts:
    """One request or response as captured on the caller's thread; unparsed."""

    method: Optional[str] = None
    url: Optional[str] = None
    #: Responses only.
    status: Optional[int] = None
    #: A copy (dict) when taken from a live object; a raw string is kept as given.
    headers: Optional[Union[Mapping[str, str], str]] = None
    #: bytes, str, an already-structured dict/list, None, or an ``Unreadable`` description.
    body: Any = None
    #: The charset known for a response (requests' ``Response.encoding``, from its headers).
    encoding: Optional[str] = None


@dataclass(frozen=True)
class Snapshot:
    """What ``build_payload`` needs from a record; holds no exception, traceback or live HTTP object."""

    message: str
    created: float
    exception_type: Optional[str]
    exception_text: Optional[str]
    request: Optional[HTTPParts]
    response: Optional[HTTPParts]
    #: API fields given in ``extra`` by their own name (see ``EXTRA_FIELDS``), as given.
    fields: dict[str, Any]
    integration_id: Any = None


def snapshot_record(record: logging.LogRecord, message: Optional[str] = None) -> Snapshot:
    """Capture a record for ``build_payload``; cheap, never raises on odd ``extra`` values, never mutates.

    Args:
        record: The record being handled.
        message: The formatted message (the handler's Formatter); default ``record.getMessage()``.
    """
    attrs = record.__dict__
    fields = {name: attrs[name] for name in EXTRA_FIELDS if attrs.get(name) is not None}
    exc_type, exc = _logged_exception(record.exc_info)

    raw_request, raw_response = attrs.get("request"), attrs.get("response")
    request = None if raw_request is None else _request_parts(raw_request)
    response = None if raw_response is None else _response_parts(raw_response)
    responses: list[object] = [] if raw_response is None else [raw_response]
    if exc is not None and (request is None or response is None):
        chain_request, chain_response, chain_responses = _from_chain(exc)
        request = request or chain_request
        response = response or chain_response
        responses.extend(chain_responses)
    for candidate in responses if request is None else ():
        request = _request_of_response(candidate)
        if request is not None:
            break

    exception_type = _given_exception_type(fields["exception_type"]) if "exception_type" in fields else None
    if exception_type is None and exc_type is not None:
        exception_type = exception_type_name(exc_type)

    return Snapshot(
        _message(record) if message is None else message,
        record.created,
        exception_type,
        None if exc is None else _exception_text(exc),
        request,
        response,
        fields,
        attrs.get("integration_id"),
    )


def exception_type_name(exc_type: type) -> str:
    """The dotted path Sendcloud reads: ``requests.exceptions.SSLError``, ``ValueError``, ``httpx.ConnectError``.

    Builtins have no prefix. A class defined in a private module (``httpx._exceptions``) is named after the
    longest public package that exports that very class, if one is imported; otherwise by its full path.
    """
    try:
        return _cached_type_name(exc_type)
    except TypeError:  # an unhashable metaclass: name it without the cache
        return _type_name(exc_type)


# the exception ----------------------------------------------------------------------------------------------


def _logged_exception(exc_info: Any) -> tuple[Optional[type], Optional[BaseException]]:
    """The logged exception's type and value from ``record.exc_info`` (a triple, or an exception itself)."""
    if isinstance(exc_info, BaseException):
        return type(exc_info), exc_info
    if not isinstance(exc_info, tuple) or len(exc_info) < 2:
        return None, None
    value = exc_info[1]
    if isinstance(value, BaseException):
        return type(value), value
    kind = exc_info[0]
    if isinstance(kind, type) and issubclass(kind, BaseException):
        return kind, None
    return None, None


def _exception_text(exc: BaseException) -> Optional[str]:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001  # a broken __str__ must not break logging
        try:
            return repr(exc)
        except Exception:  # noqa: BLE001
            return None


def _given_exception_type(value: Any) -> Optional[str]:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, type):
        return exception_type_name(value)
    return None


@functools.lru_cache(maxsize=512)
def _cached_type_name(exc_type: type) -> str:
    return _type_name(exc_type)


def _type_name(exc_type: type) -> str:
    name = getattr(exc_type, "__qualname__", None) or getattr(exc_type, "__name__", None)
    if not isinstance(name, str):
        return repr(exc_type)
    module = getattr(exc_type, "__module__", None)
    if not isinstance(module, str) or module in ("", "builtins"):
        return name
    parts = module.split(".")
    public: list[str] = []
    for part in parts:
        if part.startswith("_"):
            break
        public.append(part)
    if len(public) < len(parts) and "." not in name:
        for end in range(len(public), 0, -1):
            candidate = ".".join(public[:end])
            if _exports(candidate, name, exc_type):
                return f"{candidate}.{name}"
    return f"{module}.{name}"


def _exports(module_name: str, name: str, obj: type) -> bool:
    module = sys.modules.get(module_name)
    if module is None:
        return False
    try:
        return getattr(module, name, None) is obj
    except Exception:  # noqa: BLE001  # a module __getattr__ may raise anything
        return False


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then its causes and contexts, depth first; each once, at most ``CHAIN_DEPTH``."""
    seen: set[int] = set()
    stack = [exc]
    while stack and len(seen) < CHAIN_DEPTH:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (_attribute(current, "__context__"), _attribute(current, "__cause__")):  # cause pops first
            if isinstance(linked, BaseException) and id(linked) not in seen:
                stack.append(linked)


def _from_chain(exc: BaseException) -> tuple[Optional[HTTPParts], Optional[HTTPParts], list[object]]:
    """The first request and response the chain carries, and every response object seen (for ``.request``)."""
    request: Optional[HTTPParts] = None
    response: Optional[HTTPParts] = None
    responses: list[object] = []
    for current in _chain(exc):
        if request is None:
            request = _request_parts(_attribute(current, "request"))
        raw_response = _attribute(current, "response")
        if raw_response is not None:
            responses.append(raw_response)
            if response is None:
                response = _response_parts(raw_response)
        if request is not None and response is not None:
            break
    return request, response, responses


def _attribute(obj: object, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:  # noqa: BLE001  # properties of foreign errors may raise (httpx: request not set)
        return None


# adapters ---------------------------------------------------------------------------------------------------

Adapter = Callable[[Any], Optional[HTTPParts]]


def _request_parts(obj: object) -> Optional[HTTPParts]:
    return _dispatch(obj, _REQUEST_ADAPTERS)


def _response_parts(obj: object) -> Optional[HTTPParts]:
    return _dispatch(obj, _RESPONSE_ADAPTERS)


def _request_of_response(obj: object) -> Optional[HTTPParts]:
    """The request a response object knows it answered (requests' and httpx's ``Response.request``)."""
    try:
        if obj is None or isinstance(obj, Mapping):
            return None
    except Exception:  # noqa: BLE001  # isinstance may consult a foreign __class__ that raises
        return None
    return _request_parts(_attribute(obj, "request"))


def _dispatch(obj: object, adapters: tuple[Adapter, ...]) -> Optional[HTTPParts]:
    if obj is None:
        return None
    for adapter in adapters:
        try:
            parts = adapter(obj)
        except Exception:  # noqa: BLE001  # a foreign object must never break logging: ignore it
            return None
        if parts is not None:
            return parts
    return None


def _requests_prepared(obj: Any) -> Optional[HTTPParts]:
    if not isinstance(obj, requests.PreparedRequest):
        return None
    body = obj.body
    if body is not None and not isinstance(body, (bytes, str)):
        body = bytes(body) if isinstance(body, bytearray) else STREAMED_REQUEST
    return HTTPParts(method=obj.method, url=obj.url, headers=_copy_headers(obj.headers), body=body)


def _requests_request(obj: Any) -> Optional[HTTPParts]:
    if not isinstance(obj, requests.Request):
        return None
    if obj.files:
        body: Any = FILES_BODY
    elif obj.data:
        data = obj.data
        if isinstance(data, (list, tuple)):  # requests' form pairs [(key, value), ...]
            body = _pairs_to_dict(data)
            body = list(body) if isinstance(body, tuple) else body
        elif isinstance(data, (bytes, bytearray, str, dict)):
            body = _copy_body(data)
        else:  # a file or an iterator: reading it here would consume the caller's stream
            body = STREAMED_REQUEST
    else:
        body = _copy_body(obj.json)
    url = obj.url.decode("utf-8", "replace") if isinstance(obj.url, bytes) else obj.url
    return HTTPParts(method=obj.method, url=url, headers=_copy_headers(obj.headers), body=body)


def _mapping_request(obj: Any) -> Optional[HTTPParts]:
    if not isinstance(obj, Mapping) or not any(key in obj for key in ("headers", "payload", "body", "method", "url")):
        return None
    body = obj["payload"] if "payload" in obj else obj.get("body")
    return HTTPParts(
        method=obj.get("method"),
        url=obj.get("url"),
        headers=_copy_headers(obj.get("headers")),
        body=_copy_body(body),
    )


def _requests_response(obj: Any) -> Optional[HTTPParts]:
    if not isinstance(obj, requests.Response):
        return None
    # Only what was already read: .content on an unread streamed response would read from the socket.
    content = getattr(obj, "_content", False)
    body = UNREAD_RESPONSE if content is False else content
    return HTTPParts(
        url=obj.url,
        status=obj.status_code,
        headers=_copy_headers(obj.headers),
        body=body,
        encoding=obj.encoding,
    )


def _mapping_response(obj: Any) -> Optional[HTTPParts]:
    keys = ("headers", "body", "payload", "status", "status_code", "url")
    if not isinstance(obj, Mapping) or not any(key in obj for key in keys):
        return None
    body = obj["body"] if "body" in obj else obj.get("payload")
    status = obj["status_code"] if "status_code" in obj else obj.get("status")
    encoding = obj.get("encoding")
    return HTTPParts(
        url=obj.get("url"),
        status=_status(status),
        headers=_copy_headers(obj.get("headers")),
        body=_copy_body(body),
        encoding=encoding if isinstance(encoding, str) else None,
    )


#: Tried in order; the first that recognises an object describes it. Add a client library here.
_REQUEST_ADAPTERS: tuple[Adapter, ...] = (_requests_prepared, _requests_request, _mapping_request)
_RESPONSE_ADAPTERS: tuple[Adapter, ...] = (_requests_response, _mapping_response)


# copies -----------------------------------------------------------------------------------------------------


def _copy_headers(headers: Any) -> Any:
    """A dict copy of a mapping, a string kept, pairs folded into a dict; anything else dropped."""
    if headers is None or isinstance(headers, str):
        return headers
    if type(headers) is dict:
        return dict(headers)
    if isinstance(headers, CaseInsensitiveDict):
        store = getattr(headers, "_store", None)
        if isinstance(store, dict):  # {lower: (name, value)}: 10x faster than its Python-level items()
            return dict(store.values())
    if isinstance(headers, Mapping):
        return dict(headers.items())
    if isinstance(headers, (bytes, bytearray)):
        return bytes(headers).decode("latin-1")
    if isinstance(headers, (list, tuple)):
        return _pairs_to_dict(headers)
    return None


def _copy_body(body: Any) -> Any:
    """Mutable containers are copied one level deep; immutable values are kept by reference."""
    if isinstance(body, dict):
        return dict(body)
    if isinstance(body, list):
        return list(body)
    if isinstance(body, bytearray):
        return bytes(body)
    return body


def _pairs_to_dict(pairs: Any) -> Any:
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


def _status(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (str, bytes)):
        stripped = value.strip()
        return int(stripped) if stripped.isdigit() and stripped.isascii() else None
    return None


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001  # bad %-args: keep the template rather than nothing
        try:
            return str(record.msg)
        except Exception:  # noqa: BLE001
            return "<unprintable log message>"
