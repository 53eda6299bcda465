"""Plain dicts: ``{"headers": ..., "payload": ..., "method": ..., "url": ...}`` for a request and
``{"headers": ..., "body": ..., "status": ..., "url": ...}`` for a response.

The last resort of the registry: a client library's object that happens to be a ``Mapping`` is described by
its own adapter first. A dict without any of these keys is not a request or response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from ..parts import HTTPParts, copy_body, copy_headers, status_code

__all__ = ["request_parts", "response_parts"]

REQUEST_KEYS = ("headers", "payload", "body", "method", "url")
RESPONSE_KEYS = ("headers", "body", "payload", "status", "status_code", "url")


def request_parts(obj: Any) -> Optional[HTTPParts]:
    """A dict request as ``HTTPParts``: the body under ``payload`` (the API's name) or ``body``."""
    if not isinstance(obj, Mapping) or not any(key in obj for key in REQUEST_KEYS):
        return None
    body = obj["payload"] if "payload" in obj else obj.get("body")
    return HTTPParts(
        method=obj.get("method"),
        url=obj.get("url"),
        headers=copy_headers(obj.get("headers")),
        body=copy_body(body),
    )


def response_parts(obj: Any) -> Optional[HTTPParts]:
    """A dict response as ``HTTPParts``: the status under ``status_code`` or ``status``, body or payload."""
    if not isinstance(obj, Mapping) or not any(key in obj for key in RESPONSE_KEYS):
        return None
    body = obj["body"] if "body" in obj else obj.get("payload")
    status = obj["status_code"] if "status_code" in obj else obj.get("status")
    encoding = obj.get("encoding")
    return HTTPParts(
        url=obj.get("url"),
        status=status_code(status),
        headers=copy_headers(obj.get("headers")),
        body=copy_body(body),
        encoding=encoding if isinstance(encoding, str) else None,
    )
