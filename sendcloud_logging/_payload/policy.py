"""What a payload may hold: the redaction rules and the size bounds, as one value the pipeline passes along."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

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
    """

    redactor: Optional[Redactor] = field(default_factory=Redactor)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
