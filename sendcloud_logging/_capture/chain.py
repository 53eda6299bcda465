"""The logged exception: its type's name, its text, and the request and response its chain carries.

The chain is the exception, then its ``__cause__`` / ``__context__`` links, depth first, each exception once
and at most ``CHAIN_DEPTH`` of them. The first request and the first response found on it win; a response
object seen on the way may also tell the request it answered (``Response.request``).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator, Mapping
from typing import Any, Optional

from .adapters import EXCEPTION_ADAPTERS, EXCEPTION_MODULES, REQUEST_ADAPTERS, RESPONSE_ADAPTERS, dispatch
from .parts import HTTPParts

__all__ = [
    "CHAIN_DEPTH",
    "attribute",
    "exception_text",
    "exception_type_name",
    "from_chain",
    "given_exception_type",
    "logged_exception",
    "request_of_response",
    "walk",
]

#: How many exceptions of a ``__cause__``/``__context__`` chain are searched at most.
CHAIN_DEPTH = 16


def logged_exception(exc_info: Any) -> tuple[Optional[type], Optional[BaseException]]:
    """The logged exception's type and value from ``record.exc_info`` (a triple, or an exception itself)."""
    if isinstance(exc_info, BaseException):
        return type(exc_info), exc_info
    if not isinstance(exc_info, tuple) or len(exc_info) < 2:
        return None, None
    value = exc_info[1]
    if isinstance(value, BaseException):
        return type(value), value
    kind = exc_info[0]
    if isinstance(kind, type) and issubclass(kind, BaseException):
        return kind, None
    return None, None


def exception_text(exc: BaseException) -> Optional[str]:
    """``str(exc)``, else its ``repr``, else None: a broken ``__str__`` must not break logging."""
    try:
        return str(exc)
    except Exception:  # noqa: BLE001  # foreign code
        try:
            return repr(exc)
        except Exception:  # noqa: BLE001
            return None


def given_exception_type(value: Any) -> Optional[str]:
    """An ``exception_type`` a record gives in ``extra``: a non-blank string, or a class to name."""
    try:
        if isinstance(value, str):
            return value.strip() or None
        if isinstance(value, type):
            return exception_type_name(value)
    except Exception:  # noqa: BLE001  # isinstance() may consult a foreign __class__ that raises
        return None
    return None


def exception_type_name(exc_type: type) -> str:
    """The dotted path Sendcloud reads: ``requests.exceptions.SSLError``, ``ValueError``, ``httpx.ConnectError``.

    Builtins have no prefix. A class defined in a private module (``httpx._exceptions``) is named after the
    longest public package that exports that very class, if one is imported; otherwise by its full path.
    Not cached: it runs once per record on the worker thread, and a cache keyed by classes would keep them
    (and their modules) alive.
    """
    name = getattr(exc_type, "__qualname__", None) or getattr(exc_type, "__name__", None)
    if not isinstance(name, str):
        return repr(exc_type)
    module = getattr(exc_type, "__module__", None)
    if not isinstance(module, str) or module in ("", "builtins"):
        return name
    parts = module.split(".")
    public: list[str] = []
    for part in parts:
        if part.startswith("_"):
            break
        public.append(part)
    if len(public) < len(parts) and "." not in name:
        for end in range(len(public), 0, -1):
            candidate = ".".join(public[:end])
            if _exports(candidate, name, exc_type):
                return f"{candidate}.{name}"
    alias = EXCEPTION_MODULES.get(module)  # aiohttp.client_exceptions.X is exported as aiohttp.X
    if alias is not None and "." not in name and _exports(alias, name, exc_type):
        return f"{alias}.{name}"
    return f"{module}.{name}"


def _exports(module_name: str, name: str, obj: type) -> bool:
    module = sys.modules.get(module_name)
    if module is None:
        return False
    try:
        return getattr(module, name, None) is obj
    except Exception:  # noqa: BLE001  # a module __getattr__ may raise anything
        return False


def attribute(obj: object, name: str) -> Any:
    """``getattr(obj, name, None)``, None when the attribute raises (httpx: "request not set")."""
    try:
        return getattr(obj, name, None)
    except Exception:  # noqa: BLE001  # properties of foreign errors may raise
        return None


def walk(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then its causes and contexts, depth first; each once, at most ``CHAIN_DEPTH``."""
    seen: set[int] = set()
    stack = [exc]
    while stack and len(seen) < CHAIN_DEPTH:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (attribute(current, "__context__"), attribute(current, "__cause__")):  # cause pops first
            if isinstance(linked, BaseException) and id(linked) not in seen:
                stack.append(linked)


def from_chain(exc: BaseException) -> tuple[Optional[HTTPParts], Optional[HTTPParts], list[object]]:
    """The first request and response the chain carries, and every response object seen (for ``.request``)."""
    responses: list[object] = []
    request, response = _search(exc, None, None, responses)
    if request is None or response is None:  # requests' and httpx's errors carry both: no walk needed
        for current in itertools.islice(walk(exc), 1, None):
            request, response = _search(current, request, response, responses)
            if request is not None and response is not None:
                break
    return request, response, responses


def _search(
    exc: BaseException, request: Optional[HTTPParts], response: Optional[HTTPParts], responses: list[object]
) -> tuple[Optional[HTTPParts], Optional[HTTPParts]]:
    """What one exception of the chain adds to the request and response found so far."""
    if request is None:
        request = dispatch(REQUEST_ADAPTERS, attribute(exc, "request"))
    raw_response = attribute(exc, "response")
    if raw_response is not None:
        responses.append(raw_response)
        if response is None:
            response = dispatch(RESPONSE_ADAPTERS, raw_response)
    if request is None or response is None:
        carried = dispatch(EXCEPTION_ADAPTERS, exc)
        if carried is not None:
            request = request or carried[0]
            response = response or carried[1]
    return request, response


def request_of_response(obj: object) -> Optional[HTTPParts]:
    """The request a response object knows it answered (requests' and httpx's ``.request``, aiohttp's
    ``.request_info``); None for dicts, whose keys are not attributes."""
    try:
        if obj is None or isinstance(obj, Mapping):
            return None
    except Exception:  # noqa: BLE001  # isinstance may consult a foreign __class__ that raises
        return None
    return dispatch(REQUEST_ADAPTERS, attribute(obj, "request")) or dispatch(
        REQUEST_ADAPTERS, attribute(obj, "request_info")
    )
