"""Take from a ``LogRecord`` what a log needs, cheaply, on the caller's thread.

``capture_record`` runs inside ``SendcloudHandler.emit``: it copies what may change after the call returns
(header dicts, the formatted message, the exception's text), keeps references to immutable things (``bytes``
and ``str`` bodies) and drops the rest, above all the traceback. It parses nothing: ``Capture.snapshot()``
names the exception type on the worker thread, and decoding bodies, JSON and form parsing, URL parsing and
encoding odd values happen later in ``_payload.build_payload``.

Where a request and a response come from, first match wins:

1. the record's ``extra``: ``request`` / ``response`` (a requests, httpx, urllib or aiohttp object, or a dict);
2. with ``exc_info``: the exception, then its ``__cause__`` / ``__context__`` chain (``chain.py``);
3. for the request only: the ``.request`` (or aiohttp's ``.request_info``) of a response found above.

Each HTTP client is one small adapter in ``adapters/``; objects no adapter knows (Django's ``HttpRequest``,
anything else) are ignored. Nothing here raises on odd input, and nothing does I/O: an unread streamed
response body is described, never read.
"""

from __future__ import annotations

import copy
import logging
import reprlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple, Optional

import requests
import requests.structures

from .adapters import REQUEST_ADAPTERS, RESPONSE_ADAPTERS, dispatch
from .adapters.requests import STORE_VALUES
from .chain import (
    CHAIN_DEPTH,
    exception_text,
    exception_type_name,
    from_chain,
    given_exception_type,
    logged_exception,
    request_of_response,
)
from .parts import (
    FILES_BODY,
    HEADER_BYTES,
    PARSE_FACTOR,
    STREAMED_REQUEST,
    UNREAD_RESPONSE,
    CutBody,
    HTTPParts,
    Unreadable,
    cut_body,
)

__all__ = [
    "CHAIN_DEPTH",
    "EXTRA_FIELDS",
    "FILES_BODY",
    "NO_FIELDS",
    "STREAMED_REQUEST",
    "UNREAD_RESPONSE",
    "Capture",
    "CutBody",
    "HTTPParts",
    "Snapshot",
    "Unreadable",
    "capture_record",
    "exception_type_name",
    "message",
    "snapshot_record",
]

#: API fields a record may give by their own name in ``extra`` (``request``/``response`` go through HTTPParts,
#: ``exception`` is always built from the message and the exception).
EXTRA_FIELDS = ("base_url", "full_url", "method", "response_code", "exception_type", "created_at")
#: The fields of a record that gives none (most records): one shared read-only mapping, not a dict per call.
NO_FIELDS: Mapping[str, Any] = MappingProxyType({})

_PreparedRequest, _Response = requests.PreparedRequest, requests.Response
_CaseInsensitiveDict = requests.structures.CaseInsensitiveDict
_new = tuple.__new__  # a Capture from its fields in order, without the keyword-parsing __new__
_getsizeof = sys.getsizeof
#: What a capture costs beyond its texts and bodies (itself, its tuples, the queue's slot), as ``held`` counts.
RECORD_BYTES = 512

#: The arguments of a message that could not be formatted are shown this long at most: this runs on the
#: caller's thread, and an argument may be a 50 MB string.
_ARGS = reprlib.Repr()
_ARGS.maxstring = _ARGS.maxother = 200
_ARGS.maxlevel = 2


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
    #: API fields given in ``extra`` by their own name (see ``EXTRA_FIELDS``), as given; read-only.
    fields: Mapping[str, Any]
    integration_id: Any = None
    #: The record itself, kept only for a ``before_send`` hook (``capture_record(keep_record=True)``).
    record: Optional[logging.LogRecord] = field(default=None, repr=False, compare=False)


class Capture(NamedTuple):
    """What ``SendcloudHandler.emit`` takes from a record on the caller's thread; ``snapshot()`` completes it.

    Only what may change or vanish once the logging call returns is taken: copies of header dicts and
    mutable bodies, the formatted message, the exception's class and text (never the exception or its
    traceback). Naming the exception type and building the ``Snapshot`` wait for the worker thread. An
    immutable named tuple: one is made on every logging call, and nothing is cheaper to make.
    """

    message: str
    created: float
    exc_type: Optional[type]
    exception_text: Optional[str]
    request: Optional[HTTPParts]
    response: Optional[HTTPParts]
    fields: Mapping[str, Any]
    integration_id: Any
    record: Optional[logging.LogRecord]
    #: Bytes it holds, about (texts, bodies, headers): what the memory bound charges while it waits.
    held: int = 0

    def snapshot(self) -> Snapshot:
        """The ``Snapshot`` of the captured record, made anew on each call (pure; run on the worker thread)."""
        fields = self.fields
        exception_type = given_exception_type(fields["exception_type"]) if "exception_type" in fields else None
        if exception_type is None and self.exc_type is not None:
            exception_type = exception_type_name(self.exc_type)
        return Snapshot(
            self.message,
            self.created,
            exception_type,
            self.exception_text,
            self.request,
            self.response,
            fields,
            self.integration_id,
            self.record,
        )


