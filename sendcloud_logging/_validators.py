"""One parser per type of setting: ``parse(key, value) -> value``, or ``ConfigurationError`` naming ``key``.

A value arrives as a Python object (a keyword, dictConfig or YAML) or as text (``fileConfig`` kwargs filled
by interpolation, an environment variable); each parser accepts both forms alike, so ``"false"`` means what
``False`` means wherever it comes from.

These live apart from ``_settings`` because the client checks its own keywords with them too, and the
defaults of the size bounds live here so that ``_settings`` (read when the handler's class is imported)
needs nothing of the payload and delivery packages, which are imported when a handler is first built.
This module imports nothing of the package but ``errors``.
"""

from __future__ import annotations

import importlib
import logging
import math
import operator
import os
from typing import Any, Callable, Optional, Union
from urllib.parse import urlsplit

from .errors import ConfigurationError

DEFAULT_API_URL = "https://panel.sendcloud.sc/api/v3"
#: Sendcloud's OAuth2 token endpoint.
DEFAULT_TOKEN_URL = "https://account.sendcloud.com/oauth2/token"  # noqa: S105 - a URL, not a secret
#: (connect, read) seconds. Connect slightly above a multiple of 3 s, the TCP retransmission window.
DEFAULT_TIMEOUT = (3.05, 10.0)

#: ``request.payload``, ``response.body`` and ``exception`` keep at most this many bytes by default.
DEFAULT_MAX_BODY_BYTES = 64 * 1024
#: The whole POST body stays under this many bytes by default.
DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024
#: Smallest values the handler accepts for the two keywords: room for a readable log.
MIN_BODY_BYTES = 1024
MIN_PAYLOAD_BYTES = 16 * 1024
#: Bytes the waiting records may hold at most by default (the caller's queue and the outbox together), and
#: the smallest bound the handler accepts.
DEFAULT_MAX_MEMORY_BYTES = 64 * 1024 * 1024
MIN_MEMORY_BYTES = 1024 * 1024

TimeoutArg = Union[float, str, "tuple[float, float]", None]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _word(value: Any) -> Optional[str]:
    """A bool-like text (or the ints 0 and 1) in lower case, else None."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool) and value in (0, 1)):
        text = str(value).strip().lower()
        return text if text in _TRUE or text in _FALSE else None
    return None


def flag(key: str, value: Any) -> bool:
    """A boolean: a real bool, or ``true/false/1/0/yes/no/on/off`` in any case (INI and environment text)."""
    if isinstance(value, bool):
        return value
    word = _word(value)
    if word is None:
        raise ConfigurationError(key, f"must be true or false, got {value!r}")
    return word in _TRUE


def integer(key: str, value: Any, minimum: int) -> int:
    """``value`` as an int >= ``minimum``: an int, or its digits as text; never a bool or a float."""
    problem = f"must be an integer >= {minimum}, got {value!r}"
    if minimum == 1:
        problem = f"must be a positive integer, got {value!r}"
    if isinstance(value, bool):
        raise ConfigurationError(key, problem)
    try:
        number = int(value.strip()) if isinstance(value, str) else operator.index(value)
    except (TypeError, ValueError):
        raise ConfigurationError(key, problem) from None
    if number < minimum:
        raise ConfigurationError(key, problem)
    return number


def positive_int(key: str, value: Any) -> int:
    """``value`` as an int >= 1 (digits in a string too); else ``ConfigurationError`` naming ``key``."""
    return integer(key, value, 1)


def non_negative_int(key: str, value: Any) -> int:
    """``value`` as an int >= 0; else ``ConfigurationError`` naming ``key``."""
    return integer(key, value, 0)


def optional_positive_int(key: str, value: Any) -> Optional[int]:
    """``positive_int``, or None for None (``integration_id`` may be left to each record)."""
    return None if value is None else positive_int(key, value)


def byte_size(key: str, value: Any, minimum: int) -> int:
    """A positive number of bytes at least ``minimum``, from an int or a numeric string."""
    number = positive_int(key, value)
    if number < minimum:
        raise ConfigurationError(key, f"must be at least {minimum} bytes, got {value!r}")
    return number


def seconds(key: str, value: Any, *, allow_zero: bool = True) -> float:
    """``value`` as a finite number of seconds >= 0 (> 0 unless ``allow_zero``); else ``ConfigurationError``."""
    if isinstance(value, bool):
        raise ConfigurationError(key, f"must be a number of seconds, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(key, f"must be a number of seconds, got {value!r}") from None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        least = ">= 0" if allow_zero else "> 0"
        raise ConfigurationError(key, f"must be a finite number of seconds {least}, got {value!r}")
    return number


def positive_seconds(key: str, value: Any) -> float:
    """``seconds`` greater than 0."""
    return seconds(key, value, allow_zero=False)


def optional_rate(key: str, value: Any) -> Optional[float]:
    """A rate per minute, or None to turn pacing off: None, 0, false/off/no, "none"/"null" (a local Inbox)."""
    if value is None or value is False:
        return None
    if isinstance(value, str) and value.strip().lower() in ("", "none", "null", *_FALSE):
        return None
    rate = seconds(key, value)
    return rate or None


def normalise_timeout(timeout: TimeoutArg, key: str = "timeout") -> tuple[float, float]:
    """Seconds (both timeouts) or a (connect, read) pair, also as text ``"3"`` or ``"3.05, 10"``; None: default."""
    if timeout is None:
        return DEFAULT_TIMEOUT
    parts: Any = timeout
    if isinstance(timeout, str):
        parts = timeout.strip().strip("()[]").split(",")
        parts = parts * 2 if len(parts) == 1 else parts
    elif not isinstance(timeout, (tuple, list)):
        parts = (timeout, timeout)
    if len(parts) != 2:
        raise ConfigurationError(key, f"expected seconds or a (connect, read) pair, got {timeout!r}")
    return (positive_seconds(key, parts[0]), positive_seconds(key, parts[1]))


def key_text(key: str, value: Any) -> Optional[str]:
    """A key or id as a non-empty string, or None when not given (the environment may give it)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(key, f"must be a string, got {type(value).__name__}")
    if not value:
        raise ConfigurationError(key, "must not be empty; leave it out to read the environment")
    return value


