"""``FIELDS``: the nine API fields, one row each, read by ``build_payload``, ``conform`` and ``signature``.

A row says where a record's value comes from (its sources, in precedence order), how a source's raw value
becomes the field's value (the coercer: ``None`` means "not usable, try the next source"), how many bytes
the value may have, and whether it is redacted. The first source with a usable value wins:

- the record's ``extra`` by the field's own name (``extra={"full_url": ...}``);
- what the request, response and exception give (``full_url``: response, then request URL);
- ``defaults`` (the handler's ``base_url=``, or any API field).

``base_url`` differs: the record's, else the default, else ``scheme://host[:port]`` of ``full_url``.
``created_at``: the record's, else its own time (so a given value that is no RFC 3339 date-time is replaced
by the time the record was made).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union
from urllib.parse import urlsplit

from .._capture import Snapshot
from .._diagnostics import logger
from .._types import Signature
from .bodies import request_object, response_object
from .limits import MAX_BASE_URL_BYTES, MAX_EXCEPTION_TYPE_BYTES, MAX_METHOD_BYTES, MAX_URL_BYTES
from .policy import PayloadPolicy
from .redact import bounded_text
from .values import created_at, exception, exception_type, method, origin, response_code, text, url

__all__ = ["FIELDS", "SIGNATURE_FIELDS", "Field", "Sources", "fill", "normalise_path", "signature"]


@dataclass
class Sources:
    """What a field's sources read: the snapshot, the record's given fields, the defaults, and the values
    found so far (``base_url`` derives from ``full_url``'s). One per payload being built."""

    snap: Optional[Snapshot]
    given: Mapping[str, Any]
    defaults: Mapping[str, Any]
    found: dict[str, Any]


Source = Callable[[Sources], Any]
Coercer = Callable[[Any, "PayloadPolicy"], Any]


@dataclass(frozen=True)
class Field:
    """One API field: its sources in precedence order, its coercer, its bound and whether it is redacted.

    ``sources``: what the record gives; then come ``defaults[name]`` and, last, ``derived`` (a value computed
    from other fields' values, not used by ``signature``). ``bound``: bytes at most (or a function of the
    policy). ``key``: how the first present source value enters the storm signature, ``present``: which raw
    value counts as present there.
    """

    name: str
    sources: tuple[Source, ...]
    coerce: Coercer
    bound: Union[int, Callable[[PayloadPolicy], int], None] = None
    redact: bool = False
    derived: Optional[Source] = None
    key: Optional[Callable[[Any], Any]] = None
    present: Callable[[Any], bool] = bool

    def limit(self, policy: PayloadPolicy) -> Optional[int]:
        """The byte bound under ``policy``, or None."""
        return self.bound(policy) if callable(self.bound) else self.bound


def _given(name: str) -> Source:
    return lambda s: s.given.get(name)


def _default(name: str) -> Source:
    return lambda s: s.defaults.get(name)


def _plain(coerce: Callable[[Any], Any]) -> Coercer:
    return lambda value, _policy: coerce(value)


def _same(value: Any) -> Any:
    return value


def _not_none(value: Any) -> bool:
    return value is not None


def _response_url(s: Sources) -> Any:
    return s.snap.response.url if s.snap is not None and s.snap.response is not None else None


def _request_url(s: Sources) -> Any:
    return s.snap.request.url if s.snap is not None and s.snap.request is not None else None


def _request_method(s: Sources) -> Any:
    return s.snap.request.method if s.snap is not None and s.snap.request is not None else None


def _response_status(s: Sources) -> Any:
    return s.snap.response.status if s.snap is not None and s.snap.response is not None else None


def _response(s: Sources) -> Any:
    return s.snap.response if s.snap is not None else None


def _request(s: Sources) -> Any:
    return s.snap.request if s.snap is not None else None


def _record_time(s: Sources) -> Any:
    return s.snap.created if s.snap is not None else None


def _record_exception_type(s: Sources) -> Any:
    return s.snap.exception_type if s.snap is not None else None


def _record_exception(s: Sources) -> Optional[str]:
    """The message, then the exception's own text when it adds something."""
    return exception(s.snap.message, s.snap.exception_text) if s.snap is not None else None


def _full_url_origin(s: Sources) -> Optional[str]:
    return origin(s.found.get("full_url"))


def _body_bound(policy: PayloadPolicy) -> int:
    return policy.max_body_bytes


_UUID = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
_NUMBER = r"[-+]?\d+(?:[.,]\d+)?"
_HEX = r"(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}"
_OPAQUE = r"(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-.~=]{16,}"
#: A path segment that names one thing rather than a kind: a number, a UUID, a hex digest, a token.
ID_SEGMENT = re.compile(f"(?:{_NUMBER}|{_UUID}|{_HEX}|{_OPAQUE})$")
SHORT_NUMBER = re.compile(f"{_NUMBER}$")
PLACEHOLDER = ":id"


def is_id(segment: str) -> bool:
    """Whether a path segment is an id (``ID_SEGMENT``).

    The intake asks this for every record of a storm, so the common segments take short ways: below 8
    characters only a number can be an id, and a segment without digits only a 32-letter UUID.
    """
    if segment.isdecimal():
        return True
    if len(segment) < 8:
        return bool(segment) and SHORT_NUMBER.match(segment) is not None
    if len(segment) < 32 and segment.isalpha():
        return False
    return ID_SEGMENT.match(segment) is not None


def normalise_path(url: Any) -> str:
    """Scheme, host and path of a URL; query dropped, id-like segments (numbers, UUIDs, hex, tokens) replaced.

    A storm asks this of the same few URLs again and again: the latest answers are remembered, by the URL
    without its query and fragment (which the answer drops anyway, and which may hold tokens).
    """
    if not url or not isinstance(url, str):
        return ""
    return _normalised(url.partition("?")[0].partition("#")[0])


@functools.lru_cache(maxsize=512)
def _normalised(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    segments = [PLACEHOLDER if is_id(s) else s for s in parts.path.split("/")]
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" + "/".join(segments)



#: In the order they are built (``base_url`` derives from ``full_url``); payloads list them in ``API_FIELDS``'s.
FIELDS: tuple[Field, ...] = (
    Field("full_url", (_given("full_url"), _response_url, _request_url), _plain(url), MAX_URL_BYTES, redact=True,
          key=normalise_path),
    Field("base_url", (_given("base_url"),), _plain(url), MAX_BASE_URL_BYTES, redact=True,
          derived=_full_url_origin, key=_same),
    Field("method", (_given("method"), _request_method), _plain(method), MAX_METHOD_BYTES, redact=True,
          key=lambda value: str(value or "").upper()),
    Field("response_code", (_given("response_code"), _response_status), _plain(response_code), key=_same,
          present=_not_none),
    Field("response", (_response,), response_object),
    Field("request", (_request,), request_object),
    Field("created_at", (_given("created_at"), _record_time), _plain(created_at)),
    Field("exception_type", (_given("exception_type"), _record_exception_type), _plain(exception_type),
          MAX_EXCEPTION_TYPE_BYTES, redact=True, key=_same),  # a class path, or any text a record gives
    Field("exception", (_record_exception,), _plain(text), _body_bound, redact=True),
)
_BY_NAME = {field.name: field for field in FIELDS}
#: The fields of a storm signature, in its order (after the integration, before the message template).
SIGNATURE_FIELDS = ("base_url", "method", "full_url", "response_code", "exception_type")


def fill(sources: Sources, policy: PayloadPolicy, *, derive: bool = True) -> dict[str, Any]:
    """Every field's value (None when no source gives one): coerced, redacted (by ``policy.redactor``) when
    the row says so, and cut to its bound. ``derive``: use the rows' derived sources too.

    The one place a value's failure is caught: a source whose value makes its coercer raise (a foreign
    object, or a bug) is skipped as if absent, logged at DEBUG, and the next source is tried.
    """
    redactor = policy.redactor
    values: dict[str, Any] = {}
    for field in FIELDS:
        values[field.name] = None
        reads = (*field.sources, _default(field.name))
        if derive and field.derived is not None:
            reads = (*reads, field.derived)
        for read in reads:
            try:
                raw = read(sources)
                value = None if raw is None else field.coerce(raw, policy)
                if value is None:
                    continue
                sources.found[field.name] = value
                limit = field.limit(policy)
                if limit is not None:
                    value = bounded_text(value, limit, redactor if field.redact else None)
                values[field.name] = value
                break
            except Exception:  # noqa: BLE001  # the field boundary: odd input costs this source, never the log
                logger.debug("payload field %s: a source's value could not be used", field.name, exc_info=True)
    return values


def signature(snap: Snapshot, integration_id: Any, base_url: Optional[str], template: Any) -> Signature:
    """What makes two records the same problem: the integration, shop, method, path (ids replaced), status,
    exception type and message template, read from the snapshot by the fields' own sources.

    Raw values, not coerced ones: cheap enough for the caller's thread. A field's first present source
    value counts, else its last source's (``a or b or c``); the handler's ``base_url`` is the one default.
    """
    defaults = {"base_url": base_url}
    sources = Sources(snap, snap.fields, defaults, {})
    keys: list[Any] = [snap.integration_id or integration_id]
    for name in SIGNATURE_FIELDS:
        field = _BY_NAME[name]
        raw = None
        for read in (*field.sources, _default(name)) if name in defaults else field.sources:
            raw = read(sources)
            if field.present(raw):
                break
        keys.append(field.key(raw) if field.key is not None else raw)
    keys.append(template if isinstance(template, str) else repr(type(template)))
    return tuple(keys)
