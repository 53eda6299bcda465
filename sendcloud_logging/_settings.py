"""The handler's options, once: one table of name, environment variable, default, parser and doc; ``resolve``.

``SendcloudHandler.__init__`` spells the keywords out (``dictConfig``, ``fileConfig`` and ``help()`` need a real
signature) with the defaults read from ``DEFAULTS``, and hands them to ``resolve`` as a mapping; tests hold the
signature, the docstring and the README's table to this one. Everything is checked here, at construction, so
that a bad value fails when the application starts and never later at emit time. Errors are
``ConfigurationError`` (a ``ValueError``) naming the key.

A keyword left at None is not given: its environment variable fills it (an empty one counts as unset), else
its fallback. Any other value, text from an INI file included, goes to the option's parser.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ._validators import (
    DEFAULT_API_URL,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_MEMORY_BYTES,
    DEFAULT_MAX_PAYLOAD_BYTES,
    DEFAULT_TIMEOUT,
    MIN_BODY_BYTES,
    MIN_MEMORY_BYTES,
    MIN_PAYLOAD_BYTES,
    byte_size,
    ca_bundle,
    check_api_url,
    flag,
    http_url,
    importable,
    key_text,
    log_level,
    name_list,
    non_negative_int,
    normalise_timeout,
    optional_positive_int,
    optional_rate,
    positive_int,
    positive_seconds,
    seconds,
)
from .auth import DEFAULT_TOKEN_URL, PAIRS, Credentials, auth_mode, missing_key
from .errors import ConfigurationError

if TYPE_CHECKING:
    from ._delivery.policy import DeliveryPolicy
    from ._payload.policy import PayloadPolicy
    from .client import SendcloudClient

__all__ = ["DEFAULTS", "ENVIRONMENT", "OPTIONS", "Option", "Settings", "environment", "new_client", "resolve"]

Parser = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Option:
    """One keyword of ``SendcloudHandler``.

    ``fallback`` is what a None ``default`` ends as when the environment gives nothing either (the production
    URLs); ``parse(key, value)`` turns a keyword, INI or environment value into the setting.
    """

    name: str
    default: Any
    parse: Parser
    doc: str
    env: Optional[str] = None
    fallback: Any = None


def _url(key: str, value: Any) -> str:
    """The URL's shape; whether plain http may go there is decided in ``resolve`` with ``allow_insecure_http``."""
    return check_api_url(value, True, key=key)


def _timeout(key: str, value: Any) -> tuple[float, float]:
    return normalise_timeout(value, key)


def spool_file(key: str, value: Any) -> Optional[str]:
    """``_delivery.spool.spool_file``, imported only when a spool is asked for (it brings sqlite3)."""
    if value is None:
        return None
    from ._delivery.spool import spool_file as check  # noqa: PLC0415  # the spool is imported when used

    return check(key, value)


def _at_least(minimum: int) -> Parser:
    def parse(key: str, value: Any) -> int:
        return byte_size(key, value, minimum)

    return parse


