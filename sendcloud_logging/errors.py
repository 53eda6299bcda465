"""Exceptions raised by sendcloud-logging.

The tree is shallow so that callers can catch at the level they care about::

    SendcloudError
    ├── ConfigurationError (also ValueError)   bad keyword or environment value
    ├── TransportError                         connection refused/reset, timeout, TLS failure
    └── APIError                               the API answered with an error status
        ├── ValidationError          400       the API rejected the payload
        ├── AuthenticationError      401, 403  credentials missing, wrong or not allowed
        ├── NotFoundError            404       unknown integration
        ├── PayloadTooLargeError     413       body over the server's size limit
        ├── RateLimitedError         429       carries ``retry_after`` seconds when given
        └── ServerError              5xx

Messages carry the status, the API's ``code`` and ``detail``; never credentials.
"""

from __future__ import annotations

from typing import Optional


class SendcloudError(Exception):
    """Base class of every error this library raises."""


class ConfigurationError(SendcloudError, ValueError):
    """A keyword or environment variable has a bad or missing value; ``key`` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


class TransportError(SendcloudError):
    """The request did not get an HTTP answer (connection, TLS or timeout failure)."""


class APIError(SendcloudError):
    """The API answered with an error status."""

    def __init__(
        self,
        status: int,
        code: Optional[str] = None,
        detail: Optional[str] = None,
        *,
        retry_after: Optional[float] = None,
    ) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        parts = [f"HTTP {status}"]
        if code:
            parts.append(code)
        text = " ".join(parts)
        super().__init__(f"{text}: {detail}" if detail else text)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.status, self.code, self.detail), {"retry_after": self.retry_after})


class ValidationError(APIError):
    """400: the API rejected the body (for example ``extra_forbidden``)."""


class AuthenticationError(APIError):
    """401 or 403: the keys are wrong, missing or not allowed for this integration."""


class NotFoundError(APIError):
    """404: the integration id is unknown to this account."""


class PayloadTooLargeError(APIError):
    """413: the body is larger than the server accepts."""


class RateLimitedError(APIError):
    """429: too many requests; ``retry_after`` holds the server's wait in seconds, if it sent one."""


class ServerError(APIError):
    """5xx: the API failed; the request may be retried."""


_BY_STATUS = {
    400: ValidationError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
}


def error_for_status(
    status: int, code: Optional[str], detail: Optional[str], retry_after: Optional[float] = None
) -> APIError:
    """Build the ``APIError`` subclass that matches an HTTP status."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    return cls(status, code, detail, retry_after=retry_after)


class MissingBaseURLError(SendcloudError, ValueError):
    """A record has no ``base_url`` anywhere (record, handler, or a URL to derive it from)."""
