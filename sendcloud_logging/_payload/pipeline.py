"""The record's way through the pure steps, as the intake stage asks for it: capture -> payload, and the
storm signature. No threads and no I/O here; a record that cannot become a log raises ``Drop``.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from .._capture import Capture, Snapshot
from .._types import Drop, Payload, Signature
from .._validators import positive_int
from ..errors import MissingBaseURLError
from . import build_payload
from .fields import signature
from .hook import BeforeSend
from .policy import PayloadPolicy

__all__ = ["RecordPipeline"]

_MAX_MERCHANT_POLICIES = 1024


class RecordPipeline:
    """What the intake stage asks of a handler: a capture's payload and its storm signature.

    Args:
        integration_id: The handler's integration, for records that name none.
        base_url: The handler's shop URL, for records that carry none.
        policy: Redaction and size bounds.
        before_send: The user's hook, called with the redacted payload and the record.
    """

    def __init__(
        self,
        integration_id: Optional[int],
        base_url: Optional[str],
        policy: PayloadPolicy,
        before_send: Optional[Callable[..., Any]] = None,
    ) -> None:
        self._integration_id = integration_id
        self._base_url = base_url
        self._policy = policy
        #: A policy per merchant key pair (``credentials``), kept so its redactor's caches last; worker thread only.
        self._merchant_policies: dict[tuple[str, str], PayloadPolicy] = {}
        self._before_send = None if before_send is None else BeforeSend(before_send, policy)
        self._defaults: Payload = {"base_url": base_url} if base_url else {}
        #: The hook sees every record, even one that only adds to a storm summary's count.
        self.prepares_every_record = self._before_send is not None

    def read(self, capture: Capture) -> Snapshot:
        """The capture's snapshot, made once for both ``signature`` and ``prepare``."""
        return capture.snapshot()

    def prepare(self, snap: Snapshot) -> tuple[int, Payload]:
        """``(integration_id, payload)``; ``Drop`` when the record cannot become a log."""
        integration_id = snap.integration_id or self._integration_id
        if integration_id is None:
            raise Drop("no_integration_id", "log with extra={'integration_id': N} or give the handler one")
        try:
            payload = build_payload(snap, self._defaults, self._policy_for(integration_id))
            if self._before_send is not None:
                payload = self._before_send(payload, snap.record)
        except MissingBaseURLError as exc:
            raise Drop("no_base_url", str(exc)) from exc
        return positive_int("integration_id", integration_id), payload

    def _policy_for(self, integration_id: Any) -> PayloadPolicy:
        """The policy whose redactor also replaces the merchant's own keys (``credentials``), one per key pair."""
        keys = self._policy.merchant_keys(integration_id)
        if keys is None:
            return self._policy
        policy = self._merchant_policies.get(keys)
        if policy is None:
            if len(self._merchant_policies) >= _MAX_MERCHANT_POLICIES:
                self._merchant_policies.clear()
            policy = self._merchant_policies[keys] = self._policy.with_keys(keys)
        return policy

    def signature(self, snap: Snapshot, template: Any) -> Signature:
        """What makes two records the same problem (``fields.signature``)."""
        return signature(snap, self._integration_id, self._base_url, template)
