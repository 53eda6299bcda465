"""Recognise the requests, responses and errors of HTTP clients: one module per library, one registry.

``requests``, ``httpx``, ``urllib``, ``aiohttp``, then ``mapping`` (plain dicts, the last resort). Each module
has plain functions that describe an object as ``HTTPParts`` or answer ``None`` when it is not theirs; they
import only ``..parts``. Apart from ``requests`` (the handler's own client) none imports its library: each
looks it up in ``sys.modules`` (an object of a library nobody imported cannot exist), so the package imports
and works with none of them installed. Add a library here.

- ``REQUEST_ADAPTERS`` / ``RESPONSE_ADAPTERS``: an object under ``extra["request"]``/``extra["response"]``, or
  found as ``.request``/``.response`` of an exception;
- ``EXCEPTION_ADAPTERS``: an exception that carries its request or response in other attributes
  (``aiohttp.ClientResponseError.request_info``, ``urllib.error.HTTPError`` which is its own response), as a
  ``(request, response)`` pair;
- ``EXCEPTION_MODULES``: public module paths to name exceptions by, where a package exports its exception
  classes from a public submodule (``aiohttp.client_exceptions.ClientSSLError`` is ``aiohttp.ClientSSLError``).

``dispatch`` is the one place foreign objects are guarded: an adapter may raise on an odd object (a property
that raises, an ``isinstance`` that consults a broken ``__class__``), and that object is then ignored.
Adapters run on the caller's thread: they copy what may change and never read an unread body.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, TypeVar

from ..parts import HTTPParts
from . import aiohttp, httpx, mapping, requests, urllib

__all__ = ["EXCEPTION_ADAPTERS", "EXCEPTION_MODULES", "REQUEST_ADAPTERS", "RESPONSE_ADAPTERS", "dispatch"]

T = TypeVar("T")

#: An object as ``HTTPParts``, or None when the adapter does not know it.
Adapter = Callable[[Any], Optional[HTTPParts]]
#: ``(request, response)`` an exception carries, either may be None; None when the adapter does not know it.
ExceptionAdapter = Callable[[BaseException], Optional["tuple[Optional[HTTPParts], Optional[HTTPParts]]"]]

#: Tried in order; the first that recognises an object describes it. Dicts last.
REQUEST_ADAPTERS: tuple[Adapter, ...] = (
    requests.request_parts,
    httpx.request_parts,
    urllib.request_parts,
    aiohttp.request_parts,
    mapping.request_parts,
)
RESPONSE_ADAPTERS: tuple[Adapter, ...] = (
    requests.response_parts,
    httpx.response_parts,
    urllib.response_parts,
    aiohttp.response_parts,
    mapping.response_parts,
)
EXCEPTION_ADAPTERS: tuple[ExceptionAdapter, ...] = (urllib.exception_parts, aiohttp.exception_parts)
EXCEPTION_MODULES: dict[str, str] = {**aiohttp.EXCEPTION_MODULES}


def dispatch(adapters: tuple[Callable[[Any], Optional[T]], ...], obj: Any) -> Optional[T]:
    """What the first adapter that knows ``obj`` makes of it; None when none does, or when one raises."""
    if obj is None:
        return None
    try:
        for adapter in adapters:
            found = adapter(obj)
            if found is not None:
                return found
    except Exception:  # noqa: BLE001  # a foreign object must never break logging: it is ignored
        return None
    return None
