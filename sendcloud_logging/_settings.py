"""Turn keyword arguments and environment variables into validated settings, once.

Everything is checked here, at construction, so that ``dictConfig`` reports a bad value when the application
starts and never later at emit time. Errors are ``ConfigurationError`` (a ``ValueError``) naming the key.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union
from urllib.parse import urlsplit

from ._delivery.policy import DeliveryOptions
from ._payload import DEFAULT_POLICY, PayloadPolicy
from ._payload.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_PAYLOAD_BYTES, MIN_BODY_BYTES, MIN_PAYLOAD_BYTES
from ._payload.redact import Redactor
from .auth import DEFAULT_TOKEN_URL
from .client import DEFAULT_API_URL, Credentials, TimeoutArg, check_api_url, normalise_timeout
from .errors import ConfigurationError

#: Keyword -> environment variable read when the keyword is not given.
ENVIRONMENT = {
    "integration_id": "SENDCLOUD_INTEGRATION_ID",
    "public_key": "SENDCLOUD_PUBLIC_KEY",
    "secret_key": "SENDCLOUD_SECRET_KEY",
    "api_url": "SENDCLOUD_API_URL",
    "client_id": "SENDCLOUD_CLIENT_ID",
    "client_secret": "SENDCLOUD_CLIENT_SECRET",
    "token_url": "SENDCLOUD_TOKEN_URL",
}


@dataclass(frozen=True)
class Settings:
    """The handler's validated configuration. Keys are kept out of ``repr``.

    Exactly one way to authenticate is set: ``public_key``/``secret_key``, ``client_id``/``client_secret``
    (OAuth2), or ``credentials`` (a key pair per integration; then ``integration_id`` may be ``None``).
    """

    integration_id: Optional[int]
    public_key: Optional[str] = field(repr=False)
    secret_key: Optional[str] = field(repr=False)
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
    client_id: Optional[str] = field(default=None, repr=False)
    client_secret: Optional[str] = field(default=None, repr=False)
    token_url: str = DEFAULT_TOKEN_URL
    credentials: Optional[Credentials] = field(default=None, repr=False, compare=False)
    policy: PayloadPolicy = field(default=DEFAULT_POLICY, repr=False, compare=False)
    before_send: Optional[Callable[..., Any]] = field(default=None, repr=False, compare=False)


def from_environment(key: str, value: Any, environ: Mapping[str, str]) -> Any:
    """The keyword's value, else its environment variable's (empty counts as unset)."""
    if value is None or value == "":
        env = ENVIRONMENT.get(key)
        if env:
            return environ.get(env) or None
    return value


def positive_int(key: str, value: Any) -> int:
    """``value`` as an int >= 1 (digits in a string too); else ``ConfigurationError`` naming ``key``."""
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
    """``value`` as an int >= 0; else ``ConfigurationError`` naming ``key``."""
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
    """``value`` as a finite number of seconds >= 0 (> 0 unless ``allow_zero``); else ``ConfigurationError``."""
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
    """A file path as a string, or None for None/""; else ``ConfigurationError`` naming ``key``."""
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


def ca_bundle(key: str, value: Any) -> Union[bool, str]:
    """``True`` (the system's CA bundle) or the path of a CA bundle file or directory that exists."""
    if value is True:
        return True
    if value is False or value is None:
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


def flag(key: str, value: Any) -> bool:
    """A boolean from a keyword or an INI/environment string ("true", "0", "yes", ...)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ConfigurationError(key, f"must be true or false, got {value!r}")


def byte_size(key: str, value: Any, minimum: int) -> int:
    """A positive number of bytes at least ``minimum``, from an int or a numeric string."""
    number = positive_int(key, value)
    if number < minimum:
        raise ConfigurationError(key, f"must be at least {minimum} bytes, got {value!r}")
    return number


def hook(key: str, value: Any) -> Optional[Callable[..., Any]]:
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
        raise ConfigurationError(key, f"must be a function f(payload, record), got {type(value).__name__}")
    return value  # type: ignore[no-any-return]  # callable() narrowed it


def payload_policy(
    *,
    redact_keys: Any,
    redact_headers: Any,
    keep_keys: Any,
    keep_headers: Any,
    redact_defaults: Any,
    max_body_bytes: Any,
    max_payload_bytes: Any,
    secrets: tuple[Any, ...],
) -> PayloadPolicy:
    """Redaction and size bounds; ``secrets`` (the handler's own keys) are redacted wherever they appear."""
    return PayloadPolicy(
        redactor=Redactor(
            keys=name_list("redact_keys", redact_keys),
            headers=name_list("redact_headers", redact_headers),
            keep_keys=name_list("keep_keys", keep_keys),
            keep_headers=name_list("keep_headers", keep_headers),
            defaults=flag("redact_defaults", redact_defaults),
            values=tuple(secret for secret in secrets if isinstance(secret, str)),
        ),
        max_body_bytes=byte_size("max_body_bytes", max_body_bytes, MIN_BODY_BYTES),
        max_payload_bytes=byte_size("max_payload_bytes", max_payload_bytes, MIN_PAYLOAD_BYTES),
    )


def auth_mode(
    public_key: Any,
    secret_key: Any,
    client_id: Any,
    client_secret: Any,
    credentials: Any,
    *,
    environ: Mapping[str, str],
) -> str:
    """``"credentials"``, ``"oauth"`` or ``"basic"``: how the handler authenticates (see ``resolve``)."""
    basic, oauth = bool(public_key or secret_key), bool(client_id or client_secret)
    if credentials is not None:
        if not callable(credentials):
            raise ConfigurationError(
                "credentials",
                f"must be a callable integration_id -> (public_key, secret_key), got {type(credentials).__name__}",
            )
        if basic or oauth:
            raise ConfigurationError("credentials", "give credentials or a key pair (or an OAuth2 client), not both")
        return "credentials"
    if basic and oauth:
        raise ConfigurationError("client_id", "give public_key/secret_key or client_id/client_secret, not both")
    if basic:
        return "basic"
    if oauth or environ.get(ENVIRONMENT["client_id"]) or environ.get(ENVIRONMENT["client_secret"]):
        return "oauth"
    return "basic"


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
    client_id: Optional[str] = None,
    client_secret: Optional[str] = None,
    token_url: Optional[str] = None,
    credentials: Optional[Credentials] = None,
    redact_keys: Any = None,
    redact_headers: Any = None,
    keep_keys: Any = None,
    keep_headers: Any = None,
    redact_defaults: Any = True,
    before_send: Any = None,
    max_body_bytes: Any = DEFAULT_MAX_BODY_BYTES,
    max_payload_bytes: Any = DEFAULT_MAX_PAYLOAD_BYTES,
    environ: Optional[Mapping[str, str]] = None,
) -> Settings:
    """Validate the handler's keywords, filling gaps from the environment.

    Authentication: ``credentials`` when given; else the pair given as keywords (``public_key``/``secret_key``
    or ``client_id``/``client_secret``, not both); else OAuth2 when ``SENDCLOUD_CLIENT_ID`` or
    ``SENDCLOUD_CLIENT_SECRET`` is set, else Basic with ``SENDCLOUD_PUBLIC_KEY``/``SENDCLOUD_SECRET_KEY``.
    """
    env = os.environ if environ is None else environ
    raw_id = from_environment("integration_id", integration_id, env)
    if raw_id is None and credentials is None:
        raise ConfigurationError(
            "integration_id", "missing: pass integration_id= or set SENDCLOUD_INTEGRATION_ID"
        )
    mode = auth_mode(public_key, secret_key, client_id, client_secret, credentials, environ=env)
    pair: tuple[tuple[str, Any], ...] = ()
    if mode == "basic":
        public_key = from_environment("public_key", public_key, env)
        secret_key = from_environment("secret_key", secret_key, env)
        pair = (("public_key", public_key), ("secret_key", secret_key))
    elif mode == "oauth":
        client_id = from_environment("client_id", client_id, env)
        client_secret = from_environment("client_secret", client_secret, env)
        pair = (("client_id", client_id), ("client_secret", client_secret))
    for key, value in pair:
        if not value:
            raise ConfigurationError(key, f"missing: pass {key}= or set {ENVIRONMENT[key]}")
        if not isinstance(value, str):
            raise ConfigurationError(key, f"must be a string, got {type(value).__name__}")
    return Settings(
        integration_id=None if raw_id is None else positive_int("integration_id", raw_id),
        public_key=public_key if mode == "basic" else None,
        secret_key=secret_key if mode == "basic" else None,
        client_id=client_id if mode == "oauth" else None,
        client_secret=client_secret if mode == "oauth" else None,
        token_url=check_api_url(
            from_environment("token_url", token_url, env) or DEFAULT_TOKEN_URL, allow_insecure_http, key="token_url"
        ),
        credentials=credentials,
        api_url=check_api_url(from_environment("api_url", api_url, env) or DEFAULT_API_URL, allow_insecure_http),
        base_url=http_url("base_url", base_url),
        shutdown_timeout=seconds("shutdown_timeout", shutdown_timeout),
        timeout=normalise_timeout(timeout),
        verify=ca_bundle("verify", verify),
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
        policy=payload_policy(
            redact_keys=redact_keys,
            redact_headers=redact_headers,
            keep_keys=keep_keys,
            keep_headers=keep_headers,
            redact_defaults=redact_defaults,
            max_body_bytes=max_body_bytes,
            max_payload_bytes=max_payload_bytes,
            secrets=(public_key, secret_key, client_id, client_secret),
        ),
        before_send=hook("before_send", before_send),
    )
