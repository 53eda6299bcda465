"""Turn a record's snapshot into the API body: the nine fields, JSON-safe and valid against the API's schema.

Pure code, run on the worker thread; all the costly work the caller's thread skipped happens here: decoding
bodies, parsing JSON and forms, parsing URLs, encoding values JSON cannot hold. Where each field comes from
is one table, ``fields.FIELDS``; values of the wrong type are skipped as if absent, and fields without a
value are left out; ``base_url`` is always there, or ``MissingBaseURLError`` is raised (the only exception
``build_payload`` raises).

Every value is then made safe, as a ``PayloadPolicy`` says: secrets redacted (``redact.py``, by the names
``secret_names.py`` decides), texts cut to their bounds and the whole body kept under its cap (``limits.py``).
Whatever a record holds (objects whose ``__str__`` raises, cycles, 50 MB strings, huge ints, NaN, generators,
sets), the result is a schema-valid body; the work is bounded by the caps, not by the size of the input.

Modules: ``fields`` (the table, ``signature``), ``values`` (scalar fields, RFC 3339), ``headers``,
``bodies`` (request and response objects), ``jsonsafe`` (any value as JSON), ``redact`` and
``secret_names``, ``limits``, ``hook`` (``before_send``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Optional

from .._capture import Snapshot, snapshot_record
from .._types import API_FIELDS, Payload
from ..errors import MissingBaseURLError
from .fields import Sources, fill
from .limits import fit_payload
from .policy import PayloadPolicy

__all__ = ["PayloadPolicy", "build_payload", "conform", "payload_from_record"]


def payload_from_record(
    record: logging.LogRecord, *, policy: Optional[PayloadPolicy] = None, **defaults: Any
) -> Payload:
    """The API body for one record: the pure mapping the handler uses, usable on its own.

    Args:
        record: A log record; its ``extra`` may carry ``request``, ``response`` and API fields by name.
        policy: Redaction and size bounds (default: the handler's defaults).
        **defaults: Any API field (typically ``base_url=``) used when the record gives none.

    Raises:
        MissingBaseURLError: neither the record, ``defaults`` nor a URL it carries gives a ``base_url``.
    """
    return build_payload(snapshot_record(record), defaults, policy)


def build_payload(
    snap: Snapshot, defaults: Optional[Mapping[str, Any]] = None, policy: Optional[PayloadPolicy] = None
) -> Payload:
    """The API body for a snapshot; only API fields, every value JSON-safe, redacted and within its bounds.

    Raises only ``MissingBaseURLError``.

    Args:
        snap: What ``capture_record(...).snapshot()`` took from the record.
        defaults: API fields used when neither the record nor its request/response give one.
        policy: Redaction and size bounds (default: ``PayloadPolicy()``).
    """
    policy = PayloadPolicy() if policy is None else policy
    values = fill(Sources(snap, snap.fields, _mapping(defaults), {}), policy)
    if values["base_url"] is None:
        raise MissingBaseURLError(
            "the record has no base_url: pass base_url= to SendcloudHandler (or payload_from_record), "
            "or log with extra={'base_url': 'https://shop.example'} or a request/response with an http(s) URL"
        )
    return _fit(values, policy)


def conform(value: Any, policy: Optional[PayloadPolicy] = None) -> Payload:
    """A payload edited by ``before_send`` made sendable again: only API fields, each of a type the API
    takes (others are left out, as in ``build_payload``), texts and the whole body within their bounds.

    The same table as ``build_payload``, with the edited payload as the only source. Nothing is redacted
    here: the hook got the redacted payload and what it adds is its own choice.

    Raises:
        TypeError: ``value`` is not a mapping.
        MissingBaseURLError: it has no usable ``base_url``.
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"before_send must return a dict or None, not {type(value).__name__}")
    bare = replace(PayloadPolicy() if policy is None else policy, redactor=None)
    values = fill(Sources(None, {}, dict(value), {}), bare, derive=False)  # dict(): a broken mapping fails here
    if values["base_url"] is None:
        raise MissingBaseURLError("before_send returned a payload without a base_url")
    return _fit(values, bare)


def _mapping(defaults: Any) -> Mapping[str, Any]:
    """``defaults`` as a mapping; anything else (a caller's mistake) counts as none."""
    return defaults if isinstance(defaults, Mapping) else {}


def _fit(values: dict[str, Any], policy: PayloadPolicy) -> Payload:
    payload = {name: values[name] for name in API_FIELDS if values[name] is not None}
    return fit_payload(payload, policy.max_payload_bytes)
