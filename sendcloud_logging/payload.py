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
"""

from __future__ import annotations

import codecs
import json
import logging
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timezone
from typing import Any, Callable, Optional, Union
from urllib.parse import parse_qsl, urlsplit

from pythonjsonlogger.json import JsonEncoder

from ._types import API_FIELDS, Payload
from .errors import MissingBaseURLError
from .extract import HTTPParts, Snapshot, Unreadable, exception_type_name, snapshot_record

__all__ = ["build_payload", "payload_from_record"]

#: Containers nested deeper than this inside bodies and headers are replaced by a note.
MAX_DEPTH = 32
TOO_DEEP = "<nested too deep>"

_ENCODER = JsonEncoder()  # stateless; its default() turns datetime, UUID, bytes, dataclasses... into JSON values
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))", re.ASCII
)
_CONTENT_TYPE_LINE = re.compile(r"^[ \t]*content-type[ \t]*:(.*)$", re.IGNORECASE | re.MULTILINE)
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
_TEXT_TYPES = ("application/javascript", "application/ecmascript", "application/x-www-form-urlencoded")


def payload_from_record(record: logging.LogRecord, **defaults: Any) -> Payload:
    """The API body for one record: the pure mapping the handler uses, usable on its own.

    Args:
        record: A log record; its ``extra`` may carry ``request``, ``response`` and API fields by name.
        **defaults: Any API field (typically ``base_url=``) used when the record gives none.

    Raises:
        MissingBaseURLError: neither the record, ``defaults`` nor a URL it carries gives a ``base_url``.
    """
    return build_payload(snapshot_record(record), defaults)


def build_payload(snap: Snapshot, defaults: Optional[Mapping[str, Any]] = None) -> Payload:
    """The API body for a snapshot; only API fields, every value JSON-safe; raises only ``MissingBaseURLError``.

    Args:
        snap: What ``snapshot_record`` took from the record.
        defaults: API fields used when neither the record nor its request/response give one.
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

    values: dict[str, Any] = {
        "base_url": base_url,
        "full_url": full_url,
        "method": _first(
            _safe(_method, given.get("method")),
            _safe(_method, request.method) if request else None,
            _safe(_method, fallback.get("method")),
        ),
        "response_code": _first(
            _safe(_response_code, given.get("response_code")),
            _safe(_response_code, response.status) if response else None,
            _safe(_response_code, fallback.get("response_code")),
        ),
        "response": _safe(_response_object, response),
        "request": _safe(_request_object, request),
        "created_at": _first(
            _safe(_created_at, given.get("created_at")),
            _safe(_timestamp, snap.created),
            _safe(_created_at, fallback.get("created_at")),
        ),
        "exception_type": _first(
            _safe(_exception_type, given.get("exception_type")),
            _safe(_exception_type, snap.exception_type),
            _safe(_exception_type, fallback.get("exception_type")),
        ),
        "exception": _first(
            _safe(_exception, snap.message, snap.exception_text),
            _safe(_text, fallback.get("exception")),
        ),
    }
    return {name: values[name] for name in API_FIELDS if values[name] is not None}


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
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text if type(text) is str else str.__str__(text)


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
    parts = urlsplit(url.strip())
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
        value = bytes(value).decode("latin-1")
    text = _text(value)
    return text.strip().upper() if text else None


