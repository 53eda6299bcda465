"""The HTTP layer under the client and the OAuth2 token request: how a request is sent, how its failures and
error answers become this library's exceptions.

``send`` is ``Session.request`` with two rules: redirects are never followed (the API does not redirect; a
301/302 would turn the POST into a GET that "succeeds" without creating the log, and a 307 would carry the
log elsewhere), and requests' exceptions leave through ``EXCEPTION_MAP``, httpx's ``map_httpcore_exceptions``
done for requests: the most specific of our classes, ``raise mapped(message) from exc``, with a one-line
message that says where and why. requests' own text (urllib3's pool repr, the path and query) stays in
``__cause__``.

``error_from_response`` reads an answer that is not a success, from the API or the token endpoint alike.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from typing import Any, Optional
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import InvalidHeader as BadHeaderValue
from urllib3.exceptions import NewConnectionError
from urllib3.util.retry import Retry

from ._validators import host_text, redacted_url
from .errors import (
    APIError,
    ConfigurationError,
    ConnectError,
    RequestTimeoutError,
    SendcloudError,
    TLSError,
    TransportError,
    error_for_status,
)

__all__ = ["EXCEPTION_MAP", "error_from_response", "map_exception", "parse_retry_after", "redacted_url", "send"]

#: What requests raises, and what it becomes: the first row that matches wins, so the most specific comes first
#: (``SSLError`` and ``ConnectTimeout`` are also ``ConnectionError``s). The ``ConfigurationError`` rows are
#: faults of the request itself, found before anything is sent: a retry would fail the same way.
EXCEPTION_MAP: tuple[tuple[type[BaseException], type[SendcloudError]], ...] = (
    (requests.exceptions.SSLError, TLSError),
    (requests.exceptions.Timeout, RequestTimeoutError),  # ConnectTimeout and ReadTimeout
    (requests.exceptions.ConnectionError, ConnectError),  # ProxyError too
    (requests.exceptions.InvalidURL, ConfigurationError),  # InvalidProxyURL too
    (requests.exceptions.MissingSchema, ConfigurationError),
    (requests.exceptions.InvalidSchema, ConfigurationError),
    (requests.exceptions.URLRequired, ConfigurationError),
    (requests.exceptions.InvalidHeader, ConfigurationError),
    (requests.RequestException, TransportError),  # a broken chunked body, an undecodable gzip body...
    (UnicodeError, ConfigurationError),  # a key with characters an HTTP header cannot carry (Latin-1 only)
    (OSError, ConfigurationError),  # requests' own file access before sending: a CA bundle path that is not there
)

#: The longest detail taken from a body that is not a JSON error.
MAX_DETAIL = 200


def send(
    session: requests.Session, method: str, url: str, *, url_key: str = "api_url", **kwargs: Any
) -> requests.Response:
    """``session.request`` without following redirects; failures leave as ``EXCEPTION_MAP`` says.

    ``url_key`` names the setting the URL comes from, for a ``ConfigurationError`` about it.
    """
    try:
        return session.request(method, url, allow_redirects=False, **kwargs)
    except (requests.RequestException, UnicodeError, OSError) as exc:
        raise map_exception(exc, method, url, timeout=kwargs.get("timeout"), url_key=url_key) from exc


def map_exception(
    exc: BaseException, method: str, url: str, *, timeout: Any = None, url_key: str = "api_url"
) -> SendcloudError:
    """The exception ``exc`` (raised while sending ``method url``) stands for, with a message a person can act on."""
    cls = next((target for source, target in EXCEPTION_MAP if isinstance(exc, source)), TransportError)
    where = f"({method} {redacted_url(url)})"
    if issubclass(cls, TransportError):
        return cls(f"{_failure(cls, exc, url, timeout)} {where}", method=method, url=redacted_url(url))
    key, why = _fault(exc, url_key)
    return ConfigurationError(key, f"{why} {where}")


def error_from_response(response: requests.Response, *, token_endpoint: bool = False) -> APIError:
    """The ``APIError`` an answer that is not a success stands for: status, first error of the body, Retry-After,
    and the request's method and URL (without query or user info).

    Reads JSON:API error bodies (``{"errors": [{"code", "detail", "source": {"pointer"}}]}``) and OAuth2 ones
    (RFC 6749 ``{"error", "error_description"}``); any other body gives its first line as the detail. At the
    ``token_endpoint`` a 400 is a refused client or grant, an ``AuthenticationError``.
    """
    code, detail = _first_error(response)
    location = response.headers.get("Location")
    if response.is_redirect and location:
        detail = f"redirected to {redacted_url(urljoin(response.url, location))}; not followed, fix the URL"
    request = response.request
    return error_for_status(
        response.status_code,
        code,
        detail,
        parse_retry_after(response.headers.get("Retry-After")),
        method=request.method if request is not None else None,
        url=redacted_url(request.url or "") if request is not None else None,
        token_endpoint=token_endpoint,
    )


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(Retry().parse_retry_after(value)))
    except (BadHeaderValue, ValueError, TypeError, OverflowError):
        return None


def _first_error(response: requests.Response) -> tuple[Optional[str], Optional[str]]:
    """The ``code`` and ``detail`` of the first error in a JSON:API or RFC 6749 error body."""
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        return None, text[:MAX_DETAIL] or response.reason or None
    if not isinstance(body, dict):
        return None, response.reason or None
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else errors
    if isinstance(first, dict):
        code, detail = first.get("code"), first.get("detail")
        source = first.get("source")
        pointer = source.get("pointer") if isinstance(source, dict) else None
        if pointer and detail:
            detail = f"{detail} ({pointer})"
        return (str(code) if code else None), (str(detail) if detail else None)
    if isinstance(body.get("error"), str):
        description = body.get("error_description")
        return body["error"], (description if isinstance(description, str) and description else response.reason)
    return None, response.reason or None


def _fault(exc: BaseException, url_key: str) -> tuple[str, str]:
    """The setting to fix, and why, for a request requests refused to send."""
    if isinstance(exc, requests.exceptions.InvalidProxyURL):
        return "proxies", "a proxy URL (HTTP_PROXY, HTTPS_PROXY) is not a valid URL"
    if isinstance(exc, (requests.exceptions.MissingSchema, requests.exceptions.URLRequired)):
        return url_key, "the URL needs http:// or https://"
    if isinstance(exc, requests.exceptions.InvalidSchema):
        return url_key, "requests cannot send to this URL's scheme (a SOCKS proxy needs requests[socks])"
    if isinstance(exc, requests.exceptions.InvalidURL):
        return url_key, "requests cannot parse the URL"
    if isinstance(exc, (requests.exceptions.InvalidHeader, UnicodeError)):
        return "credentials", "a key or token holds a line break, leading space or non-Latin-1 character"
    return "verify", f"requests could not read its TLS files: {exc}"  # the message names the path, nothing secret


def _failure(cls: type[SendcloudError], exc: BaseException, url: str, timeout: Any) -> str:
    """One line on what went wrong on the way: from the socket's or ssl's own error, deepest in the chain."""
    causes = _causes(exc)
    root = causes[-1]
    target = _target(url)
    if cls is TLSError:
        if isinstance(root, ssl.SSLCertVerificationError):
            return (
                f"the TLS certificate of {target} is not trusted: {root.verify_message} "
                f"({root.library}: {root.reason}); pass verify= a CA bundle that signs it"
            )
        return f"the TLS handshake with {target} failed: {_reason(root)}"
    if cls is RequestTimeoutError:
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return f"no connection to {target} within {_seconds(connect)}, the connect timeout"
        return f"{target} did not answer within {_seconds(read)}, the read timeout"
    if cls is ConnectError:
        if isinstance(exc, requests.exceptions.ProxyError):
            return f"cannot connect to {target} through the proxy: {_reason(root)}"
        if any(isinstance(cause, socket.gaierror) for cause in causes):
            return f"cannot resolve {host_text(urlsplit(url).hostname)}: {_reason(root)}"
        if any(isinstance(cause, NewConnectionError) for cause in causes):
            return f"cannot connect to {target}: {_reason(root)}"
        return f"the connection to {target} broke before the answer: {_reason(root)}"
    return f"the answer of {target} could not be read: {type(exc).__name__}: {_reason(root)}"


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps, outermost first: requests keeps urllib3's error in ``args``, urllib3's
    ``MaxRetryError`` its cause in ``reason``, and the socket's or ssl's error is a ``__cause__``/``__context__``."""
    chain = [exc]
    while len(chain) < 16:
        current = chain[-1]
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((arg for arg in current.args if isinstance(arg, BaseException)), None)
        inner = inner or current.__cause__ or current.__context__
        if inner is None or any(inner is seen for seen in chain):
            break
        chain.append(inner)
    return chain


def _reason(root: BaseException) -> str:
    """The OS's or ssl's words for a failure, never a repr that carries the request's path or query."""
    if isinstance(root, ssl.SSLError):
        return root.reason or type(root).__name__
    if isinstance(root, OSError) and isinstance(root.strerror, str) and root.strerror:
        return root.strerror
    if isinstance(root, http.client.HTTPException) and str(root):
        return " ".join(str(root).split())[:100]
    return type(root).__name__


def _target(url: str) -> str:
    """host:port of a URL, with the scheme's default port."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "<an unparsable URL>"
    return f"{host_text(parts.hostname)}:{port}"


def _seconds(value: Any) -> str:
    return f"{value:g} s" if isinstance(value, (int, float)) else "the timeout"