_TABLE = (
    Option("level", logging.ERROR, log_level, "Records below this level are ignored (default ERROR)."),
    Option(
        "integration_id",
        None,
        optional_positive_int,
        "The Sendcloud integration the logs belong to; a record's extra={'integration_id': N} overrides it.",
        env="SENDCLOUD_INTEGRATION_ID",
    ),
    Option("public_key", None, key_text, "API public key.", env="SENDCLOUD_PUBLIC_KEY"),
    Option("secret_key", None, key_text, "API secret key.", env="SENDCLOUD_SECRET_KEY"),
    Option(
        "client_id",
        None,
        key_text,
        "OAuth2 client id (client credentials), instead of public_key/secret_key; the token is cached and renewed "
        "before it expires and once on a 401.",
        env="SENDCLOUD_CLIENT_ID",
    ),
    Option("client_secret", None, key_text, "OAuth2 client secret.", env="SENDCLOUD_CLIENT_SECRET"),
    Option(
        "token_url",
        None,
        _url,
        f"OAuth2 token endpoint (default {DEFAULT_TOKEN_URL}); plain http only to loopback hosts.",
        env="SENDCLOUD_TOKEN_URL",
        fallback=DEFAULT_TOKEN_URL,
    ),
    Option(
        "credentials",
        None,
        importable,
        "For platforms holding a key pair per merchant: a callable integration_id -> (public_key, secret_key), "
        "or its dotted path, asked on the worker thread before each POST; integration_id is then optional, and "
        "pacing and refused keys are kept per key pair.",
    ),
    Option(
        "api_url",
        None,
        _url,
        f"API v3 base URL (default {DEFAULT_API_URL}); plain http only to loopback hosts.",
        env="SENDCLOUD_API_URL",
        fallback=DEFAULT_API_URL,
    ),
    Option("base_url", None, http_url, "The shop URL used when a record carries none."),
    Option(
        "queue_size",
        1000,
        positive_int,
        "Records waiting at most in the caller's queue, and again as logs in the outbox; more are dropped and "
        "counted (queue_full).",
    ),
    Option(
        "max_memory_bytes",
        DEFAULT_MAX_MEMORY_BYTES,
        _at_least(MIN_MEMORY_BYTES),
        f"Bytes the waiting records may hold in memory at most, queue and outbox together (at least "
        f"{MIN_MEMORY_BYTES}); more are dropped and counted (memory_full).",
    ),
    Option(
        "shutdown_timeout",
        5.0,
        seconds,
        "Seconds close() (and so interpreter exit) may spend delivering what is queued.",
    ),
    Option("timeout", DEFAULT_TIMEOUT, _timeout, "HTTP timeout in seconds, or a (connect, read) pair."),
    Option(
        "max_retries",
        5,
        non_negative_int,
        "Retries of a log after a transport error, 408, 429 or 5xx (full-jitter exponential backoff).",
    ),
    Option("max_backoff", 30.0, seconds, "Upper bound in seconds of one wait between retries."),
    Option("verify", True, ca_bundle, "TLS verification: True or a CA bundle path (it cannot be turned off)."),
    Option("allow_insecure_http", False, flag, "Permit a plain http api_url or token_url to a non-loopback host."),
    Option(
        "rate_limit_per_minute",
        100,
        optional_rate,
        "POSTs in any 60 seconds at most (the API's limit); None (or off) turns pacing off.",
    ),
    Option("rate_limit_burst", 15, positive_int, "POSTs in any one second at most (API: 15)."),
    Option(
        "summary_window",
        60.0,
        seconds,
        "Seconds in which repeats of one problem become one summary log; 0 turns it off.",
    ),
    Option(
        "breaker_threshold",
        5,
        positive_int,
        "Failures in a row that open the circuit (no POSTs, then one probe).",
    ),
    Option(
        "breaker_cooldown",
        1.0,
        positive_seconds,
        "First wait in seconds of an open circuit; doubles per failed probe up to max_backoff.",
    ),
    Option(
        "spool_path",
        None,
        spool_file,
        "A SQLite file that keeps logs until the API took them, across crashes and restarts.",
    ),
    Option(
        "spool_max_bytes",
        50 * 1024 * 1024,
        positive_int,
        "Size of the spool at most; more logs are dropped (spool_full).",
    ),
    Option(
        "spool_max_age",
        7 * 24 * 3600,
        seconds,
        "Seconds a log may wait in the spool before it is dropped (expired).",
    ),
    Option(
        "redact_keys",
        None,
        name_list,
        "More body, form, JSON, XML and query key words to redact besides the defaults; a list, or one "
        "comma-separated string.",
    ),
    Option("redact_headers", None, name_list, "More header names, or words of names, to redact besides the defaults."),
    Option(
        "keep_keys",
        None,
        name_list,
        "Keys never redacted: a default word listed here is switched off (token), a full key name is kept "
        "although it contains a word (token_type).",
    ),
    Option("keep_headers", None, name_list, "The same for headers (WWW-Authenticate)."),
    Option(
        "redact_defaults",
        True,
        flag,
        "False switches every built-in redaction list off (redact_keys/redact_headers still apply).",
    ),
    Option(
        "send_pii",
        False,
        flag,
        "True sends customers' personal data (e-mail addresses, phone numbers, IP addresses, names, street "
        "addresses); by default it is redacted.",
    ),
    Option(
        "before_send",
        None,
        importable,
        "f(payload, record) -> payload or None, called on the worker thread with the redacted payload; None "
        "drops the record (before_send). A callable or its dotted path.",
    ),
    Option(
        "max_body_bytes",
        DEFAULT_MAX_BODY_BYTES,
        _at_least(MIN_BODY_BYTES),
        f"Bytes of request.payload, response.body and exception at most (at least {MIN_BODY_BYTES}).",
    ),
    Option(
        "max_payload_bytes",
        DEFAULT_MAX_PAYLOAD_BYTES,
        _at_least(MIN_PAYLOAD_BYTES),
        f"Bytes of the whole POST body at most (at least {MIN_PAYLOAD_BYTES}); the largest parts are cut first.",
    ),
)

#: Every keyword of ``SendcloudHandler``, in the signature's order.
OPTIONS: Mapping[str, Option] = MappingProxyType({option.name: option for option in _TABLE})
#: Keyword -> default, for the handler's signature.
DEFAULTS: Mapping[str, Any] = MappingProxyType({option.name: option.default for option in _TABLE})
#: Keyword -> environment variable read when the keyword is not given.
ENVIRONMENT: Mapping[str, str] = MappingProxyType({option.name: option.env for option in _TABLE if option.env})
#: The key keywords, in ``auth_mode``'s order; which of them are read depends on the way to authenticate.
KEYS = (*PAIRS["basic"], *PAIRS["oauth"])


