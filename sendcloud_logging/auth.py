"""How a client authenticates: the one rule choosing the way, and OAuth2 client credentials.

``auth_mode`` decides between a Basic key pair, an OAuth2 client and ``credentials`` (a key pair per
integration) for the handler, the client and the command line alike; ``key_pair`` checks what ``credentials``
gives.

``ClientCredentials`` is a ``requests`` auth: every request it signs carries ``Authorization: Bearer <token>``.
The token comes from the token endpoint (``grant_type=client_credentials``, ``scope=api``, the client id and
secret as HTTP Basic, RFC 6749 section 4.4) and is kept until shortly before it expires (``expires_in``):
a tenth of its lifetime, at most a minute, before. ``renew()`` fetches a new one at once; ``SendcloudClient``
calls it once when the API answers 401 to a bearer token (revoked, or expired early), then sends again.

Written on ``requests`` rather than on requests-oauthlib: that library renews only through refresh tokens,
which the client credentials grant does not issue, and it refuses plain http token URLs unless the
process-wide ``OAUTHLIB_INSECURE_TRANSPORT`` is set, which a local Inbox needs. The client id, the secret and
the token appear in no ``repr``, message or log.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Mapping
from typing import Any, Callable, Literal, Optional, Union

import requests

from ._validators import DEFAULT_TIMEOUT, DEFAULT_TOKEN_URL, redacted_url
from .errors import ConfigurationError, TransportError

__all__ = ["DEFAULT_TOKEN_URL", "SCOPE", "BearerToken", "ClientCredentials"]

#: The scope that grants the API.
SCOPE = "api"
#: A token is renewed this long before it expires, at most (a tenth of its lifetime when that is shorter).
RENEW_MARGIN = 60.0
#: A token that fits in ``Authorization: Bearer <token>`` (RFC 6750 b64token); anything else is not used.
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")

#: ``credentials(integration_id) -> (public_key, secret_key)``; ``None`` (or a pair with an empty key) when the
#: platform holds no keys for that integration. ``integration_id`` is ``None`` for account-wide requests.
Credentials = Callable[[Any], Optional["tuple[str, str]"]]
#: How a client authenticates; ``"none"`` when nothing was given at all.
AuthMode = Literal["basic", "oauth", "credentials", "none"]
#: The two keywords of each way that takes a pair of keys.
PAIRS: Mapping[str, tuple[str, str]] = {"basic": ("public_key", "secret_key"), "oauth": ("client_id", "client_secret")}


def auth_mode(
    public_key: Any = None,
    secret_key: Any = None,
    client_id: Any = None,
    client_secret: Any = None,
    credentials: Any = None,
    *,
    environment: Optional[Mapping[str, Any]] = None,
) -> AuthMode:
    """The one way to authenticate these keywords choose: exactly one may be given.

    A keyword counts as given unless it is None. ``credentials`` excludes both pairs, and a Basic key
    excludes an OAuth2 one. When no keyword chooses, ``environment`` (values from the environment by keyword
    name) does: OAuth2 when it holds ``client_id`` or ``client_secret``, else Basic when it holds a key.

    Raises:
        ConfigurationError: two ways were given, or ``credentials`` is not callable.
    """
    basic = public_key is not None or secret_key is not None
    oauth = client_id is not None or client_secret is not None
    if credentials is not None:
        if not callable(credentials):
            raise ConfigurationError(
                "credentials",
                f"must be a callable integration_id -> (public_key, secret_key), got {type(credentials).__name__}",
            )
        if basic or oauth:
            raise ConfigurationError("credentials", "give credentials or a key pair (or an OAuth2 client), not both")
        return "credentials"
    if basic and oauth:
        raise ConfigurationError("client_id", "give public_key/secret_key or client_id/client_secret, not both")
    if basic or oauth:
        return "basic" if basic else "oauth"
    found = environment or {}
    if found.get("client_id") or found.get("client_secret"):
        return "oauth"
    return "basic" if found.get("public_key") or found.get("secret_key") else "none"


def missing_key(mode: str, keys: Mapping[str, Any]) -> Optional[str]:
    """The first keyword of ``mode``'s pair that ``keys`` lacks (None or empty); None when the pair is whole."""
    return next((name for name in PAIRS.get(mode, ()) if not keys.get(name)), None)


