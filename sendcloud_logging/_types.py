"""Type aliases, the wire encoding and the one control-flow exception shared by the modules, kept in one place."""

from __future__ import annotations

import json
from typing import Any

#: The JSON body of ``POST /integrations/{id}/logs``: only the nine API fields.
Payload = dict[str, Any]

#: What makes two records the same problem (``_payload.fields.signature``): storms fold by it.
Signature = tuple[Any, ...]

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


def dumps(value: Any) -> str:
    """The JSON text of a payload exactly as it goes on the wire: compact, UTF-8 as is, no NaN.

    Size caps are measured on this text, so every writer of a body (client, spool, limits) must use it.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class Drop(Exception):  # a decision, not an error
    """Raised while a payload is prepared: the record is dropped and counted under ``reason``.

    ``reported``: the raiser already told stderr in its own words.
    """

    def __init__(self, reason: str, detail: str = "", *, reported: bool = False) -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail
        self.reported = reported
