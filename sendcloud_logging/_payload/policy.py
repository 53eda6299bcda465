"""What a payload may hold: the redaction rules and the size bounds, as one value the pipeline passes along."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

from ..auth import key_pair
from .limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_PAYLOAD_BYTES
from .redact import Redactor


@dataclass(frozen=True)
class PayloadPolicy:
    """How a payload is made safe: what is redacted and how big its parts may be.

    Each policy owns its ``Redactor`` (the default one has the default lists): its name caches are never
    shared between handlers.

    Args:
        redactor: The redaction rules; ``None`` redacts nothing (only for values already redacted).
        max_body_bytes: Bytes of ``request.payload``, ``response.body`` and ``exception`` at most.
        max_payload_bytes: Bytes of the whole POST body at most.
        credentials: The handler's ``credentials`` callable: the key pair it gives for a record's
            integration is redacted from that record's texts, as the handler's own keys are.
    """

    redactor: Optional[Redactor] = field(default_factory=Redactor)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    credentials: Optional[Callable[[Any], Any]] = field(default=None, repr=False, compare=False)

    def merchant_keys(self, integration_id: Any) -> Optional[tuple[str, str]]:
        """The key pair ``credentials`` gives for the integration; None when there is no callable, no pair, or
        the callable raises (the client reports that when it sends)."""
        if self.credentials is None or self.redactor is None:
            return None
        try:
            return key_pair(self.credentials(integration_id))
        except Exception:  # noqa: BLE001  # a user's callable: its failure is the sender's to report
            return None

    def with_keys(self, keys: tuple[str, ...]) -> PayloadPolicy:
        """This policy, with ``keys`` added to the exact values its redactor replaces wherever they appear."""
        if self.redactor is None:
            return self
        redactor = self.redactor.with_values(keys)
        return self if redactor is self.redactor else replace(self, redactor=redactor)
