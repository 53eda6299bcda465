"""Turn a record's snapshot into the API body: the nine fields, JSON-safe and valid against the API's schema.

Pure code, run on the worker thread; all the costly work the caller's thread skipped happens here: decoding
bodies, parsing JSON and forms, parsing URLs, encoding values JSON cannot hold.

Each field is taken from the first of these that has a usable value:

- the record's ``extra`` by the field's own name (``extra={"full_url": ...}``);
- what the request, response and exception give (``full_url``: response, then request URL);
- ``defaults`` (the handler's ``base_url=``, or any API field).

``base_url`` differs: the record's, else the default, else ``scheme://host[:port]`` of ``full_url``; none of
these raises ``MissingBaseURLError``, the only exception ``build_payload`` raises. Values of the wrong type
are skipped as if absent. Fields without a value are left out; ``base_url`` is always there.

Every value is then made safe, as a ``PayloadPolicy`` says (the default one unless the handler passes its
own): secrets redacted (``redact.py``), texts cut to their bounds and the whole body kept under its cap
(``limits.py``). Whatever a record holds (objects whose ``__str__`` raises, cycles, 50 MB strings, huge
ints, NaN, generators, sets), the result is a schema-valid body; the work is bounded by the caps, not by
the size of the input.
"""

from __future__ import annotations

import codecs
import itertools
import json
import logging
import math
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timezone
from typing import Any, Callable, Optional, Union
from urllib.parse import parse_qsl, urlsplit

from pythonjsonlogger.json import JsonEncoder

from .._capture import HTTPParts, Snapshot, Unreadable, exception_type_name, snapshot_record
from .._types import API_FIELDS, Payload
from ..errors import MissingBaseURLError
from .limits import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_PAYLOAD_BYTES,
    MAX_BASE_URL_BYTES,
    MAX_EXCEPTION_TYPE_BYTES,
    MAX_HEADER_NAME_BYTES,
    MAX_HEADER_VALUE_BYTES,
    MAX_HEADERS,
    MAX_ITEMS,
    MAX_KEY_BYTES,
    MAX_METHOD_BYTES,
    MAX_RAW_HEADERS_BYTES,
    MAX_URL_BYTES,
    clip,
    fit_payload,
    head,
    shrink,
)
from .redact import DEFAULT_REDACTOR, Redactor

__all__ = ["DEFAULT_POLICY", "PayloadPolicy", "build_payload", "conform", "payload_from_record"]

#: Containers nested deeper than this inside bodies and headers are replaced by a note.
MAX_DEPTH = 32
TOO_DEEP = "<nested too deep>"
#: Bytes inside a structure longer than this are described, not base64-encoded.
MAX_INLINE_BYTES = 1024
#: JSON and form texts longer than this many times ``max_body_bytes`` are cut as text, not parsed.
PARSE_FACTOR = 8
#: Ints outside this range are sent as their digits in a string (JSON readers lose them otherwise).
_INT_RANGE = range(-(2**63), 2**63)
_MAX_INT_BITS = 8000  # str() of bigger ints is refused by Python's digit limit: described instead
_MAX_DATE_TIME = 100  # characters of the longest date-time text worth parsing
_BINARY_TYPES = (
    "application/octet-stream",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/x-tar",
    "application/x-7z-compressed",
    "application/x-protobuf",
    "application/protobuf",
    "application/grpc",
    "application/msword",
    "application/vnd.ms-excel",
)
_BINARY_FAMILIES = ("image/", "audio/", "video/", "font/")


@dataclass(frozen=True)
class PayloadPolicy:
    """How a payload is made safe: what is redacted and how big its parts may be.

    Args:
        redactor: The redaction rules; ``None`` redacts nothing (only for values already redacted).
        max_body_bytes: Bytes of ``request.payload``, ``response.body`` and ``exception`` at most.
        max_payload_bytes: Bytes of the whole POST body at most.
    """

    redactor: Optional[Redactor] = DEFAULT_REDACTOR
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES


#: Redaction with the default lists, 64 KiB bodies, 256 KiB POST bodies.
DEFAULT_POLICY = PayloadPolicy()

