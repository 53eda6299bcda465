"""The ``request`` and ``response`` objects: headers and a body made readable, redacted and bounded.

A body becomes what the API allows for ``request.payload`` and ``response.body``: a JSON object, a string,
or nothing. Bytes are decoded by the charset they declare (else UTF-8); JSON objects and forms become
objects; JSON arrays and scalars stay their JSON text; binary types are described (``<2048 bytes of
image/png>``), never base64-encoded. Texts longer than ``PARSE_FACTOR`` times ``max_body_bytes`` are not
parsed: their head is cut and redacted as text.

Compressed bodies (a gzip or zlib stream, recognised by its first bytes, whatever ``Content-Encoding`` says:
requests decodes responses but keeps the header) are decompressed, at most ``PARSE_FACTOR`` times
``max_body_bytes`` of output, and read as above; one that is larger, broken, or compressed some other way
(``br``, ``zstd``) is described: ``<812 bytes of gzip-compressed application/json>``.
"""

from __future__ import annotations

import codecs
import itertools
import json
import re
import zlib
from collections.abc import Mapping
from typing import Any, Callable, Optional, Union
from urllib.parse import parse_qsl

from .._capture import CutBody, HTTPParts, Unreadable
from .._capture.parts import PARSE_FACTOR
from .._diagnostics import logger
from .._types import dumps
from .headers import header_value, headers
from .jsonsafe import Converter
from .limits import MAX_ITEMS, MAX_KEY_BYTES, MAX_RAW_HEADERS_BYTES, clip, shrink
from .policy import PayloadPolicy
from .redact import bounded_text
from .values import clean, text

__all__ = ["content_type", "request_object", "response_object"]

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
_TEXT_TYPES = ("application/javascript", "application/ecmascript", "application/x-www-form-urlencoded")
_HEADER_LINE = {
    name: re.compile(rf"^[ \t]*{name}[ \t]*:(.*)$", re.IGNORECASE | re.MULTILINE)
    for name in ("content-type", "content-encoding")
}
_GZIP_MAGIC = b"\x1f\x8b"
_OTHER_CODINGS = ("br", "zstd", "compress", "x-compress")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)


def request_object(value: Any, policy: PayloadPolicy) -> Optional[dict[str, Any]]:
    """``{"headers", "payload"}`` of captured ``HTTPParts`` or of a dict given as the field; None if empty."""
    parts = _parts(value, "payload")
    if parts is None:
        return None
    found = _part("request.headers", headers, parts.headers, True, policy.redactor)
    payload = _part("request.payload", _body, parts.body, _part("content type", content_type, parts.headers),
                    None, policy, _part("content coding", content_encoding, parts.headers))
    if found is None and payload is None:
        return None
    return {"headers": found, "payload": payload}


def response_object(value: Any, policy: PayloadPolicy) -> Optional[dict[str, Any]]:
    """``{"headers", "body"}`` of captured ``HTTPParts`` or of a dict given as the field; None if empty."""
    parts = _parts(value, "body")
    if parts is None:
        return None
    found = _part("response.headers", headers, parts.headers, False, policy.redactor)
    body = _part("response.body", _body, parts.body, _part("content type", content_type, parts.headers),
                 parts.encoding, policy, _part("content coding", content_encoding, parts.headers))
    if found is None and body is None:
        return None
    return {"headers": found, "body": body}


def _parts(value: Any, body_key: str) -> Optional[HTTPParts]:
    """Captured parts as they are; a dict (in ``defaults``, or from ``before_send``): its headers and body."""
    if isinstance(value, HTTPParts):
        return value
    if isinstance(value, Mapping):
        return HTTPParts(headers=value.get("headers"), body=value.get(body_key))
    return None


def _part(name: str, build: Callable[..., Any], *args: Any) -> Any:
    """One part of a request or response: its failure (odd input, or a bug) costs only that part, logged."""
    try:
        return build(*args)
    except Exception:  # noqa: BLE001  # the boundary of one part: the log still goes out without it
        logger.debug("payload part %s left out", name, exc_info=True)
        return None


def content_type(found: Any) -> Optional[str]:
    """The ``Content-Type`` of headers in any of their shapes (mapping, pairs, raw block)."""
    return _header(found, "content-type")


