"""Take from a ``LogRecord`` what a log needs, cheaply, on the caller's thread.

``snapshot_record`` runs inside ``SendcloudHandler.emit``: it copies what may change after the call returns
(header dicts, the formatted message, the exception's text), keeps references to immutable things (``bytes``
and ``str`` bodies) and drops the rest, above all the traceback. It parses nothing: decoding bodies, JSON and
form parsing, URL parsing and encoding odd values happen later in ``payload.build_payload`` on the worker.

Where a request and a response come from, first match wins:

1. the record's ``extra``: ``request`` / ``response`` (a requests, httpx, urllib or aiohttp object, or a dict);
2. with ``exc_info``: the exception, then its ``__cause__`` / ``__context__`` chain (``.request`` /
   ``.response``, as requests' ``RequestException`` and httpx's errors carry them; what the ``adapters``
   package knows of other errors: ``urllib.error.HTTPError``, aiohttp's ``request_info``);
3. for the request only: the ``.request`` (or aiohttp's ``.request_info``) of a response found above.

Each HTTP client is one small adapter (a function returning ``HTTPParts`` or ``None``) in
``_REQUEST_ADAPTERS`` / ``_RESPONSE_ADAPTERS``: requests' here, the others' in ``sendcloud_logging._capture.adapters``,
which never imports a client library; objects no adapter knows (Django's ``HttpRequest``, anything
else) are ignored. Nothing here raises on odd input, and nothing does I/O: an unread streamed response body is
described, never read.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import requests
from requests.structures import CaseInsensitiveDict

__all__ = ["Capture", "HTTPParts", "Snapshot", "Unreadable", "capture_record", "exception_type_name", "snapshot_record"]

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
    """What ``build_payload`` needs from a record; holds no exception, traceback or live HTTP object (only
    with a ``before_send`` hook does it keep the record itself, for the hook)."""

    message: str
    created: float
    exception_type: Optional[str]
    exception_text: Optional[str]
    request: Optional[HTTPParts]
    response: Optional[HTTPParts]
    #: API fields given in ``extra`` by their own name (see ``EXTRA_FIELDS``), as given.
    fields: dict[str, Any]
    integration_id: Any = None
    #: The record itself, kept only for a ``before_send`` hook (``snapshot_record(keep_record=True)``).
    record: Optional[logging.LogRecord] = field(default=None, repr=False, compare=False)


def snapshot_record(
    record: logging.LogRecord, message: Optional[str] = None, *, keep_record: bool = False
) -> Snapshot:
    """Capture a record for ``build_payload``; cheap, never raises on odd ``extra`` values, never mutates.

    ``capture_record(...).snapshot()``: the handler calls the two halves on two threads.

    Args:
        record: The record being handled.
        message: The formatted message (the handler's Formatter); default ``record.getMessage()``.
        keep_record: Keep a reference to the record itself (for ``before_send``); it then lives until the
            payload is built, exception and traceback included.
    """
    return capture_record(record, message, keep_record=keep_record).snapshot()


#: A request or response as ``capture_record`` keeps it: ``HTTPParts``, or for requests' own objects with
#: their own headers (the common case) a plain tuple of ``HTTPParts``' fields in their order, the headers as
#: (name, value) pairs: both cheaper to make than a dataclass and a dict.
Captured = Union[HTTPParts, "tuple[Any, ...]", None]


class Capture:
    """What ``SendcloudHandler.emit`` takes from a record on the caller's thread; ``snapshot()`` completes it.

    Only what may change or vanish once the logging call returns is taken: copies of header dicts and
    mutable bodies, the formatted message, the exception's class and text (never the exception or its
    traceback). Building the ``HTTPParts`` and ``Snapshot`` objects and naming the exception type wait for
    the worker thread, like everything after them.
    """

    __slots__ = (
        "_snapshot",
        "created",
        "exc_type",
        "exception_text",
        "fields",
        "integration_id",
        "message",
        "record",
        "request",
        "response",
    )

    def __init__(  # noqa: PLR0917  # made on every logging call: positional arguments cost half
        self,
        message: str,
        created: float,
        exc_type: Optional[type],
        exception_text: Optional[str],
        request: Captured,
        response: Captured,
        fields: dict[str, Any],
        integration_id: Any,
        record: Optional[logging.LogRecord],
    ) -> None:
        self.message = message
        self.created = created
        self.exc_type = exc_type
        self.exception_text = exception_text
        self.request = request
        self.response = response
        self.fields = fields
        self.integration_id = integration_id
        self.record = record
        self._snapshot: Optional[Snapshot] = None

    def snapshot(self) -> Snapshot:
        """The ``Snapshot`` of the captured record, built on first use (pure; in the handler, on the worker)."""
        if self._snapshot is None:
            self._snapshot = self._build()
        return self._snapshot

    def _build(self) -> Snapshot:
        fields = self.fields
        exception_type = _given_exception_type(fields["exception_type"]) if "exception_type" in fields else None
        if exception_type is None and self.exc_type is not None:
            exception_type = exception_type_name(self.exc_type)
        return Snapshot(
            self.message,
            self.created,
            exception_type,
            self.exception_text,
            _as_parts(self.request),
            _as_parts(self.response),
            fields,
            self.integration_id,
            self.record,
        )


def capture_record(
    record: logging.LogRecord, message: Optional[str] = None, *, keep_record: bool = False
) -> Capture:
    """The caller's-thread half of ``snapshot_record``: copy what may change, defer the rest; never raises.

    Args: as ``snapshot_record``.
    """
    attrs = record.__dict__
    fields: dict[str, Any] = {}
    if not attrs.keys().isdisjoint(EXTRA_FIELDS):  # most records give none: skip the six look-ups
        fields = {name: attrs[name] for name in EXTRA_FIELDS if attrs.get(name) is not None}
    exc_info = record.exc_info
    exc_type, exc = (None, None) if exc_info is None else _logged_exception(exc_info)

    raw_request, raw_response = attrs.get("request"), attrs.get("response")
    request = None if raw_request is None else _request_parts(raw_request)
    response = None if raw_response is None else _response_parts(raw_response)
    chain_responses: list[object] = []
    if exc is not None and (request is None or response is None):
        chain_request, chain_response, chain_responses = _from_chain(exc)
        request = request or chain_request
        response = response or chain_response
    if request is None:
        for candidate in ([] if raw_response is None else [raw_response]) + chain_responses:
            request = _request_of_response(candidate)
            if request is not None:
                break

    return Capture(
        _message(record) if message is None else message,
        record.created,
        exc_type,
        None if exc is None else _exception_text(exc),
        request,
        response,
        fields,
        attrs.get("integration_id"),
        record if keep_record else None,
    )


def _as_parts(captured: Captured) -> Optional[HTTPParts]:
    if isinstance(captured, tuple):
        method, url, status, header_pairs, body, encoding = captured
        return HTTPParts(method, url, status, dict(header_pairs), body, encoding)
    return captured


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
    try:
        if isinstance(value, str):
            return value.strip() or None
        if isinstance(value, type):
            return exception_type_name(value)
    except Exception:  # noqa: BLE001  # isinstance() may consult a foreign __class__ that raises
        return None
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
    alias = EXCEPTION_MODULES.get(module)  # aiohttp.client_exceptions.X is exported as aiohttp.X
    if alias is not None and "." not in name and _exports(alias, name, exc_type):
        return f"{alias}.{name}"
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


def _from_chain(exc: BaseException) -> tuple[Captured, Captured, list[object]]:
    """The first request and response the chain carries, and every response object seen (for ``.request``)."""
    request: Captured = None
    response: Captured = None
    responses: list[object] = []
    for current in _chain(exc):
        if request is None:
            request = _request_parts(_attribute(current, "request"))
        raw_response = _attribute(current, "response")
        if raw_response is not None:
            responses.append(raw_response)
            if response is None:
                response = _response_parts(raw_response)
        if request is None or response is None:
            carried_request, carried_response = _exception_parts(current)
            request = request or carried_request
            response = response or carried_response
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

_PreparedRequest, _Response = requests.PreparedRequest, requests.Response  # looked up on every logging call


def _request_parts(obj: object) -> Captured:
    if type(obj) is _PreparedRequest and type(obj.headers) is CaseInsensitiveDict:  # the common case
        try:
            return _prepared_fields(obj, _header_pairs)
        except Exception:  # noqa: BLE001  # an odd attribute set by the caller must never break logging
            return None
    return _dispatch(obj, _REQUEST_ADAPTERS)


def _response_parts(obj: object) -> Captured:
    if type(obj) is _Response and type(obj.headers) is CaseInsensitiveDict:
        try:
            return _response_fields(obj, _header_pairs)
        except Exception:  # noqa: BLE001
            return None
    return _dispatch(obj, _RESPONSE_ADAPTERS)


def _request_of_response(obj: object) -> Captured:
    """The request a response object knows it answered (requests' and httpx's ``Response.request``)."""
    try:
        if obj is None or isinstance(obj, Mapping):
            return None
    except Exception:  # noqa: BLE001  # isinstance may consult a foreign __class__ that raises
        return None
    return _request_parts(_attribute(obj, "request")) or _request_parts(_attribute(obj, "request_info"))


def _exception_parts(exc: BaseException) -> tuple[Optional[HTTPParts], Optional[HTTPParts]]:
    """The request and response an exception carries in its own way (``adapters.EXCEPTION_ADAPTERS``)."""
    for adapter in EXCEPTION_ADAPTERS:
        try:
            found = adapter(exc)
        except Exception:  # noqa: BLE001, S112  # a foreign error must never break logging
            continue
        if found is not None:
            return found
    return None, None


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
    return HTTPParts(*_prepared_fields(obj, _copy_headers))


def _prepared_fields(obj: requests.PreparedRequest, copy_headers: Callable[[Any], Any]) -> tuple[Any, ...]:
    """``HTTPParts``' fields of a ``PreparedRequest``, in their order."""
    body = obj.body
    if body is not None and not isinstance(body, (bytes, str)):
        body = bytes(body) if isinstance(body, bytearray) else STREAMED_REQUEST
    return (obj.method, obj.url, None, copy_headers(obj.headers), body, None)


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
    return HTTPParts(*_response_fields(obj, _copy_headers))