def capture_record(  # noqa: PLR0915  # every logging call runs it: one frame, not a helper per step
    record: logging.LogRecord, text: Optional[str] = None, *, keep_record: bool = False, max_body_bytes: int = 0
) -> Capture:
    """Copy from a record what may change, defer the rest; cheap, never raises, never mutates the record.

    Args:
        record: The record being handled.
        text: The formatted message (``message(record, formatter)``); default ``message(record)``.
        keep_record: Keep a reference to the record itself (for ``before_send``); it then lives until the
            payload is built, exception and traceback included.
        max_body_bytes: The payload's body bound: a body far beyond it keeps only its head (``cut_body``),
            so it never waits in memory whole. 0 keeps every body as it is. ``Capture.held`` says how many
            bytes the capture holds, for the memory bound.
    """
    attrs = record.__dict__
    fields = NO_FIELDS
    if not attrs.keys().isdisjoint(EXTRA_FIELDS):  # most records give none: skip the six look-ups
        fields = {name: attrs[name] for name in EXTRA_FIELDS if attrs.get(name) is not None}
    exc_info = record.exc_info
    if exc_info is None:
        exc_type = exc = None
    else:
        exc_type, exc = logged_exception(exc_info)

    raw_request, raw_response = attrs.get("request"), attrs.get("response")
    # requests' own objects (an exact PreparedRequest and Response with requests' own headers and a str or
    # bytes body read already: what requests sends and receives) are described and sized here in one step,
    # the hot path of a logging call with extra={"request": ..., "response": ...}. This is what the
    # requests adapter and cut_body make of them (tests hold the two together); a body beyond the bound
    # goes through cut_body itself. Everything else goes to the adapters and is sized below; -1: not yet.
    request = response = None
    request_size = response_size = -1
    if type(raw_request) is _PreparedRequest:
        headers, body = raw_request.headers, raw_request.body
        if type(headers) is _CaseInsensitiveDict and (body is None or type(body) is bytes or type(body) is str):
            copied = tuple(STORE_VALUES(headers._store))  # type: ignore[attr-defined]
            request = _new(HTTPParts, (raw_request.method, raw_request.url, None, copied, body, None))
            if body is not None and max_body_bytes and len(body) > max_body_bytes * PARSE_FACTOR:
                request, request_size = cut_body(request, max_body_bytes)
            else:
                request_size = HEADER_BYTES * len(copied) + (0 if body is None else _getsizeof(body))
    if type(raw_response) is _Response:
        headers, content = raw_response.headers, getattr(raw_response, "_content", False)  # False: not read
        if type(headers) is _CaseInsensitiveDict and type(content) is bytes:
            body = content
            copied = tuple(STORE_VALUES(headers._store))  # type: ignore[attr-defined]
            response = _new(HTTPParts, (None, raw_response.url, raw_response.status_code, copied, body,
                                        raw_response.encoding))
            if max_body_bytes and len(body) > max_body_bytes * PARSE_FACTOR:
                response, response_size = cut_body(response, max_body_bytes)
            else:
                response_size = HEADER_BYTES * len(copied) + _getsizeof(body)
    if request is None and raw_request is not None:
        request = dispatch(REQUEST_ADAPTERS, raw_request)
    if response is None and raw_response is not None:
        response = dispatch(RESPONSE_ADAPTERS, raw_response)
    carriers: Sequence[object] = ()
    if exc is not None and (request is None or response is None):
        chain_request, chain_response, carriers = from_chain(exc)
        request = request or chain_request
        response = response or chain_response
    if request is None and raw_response is not None:
        request = request_of_response(raw_response)
    if request is None:
        for candidate in carriers:
            request = request_of_response(candidate)
            if request is not None:
                break
    text = message(record) if text is None else text
    exc_text = None if exc is None else exception_text(exc)
    held = RECORD_BYTES + _getsizeof(text)
    if exc_text is not None:
        held += _getsizeof(exc_text)
    if request is not None:
        if request_size < 0:
            request, request_size = cut_body(request, max_body_bytes)
        held += request_size
    if response is not None:
        if response_size < 0:
            response, response_size = cut_body(response, max_body_bytes)
        held += response_size

    return _new(Capture, (
        text,
        record.created,
        exc_type,
        exc_text,
        request,
        response,
        fields,
        attrs.get("integration_id"),
        record if keep_record else None,
        held,
    ))


def snapshot_record(record: logging.LogRecord, text: Optional[str] = None, *, keep_record: bool = False) -> Snapshot:
    """``capture_record(...).snapshot()`` in one call, for code that builds a payload on the spot."""
    return capture_record(record, text, keep_record=keep_record).snapshot()


def message(record: logging.LogRecord, formatter: Optional[logging.Formatter] = None) -> str:
    """The record's message as merchants read it: formatted (by ``formatter`` when given), never a
    traceback; never raises, never changes the record.

    A message that cannot be formatted (``log.error("order %s of %s", 7)``, a ``%d`` given a string, an
    argument whose ``__str__`` raises) is still a message: its template and its arguments, through the
    formatter if it takes them so. A formatter that raises anyway gives way to the plain message.
    """
    if formatter is None:
        try:
            return record.getMessage()
        except Exception:  # noqa: BLE001  # bad %-args: show the template and what was given
            return _unformatted(record)
    bare = copy.copy(record)
    bare.exc_info = None
    bare.exc_text = None
    bare.stack_info = None
    try:
        return str(formatter.format(bare))
    except Exception:  # noqa: BLE001  # user code, or the record's own %-args: retried with a plain message
        plain = message(record)
    bare.msg, bare.args = plain, ()
    try:
        return str(formatter.format(bare))
    except Exception:  # noqa: BLE001  # a formatter that fails on any record costs its formatting, not the log
        return plain


def _unformatted(record: logging.LogRecord) -> str:
    try:
        template = str(record.msg)
    except Exception:  # noqa: BLE001  # a message object whose __str__ raises
        template = "<unprintable log message>"
    if not record.args:
        return template
    try:
        given = _ARGS.repr(record.args)
    except Exception:  # noqa: BLE001  # reprlib guards each item, not every container
        given = "<unprintable arguments>"
    return f"{template} (arguments: {given})"
