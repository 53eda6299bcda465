"""The HTTP client for the integration logs API, usable without logging.

One ``requests.Session`` (keep-alive) with Basic auth and explicit timeouts. Every failure leaves as a
``SendcloudError`` subclass carrying the status and the API's ``code``/``detail``: callers never see a bare
``requests`` error. The client knows nothing of logging or threads.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator, Mapping
from typing import Any, Optional, Union
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from ._types import Payload
from ._version import __version__
from .errors import ConfigurationError, TransportError, error_for_status

DEFAULT_API_URL = "https://panel.sendcloud.sc/api/v3"
#: (connect, read) seconds. Connect slightly above a multiple of 3 s, the TCP retransmission window.
DEFAULT_TIMEOUT = (3.05, 10.0)
USER_AGENT = f"sendcloud-logging/{__version__}"

TimeoutArg = Union[float, "tuple[float, float]", None]


def normalise_timeout(timeout: TimeoutArg) -> tuple[float, float]:
    """Accept a number (both timeouts) or a (connect, read) pair; ``None`` means the default."""
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        pair = (float(timeout), float(timeout))
    elif isinstance(timeout, (tuple, list)) and len(timeout) == 2:
        pair = (float(timeout[0]), float(timeout[1]))
    else:
        raise ConfigurationError("timeout", f"expected seconds or a (connect, read) pair, got {timeout!r}")
    if min(pair) <= 0:
        raise ConfigurationError("timeout", "timeouts must be greater than 0")
    return pair


def is_loopback_host(host: Optional[str]) -> bool:
    """True for localhost and loopback addresses, where plain http cannot leak anything."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_url(api_url: str, allow_insecure_http: bool = False) -> str:
    """Return ``api_url`` without a trailing slash; refuse plain http to anything but loopback."""
    if not isinstance(api_url, str) or not api_url:
        raise ConfigurationError("api_url", "must be a non-empty URL")
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError("api_url", f"not an http(s) URL: {api_url!r}")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback_host(parts.hostname):
        raise ConfigurationError(
            "api_url",
            "plain http would send the API keys unencrypted; use https, a loopback host, "
            "or allow_insecure_http=True",
        )
    return api_url.rstrip("/")


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(Retry().parse_retry_after(value)))
    except (InvalidHeader, ValueError, TypeError, OverflowError):
        return None


def _first_error(response: requests.Response) -> tuple[Optional[str], Optional[str]]:
    """The API's ``code`` and ``detail`` of the first error in a JSON:API error body."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return None, text[:200] or response.reason
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        errors = errors[0]
    if isinstance(errors, dict):
        code = errors.get("code")
        detail = errors.get("detail")
        pointer = (errors.get("source") or {}).get("pointer") if isinstance(errors.get("source"), dict) else None
        if pointer and detail:
            detail = f"{detail} ({pointer})"
        return (str(code) if code else None), (str(detail) if detail else None)
    return None, response.reason


class SendcloudClient:
    """HTTP client for ``/integrations/{id}/logs``.

    Args:
        public_key: API public key (HTTP Basic user name).
        secret_key: API secret key (HTTP Basic password).
        api_url: Base URL of API v3; plain http only for loopback hosts unless ``allow_insecure_http``.
        timeout: Seconds, or a (connect, read) pair, for every request.
        session: A ``requests.Session`` to use instead of a new one (the client then does not close it).
        verify: TLS verification: always on; ``True`` for the system bundle or a CA bundle path.
        allow_insecure_http: Permit plain http to a non-loopback host.

    Example:
        >>> client = SendcloudClient(public_key="pk", secret_key="sk")  # doctest: +SKIP
        >>> client.create_log(1234, {"base_url": "https://shop.example"})  # doctest: +SKIP
    """

    def __init__(
        self,
        public_key: Optional[str] = None,
        secret_key: Optional[str] = None,
        api_url: str = DEFAULT_API_URL,
        timeout: TimeoutArg = DEFAULT_TIMEOUT,
        *,
        session: Optional[requests.Session] = None,
        verify: Union[bool, str] = True,
        allow_insecure_http: bool = False,
    ) -> None:
        self.api_url = check_api_url(api_url, allow_insecure_http)
        self.timeout = normalise_timeout(timeout)
        if verify is False:
            raise ConfigurationError("verify", "TLS verification cannot be turned off; pass a CA bundle path")
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        self._session.headers["Accept"] = "application/json"
        self._session.verify = verify
        if public_key is not None or secret_key is not None:
            self._session.auth = requests.auth.HTTPBasicAuth(public_key or "", secret_key or "")

    def __repr__(self) -> str:
        return f"<SendcloudClient api_url={self.api_url!r}>"

    def __enter__(self) -> SendcloudClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections (only of a session this client created)."""
        if self._owns_session:
            self._session.close()

    def create_log(
        self, integration_id: Union[int, str], payload: Payload, *, timeout: Optional[float] = None
    ) -> dict[str, Any]:
        """POST one log; return the created log as the API answered it (``data`` of the 201 body).

        ``timeout`` (seconds) shortens this one request, for example while the handler is closing.
        """
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        response = self._request(
            "POST",
            f"{self.api_url}/integrations/{_id(integration_id)}/logs",
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json"},
            timeout=self.timeout if timeout is None else (min(timeout, self.timeout[0]), min(timeout, self.timeout[1])),
        )
        created = _json_object(response)
        data = created.get("data", created)
        return data if isinstance(data, dict) else created

    def iter_logs(
        self, integration_id: Union[int, str, None] = None, page_size: int = 25
    ) -> Iterator[dict[str, Any]]:
        """Yield logs of one integration (or of all), page by page, following the ``Link`` header."""
        if not 1 <= int(page_size) <= 100:
            raise ConfigurationError("page_size", "must be between 1 and 100")
        if integration_id is None:
            url: Optional[str] = f"{self.api_url}/integrations/logs"
        else:
            url = f"{self.api_url}/integrations/{_id(integration_id)}/logs"
        params: Optional[Mapping[str, Any]] = {"page_size": int(page_size)}
        while url:
            response = self._request("GET", url, params=params)
            data = _json_object(response).get("data") or []
            yield from (item for item in data if isinstance(item, dict))
            url = response.links.get("next", {}).get("url")
            params = None  # the next URL is used as is

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            kwargs.setdefault("timeout", self.timeout)
            response = self._session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise TransportError(f"{method} {_redacted_url(url)} failed: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            code, detail = _first_error(response)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            response.close()
            raise error_for_status(response.status_code, code, detail, retry_after)
        return response


def _id(integration_id: Union[int, str]) -> str:
    text = str(integration_id).strip()
    if not text.isdigit():
        raise ConfigurationError("integration_id", f"must be a positive integer, got {integration_id!r}")
    return text


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise TransportError(f"the API answered {response.status_code} with a body that is not JSON") from exc
    return body if isinstance(body, dict) else {"data": body}


def _redacted_url(url: str) -> str:
    """The URL without query or user info: enough to say where, nothing more."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
