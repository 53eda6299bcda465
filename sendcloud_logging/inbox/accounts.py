"""Who may call the Inbox's API routes, and for which integrations.

Three kinds of credentials open the API, as on Sendcloud:

- the Inbox's own key pair (HTTP Basic ``public_key:secret_key``): every integration;
- per-integration key pairs (``accounts={integration_id: (public_key, secret_key)}``), as a platform holding
  one Sendcloud account per merchant has them: only the integrations of that pair; another integration
  is answered 404, as the API answers for an integration of another account;
- a bearer token from the token endpoint (``oauth.TokenIssuer``): every integration.

Keys are compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from email.message import Message
from typing import Optional, Union

from .oauth import TokenIssuer

__all__ = ["ALL", "Accounts"]

#: The principal allowed every integration.
ALL = "all"
#: What a request may touch: ``ALL`` or a set of integration ids.
Principal = Union[str, frozenset[int]]


class Accounts:
    """Credentials accepted by one Inbox; immutable after construction (the token issuer has its own lock).

    Args:
        public_key: The Inbox's own public key; ``None`` (with ``secret_key`` ``None``) turns auth off.
        secret_key: Its secret key.
        accounts: ``{integration_id: (public_key, secret_key)}``: pairs limited to their integrations.
        tokens: The token issuer whose bearer tokens are accepted, if any.
    """

    def __init__(
        self,
        public_key: Optional[str],
        secret_key: Optional[str],
        accounts: Optional[Mapping[int, tuple[str, str]]] = None,
        tokens: Optional[TokenIssuer] = None,
    ) -> None:
        self._own = None if public_key is None else f"{public_key}:{secret_key}".encode()
        pairs: dict[bytes, set[int]] = {}
        for integration_id, (key, secret) in (accounts or {}).items():
            pairs.setdefault(f"{key}:{secret}".encode(), set()).add(integration_id)
        self._pairs = {pair: frozenset(ids) for pair, ids in pairs.items()}
        self.tokens = tokens

    def identify(self, headers: Message) -> Optional[Principal]:
        """What the request's credentials allow, or ``None`` when they are missing or wrong."""
        if self._own is None and not self._pairs:
            return ALL  # authentication is off
        value = headers.get("Authorization")
        if value is None:
            return None
        scheme, _, credential = str(value).strip().partition(" ")
        if scheme.lower() == "bearer":
            return ALL if self.tokens is not None and self.tokens.accepts(credential.strip()) else None
        if scheme.lower() != "basic":
            return None
        try:
            given = base64.b64decode(credential.strip(), validate=True)
        except (binascii.Error, ValueError):
            return None
        if self._own is not None and hmac.compare_digest(given, self._own):
            return ALL
        found: Optional[Principal] = None
        for pair, ids in self._pairs.items():  # every pair is compared: the time says nothing of which matched
            if hmac.compare_digest(given, pair):
                found = ids
        return found

    @staticmethod
    def allows(principal: Principal, integration_id: int) -> bool:
        """Whether ``principal`` may touch this integration."""
        return principal == ALL or (isinstance(principal, frozenset) and integration_id in principal)
