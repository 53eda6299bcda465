"""Answers of the Inbox and the API's JSON:API error bodies, built as plain data before any byte is sent."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Optional

#: Codes the real API (or our reading of it) uses; other statuses get their reason phrase in snake case.
_CODES = {
    400: "invalid",
    401: "authentication_failed",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    411: "length_required",
    408: "request_timeout",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "hit_rate_limit",
    500: "server_error",
    503: "service_unavailable",
}


@dataclass(frozen=True)
class Answer:
    """What to send back: status, body, extra headers, and whether to close the connection after it.

    ``body`` is JSON data, sent as ``application/json``; ``bytes`` are sent as they are, as ``content_type``
    (the web page's files).
    """

    status: int
    body: Any
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False
    content_type: str = "application/json"


def code_for(status: int) -> str:
    """The snake_case error ``code`` the Inbox uses for an HTTP status."""
    if status in _CODES:
        return _CODES[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "error"
    return "_".join(phrase.lower().replace("-", " ").split()) or "error"


def error_object(
    status: int,
    code: str,
    detail: str,
    *,
    pointer: Optional[str] = None,
    parameter: Optional[str] = None,
    header: Optional[str] = None,
) -> dict[str, Any]:
    """One JSON:API error object as the v3 API writes it (``status`` as an integer, like its examples)."""
    error: dict[str, Any] = {"status": status, "code": code, "detail": detail}
    source = {
        name: value
        for name, value in (("pointer", pointer), ("parameter", parameter), ("header", header))
        if value is not None
    }
    if source:
        error["source"] = source
    return error


def error_answer(
    status: int,
    detail: str,
    *,
    code: Optional[str] = None,
    pointer: Optional[str] = None,
    parameter: Optional[str] = None,
    header: Optional[str] = None,
    headers: tuple[tuple[str, str], ...] = (),
    close: bool = False,
) -> Answer:
    """An error answer with a single error object; ``code`` defaults to the status's usual code."""
    error = error_object(
        status, code or code_for(status), detail, pointer=pointer, parameter=parameter, header=header
    )
    return Answer(status, {"errors": [error]}, headers, close)


def shorten(text: str, limit: int = 300) -> str:
    """Keep error details readable when they quote a huge client value."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
