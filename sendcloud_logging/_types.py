"""Type aliases and the one control-flow exception shared by the modules, kept in one place."""

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


class Drop(Exception):  # a decision, not an error
    """Raised while a payload is prepared: the record is dropped and counted under ``reason``.

    ``reported``: the raiser already told stderr in its own words.
    """

    def __init__(self, reason: str, detail: str = "", *, reported: bool = False) -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail
        self.reported = reported
