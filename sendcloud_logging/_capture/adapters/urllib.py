"""urllib: ``urllib.request.Request``; ``urllib.error.HTTPError`` and other ``urlopen`` responses.

``HTTPError`` is an exception and a response at once: found on the exception chain it gives the response
(status, headers, URL). Its body is a stream the caller may still read, so it is described, never read.
``URLError`` carries no request: log with ``extra={"request": req}`` to send one. The modules are looked
up in ``sys.modules``, never imported.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

from ..parts import STREAMED_REQUEST, UNREAD_RESPONSE, HTTPParts, pairs_to_dict, status_code

__all__ = ["exception_parts", "request_parts", "response_parts"]


def request_parts(obj: Any) -> Optional[HTTPParts]:
    """A ``urllib.request.Request`` as ``HTTPParts``; None for anything else."""
    module = sys.modules.get("urllib.request")
    if module is None or not isinstance(obj, module.Request):
        return None
    data = obj.data
    if data is None or isinstance(data, (bytes, str)):
        body: Any = data
    elif isinstance(data, bytearray):
        body = bytes(data)
    else:  # a file or an iterable: reading it here would consume the caller's stream
        body = STREAMED_REQUEST
    return HTTPParts(method=obj.get_method(), url=obj.full_url, headers=dict(obj.header_items()), body=body)


def response_parts(obj: Any) -> Optional[HTTPParts]:
    """An ``HTTPError`` or a ``urlopen`` response (``addinfourl``, ``http.client.HTTPResponse``); else None."""
    if not _is_response(obj):
        return None
    status = getattr(obj, "status", None)
    if not isinstance(status, int):
        status = getattr(obj, "code", None)
    headers = getattr(obj, "headers", None)
    url = getattr(obj, "url", None)
    return HTTPParts(
        url=url if isinstance(url, str) else None,
        status=status_code(status),
        headers=pairs_to_dict(list(headers.items())) if headers is not None else None,
        body=UNREAD_RESPONSE,
    )


def exception_parts(exc: BaseException) -> Optional[tuple[Optional[HTTPParts], Optional[HTTPParts]]]:
    """``urllib.error.HTTPError`` is its own response; other exceptions are not urllib's."""
    module = sys.modules.get("urllib.error")
    if module is None or not isinstance(exc, module.HTTPError):
        return None
    return None, response_parts(exc)


def _is_response(obj: Any) -> bool:
    response = sys.modules.get("urllib.response")
    if response is not None and isinstance(obj, response.addinfourl):
        return True
    client = sys.modules.get("http.client")
    return client is not None and isinstance(obj, client.HTTPResponse)