_ENCODER = JsonEncoder()  # stateless; its default() turns datetime, UUID, bytes, dataclasses... into JSON values
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))", re.ASCII
)
_CONTENT_TYPE_LINE = re.compile(r"^[ \t]*content-type[ \t]*:(.*)$", re.IGNORECASE | re.MULTILINE)
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
_TEXT_TYPES = ("application/javascript", "application/ecmascript", "application/x-www-form-urlencoded")


def payload_from_record(
    record: logging.LogRecord, *, policy: PayloadPolicy = DEFAULT_POLICY, **defaults: Any
) -> Payload:
    """The API body for one record: the pure mapping the handler uses, usable on its own.

    Args:
        record: A log record; its ``extra`` may carry ``request``, ``response`` and API fields by name.
        policy: Redaction and size bounds (default: the handler's defaults).
        **defaults: Any API field (typically ``base_url=``) used when the record gives none.

    Raises:
        MissingBaseURLError: neither the record, ``defaults`` nor a URL it carries gives a ``base_url``.
    """
    return build_payload(snapshot_record(record), defaults, policy)


def build_payload(
    snap: Snapshot, defaults: Optional[Mapping[str, Any]] = None, policy: PayloadPolicy = DEFAULT_POLICY
) -> Payload:
    """The API body for a snapshot; only API fields, every value JSON-safe, redacted and within its bounds.

    Raises only ``MissingBaseURLError``.

    Args:
        snap: What ``snapshot_record`` took from the record.
        defaults: API fields used when neither the record nor its request/response give one.
        policy: Redaction and size bounds.
    """
    given = snap.fields
    fallback: dict[str, Any] = _safe(dict, defaults) or {} if isinstance(defaults, Mapping) else {}
    request, response = snap.request, snap.response
    if request is None:
        request = _safe(_parts_from_mapping, fallback.get("request"), "payload")
    if response is None:
        response = _safe(_parts_from_mapping, fallback.get("response"), "body")

    full_url = _first(
        _safe(_url, given.get("full_url")),
        _safe(_url, response.url) if response else None,
        _safe(_url, request.url) if request else None,
        _safe(_url, fallback.get("full_url")),
    )
    base_url = _first(
        _safe(_url, given.get("base_url")),
        _safe(_url, fallback.get("base_url")),
        _safe(_origin, full_url),
    )
    if base_url is None:
        raise MissingBaseURLError(
            "the record has no base_url: pass base_url= to SendcloudHandler (or payload_from_record), "
            "or log with extra={'base_url': 'https://shop.example'} or a request/response with an http(s) URL"
        )

    redactor = policy.redactor
    values: dict[str, Any] = {
        "base_url": _safe(_bounded_url, base_url, MAX_BASE_URL_BYTES, redactor),
        "full_url": _safe(_bounded_url, full_url, MAX_URL_BYTES, redactor),
        "method": _safe(
            _bounded_text,
            _first(
                _safe(_method, given.get("method")),
                _safe(_method, request.method) if request else None,
                _safe(_method, fallback.get("method")),
            ),
            MAX_METHOD_BYTES,
            redactor,
        ),
        "response_code": _first(
            _safe(_response_code, given.get("response_code")),
            _safe(_response_code, response.status) if response else None,
            _safe(_response_code, fallback.get("response_code")),
        ),
        "response": _safe(_response_object, response, policy),
        "request": _safe(_request_object, request, policy),
        "created_at": _first(
            _safe(_created_at, given.get("created_at")),
            _safe(_timestamp, snap.created),
            _safe(_created_at, fallback.get("created_at")),
        ),
        "exception_type": _safe(  # a class path, or any text a record gives: redacted like the rest
            _bounded_text,
            _first(
                _safe(_exception_type, given.get("exception_type")),
                _safe(_exception_type, snap.exception_type),
                _safe(_exception_type, fallback.get("exception_type")),
            ),
            MAX_EXCEPTION_TYPE_BYTES,
            redactor,
        ),
        "exception": _safe(
            _bounded_text,
            _first(_safe(_exception, snap.message, snap.exception_text), _safe(_text, fallback.get("exception"))),
            policy.max_body_bytes,
            redactor,
        ),
    }
    if values["base_url"] is None:  # pragma: no cover - a URL string always survives its bounds
        raise MissingBaseURLError("the record's base_url could not be represented")
    payload = {name: values[name] for name in API_FIELDS if values[name] is not None}
    return fit_payload(payload, policy.max_payload_bytes)


