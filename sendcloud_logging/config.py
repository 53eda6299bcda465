"""Turn keyword arguments and environment variables into validated settings, once.

Everything is checked here, at construction, so that ``dictConfig`` reports a bad value when the application
starts and never later at emit time. Errors are ``ConfigurationError`` (a ``ValueError``) naming the key.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional, Union
from urllib.parse import urlsplit

from .client import DEFAULT_API_URL, TimeoutArg, check_api_url, normalise_timeout
from .errors import ConfigurationError
from .worker import DeliveryOptions

#: Keyword -> environment variable read when the keyword is not given.
ENVIRONMENT = {
    "integration_id": "SENDCLOUD_INTEGRATION_ID",
    "public_key": "SENDCLOUD_PUBLIC_KEY",
    "secret_key": "SENDCLOUD_SECRET_KEY",
    "api_url": "SENDCLOUD_API_URL",
}


@dataclass(frozen=True)
class Settings:
    """The handler's validated configuration. Keys are kept out of ``repr``."""

    integration_id: int
    public_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    base_url: Optional[str] = None
    shutdown_timeout: float = 5.0
    timeout: tuple[float, float] = (3.05, 10.0)
    verify: Union[bool, str] = True
    allow_insecure_http: bool = False
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)
    spool_path: Optional[str] = None
    spool_max_bytes: int = 50 * 1024 * 1024
    spool_max_age: float = 7 * 24 * 3600.0


def from_environment(key: str, value: Any, environ: Mapping[str, str]) -> Any:
    """The keyword's value, else its environment variable's (empty counts as unset)."""
    if value is None or value == "":
        env = ENVIRONMENT.get(key)
        if env:
            return environ.get(env) or None
    return value


def positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigurationError(key, f"must be a positive integer, got {value!r}")
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ConfigurationError(key, f"must be a positive integer, got {value!r}") from None
    if number < 1:
        raise ConfigurationError(key, f"must be a positive integer, got {value!r}")
    return number


def non_negative_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigurationError(key, f"must be an integer >= 0, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(key, f"must be an integer >= 0, got {value!r}") from None
    if number < 0:
        raise ConfigurationError(key, f"must be an integer >= 0, got {value!r}")
    return number


def seconds(key: str, value: Any, *, allow_zero: bool = True) -> float:
    if isinstance(value, bool):
        raise ConfigurationError(key, f"must be a number of seconds, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(key, f"must be a number of seconds, got {value!r}") from None
    if math.isnan(number) or number < 0 or (number == 0 and not allow_zero) or math.isinf(number):
        raise ConfigurationError(key, f"must be a finite number of seconds >= 0, got {value!r}")
    return number


def optional_rate(key: str, value: Any) -> Optional[float]:
    """A rate per minute, or None/0/"off" to turn rate limiting off (a local Inbox, benchmarks)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null", "off")):
        return None
    rate = seconds(key, value)
    return rate or None


def optional_path(key: str, value: Any) -> Optional[str]:
    if value is None or value == "":
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigurationError(key, f"must be a file path, got {type(value).__name__}")
    return os.fspath(value)


def http_url(key: str, value: Any) -> Optional[str]:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(key, f"must be a URL string, got {type(value).__name__}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(key, f"must be an http(s) URL such as https://shop.example, got {value!r}")
    return value


def resolve(
    *,
    integration_id: Any = None,
    public_key: Optional[str] = None,
    secret_key: Optional[str] = None,
    api_url: Optional[str] = None,
    base_url: Optional[str] = None,
    queue_size: Any = 1000,
    shutdown_timeout: Any = 5.0,
    timeout: TimeoutArg = None,
    max_retries: Any = 5,
    max_backoff: Any = 30.0,
    verify: Union[bool, str] = True,
    allow_insecure_http: bool = False,
    rate_limit_per_minute: Any = 100,
    rate_limit_burst: Any = 15,
    summary_window: Any = 60.0,
    breaker_threshold: Any = 5,
    breaker_cooldown: Any = 1.0,
    spool_path: Any = None,
    spool_max_bytes: Any = 50 * 1024 * 1024,
    spool_max_age: Any = 7 * 24 * 3600.0,
    environ: Optional[Mapping[str, str]] = None,
) -> Settings:
    """Validate the handler's keywords, filling gaps from the environment."""
    env = os.environ if environ is None else environ
    raw_id = from_environment("integration_id", integration_id, env)
    if raw_id is None:
        raise ConfigurationError(
            "integration_id", "missing: pass integration_id= or set SENDCLOUD_INTEGRATION_ID"
        )
    public_key = from_environment("public_key", public_key, env)
    secret_key = from_environment("secret_key", secret_key, env)
    for key, value in (("public_key", public_key), ("secret_key", secret_key)):
        if not value:
            raise ConfigurationError(key, f"missing: pass {key}= or set {ENVIRONMENT[key]}")
        if not isinstance(value, str):
            raise ConfigurationError(key, f"must be a string, got {type(value).__name__}")
    if verify is False:
        raise ConfigurationError("verify", "TLS verification cannot be turned off; pass a CA bundle path")
    return Settings(
        integration_id=positive_int("integration_id", raw_id),
        public_key=str(public_key),
        secret_key=str(secret_key),
        api_url=check_api_url(from_environment("api_url", api_url, env) or DEFAULT_API_URL, allow_insecure_http),
        base_url=http_url("base_url", base_url),
        shutdown_timeout=seconds("shutdown_timeout", shutdown_timeout),
        timeout=normalise_timeout(timeout),
        verify=verify,
        allow_insecure_http=bool(allow_insecure_http),
        delivery=DeliveryOptions(
            queue_size=positive_int("queue_size", queue_size),
            max_retries=non_negative_int("max_retries", max_retries),
            max_backoff=seconds("max_backoff", max_backoff),
            rate_limit_per_minute=optional_rate("rate_limit_per_minute", rate_limit_per_minute),
            rate_limit_burst=positive_int("rate_limit_burst", rate_limit_burst),
            summary_window=seconds("summary_window", summary_window),
            breaker_threshold=positive_int("breaker_threshold", breaker_threshold),
            breaker_cooldown=seconds("breaker_cooldown", breaker_cooldown, allow_zero=False),
        ),
        spool_path=optional_path("spool_path", spool_path),
        spool_max_bytes=positive_int("spool_max_bytes", spool_max_bytes),
        spool_max_age=seconds("spool_max_age", spool_max_age),
    )