def content_encoding(found: Any) -> Optional[str]:
    """The ``Content-Encoding`` of headers in any of their shapes, lower case."""
    coding = _header(found, "content-encoding")
    return coding.strip().lower() if coding else None


def _header(found: Any, name: str) -> Optional[str]:
    """One header's value (``name`` in lower case) of headers in any of their shapes."""
    if isinstance(found, (bytes, bytearray)):
        found = bytes(found[:MAX_RAW_HEADERS_BYTES]).decode("latin-1")
    if isinstance(found, str):
        match = _HEADER_LINE[name].search(found[:MAX_RAW_HEADERS_BYTES])
        return match.group(1).strip() if match else None
    items = found.items() if isinstance(found, Mapping) else found if isinstance(found, (list, tuple)) else ()
    for item in itertools.islice(items, MAX_ITEMS):
        if isinstance(item, (list, tuple)) and len(item) == 2 and header_value(item[0]).lower() == name:
            return header_value(item[1]) if item[1] is not None else None
    return None


def _mime(content: Optional[str]) -> str:
    return content.partition(";")[0].strip().lower() if content else ""


def _is_json(mime: str) -> bool:
    return mime.endswith(("/json", "+json"))


def _is_text(mime: str) -> bool:
    return mime.startswith("text/") or _is_json(mime) or mime.endswith(("/xml", "+xml")) or mime in _TEXT_TYPES


def _is_binary(mime: str) -> bool:
    return mime.startswith(_BINARY_FAMILIES) or mime in _BINARY_TYPES


def _body(
    body: Any, content: Optional[str], encoding: Optional[str], policy: PayloadPolicy, coding: Optional[str] = None
) -> Any:
    """An object, a string or None, redacted, and at most ``max_body_bytes`` long (as text, or as JSON).

    ``coding``: the ``Content-Encoding`` header's value."""
    if body is None:
        return None
    if isinstance(body, Unreadable):  # capture's description of a body it could not take
        return text(body)
    if isinstance(body, CutBody):  # far beyond the bound, cut at capture: its head and its length are there
        head, total = body
        if isinstance(head, str):
            return bounded_text(clean(head), policy.max_body_bytes, policy.redactor, total - len(head),
                                mime=_mime(content))
        data = bytes(head)
        compressed = None if _is_binary(_mime(content)) else _decompressed(data, coding, len(data))
        if isinstance(compressed, str):  # a compressed body is larger still once inflated: described
            return _describe(data, _mime(content), policy, compressed, size=total)
        return _bytes_body(data, content, encoding, policy, total=total)
    if isinstance(body, str):
        return _text_body(body, content, policy)
    if isinstance(body, (bytes, bytearray, memoryview)):
        data = bytes(body)
        if _is_binary(_mime(content)):  # a .gz file is described as itself
            return _bytes_body(data, content, encoding, policy)
        compressed = _decompressed(data, coding, policy.max_body_bytes * PARSE_FACTOR)
        if isinstance(compressed, str):
            return _describe(data, _mime(content), policy, compressed)
        return _bytes_body(data if compressed is None else compressed, content, encoding, policy)
    value = Converter(policy.max_body_bytes).convert(body)
    if isinstance(value, dict):
        return _structure(value, policy)
    if value is None:
        return None
    if isinstance(value, str):
        found = text(value)
        return None if found is None else bounded_text(found, policy.max_body_bytes, policy.redactor)
    if policy.redactor is not None:
        value = policy.redactor.value(value)
    return bounded_text(dumps(value), policy.max_body_bytes, None)


def _structure(value: dict[str, Any], policy: PayloadPolicy) -> Union[dict[str, Any], str]:
    """A JSON-safe object redacted, then cut to ``max_body_bytes`` (largest strings first)."""
    if policy.redactor is not None:
        value = policy.redactor.value(value)
    return shrink(value, policy.max_body_bytes)  # type: ignore[no-any-return]  # a dict or its cut text