def conform(value: Any, policy: PayloadPolicy = DEFAULT_POLICY) -> Payload:
    """A payload edited by ``before_send`` made sendable again: only API fields, each of a type the API
    takes (others are left out, as in ``build_payload``), texts and the whole body within their bounds.

    Nothing is redacted here: the hook got the redacted payload and what it adds is its own choice.

    Raises:
        TypeError: ``value`` is not a mapping.
        MissingBaseURLError: it has no usable ``base_url``.
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"before_send must return a dict or None, not {type(value).__name__}")
    bare = replace(policy, redactor=None)
    get = value.get
    base_url = _safe(_bounded_url, _safe(_url, get("base_url")), MAX_BASE_URL_BYTES, None)
    if base_url is None:
        raise MissingBaseURLError("before_send returned a payload without a base_url")
    values: dict[str, Any] = {
        "base_url": base_url,
        "full_url": _safe(_bounded_url, _safe(_url, get("full_url")), MAX_URL_BYTES, None),
        "method": _safe(_method, get("method")),
        "response_code": _safe(_response_code, get("response_code")),
        "response": _safe(_response_object, _safe(_parts_from_mapping, get("response"), "body"), bare),
        "request": _safe(_request_object, _safe(_parts_from_mapping, get("request"), "payload"), bare),
        "created_at": _safe(_created_at, get("created_at")),
        "exception_type": _safe(_exception_type, get("exception_type")),
        "exception": _safe(_bounded_text, _safe(_text, get("exception")), policy.max_body_bytes, None),
    }
    payload = {name: values[name] for name in API_FIELDS if values[name] is not None}
    return fit_payload(payload, policy.max_payload_bytes)


# plumbing ---------------------------------------------------------------------------------------------------


def _safe(func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args)``, or None when odd input makes it fail: a payload is built whatever the record holds."""
    try:
        return func(*args)
    except Exception:  # noqa: BLE001  # a bad value costs its field, never the whole log
        return None


def _first(*candidates: Any) -> Any:
    for candidate in candidates:
        if candidate is not None:
            return candidate
    return None


def _clean(text: str) -> str:
    """A plain ``str`` that encodes to UTF-8 (lone surrogates become ``?``)."""
    if not str.isascii(text):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return text.encode("utf-8", "replace").decode("utf-8")
    return text if type(text) is str else str.__str__(text)


def _bounded_text(
    text: Optional[str],
    max_bytes: int,
    redactor: Optional[Redactor],
    missing: int = 0,
    *,
    mime: str = "",
    header_block: bool = False,
) -> Optional[str]:
    """At most ``max_bytes`` of ``text``: its head is redacted (only the head: the work stays bounded by
    the cap, not by the input), then cut, with one marker counting every byte left out.

    ``missing``: bytes already left off the end of ``text``. ``mime``: the body's type (multipart forms are
    redacted field by field). ``header_block``: the text is a raw header block.
    """
    if text is None:
        return None
    kept, cut = head(text, max_bytes)
    if redactor is not None:
        was_cut = bool(cut or missing)
        if header_block:
            kept = redactor.header_block(kept, cut=was_cut)
        else:
            kept = redactor.text(kept, multipart=mime.startswith("multipart/"), cut=was_cut)
    return clip(kept, max_bytes, cut + missing)


def _bounded_url(url: Optional[str], max_bytes: int, redactor: Optional[Redactor]) -> Optional[str]:
    """A URL without user information or secret query parameters, cut to ``max_bytes``."""
    return _bounded_text(url, max_bytes, redactor)


def _text(value: Any) -> Optional[str]:
    """A non-empty string value, or None."""
    if isinstance(value, str) and value.strip():
        return _clean(value)
    return None


def _parts_from_mapping(value: Any, body_key: str) -> Optional[HTTPParts]:
    """A request/response given in ``defaults`` as a dict: headers and body only."""
    if not isinstance(value, Mapping):
        return None
    return HTTPParts(headers=value.get("headers"), body=value.get(body_key))


# scalar fields ----------------------------------------------------------------------------------------------


