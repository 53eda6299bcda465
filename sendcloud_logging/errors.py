"""Exceptions raised by sendcloud-logging.

The tree is shallow so that callers can catch at the level they care about::

    SendcloudError
    ├── ConfigurationError (also ValueError)   a bad keyword, environment value, URL or CA bundle: fix it, retrying
    │                                          cannot help (also raised when requests cannot even build a request)
    ├── MissingBaseURLError (also ValueError)  a record has no base_url anywhere: it cannot be sent
    ├── TransportError                         no HTTP answer
    │   ├── ConnectError                       refused, unresolvable, unreachable, or cut before the answer
    │   ├── RequestTimeoutError                the connect or read timeout passed
    │   └── TLSError                           handshake failed or certificate not trusted
    └── APIError                               the API answered with an error status (or an unreadable body)
        ├── WrongURLError            3xx, 404  a redirect, or a 404 of a route the API does not have: api_url
        │                                      (or token_url) is wrong, not the log or the integration id
        ├── ValidationError          400       the API rejected the payload
        ├── AuthenticationError      401, 403  credentials wrong or not allowed
        │   └── MissingCredentialsError        the ``credentials`` callable raised or gave no pair: nothing sent
        ├── NotFoundError            404       unknown integration
        ├── PayloadTooLargeError     413       body over the server's size limit
        ├── RateLimitedError         429       carries ``retry_after`` seconds when given
        └── ServerError              5xx

``TransportError`` and ``APIError`` carry ``method`` and ``url`` (without query or user info); ``APIError`` also
``status``, the API's ``code`` and ``detail``, and ``retry_after``. Nothing carries credentials or a body sent.
Which of these are worth a retry is the delivery policy's decision, not this module's.
"""

from __future__ import annotations

from typing import Any, Optional


class SendcloudError(Exception):
    """Base class of every error this library raises."""


class ConfigurationError(SendcloudError, ValueError):
    """A keyword or environment variable has a bad or missing value; ``key`` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.key, self.message))


class MissingBaseURLError(SendcloudError, ValueError):
    """A record has no ``base_url`` anywhere (record, handler, or a URL to derive it from)."""


class TransportError(SendcloudError):
    """The request did not get an HTTP answer (connection, TLS or timeout failure).

    ``method`` and ``url`` (without query or user info) say which request, when known.
    """

    def __init__(self, message: str, *, method: Optional[str] = None, url: Optional[str] = None) -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class ConnectError(TransportError):
    """No connection: refused, host unknown or unreachable, proxy down, or the connection broke before the answer."""


class RequestTimeoutError(TransportError):
    """The connect or the read timeout passed before the server answered."""


class TLSError(TransportError):
    """The TLS handshake failed, for example because the server's certificate is not trusted."""


class APIError(SendcloudError):
    """The API answered with an error status (or a redirect, or a body the client cannot read).

    ``method`` and ``url`` (without query or user info) say which request, when known.
    """

    method: Optional[str] = None
    url: Optional[str] = None

    def __init__(
        self,
        status: int,
        code: Optional[str] = None,
        detail: Optional[str] = None,
        *,
        retry_after: Optional[float] = None,
        method: Optional[str] = None,
        url: Optional[str] = None,
    ) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        self.method = method
        self.url = url
        super().__init__(self._text())

    def _text(self) -> str:
        text = " ".join(part for part in (f"HTTP {self.status}", self.code) if part)
        if self.detail:
            text = f"{text}: {self.detail}"
        if self.method and self.url:
            text = f"{text} ({self.method} {self.url})"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        state = {"retry_after": self.retry_after, "method": self.method, "url": self.url}
        return (type(self), (self.status, self.code, self.detail), state)

    def __setstate__(self, state: Optional[dict[str, Any]]) -> None:
        self.__dict__.update(state or {})
        self.args = (self._text(),)


class ValidationError(APIError):
    """400: the API rejected the body (for example ``extra_forbidden``)."""


class AuthenticationError(APIError):
    """401 or 403: the keys are wrong, missing or not allowed for this integration."""


class MissingCredentialsError(AuthenticationError):
    """The ``credentials`` callable raised or gave no usable key pair, so no request was sent.

    No server answered: ``status`` is the 401 the API would give a request without keys, and ``code`` is
    ``no_credentials``. It is an ``AuthenticationError`` so that code catching those, and the handler's
    ``unauthorized`` count, treat it as before.
    """

    def _text(self) -> str:
        text = self.code or "no_credentials"
        return f"{text}: {self.detail}; nothing was sent" if self.detail else f"{text}: nothing was sent"


class NotFoundError(APIError):
    """404 of the API's own log route: the integration id is unknown to this account."""


class WrongURLError(APIError):
    """The answer shows the URL is wrong: a redirect (never followed), or a 404 of a route the API does not have.

    The usual cause is an ``api_url`` without ``/api/v3`` at its end, or with ``/integrations`` added. Unlike a
    ``NotFoundError`` it says nothing about the integration id. ``_http.error_from_response`` decides.
    """


class PayloadTooLargeError(APIError):
    """413: the body is larger than the server accepts."""


class RateLimitedError(APIError):
    """429: too many requests; ``retry_after`` holds the server's wait in seconds, if it sent one."""


class ServerError(APIError):
    """5xx: the API failed; the request may be retried."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
}
#: An OAuth2 token endpoint answers 400 to a client or grant it refuses (RFC 6749 section 5.2).
_TOKEN_BY_STATUS: dict[int, type[APIError]] = {**_BY_STATUS, 400: AuthenticationError}


def error_for_status(
    status: int,
    code: Optional[str],
    detail: Optional[str],
    retry_after: Optional[float] = None,
    *,
    method: Optional[str] = None,
    url: Optional[str] = None,
    token_endpoint: bool = False,
    wrong_url: bool = False,
) -> APIError:
    """Build the ``APIError`` subclass that matches an HTTP status (of the API, or of the token endpoint).

    ``wrong_url``: the answer shows the URL is wrong (see ``_http.error_from_response``): a ``WrongURLError``.
    """
    table = _TOKEN_BY_STATUS if token_endpoint else _BY_STATUS
    cls = WrongURLError if wrong_url else table.get(status) or (ServerError if status >= 500 else APIError)
    return cls(status, code, detail, retry_after=retry_after, method=method, url=url)