def _bytes_body(
    data: bytes, content: Optional[str], encoding: Optional[str], policy: PayloadPolicy, *, total: int = 0
) -> Union[str, dict[str, Any], None]:
    """``total``: the length before capture cut ``data`` to its head (``CutBody``)."""
    if not data:
        return None
    size = total or len(data)
    mime = _mime(content)
    if _is_binary(mime):
        return _describe(data, mime, policy, size=size)
    codec = _codec(encoding, _charset(content))
    limit = policy.max_body_bytes * PARSE_FACTOR
    if size > limit:  # not parsed: its head is decoded, redacted as text and cut; the rest counted
        head = data[: policy.max_body_bytes].decode(codec, "replace")
        if not _is_text(mime) and ("\x00" in head or "\ufffd" in head[:-1]):
            return _describe(data, mime, policy, size=size)
        return bounded_text(clean(head), policy.max_body_bytes, policy.redactor, size - policy.max_body_bytes,
                            mime=mime)
    try:
        decoded = data.decode(codec)
    except UnicodeDecodeError:
        if not _is_text(mime):
            return _describe(data, mime, policy)
        decoded = data.decode(codec, "replace")
    if not _is_text(mime) and "\x00" in decoded:
        return _describe(data, mime, policy)
    return _text_body(decoded, content, policy)


def _describe(data: bytes, mime: str, policy: PayloadPolicy, coding: str = "", *, size: int = 0) -> str:
    """``<2048 bytes of image/png>``; the type is the record's text, so it is redacted like any other.

    ``size``: the body's length before capture cut it to its head (``CutBody``).
    """
    kind = clean(mime[:100]) if mime else "binary data"
    if policy.redactor is not None:
        kind = policy.redactor.text(kind)
    n = size or len(data)
    if coding:
        return f"<{n} bytes of {clean(coding[:20])}-compressed {kind}>"
    return f"<{n} bytes of {kind}>"


def _decompressed(data: bytes, coding: Optional[str], limit: int) -> Union[bytes, str, None]:
    """A compressed body's bytes, decompressed (at most ``limit`` of them); its coding's name when it cannot
    be (too large, broken, or a coding other than gzip and deflate); None when it is not compressed."""
    if data[:2] == _GZIP_MAGIC:
        name, wbits = "gzip", 16 + zlib.MAX_WBITS
    elif coding == "deflate" and len(data) > 1 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0:
        name, wbits = "deflate", zlib.MAX_WBITS  # a zlib stream (what "deflate" means in HTTP)
    elif coding in _OTHER_CODINGS:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return coding  # still compressed: no text to show
        return None  # already decoded (requests keeps the header)
    else:
        return None
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, limit)
    except zlib.error:
        return name
    if inflater.unconsumed_tail or not inflater.eof:
        return name  # larger than the bound, or cut short: described, not guessed at
    return out


def _charset(content: Optional[str]) -> Optional[str]:
    if not content:
        return None
    match = _CHARSET.search(content.partition(";")[2])
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


def _text_body(body: str, content: Optional[str], policy: PayloadPolicy) -> Union[str, dict[str, Any], None]:
    """JSON objects and forms become objects; JSON arrays and scalars stay their JSON text; the rest is text."""
    if not body.strip():
        return None
    mime = _mime(content)
    redactor = policy.redactor
    if len(body) <= policy.max_body_bytes * PARSE_FACTOR:
        if mime == "application/x-www-form-urlencoded":
            form = _form(body, policy.max_body_bytes)
            if form is not None:
                return _structure(form, policy)
        elif _is_json(mime) or body.lstrip().startswith(("{", "[")):
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, dict):
                return _structure(Converter(policy.max_body_bytes).convert(parsed), policy)
            if isinstance(parsed, list) and redactor is not None:
                converted = Converter(policy.max_body_bytes).convert(parsed)
                redacted = redactor.value(converted)
                if redacted != converted:  # keep the sender's formatting unless a secret was in it
                    body = dumps(redacted)
                return bounded_text(clean(body), policy.max_body_bytes, None)
    return bounded_text(clean(body), policy.max_body_bytes, redactor, mime=mime)


def _form(body: str, max_text: int) -> Optional[dict[str, Any]]:
    """``a=1&b=2&b=3`` as ``{"a": "1", "b": ["2", "3"]}``."""
    out: dict[str, Any] = {}
    for raw_key, raw_value in parse_qsl(body, keep_blank_values=True, max_num_fields=None):
        key, value = clean(clip(raw_key, MAX_KEY_BYTES)), clean(clip(raw_value, max_text))
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