def _url(value: Any) -> Optional[str]:
    """A URL as text: strings, bytes, and URL objects (``httpx.URL``, ``yarl.URL``) by their ``str()``."""
    if value is None or isinstance(value, (bool, int, float, Mapping, list, tuple, set, frozenset)):
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    elif not isinstance(value, str):
        value = str(value)
    return _text(value)


def _origin(url: Optional[str]) -> Optional[str]:
    """``scheme://host[:port]`` of an http(s) URL with a host; credentials, path and query dropped."""
    if not url:
        return None
    parts = urlsplit(url.strip()[:MAX_URL_BYTES])  # the origin is at the start: a huge URL costs no more
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in ("http", "https") or not host:
        return None
    port = parts.port  # ValueError on a bad port: no base_url from this URL
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"


def _method(value: Any) -> Optional[str]:
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value[: MAX_METHOD_BYTES * 2]).decode("latin-1")
    text = _text(value[: MAX_METHOD_BYTES * 2] if isinstance(value, str) else value)  # a method is a short word
    return clip(text.strip().upper(), MAX_METHOD_BYTES) if text else None


def _response_code(value: Any) -> Optional[int]:
    """An integer from 0 to 999 (HTTP codes have three digits); a string of digits is converted; bools,
    floats and anything else are not codes."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (str, bytes)):
        stripped = value.strip()
        if not stripped.isdigit() or not stripped.isascii() or len(stripped) > 3:
            return None
        value = int(stripped)
    if isinstance(value, int) and 0 <= value < 1000:
        return int.__int__(value)
    return None


def _exception_type(value: Any) -> Optional[str]:
    if isinstance(value, type):
        value = exception_type_name(value)
    text = _text(value)
    return clip(text.strip(), MAX_EXCEPTION_TYPE_BYTES) if text else None


def _exception(message: Any, detail: Any) -> Optional[str]:
    """The message, then the exception's own text when it adds something: ``"message: text"``."""
    message = message if isinstance(message, str) else ""
    detail = detail.strip() if isinstance(detail, str) else ""
    if detail and detail not in message:
        if not message.strip():
            return _clean(detail)
        separator = " " if message.rstrip().endswith(":") else ": "
        return _clean(f"{message.rstrip()}{separator}{detail}")
    return _text(message)


def _timestamp(created: Any) -> Optional[str]:
    if isinstance(created, bool) or not isinstance(created, (int, float)):
        return None
    return _rfc3339(datetime.fromtimestamp(created, timezone.utc).astimezone())


def _created_at(value: Any) -> Optional[str]:
    """RFC 3339 with an offset: a datetime (naive = local time), a date, an epoch number, or a date-time string."""
    if isinstance(value, datetime):
        return _rfc3339(value if value.tzinfo is not None and value.utcoffset() is not None else value.astimezone())
    if isinstance(value, date):
        return _rfc3339(datetime.combine(value, time()).astimezone())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _timestamp(value)
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value[:_MAX_DATE_TIME]).decode("utf-8", "replace")
    if not isinstance(value, str) or len(value) > _MAX_DATE_TIME:  # longer is no date-time: not parsed
        return None
    stripped = value.strip()
    if _is_rfc3339(stripped):
        return _clean(stripped)
    try:
        parsed = datetime.fromisoformat(stripped)
    except ValueError:
        return None
    return _created_at(parsed)


def _rfc3339(moment: datetime) -> str:
    offset = moment.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        moment = moment.astimezone(timezone.utc)  # RFC 3339 offsets have whole minutes
    return moment.isoformat()


def _is_rfc3339(text: str) -> bool:
    match = _RFC3339.fullmatch(text)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    try:
        datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    if second > 60:
        return False
    offset_hour, offset_minute = match.group(7), match.group(8)
    return offset_hour is None or (int(offset_hour) < 24 and int(offset_minute) < 60)


# request and response ---------------------------------------------------------------------------------------


def _request_object(parts: Optional[HTTPParts], policy: PayloadPolicy) -> Optional[dict[str, Any]]:
    if parts is None:
        return None
    content_type = _safe(_content_type, parts.headers)
    headers = _safe(_headers, parts.headers, True, policy.redactor)
    payload = _safe(_body, parts.body, content_type, None, policy)
    if headers is None and payload is None:
        return None
    return {"headers": headers, "payload": payload}