def _response_code(value: Any) -> Optional[int]:
    """An integer >= 0; a string of digits is converted; bools, floats and anything else are not codes."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (str, bytes)):
        stripped = value.strip()
        if not stripped.isdigit() or not stripped.isascii():
            return None
        value = int(stripped)
    if isinstance(value, int) and value >= 0:
        return int(value)
    return None


def _exception_type(value: Any) -> Optional[str]:
    if isinstance(value, type):
        return exception_type_name(value)
    text = _text(value)
    return text.strip() if text else None


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
        value = bytes(value).decode("utf-8", "replace")
    if not isinstance(value, str):
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


def _request_object(parts: Optional[HTTPParts]) -> Optional[dict[str, Any]]:
    if parts is None:
        return None
    content_type = _safe(_content_type, parts.headers)
    headers = _safe(_headers, parts.headers, True)
    payload = _safe(_body, parts.body, content_type, None)
    if headers is None and payload is None:
        return None
    return {"headers": headers, "payload": payload}


def _response_object(parts: Optional[HTTPParts]) -> Optional[dict[str, Any]]:
    if parts is None:
        return None
    content_type = _safe(_content_type, parts.headers)
    headers = _safe(_headers, parts.headers, False)
    body = _safe(_body, parts.body, content_type, parts.encoding)
    if headers is None and body is None:
        return None
    return {"headers": headers, "body": body}


def _headers(headers: Any, allow_text: bool) -> Any:
    """Headers as ``{str: str}``; a raw string stays a string where the API allows it, else is parsed."""
    if headers is None:
        return None
    if isinstance(headers, (bytes, bytearray)):
        headers = bytes(headers).decode("latin-1")
    if isinstance(headers, str):
        if allow_text:
            return _text(headers)
        return _header_dict(_header_lines(headers))
    if isinstance(headers, Mapping):
        return _header_dict(headers.items())
    if isinstance(headers, (list, tuple)):
        return _header_dict(item for item in headers if isinstance(item, (list, tuple)) and len(item) == 2)
    return None


def _header_lines(text: str) -> list[tuple[str, str]]:
    """``Name: value`` lines of a raw header block; a status line and anything else without a colon skipped."""
    pairs = []
    for line in text.splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip() and not name.lstrip().upper().startswith("HTTP/"):
            pairs.append((name.strip(), value.strip()))
    return pairs


def _header_dict(items: Any) -> Optional[dict[str, str]]:
    out: dict[str, str] = {}
    for name, value in items:
        if value is None:
            continue
        key = _header_value(name)
        text = _header_value(value)
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out or None


def _header_value(value: Any) -> str:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")  # header bytes are ISO-8859-1 on the wire
    if isinstance(value, (list, tuple)):
        return ", ".join(_header_value(item) for item in value)
    return _scalar_text(value)


def _content_type(headers: Any) -> Optional[str]:
    if isinstance(headers, (bytes, bytearray)):
        headers = bytes(headers).decode("latin-1")
    if isinstance(headers, str):
        match = _CONTENT_TYPE_LINE.search(headers)
        return match.group(1).strip() if match else None
    items = headers.items() if isinstance(headers, Mapping) else headers if isinstance(headers, (list, tuple)) else ()
    for item in items:
        if isinstance(item, (list, tuple)) and len(item) == 2 and _header_value(item[0]).lower() == "content-type":
            return _header_value(item[1]) if item[1] is not None else None
    return None


def _mime(content_type: Optional[str]) -> str:
    return content_type.partition(";")[0].strip().lower() if content_type else ""


def _is_json(mime: str) -> bool:
    return mime.endswith(("/json", "+json"))


def _is_text(mime: str) -> bool:
    return mime.startswith("text/") or _is_json(mime) or mime.endswith(("/xml", "+xml")) or mime in _TEXT_TYPES


# bodies -----------------------------------------------------------------------------------------------------


def _body(body: Any, content_type: Optional[str], encoding: Optional[str]) -> Any:
    """An object, a string or None, as the API allows for ``request.payload`` and ``response.body``."""
    if body is None:
        return None
    if isinstance(body, Unreadable):  # extract's description of a body it could not capture
        return _text(body)
    if isinstance(body, str):
        return _text_body(body, content_type)
    if isinstance(body, (bytes, bytearray, memoryview)):
        return _bytes_body(bytes(body), content_type, encoding)
    value = _jsonable(body)
    if isinstance(value, dict) or value is None:
        return value
    if isinstance(value, str):
        return _text(value)
    return _dumps(value)


def _bytes_body(data: bytes, content_type: Optional[str], encoding: Optional[str]) -> Union[str, dict[str, Any], None]:
    if not data:
        return None
    mime = _mime(content_type)
    codec = _codec(encoding, _charset(content_type))
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        if not _is_text(mime):
            return f"<{len(data)} bytes of {_clean(mime[:100]) if mime else 'binary data'}>"
        text = data.decode(codec, "replace")
    return _text_body(text, content_type)


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


def _text_body(text: str, content_type: Optional[str]) -> Union[str, dict[str, Any], None]:
    """JSON objects and forms become objects; JSON arrays and scalars stay their JSON text; the rest is text."""
    if not text.strip():
        return None
    mime = _mime(content_type)
    if mime == "application/x-www-form-urlencoded":
        form = _form(text)
        if form is not None:
            return form
    elif _is_json(mime) or text.lstrip().startswith("{"):
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict):
            return _jsonable(parsed)  # type: ignore[no-any-return]  # a dict stays a dict
    return _clean(text)


def _form(text: str) -> Optional[dict[str, Any]]:
    """``a=1&b=2&b=3`` as ``{"a": "1", "b": ["2", "3"]}``."""
    out: dict[str, Any] = {}
    for raw_key, raw_value in parse_qsl(text, keep_blank_values=True):
        key, value = _clean(raw_key), _clean(raw_value)
        previous = out.get(key)
        if previous is None:
            out[key] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            out[key] = [previous, value]
    return out or None


# JSON-safe values -------------------------------------------------------------------------------------------


def _jsonable(value: Any, depth: int = 0) -> Any:
    """A copy made only of dict, list, str, int, finite float, bool and None; never raises."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return _clean(value)
    if depth >= MAX_DEPTH:
        return TOO_DEEP
    try:
        if isinstance(value, Mapping):
            return {_scalar_text(key): _jsonable(item, depth + 1) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [_jsonable(item, depth + 1) for item in value]
        if isinstance(value, (set, frozenset)):
            items = [_jsonable(item, depth + 1) for item in value]
            return sorted(items, key=_dumps)
        converted = _ENCODER.default(value)
    except Exception:  # noqa: BLE001  # odd containers and failing converters become their repr
        return _repr(value)
    if converted is value:
        return _repr(value)
    return _jsonable(converted, depth + 1)


def _scalar_text(value: Any) -> str:
    """A value as text for a header or a dict key: strings as they are, the rest as their JSON text."""
    if isinstance(value, str):
        return _clean(value)
    converted = _jsonable(value)
    return converted if isinstance(converted, str) else _dumps(converted)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _repr(value: Any) -> str:
    try:
        return _clean(repr(value))
    except Exception:  # noqa: BLE001  # a broken __repr__ still gives a value
        return f"<unrepresentable {type(value).__name__}>"
