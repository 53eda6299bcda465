"""The HTTP client for the integration logs API, usable without logging.

One ``requests.Session`` (keep-alive) with explicit timeouts, authenticated in one of three ways:

- HTTP Basic with an account's ``public_key``/``secret_key``;
- OAuth2 client credentials (``client_id``/``client_secret``): a bearer token fetched from ``token_url``,
  renewed before it expires and once more when the API answers 401 (``auth.ClientCredentials``);
- ``credentials``, a callable ``integration_id -> (public_key, secret_key)`` asked before each request, for
  platforms that hold one key pair per merchant.

Every failure leaves as a ``SendcloudError`` subclass (``errors`` draws the tree): an answer other than 2xx as
an ``APIError`` with the status and the API's ``code``/``detail``, no answer as a ``TransportError`` saying
why; callers never see a bare ``requests`` error. Redirects are not followed. ``_http`` holds these rules,
shared with the token request. The client knows nothing of logging or threads.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, Optional, Union
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters

from ._http import error_from_response, send
from ._http import parse_retry_after as parse_retry_after  # noqa: PLC0414  # importable here, where it lived
from ._types import Payload, dumps
from ._validators import (
    DEFAULT_API_URL,
    DEFAULT_TIMEOUT,
    TimeoutArg,
    ca_bundle,
    check_api_url,
    is_loopback_host,
    normalise_timeout,
)
from ._validators import redacted_url as _redacted_url
from ._version import __version__
from .auth import (
    DEFAULT_TOKEN_URL,
    PAIRS,
    BearerToken,
    ClientCredentials,
    Credentials,
    auth_mode,
    key_pair,
    missing_key,
)
from .errors import APIError, ConfigurationError, MissingCredentialsError, WrongURLError

#: The public names, those defined here and those whose checks the settings share (from ``_validators``).
__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "Credentials",
    "SendcloudClient",
    "TimeoutArg",
    "check_api_url",
    "is_loopback_host",
    "normalise_timeout",
    "parse_retry_after",
]

USER_AGENT = f"sendcloud-logging/{__version__}"


class SendcloudClient:
    """HTTP client for ``/integrations/{id}/logs``.

    Give one way to authenticate: ``public_key``/``secret_key``, ``client_id``/``client_secret``, or
    ``credentials``.

    Args:
        public_key: API public key (HTTP Basic user name).
        secret_key: API secret key (HTTP Basic password).
        api_url: Base URL of API v3; plain http only for loopback hosts unless ``allow_insecure_http``.
        timeout: Seconds, or a (connect, read) pair, for every request.
        session: A ``requests.Session`` to use instead of a new one (the client then does not close it).
        transport: A ``requests`` transport adapter mounted for ``http://`` and ``https://`` on the client's
            session: the seam tests use to answer requests without a network (a ``BaseAdapter`` subclass).
        verify: TLS verification: always on; ``True`` for the system bundle or a CA bundle path.
        allow_insecure_http: Permit plain http to a non-loopback host (``api_url`` and ``token_url``).
        client_id: OAuth2 client id (client credentials grant).
        client_secret: OAuth2 client secret.
        token_url: OAuth2 token endpoint (default ``https://account.sendcloud.com/oauth2/token``).
        credentials: A callable ``integration_id -> (public_key, secret_key)``, asked before each request;
            ``integration_id`` is ``None`` for ``iter_logs()`` over all integrations.

    Example:
        >>> client = SendcloudClient(public_key="pk", secret_key="sk")  # doctest: +SKIP
        >>> client.create_log(1234, {"base_url": "https://shop.example"})  # doctest: +SKIP
        >>> SendcloudClient(client_id="my-client", client_secret="...")  # doctest: +SKIP
    """

    def __init__(
        self,
        public_key: Optional[str] = None,
        secret_key: Optional[str] = None,
        api_url: str = DEFAULT_API_URL,
        timeout: TimeoutArg = DEFAULT_TIMEOUT,
        *,
        session: Optional[requests.Session] = None,
        transport: Optional[requests.adapters.BaseAdapter] = None,
        verify: Union[bool, str] = True,
        allow_insecure_http: bool = False,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        token_url: str = DEFAULT_TOKEN_URL,
        credentials: Optional[Credentials] = None,
    ) -> None:
        self.api_url = check_api_url(api_url, allow_insecure_http)
        self.timeout = normalise_timeout(timeout)
        verify = ca_bundle("verify", verify)
        mode = auth_mode(public_key, secret_key, client_id, client_secret, credentials)
        given = dict(public_key=public_key, secret_key=secret_key, client_id=client_id, client_secret=client_secret)
        missing = missing_key(mode, given)
        if missing is not None:
            raise ConfigurationError(missing, f"missing: give both {' and '.join(PAIRS[mode])}")
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        self._session.headers["Accept"] = "application/json"
        self._session.verify = verify
        if transport is not None:
            self._session.mount("http://", transport)
            self._session.mount("https://", transport)
        if self._owns_session:
            # Read the environment (proxy variables, REQUESTS_CA_BUNDLE) once, here: requests would scan all of
            # os.environ twice on every request, most of the client's CPU time per POST.
            env = self._session.merge_environment_settings(self.api_url, {}, None, verify, None)
            self._session.trust_env = False
            self._session.proxies = env["proxies"]
            self._session.verify = env["verify"]
        self._credentials = credentials
        #: The OAuth2 token keeper, when the client authenticates with client credentials.
        self.oauth: Optional[ClientCredentials] = None
        if mode == "oauth":
            self.oauth = ClientCredentials(
                str(client_id),
                str(client_secret),
                check_api_url(token_url, allow_insecure_http, key="token_url"),
                session=self._session,
                timeout=self.timeout,
            )
            self._session.auth = self.oauth
        elif mode == "basic":
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

        A success without a JSON body still means the log was created: the answer is then ``{}``.
        ``timeout`` (seconds) shortens this one request, for example while the handler is closing.
        """
        body = dumps(payload)
        response = self._request(
            "POST",
            f"{self.api_url}/integrations/{_id(integration_id)}/logs",
            integration_id=integration_id,
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json"},
            timeout=self.timeout if timeout is None else (min(timeout, self.timeout[0]), min(timeout, self.timeout[1])),
            deadline=timeout,  # the whole request, DNS included (default: connect + read timeout)
        )
        created = _json_object(response) or {}
        data = created.get("data", created)
        return data if isinstance(data, dict) else created

    def iter_logs(
        self, integration_id: Union[int, str, None] = None, page_size: int = 25
    ) -> Iterator[dict[str, Any]]:
        """Yield logs of one integration (or of all), page by page, following the ``Link`` header."""
        return itertools.chain.from_iterable(self.iter_pages(integration_id, page_size))

    def iter_pages(
        self, integration_id: Union[int, str, None] = None, page_size: int = 25
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the pages of ``iter_logs`` as lists, newest first; the next is fetched only when asked for.

        The arguments are checked at the call, the first page is fetched at the first ``next()``.

        Args:
            integration_id: One integration's logs, or ``None`` for all the account's.
            page_size: Logs a page, 1 to 100.

        Raises:
            ConfigurationError: ``page_size`` or ``integration_id`` is out of range (at the call).
            APIError: an error status, or a page whose body is not a JSON object.
        """
        if not 1 <= int(page_size) <= 100:
            raise ConfigurationError("page_size", "must be between 1 and 100")
        if integration_id is None:
            url = f"{self.api_url}/integrations/logs"
        else:
            url = f"{self.api_url}/integrations/{_id(integration_id)}/logs"
        return self._pages(url, integration_id, {"page_size": int(page_size)})

    def _pages(
        self, url: Optional[str], integration_id: Union[int, str, None], params: Optional[dict[str, Any]]
    ) -> Iterator[list[dict[str, Any]]]:
        while url:
            response = self._request("GET", url, integration_id=integration_id, params=params)
            page = _json_object(response)
            if page is None:
                raise APIError(
                    response.status_code,
                    "unreadable_body",
                    f"expected a JSON object, got {response.headers.get('Content-Type') or 'no content type'}",
                    method="GET",
                    url=_redacted_url(url),
                )
            data = page.get("data") or []
            yield [item for item in data if isinstance(item, dict)]
            following = response.links.get("next", {}).get("url")
            # The next URL is used as is (it holds the cursor), relative to this page's (RFC 8288).
            url = urljoin(response.url or url, following) if following else None
            if url is not None and _origin(url) != _origin(self.api_url):
                # The session would send the keys along: never to another scheme, host or port.
                raise WrongURLError(
                    response.status_code,
                    "foreign_next_page",
                    f"the next page is at {_redacted_url(url)}, not at {_redacted_url(self.api_url)}: not followed, "
                    "the keys go only where api_url points",
                    method="GET",
                    url=_redacted_url(response.url or ""),
                )
            params = None

    def _request(
        self, method: str, url: str, *, integration_id: Union[int, str, None] = None, **kwargs: Any
    ) -> requests.Response:
        """Send one API request; an answer other than 2xx leaves as the matching ``APIError``.

        The one retry here: a 401 to an OAuth2 token renews the token once and sends again.
        """
        kwargs.setdefault("timeout", self.timeout)
        # Per request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override a session's CA bundle path.
        kwargs.setdefault("verify", self._session.verify)
        if self._credentials is not None:
            kwargs["auth"] = self._keys_for(integration_id)
        response = send(self._session, method, url, **kwargs)
        if response.status_code == 401 and self.oauth is not None:
            # A revoked or early-expired token: renew it once and send again; a second 401 is final.
            refused = str(response.request.headers.get("Authorization", "")).partition(" ")[2]
            response.close()
            renewed = self.oauth.renew(stale=refused or None)
            response = send(self._session, method, url, **{**kwargs, "auth": BearerToken(renewed)})
        if response.status_code >= 300:  # redirects are not followed: see _http.send
            with response:
                raise error_from_response(response)
        return response

    def _keys_for(self, integration_id: Union[int, str, None]) -> requests.auth.HTTPBasicAuth:
        """Basic auth with the key pair ``credentials`` gives for this integration.

        Raises:
            MissingCredentialsError: the callable raised, or gave no usable pair (code ``no_credentials``).
        """
        credentials = self._credentials
        if credentials is None:
            raise ConfigurationError("credentials", "this client has no credentials callable")
        try:
            pair = credentials(integration_id)
        except Exception as exc:  # the platform's lookup failed: this log cannot be authenticated
            raise MissingCredentialsError(
                401, "no_credentials", f"credentials({integration_id!r}) raised {type(exc).__name__}"
            ) from exc
        keys = key_pair(pair)
        if keys is None:
            raise MissingCredentialsError(
                401, "no_credentials", f"credentials({integration_id!r}) gave no (public_key, secret_key) pair"
            )
        return requests.auth.HTTPBasicAuth(*keys)


def _origin(url: str) -> tuple[str, Optional[str], Optional[int]]:
    """Scheme, host and port (the scheme's default filled in): where a request with the keys may go."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return ("", None, None)
    return (parts.scheme.lower(), parts.hostname, port)


def _id(integration_id: Union[int, str]) -> str:
    text = str(integration_id).strip()
    if not text.isdigit():
        raise ConfigurationError("integration_id", f"must be a positive integer, got {integration_id!r}")
    return text


def _json_object(response: requests.Response) -> Optional[dict[str, Any]]:
    """The body as a JSON object (a list comes as ``{"data": [...]}``); None when it is empty or not JSON."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else {"data": body}