def _response_object(parts: Optional[HTTPParts], policy: PayloadPolicy) -> Optional[dict[str, Any]]:
    if parts is None:
        return None
    content_type = _safe(_content_type, parts.headers)
    headers = _safe(_headers, parts.headers, False, policy.redactor)
    body = _safe(_body, parts.body, content_type, parts.encoding, policy)
    if headers is None and body is None:
        return None
    return {"headers": headers, "body": body}


def _headers(headers: Any, allow_text: bool, redactor: Optional[Redactor]) -> Any:
    """Headers as ``{str: str}``, redacted and bounded; a raw string stays a string where the API allows it."""
    if headers is None:
        return None
    missing = 0
    if isinstance(headers, (bytes, bytearray)):
        missing = max(0, len(headers) - MAX_RAW_HEADERS_BYTES)
        headers = bytes(headers[:MAX_RAW_HEADERS_BYTES]).decode("latin-1")
    if isinstance(headers, str):
        if allow_text:
            return _bounded_text(_text(headers), MAX_RAW_HEADERS_BYTES, redactor, missing, header_block=True)
        out = _header_dict(_header_lines(clip(headers, MAX_RAW_HEADERS_BYTES)))
    elif isinstance(headers, Mapping):
        out = _header_dict(headers.items(), len(headers))
    elif isinstance(headers, (list, tuple)):
        pairs = itertools.islice(headers, MAX_ITEMS)
        out = _header_dict((item for item in pairs if isinstance(item, (list, tuple)) and len(item) == 2), len(headers))
    else:
        return None
    if out is not None and redactor is not None:
        out = redactor.headers(out)
    return out


def _header_lines(text: str) -> list[tuple[str, str]]:
    """``Name: value`` lines of a raw header block; a status line and anything else without a colon skipped."""
    pairs = []
    for line in text.splitlines():
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
        key = clip(_header_value(name), MAX_HEADER_NAME_BYTES)
        if key not in out and len(out) >= MAX_HEADERS:
            more += 1
            if total:
                break
            continue
        text = _header_value(value)
        out[key] = clip(f"{out[key]}, {text}" if key in out else text, MAX_HEADER_VALUE_BYTES)
    if total and more:
        more = total - seen + 1
    if more:
        out["…"] = f"{more} more headers cut"
    return out or None


def _header_value(value: Any) -> str:
    if isinstance(value, str):
        return _clean(clip(value, MAX_HEADER_VALUE_BYTES))
    if isinstance(value, (bytes, bytearray)):
        return bytes(value[: MAX_HEADER_VALUE_BYTES + 1]).decode("latin-1")  # header bytes are ISO-8859-1
    if isinstance(value, (list, tuple)):
        return clip(", ".join(_header_value(item) for item in value[:MAX_HEADERS]), MAX_HEADER_VALUE_BYTES)
    return clip(_Converter(MAX_HEADER_VALUE_BYTES).key(value), MAX_HEADER_VALUE_BYTES)


def _content_type(headers: Any) -> Optional[str]:
    if isinstance(headers, (bytes, bytearray)):
        headers = bytes(headers[:MAX_RAW_HEADERS_BYTES]).decode("latin-1")
    if isinstance(headers, str):
        match = _CONTENT_TYPE_LINE.search(headers[:MAX_RAW_HEADERS_BYTES])
        return match.group(1).strip() if match else None
    items = headers.items() if isinstance(headers, Mapping) else headers if isinstance(headers, (list, tuple)) else ()
    for item in itertools.islice(items, MAX_ITEMS):
        if isinstance(item, (list, tuple)) and len(item) == 2 and _header_value(item[0]).lower() == "content-type":
            return _header_value(item[1]) if item[1] is not None else None
    return None


def _mime(content_type: Optional[str]) -> str:
    return content_type.partition(";")[0].strip().lower() if content_type else ""


def _is_json(mime: str) -> bool:
    return mime.endswith(("/json", "+json"))


def _is_text(mime: str) -> bool:
    return mime.startswith("text/") or _is_json(mime) or mime.endswith(("/xml", "+xml")) or mime in _TEXT_TYPES


def _is_binary(mime: str) -> bool:
    return mime.startswith(_BINARY_FAMILIES) or mime in _BINARY_TYPES


