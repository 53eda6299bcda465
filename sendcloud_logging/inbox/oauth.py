"""OAuth2 client credentials in the Inbox: the token endpoint and the bearer tokens it issued.

``POST /oauth2/token`` with a form body ``grant_type=client_credentials`` (``scope``, if given, must be
``api``), the client authenticated with HTTP Basic or with ``client_id``/``client_secret`` in the body
(RFC 6749 sections 2.3.1 and 4.4). The answer is ``200 {"access_token", "token_type": "Bearer",
"expires_in", "scope"}``; errors are RFC 6749's (section 5.2): 400 ``invalid_request``,
``unsupported_grant_type`` or ``invalid_scope``, 401 ``invalid_client``.

A token opens the API routes for ``lifetime`` seconds; ``revoke()`` ends every token at once, so tests can
check that a client renews its token after a 401.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import secrets
import threading
import time
from email.message import Message
from typing import Callable, Optional
from urllib.parse import parse_qs

from .responses import Answer

__all__ = ["SCOPE", "TOKEN_PATH", "TokenIssuer"]

#: Where the Inbox serves its token endpoint (beside ``/api/v3``, as Sendcloud serves it on its account host).
TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path, not a secret
#: The only scope there is.
SCOPE = "api"

_NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


def _oauth_error(status: int, error: str, description: str) -> Answer:
    headers = _NO_STORE + ((("WWW-Authenticate", 'Basic realm="sendcloud-oauth"'),) if status == 401 else ())
    return Answer(status, {"error": error, "error_description": description}, headers)


class TokenIssuer:
    """Issues expiring bearer tokens to one OAuth2 client and checks them; thread-safe.

    Args:
        client_id: The accepted client id.
        client_secret: The accepted client secret.
        lifetime: Seconds a new token is valid (``expires_in``); 0 issues tokens that are already expired.
        clock: Monotonic seconds.
    """

    def __init__(
        self, client_id: str, client_secret: str, lifetime: float = 3600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = (client_id.encode(), client_secret.encode())
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry
        self._issued = 0
        self.lifetime = lifetime

    @property
    def lifetime(self) -> float:
        """Seconds a token issued from now on is valid."""
        return self._lifetime

    @lifetime.setter
    def lifetime(self, seconds: float) -> None:
        value = float(seconds)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"token lifetime must be a finite number of seconds >= 0, not {seconds!r}")
        self._lifetime = value

    @property
    def issued(self) -> int:
        """Tokens issued so far."""
        with self._lock:
            return self._issued

    def revoke(self) -> int:
        """End every token issued so far; return how many were still valid."""
        now = self._clock()
        with self._lock:
            valid = sum(1 for expiry in self._tokens.values() if expiry > now)
            self._tokens.clear()
        return valid

    def accepts(self, token: str) -> bool:
        """Whether ``token`` was issued here, is not revoked and has not expired."""
        with self._lock:
            expiry = self._tokens.get(token)
        return expiry is not None and self._clock() < expiry

    def answer(self, headers: Message, body: Optional[bytes]) -> Answer:
        """Answer one request to the token endpoint (a POST with a form body)."""
        try:
            form = parse_qs((body or b"").decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            return _oauth_error(400, "invalid_request", "the body is not UTF-8")
        field = {name: values[-1] for name, values in form.items()}
        if not self._client_ok(headers, field):
            return _oauth_error(401, "invalid_client", "client authentication failed")
        grant = field.get("grant_type")
        if grant is None:
            return _oauth_error(400, "invalid_request", "grant_type is missing")
        if grant != "client_credentials":
            detail = f"only client_credentials is supported, not {grant[:40]!r}"
            return _oauth_error(400, "unsupported_grant_type", detail)
        scope = field.get("scope", SCOPE)
        if scope.split() != [SCOPE]:
            return _oauth_error(400, "invalid_scope", f"the only scope is {SCOPE!r}")
        token = secrets.token_urlsafe(24)
        lifetime = self._lifetime
        with self._lock:
            now = self._clock()
            self._tokens = {t: e for t, e in self._tokens.items() if e > now}  # forget expired ones
            self._tokens[token] = now + lifetime
            self._issued += 1
        body_out = {"access_token": token, "token_type": "Bearer", "expires_in": math.ceil(lifetime), "scope": SCOPE}
        return Answer(200, body_out, _NO_STORE)

    def _client_ok(self, headers: Message, field: dict[str, str]) -> bool:
        """Client id and secret from HTTP Basic (preferred) or the form, compared in constant time."""
        value = headers.get("Authorization")
        if value is not None:
            scheme, _, encoded = str(value).strip().partition(" ")
            if scheme.lower() != "basic":
                return False
            try:
                user, colon, password = base64.b64decode(encoded.strip(), validate=True).partition(b":")
            except (binascii.Error, ValueError):
                return False
            if not colon:
                return False
        else:
            user, password = field.get("client_id", "").encode(), field.get("client_secret", "").encode()
        client_id, client_secret = self._client
        return hmac.compare_digest(user, client_id) & hmac.compare_digest(password, client_secret)