@dataclass(frozen=True)
class Settings:
    """The handler's validated configuration. Keys are kept out of ``repr``.

    Exactly one way to authenticate is set: ``public_key``/``secret_key``, ``client_id``/``client_secret``
    (OAuth2), or ``credentials`` (a key pair per integration; then ``integration_id`` may be ``None``).
    """

    level: int
    integration_id: Optional[int]
    public_key: Optional[str] = field(repr=False)
    secret_key: Optional[str] = field(repr=False)
    client_id: Optional[str] = field(repr=False)
    client_secret: Optional[str] = field(repr=False)
    token_url: str
    credentials: Optional[Credentials] = field(repr=False, compare=False)
    api_url: str
    base_url: Optional[str]
    shutdown_timeout: float
    timeout: tuple[float, float]
    verify: Union[bool, str]
    allow_insecure_http: bool
    queue_size: int
    max_memory_bytes: int
    summary_window: float
    delivery: DeliveryPolicy = field(repr=False, compare=False)
    spool_path: Optional[str]
    spool_max_bytes: int
    spool_max_age: float
    policy: PayloadPolicy = field(repr=False, compare=False)
    before_send: Optional[Callable[..., Any]] = field(repr=False, compare=False)


def environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The values the environment gives, by keyword name (an empty variable counts as unset)."""
    return {name: environ[env] for name, env in ENVIRONMENT.items() if environ.get(env)}


def resolve(
    options: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None, *, require_integration_id: bool = True
) -> Settings:
    """Validate the handler's keywords (missing ones take the table's default), filling gaps from the environment.

    ``require_integration_id=False`` is for the command line's ``logs``, which may list all of an account's.

    Authentication follows ``auth.auth_mode``: ``credentials``, or the pair given as keywords, else OAuth2 when
    ``SENDCLOUD_CLIENT_ID`` or ``SENDCLOUD_CLIENT_SECRET`` is set, else Basic. Only the chosen pair is read
    from the environment.
    """
    env = os.environ if environ is None else environ
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ConfigurationError(unknown[0], f"not an option of SendcloudHandler; known are {', '.join(OPTIONS)}")
    values: dict[str, Any] = {}
    for name, option in OPTIONS.items():
        value = options.get(name, option.default)
        if value is None and option.env and name not in KEYS:  # keys wait until the way to authenticate is known
            value = env.get(option.env) or None
        values[name] = option.parse(name, option.fallback if value is None else value)
    public_key, secret_key, client_id, client_secret = (values[name] for name in KEYS)
    credentials = values["credentials"]
    mode = auth_mode(public_key, secret_key, client_id, client_secret, credentials, environment=environment(env))
    if values["integration_id"] is None and mode != "credentials" and require_integration_id:
        env_name = ENVIRONMENT["integration_id"]
        raise ConfigurationError("integration_id", f"missing: pass integration_id= or set {env_name}")
    mode = "basic" if mode == "none" else mode  # nothing given anywhere: say which keys Basic needs
    for name in KEYS:
        if name not in PAIRS.get(mode, ()):
            values[name] = None  # the other pair's environment variables are not read
        elif values[name] is None:
            values[name] = OPTIONS[name].parse(name, env.get(ENVIRONMENT[name]) or None)
    missing = missing_key(mode, values)
    if missing is not None:
        raise ConfigurationError(missing, f"missing: pass {missing}= or set {ENVIRONMENT[missing]}")
    for name in ("api_url", "token_url"):
        values[name] = check_api_url(values[name], values["allow_insecure_http"], key=name)
    from ._delivery.policy import DeliveryPolicy  # noqa: PLC0415  # imported with the first handler, not the class
    from ._payload.policy import PayloadPolicy  # noqa: PLC0415
    from ._payload.redact import Redactor  # noqa: PLC0415

    delivery = DeliveryPolicy(  # a spool keeps logs of refused credentials for a key fixed by the next deploy
        **{f.name: values[f.name] for f in fields(DeliveryPolicy) if f.name in values},
        hold_on_auth_failure=values["spool_path"] is not None,
    )
    policy = PayloadPolicy(
        redactor=Redactor(
            keys=values["redact_keys"],
            headers=values["redact_headers"],
            keep_keys=values["keep_keys"],
            keep_headers=values["keep_headers"],
            defaults=values["redact_defaults"],
            values=tuple(values[name] for name in KEYS if values[name]),  # our own keys, wherever they appear
            send_pii=values["send_pii"],
        ),
        credentials=values["credentials"],  # a merchant's keys are scrubbed from its logs like our own
        max_body_bytes=values["max_body_bytes"],
        max_payload_bytes=values["max_payload_bytes"],
    )
    kept = {f.name: values[f.name] for f in fields(Settings) if f.name in values}
    return Settings(**kept, delivery=delivery, policy=policy)


def new_client(settings: Settings) -> SendcloudClient:
    """A ``SendcloudClient`` with resolved settings: the handler's sender and the CLI's commands use this one."""
    from .client import SendcloudClient  # noqa: PLC0415  # requests, only once a client is wanted

    return SendcloudClient(
        public_key=settings.public_key,
        secret_key=settings.secret_key,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        token_url=settings.token_url,
        credentials=settings.credentials,
        api_url=settings.api_url,
        timeout=settings.timeout,
        verify=settings.verify,
        allow_insecure_http=settings.allow_insecure_http,
    )