def key_pair(value: Any) -> Optional[tuple[str, str]]:
    """``value`` as the ``(public_key, secret_key)`` pair ``credentials`` must give (non-empty strings), or None."""
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(k, str) and k for k in value):
        return (value[0], value[1])
    return None


class ClientCredentials(requests.auth.AuthBase):
    """A bearer-token auth for ``requests`` that fetches and renews its token itself; thread-safe.

    Args:
        client_id: The OAuth2 client id.
        client_secret: The OAuth2 client secret.
        token_url: The token endpoint (default Sendcloud's).
        scope: The scope asked for (default ``api``).
        session: The ``requests.Session`` that fetches tokens (default a new one).
        timeout: Seconds, or a (connect, read) pair, for each token request.
        clock: Monotonic seconds; tests pass their own.

    Example:
        >>> auth = ClientCredentials("my-client-id", "my-secret")  # doctest: +SKIP
        >>> requests.get("https://panel.sendcloud.sc/api/v3/integrations/logs", auth=auth)  # doctest: +SKIP
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        token_url: str = DEFAULT_TOKEN_URL,
        *,
        scope: Optional[str] = SCOPE,
        session: Optional[requests.Session] = None,
        timeout: Union[float, tuple[float, float]] = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = (client_id, client_secret)
        self.token_url = token_url
        self.scope = scope
        self._session = session if session is not None else requests.Session()
        self._proxies = requests.utils.get_environ_proxies(token_url)  # once: the session may not read them
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Optional[str] = None
        self._renew_at = 0.0
        #: How many tokens were fetched so far.
        self.fetched = 0

    def __repr__(self) -> str:
        return f"<ClientCredentials token_url={self.token_url!r}>"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Sign a request with the current token, fetching one first when there is none or it is about to expire."""
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def token(self) -> str:
        """The cached token while it is fresh, else a new one.

        Raises:
            AuthenticationError: the token endpoint refused the client id or secret (400/401/403).
            TransportError: no answer (``ConnectError``, ``RequestTimeoutError``, ``TLSError``), or an answer
                without a usable token.
            APIError: any other error status of the token endpoint (``ServerError`` for 5xx...).
            ConfigurationError: requests cannot send to ``token_url``, or cannot read the CA bundle.
        """
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                return self._fetch()
            return self._token

    def renew(self, stale: Optional[str] = None) -> str:
        """Fetch a new token now; with ``stale``, only if the cached one is still that token.

        ``stale`` is the token the API just refused: when another thread already replaced it, its
        replacement is returned instead of fetching yet another.
        """
        with self._lock:
            if stale is None or self._token is None or self._token == stale:
                return self._fetch()
            return self._token

    def forget(self) -> None:
        """Drop the cached token; the next request fetches a new one."""
        with self._lock:
            self._token = None

    def _fetch(self) -> str:
        """POST the client credentials grant; keep the token and when to renew it; return it. Holds the lock."""
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        from ._http import error_from_response, send  # noqa: PLC0415  # the transport comes with the first token

        asked = self._clock()
        response = send(
            self._session,
            "POST",
            self.token_url,
            url_key="token_url",
            data=data,
            auth=self._client,
            headers={"Accept": "application/json"},
            timeout=self._timeout,
            verify=self._session.verify,  # per request, or REQUESTS_CA_BUNDLE would override a given CA path
            proxies=self._proxies,
        )
        with response:
            if response.status_code >= 300:
                raise error_from_response(response, token_endpoint=True)
            body = _json(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        kind = body.get("token_type", "Bearer") if isinstance(body, dict) else None
        if not isinstance(token, str) or not _BEARER_TOKEN.fullmatch(token) or str(kind).lower() != "bearer":
            raise TransportError(
                f"the token endpoint answered {response.status_code} without a usable bearer access_token "
                f"(POST {redacted_url(self.token_url)})",
                method="POST",
                url=redacted_url(self.token_url),
            )
        lifetime = _seconds(body.get("expires_in"))
        self._token = token
        self._renew_at = float("inf") if lifetime is None else asked + lifetime - min(RENEW_MARGIN, lifetime / 10)
        self.fetched += 1
        return token


class BearerToken(requests.auth.AuthBase):
    """Sign requests with one given token (the renewed one, for the single retry after a 401)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "<BearerToken>"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set ``Authorization: Bearer <token>``."""
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _seconds(value: Any) -> Optional[float]:
    """``expires_in`` as seconds >= 0, or None when absent or unreadable (the token is then kept until a 401)."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None