# bodies -----------------------------------------------------------------------------------------------------


def _body(body: Any, content_type: Optional[str], encoding: Optional[str], policy: PayloadPolicy) -> Any:
    """An object, a string or None, as the API allows for ``request.payload`` and ``response.body``;
    redacted, and at most ``max_body_bytes`` long (as text, or as JSON for an object)."""
    if body is None:
        return None
    if isinstance(body, Unreadable):  # extract's description of a body it could not capture
        return _text(body)
    if isinstance(body, str):
        return _text_body(body, content_type, policy)
    if isinstance(body, (bytes, bytearray, memoryview)):
        return _bytes_body(bytes(body), content_type, encoding, policy)
    value = _Converter(policy.max_body_bytes).convert(body)
    if isinstance(value, dict):
        return _structure(value, policy)
    if value is None:
        return None
    if isinstance(value, str):
        return _bounded_text(_text(value), policy.max_body_bytes, policy.redactor)
    if policy.redactor is not None:
        value = policy.redactor.value(value)
    return _bounded_text(_dumps(value), policy.max_body_bytes, None)


def _structure(value: dict[str, Any], policy: PayloadPolicy) -> Union[dict[str, Any], str]:
    """A JSON-safe object redacted, then cut to ``max_body_bytes`` (largest strings first)."""
    if policy.redactor is not None:
        value = policy.redactor.value(value)
    return shrink(value, policy.max_body_bytes)  # type: ignore[no-any-return]  # a dict or its cut text


def _bytes_body(
    data: bytes, content_type: Optional[str], encoding: Optional[str], policy: PayloadPolicy
) -> Union[str, dict[str, Any], None]:
    if not data:
        return None
    mime = _mime(content_type)
    if _is_binary(mime):
        return _describe(data, mime)
    codec = _codec(encoding, _charset(content_type))
    limit = policy.max_body_bytes * PARSE_FACTOR
    if len(data) > limit:  # not parsed: its head is decoded, redacted as text and cut; the rest counted
        text = data[: policy.max_body_bytes].decode(codec, "replace")
        if not _is_text(mime) and ("\x00" in text or "\ufffd" in text[:-1]):
            return _describe(data, mime)
        return _bounded_text(_clean(text), policy.max_body_bytes, policy.redactor, len(data) - policy.max_body_bytes,
                             mime=mime)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        if not _is_text(mime):
            return _describe(data, mime)
        text = data.decode(codec, "replace")
    if not _is_text(mime) and "\x00" in text:
        return _describe(data, mime)
    return _text_body(text, content_type, policy)


def _describe(data: bytes, mime: str) -> str:
    return f"<{len(data)} bytes of {_clean(mime[:100]) if mime else 'binary data'}>"


def _charset(content_type: Optional[str]) -> Optional[str]:
    if not content_type:
        return None
    match = _CHARSET.search(content_type.partition(";")[2])
    return match.group(1) if match else None


def _codec(*names: Optional[str]) -> str:
    """The first name of a known text codec, else utf-8."""
    for name in names:
        if not name:
            continue
        try:
            info = codecs.lookup(name)
        except LookupError:
            continue
        if getattr(info, "_is_text_encoding", True):  # base64, rot13...: not a charset
            return info.name
    return "utf-8"


def _text_body(text: str, content_type: Optional[str], policy: PayloadPolicy) -> Union[str, dict[str, Any], None]:
    """JSON objects and forms become objects; JSON arrays and scalars stay their JSON text; the rest is text.

    Texts longer than ``PARSE_FACTOR * max_body_bytes`` are not parsed: they are cut, then redacted as text.
    """
    if not text.strip():
        return None
    mime = _mime(content_type)
    redactor = policy.redactor
    if len(text) <= policy.max_body_bytes * PARSE_FACTOR:
        if mime == "application/x-www-form-urlencoded":
            form = _form(text, policy.max_body_bytes)
            if form is not None:
                return _structure(form, policy)
        elif _is_json(mime) or text.lstrip().startswith(("{", "[")):
            try:
                parsed = json.loads(text)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, dict):
                return _structure(_Converter(policy.max_body_bytes).convert(parsed), policy)
            if isinstance(parsed, list) and redactor is not None:
                converted = _Converter(policy.max_body_bytes).convert(parsed)
                redacted = redactor.value(converted)
                if redacted != converted:  # keep the sender's formatting unless a secret was in it
                    text = _dumps(redacted)
                return _bounded_text(_clean(text), policy.max_body_bytes, None)
    return _bounded_text(_clean(text), policy.max_body_bytes, redactor, mime=mime)


