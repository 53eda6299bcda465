"""Recognise the requests, responses and errors of HTTP clients other than ``requests``.

One module per client library: ``for_httpx``, ``for_urllib``, ``for_aiohttp``. None of them imports its
library: each looks it up in ``sys.modules`` and answers ``None`` when it is not there (an object of a library
that nobody imported cannot exist), so the package imports and works with none of them installed.

``extract`` tries these adapters after its own (``requests`` objects) and before plain dicts:

- ``REQUEST_ADAPTERS`` / ``RESPONSE_ADAPTERS``: an object under ``extra["request"]``/``extra["response"]``, or
  found as ``.request``/``.response`` of an exception, as ``HTTPParts``, or ``None`` when not theirs;
- ``EXCEPTION_ADAPTERS``: an exception that carries its request or response in other attributes
  (``aiohttp.ClientResponseError.request_info``, ``urllib.error.HTTPError`` which is its own response), as a
  ``(request, response)`` pair, or ``None``;
- ``EXCEPTION_MODULES``: public module paths to name exceptions by, where a package exports its exception
  classes from a public submodule (``aiohttp.client_exceptions.ClientSSLError`` is ``aiohttp.ClientSSLError``).

Adapters run on the caller's thread: they copy what may change and never read an unread body.
"""

from __future__ import annotations

from typing import Callable, Optional

from .. import Adapter, HTTPParts
from . import for_aiohttp, for_httpx, for_urllib

__all__ = ["EXCEPTION_ADAPTERS", "EXCEPTION_MODULES", "REQUEST_ADAPTERS", "RESPONSE_ADAPTERS"]

#: ``(request, response)`` an exception carries, either may be None; None when the adapter does not know it.
ExceptionAdapter = Callable[[BaseException], Optional["tuple[Optional[HTTPParts], Optional[HTTPParts]]"]]

REQUEST_ADAPTERS: tuple[Adapter, ...] = (for_httpx.request_parts, for_urllib.request_parts, for_aiohttp.request_parts)
RESPONSE_ADAPTERS: tuple[Adapter, ...] = (
    for_httpx.response_parts,
    for_urllib.response_parts,
    for_aiohttp.response_parts,
)
EXCEPTION_ADAPTERS: tuple[ExceptionAdapter, ...] = (for_urllib.exception_parts, for_aiohttp.exception_parts)
EXCEPTION_MODULES: dict[str, str] = {**for_aiohttp.EXCEPTION_MODULES}
