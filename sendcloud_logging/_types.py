"""Type aliases shared by the modules, kept in one place."""

from __future__ import annotations

from typing import Any

#: The JSON body of ``POST /integrations/{id}/logs``: only the nine API fields.
Payload = dict[str, Any]

#: The nine fields the API accepts; any other key is rejected with 400 ``extra_forbidden``.
API_FIELDS = (
    "base_url",
    "full_url",
    "method",
    "response_code",
    "response",
    "request",
    "created_at",
    "exception_type",
    "exception",
)
