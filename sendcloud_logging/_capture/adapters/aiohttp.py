"""aiohttp: ``ClientResponse``, ``RequestInfo``, and what its exceptions carry.

- ``ClientResponseError`` (what ``raise_for_status()`` raises): the request from ``request_info`` (method,
  URL, headers) and the response's status and headers; aiohttp keeps no body on the error.
- ``ClientConnectorError`` and its subclasses (``ClientConnectorCertificateError``, ``ClientSSLError``, ...):
  aiohttp keeps only the host and port it could not reach, so the request is ``scheme://host[:port]``.

A ``ClientResponse`` body is taken only when it was already read. aiohttp is looked up in ``sys.modules``,
never imported.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

from ..parts import UNREAD_RESPONSE, HTTPParts, pairs_to_dict

__all__ = ["EXCEPTION_MODULES", "exception_parts", "request_parts", "response_parts"]

#: aiohttp defines its exceptions in ``aiohttp.client_exceptions`` and exports them as ``aiohttp.<Name>``.
EXCEPTION_MODULES: dict[str, str] = {"aiohttp.client_exceptions": "aiohttp"}

_DEFAULT_PORTS = {"http": 80, "https": 443}


def request_parts(obj: Any) -> Optional[HTTPParts]:
    """An aiohttp ``RequestInfo`` (``response.request_info``, ``error.request_info``) as ``HTTPParts``."""
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is None or not isinstance(obj, aiohttp.RequestInfo):
        return None
    return HTTPParts(method=str(obj.method), url=str(obj.real_url), headers=_headers(obj.headers))


def response_parts(obj: Any) -> Optional[HTTPParts]:
    """An ``aiohttp.ClientResponse`` as ``HTTPParts``; the body only if it was already read."""
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is None or not isinstance(obj, aiohttp.ClientResponse):
        return None
    body = getattr(obj, "_body", None)  # set by read()/text()/json(); reading here would need the event loop
    return HTTPParts(
        url=str(obj.url),
        status=int(obj.status),
        headers=_headers(obj.headers),
        body=UNREAD_RESPONSE if body is None else bytes(body),
    )


def exception_parts(exc: BaseException) -> Optional[tuple[Optional[HTTPParts], Optional[HTTPParts]]]:
    """The request and response an aiohttp exception carries; None when it is not aiohttp's."""
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is None:
        return None
    if isinstance(exc, aiohttp.ClientResponseError):
        info = exc.request_info
        request = request_parts(info)
        status = exc.status if isinstance(exc.status, int) and exc.status > 0 else None
        headers = None if exc.headers is None else _headers(exc.headers)
        response = HTTPParts(url=str(info.real_url), status=status, headers=headers)
        return request, response
    if isinstance(exc, aiohttp.ClientConnectorError):
        key = getattr(exc, "_conn_key", None)  # host and port are properties over this ConnectionKey
        if key is None or not key.host:
            return None
        scheme = "https" if key.is_ssl else "http"
        host = f"[{key.host}]" if ":" in key.host else key.host
        port = "" if key.port in (None, _DEFAULT_PORTS[scheme]) else f":{key.port}"
        return HTTPParts(url=f"{scheme}://{host}{port}"), None
    return None


def _headers(headers: Any) -> Any:
    """A multidict's pairs as a dict; repeated names become lists (joined with ", " in the payload)."""
    return pairs_to_dict([(str(name), str(value)) for name, value in headers.items()])