def optional_path(key: str, value: Any) -> Optional[str]:
    """A file path as a string, or None for None/"" (an INI file cannot write None)."""
    if value is None or value == "":
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigurationError(key, f"must be a file path, got {type(value).__name__}")
    return os.fspath(value)


def http_url(key: str, value: Any) -> Optional[str]:
    """An http(s) URL with a host, or None for None/""; else ``ConfigurationError`` naming ``key``."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(key, f"must be a URL string, got {type(value).__name__}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(key, f"must be an http(s) URL such as https://shop.example, got {value!r}")
    return value


def is_loopback_host(host: Optional[str]) -> bool:
    """True for localhost and loopback addresses, where plain http cannot leak anything."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        import ipaddress  # noqa: PLC0415  # a plain-http URL only: not worth its import for every handler

        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redacted_url(url: str) -> str:
    """The URL without query, fragment or user info: enough to say where, nothing more, and otherwise as it
    was written (an error echoes what the user typed, ``panel.sendcloud.sc/api/v3`` without its scheme too)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unparsable URL (a bad IPv6 literal): say only that
        return "<an unparsable URL>"
    if not parts.scheme or not parts.netloc:  # no scheme: all of it is the "path", user info included
        return url.split("#", 1)[0].split("?", 1)[0].rpartition("@")[2]
    # The host and port as written (a port out of range too), without what precedes an "@".
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def host_text(hostname: Optional[str]) -> str:
    """A host as it is written in a URL: an IPv6 address in brackets."""
    return f"[{hostname}]" if hostname and ":" in hostname else (hostname or "")


def check_api_url(api_url: Any, allow_insecure_http: Any = False, key: str = "api_url") -> str:
    """Return ``api_url`` without a trailing slash; refuse plain http to anything but loopback.

    ``key`` names the setting in errors (``token_url`` is checked the same way). ``allow_insecure_http``
    goes through ``flag``: ``"false"`` from an INI file must not let plain http through.
    """
    allow = flag("allow_insecure_http", allow_insecure_http)
    if not isinstance(api_url, str) or not api_url:
        raise ConfigurationError(key, "must be a non-empty URL; leave it out (None) for the default")
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(key, f"not an http(s) URL: {redacted_url(api_url)!r}")
    try:
        parts.port  # noqa: B018  # raises ValueError for a port out of range or not a number
    except ValueError:
        raise ConfigurationError(key, f"has an invalid port: {redacted_url(api_url)!r}") from None
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(key, "must not carry credentials (user:password@); pass the keys as keywords")
    if parts.scheme == "http" and not allow and not is_loopback_host(parts.hostname):
        raise ConfigurationError(
            key,
            "plain http would send the API keys unencrypted; use https, a loopback host, "
            "or allow_insecure_http=True",
        )
    return api_url.rstrip("/")


def ca_bundle(key: str, value: Any) -> Union[bool, str]:
    """``True`` (the system's CA bundle, also "true"/"yes"...) or the path of a CA bundle that exists."""
    word = _word(value)
    if value is True or (word is not None and word in _TRUE):
        return True
    if value is False or value is None or word is not None:
        raise ConfigurationError(key, "TLS verification cannot be turned off; pass a CA bundle path")
    if not isinstance(value, (str, os.PathLike)) or not os.path.exists(value):
        raise ConfigurationError(key, f"must be True or the path of a CA bundle that exists, got {value!r}")
    return os.fspath(value)


def name_list(key: str, value: Any) -> tuple[str, ...]:
    """Names as a list (dictConfig, YAML) or one comma-separated string (INI files)."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple, set, frozenset)) or not all(isinstance(i, str) for i in items):
        raise ConfigurationError(key, f"must be a list of names, got {value!r}")
    return tuple(item.strip() for item in items if item.strip())


def importable(key: str, value: Any) -> Optional[Callable[..., Any]]:
    """A callable, or the dotted path of one (``"myshop.logs.before_send"``, also ``"myshop.logs:before_send"``)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        module_name, _, name = value.strip().replace(":", ".").rpartition(".")
        try:
            value = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ConfigurationError(key, f"cannot import {value!r}: {exc}") from None
    if not callable(value):
        raise ConfigurationError(key, f"must be a function or its dotted path, got {type(value).__name__}")
    return value  # type: ignore[no-any-return]  # callable() narrowed it


def log_level(key: str, value: Any) -> int:
    """A logging level: a number (also as text) or a level name such as ``"ERROR"`` in any case."""
    number: Any = value
    if isinstance(value, str) and not value.strip().isdigit():
        number = logging.getLevelName(value.strip().upper())  # a name gives its number; unknown: "Level X"
    try:
        return integer(key, number, 0)
    except ConfigurationError:
        raise ConfigurationError(key, f"must be a logging level such as ERROR or 40, got {value!r}") from None