def _form(text: str, max_text: int) -> Optional[dict[str, Any]]:
    """``a=1&b=2&b=3`` as ``{"a": "1", "b": ["2", "3"]}``."""
    out: dict[str, Any] = {}
    for raw_key, raw_value in parse_qsl(text, keep_blank_values=True, max_num_fields=None):
        key, value = _clean(clip(raw_key, MAX_KEY_BYTES)), _clean(clip(raw_value, max_text))
        previous = out.get(key)
        if previous is None:
            if len(out) >= MAX_ITEMS:
                continue
            out[key] = value
        elif isinstance(previous, list):
            if len(previous) < MAX_ITEMS:
                previous.append(value)
        else:
            out[key] = [previous, value]
    return out or None


# JSON-safe values -------------------------------------------------------------------------------------------

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 300
_REPR.maxlevel = 3


class _Converter:
    """Make a copy of any value out of dict, list, str, int, finite float, bool and None; never raises.

    The work is bounded: strings are cut to ``max_text`` bytes, containers hold ``MAX_ITEMS`` items in all
    (a note counts the rest), nesting stops at ``MAX_DEPTH``. Nothing is iterated that is not a container
    (generators are described by their ``str``), and each foreign object costs at most its own field.
    """

    __slots__ = ("items", "max_text")

    def __init__(self, max_text: int) -> None:
        self.max_text = max_text
        self.items = MAX_ITEMS

    def convert(self, value: Any, depth: int = 0) -> Any:
        try:
            return self._convert(value, depth)
        except Exception:  # noqa: BLE001  # odd containers and failing converters become their repr
            return _repr(value)

    def key(self, value: Any) -> str:
        """A value as text for a header or a dict key: strings as they are, the rest as their JSON text."""
        if isinstance(value, str):
            return _clean(clip(value, MAX_KEY_BYTES))
        converted = self.convert(value, MAX_DEPTH - 2)
        return clip(converted if isinstance(converted, str) else _dumps(converted), MAX_KEY_BYTES)

    def _convert(self, value: Any, depth: int) -> Any:
        if value is None or isinstance(value, bool):
            return bool(value) if value is not None else None
        if isinstance(value, int):
            number = int.__int__(value)
            if number in _INT_RANGE:
                return number
            bits = number.bit_length()
            return str(number) if bits <= _MAX_INT_BITS else f"<{bits}-bit integer>"
        if isinstance(value, float):
            real = float.__float__(value)
            if math.isfinite(real):
                return real
            return "NaN" if math.isnan(real) else ("Infinity" if real > 0 else "-Infinity")
        if isinstance(value, str):
            return _clean(clip(value, self.max_text))
        if depth >= MAX_DEPTH:
            return TOO_DEEP
        if isinstance(value, Mapping):
            return self._mapping(value, depth)
        if isinstance(value, (list, tuple)):
            return self._sequence(value, depth)
        if isinstance(value, (set, frozenset)):
            items = self._sequence(value, depth)
            try:
                return sorted(items, key=_dumps)
            except (TypeError, ValueError):
                return items
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value[: MAX_INLINE_BYTES + 1])
            if len(data) > MAX_INLINE_BYTES:
                return f"<{len(value)} bytes>"
            value = data
        converted = _ENCODER.default(value)
        if converted is value or converted == "__could_not_encode__":
            return _repr(value)
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


def _more(container: Any, seen: int) -> str:
    try:
        return str(len(container) - seen)
    except Exception:  # noqa: BLE001  # a foreign container without a working len()
        return "some"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _repr(value: Any) -> str:
    try:
        return _clean(_REPR.repr(value))
    except Exception:  # noqa: BLE001  # a broken __repr__ still gives a value
        try:
            name = type(value).__name__
        except Exception:  # noqa: BLE001
            name = "object"
        return f"<unrepresentable {name}>"