def _response_fields(obj: requests.Response, copy_headers: Callable[[Any], Any]) -> tuple[Any, ...]:
    """``HTTPParts``' fields of a requests ``Response``, in their order."""
    # Only what was already read: .content on an unread streamed response would read from the socket.
    content = getattr(obj, "_content", False)
    body = UNREAD_RESPONSE if content is False else content
    return (None, obj.url, obj.status_code, copy_headers(obj.headers), body, obj.encoding)


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
    if isinstance(headers, CaseInsensitiveDict):  # requests' headers: the common case first
        store = getattr(headers, "_store", None)
        if isinstance(store, dict):  # {lower: (name, value)}: 10x faster than its Python-level items()
            return dict(store.values())
    if headers is None or isinstance(headers, str):
        return headers
    if type(headers) is dict:
        return dict(headers)
    if isinstance(headers, Mapping):
        return dict(headers.items())
    if isinstance(headers, (bytes, bytearray)):
        return bytes(headers).decode("latin-1")
    if isinstance(headers, (list, tuple)):
        return _pairs_to_dict(headers)
    return None


def _header_pairs(headers: CaseInsensitiveDict[str]) -> tuple[tuple[str, str], ...]:
    """requests' headers as (name, value) pairs: a third cheaper to copy than into a dict."""
    store = getattr(headers, "_store", None)  # {lower: (name, value)}
    return tuple(store.values()) if isinstance(store, dict) else tuple(headers.items())


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


# other HTTP clients -----------------------------------------------------------------------------------------
# httpx, urllib and aiohttp live in their own modules, which build on HTTPParts above: imported last.

from .adapters import EXCEPTION_ADAPTERS, EXCEPTION_MODULES, REQUEST_ADAPTERS, RESPONSE_ADAPTERS  # noqa: E402

# Tried after requests' adapters and before the dict adapters (a dict is the last resort).
_REQUEST_ADAPTERS = (*[a for a in _REQUEST_ADAPTERS if a is not _mapping_request], *REQUEST_ADAPTERS, _mapping_request)
_RESPONSE_ADAPTERS = (
    *[a for a in _RESPONSE_ADAPTERS if a is not _mapping_response],
    *RESPONSE_ADAPTERS,
    _mapping_response,
)
