"""httpx: ``Request`` and ``Response``, also as ``.request``/``.response`` of ``HTTPStatusError``/``RequestError``.

httpx is looked up in ``sys.modules``, never imported. Bodies are taken only when already in memory
(``_content``, set by httpx once a body is read): reading a stream here would consume the caller's.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

from ..parts import STREAMED_REQUEST, UNREAD_RESPONSE, HTTPParts, pairs_to_dict

__all__ = ["request_parts", "response_parts"]


def request_parts(obj: Any) -> Optional[HTTPParts]:
    """An ``httpx.Request`` as ``HTTPParts``; None for anything else."""
    httpx = sys.modules.get("httpx")
    if httpx is None or not isinstance(obj, httpx.Request):
        return None
    content = getattr(obj, "_content", None)
    body = STREAMED_REQUEST if content is None else bytes(content)
    return HTTPParts(method=str(obj.method), url=str(obj.url), headers=_headers(obj.headers), body=body)


def response_parts(obj: Any) -> Optional[HTTPParts]:
    """An ``httpx.Response`` as ``HTTPParts``; None for anything else."""
    httpx = sys.modules.get("httpx")
    if httpx is None or not isinstance(obj, httpx.Response):
        return None
    content = getattr(obj, "_content", None)
    request = getattr(obj, "_request", None)  # the .request property raises when there is none
    return HTTPParts(
        url=None if request is None else str(request.url),
        status=int(obj.status_code),
        headers=_headers(obj.headers),
        body=UNREAD_RESPONSE if content is None else bytes(content),
        encoding=obj.charset_encoding,  # from Content-Type only; .encoding would guess and cache on the object
    )


def _headers(headers: Any) -> Any:
    """Names as sent (``.items()`` would lower-case them); repeated names become lists, joined in the payload.

    Decoded here rather than through ``headers.encoding``, which caches its guess on the caller's object.
    """
    return pairs_to_dict([(_text(name), _text(value)) for name, value in headers.raw])


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
