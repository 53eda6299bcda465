"""Put failed shop-API calls into Sendcloud's connection issue log through plain Python logging.

``SendcloudHandler``, ``SendcloudClient`` and ``payload_from_record`` are imported when first named
(PEP 562), so ``import sendcloud_logging`` (the pytest plugin, the CLI's ``--version``) brings neither
requests nor the handler; the errors are plain classes, imported at once.
"""

import typing as _typing

from ._version import __version__
from .errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    MissingBaseURLError,
    MissingCredentialsError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestTimeoutError,
    SendcloudError,
    ServerError,
    TLSError,
    TransportError,
    ValidationError,
    WrongURLError,
)

if _typing.TYPE_CHECKING:
    from ._payload import payload_from_record
    from .client import SendcloudClient
    from .handler import SendcloudHandler

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "ConnectError",
    "MissingBaseURLError",
    "MissingCredentialsError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "RequestTimeoutError",
    "SendcloudClient",
    "SendcloudError",
    "SendcloudHandler",
    "ServerError",
    "TLSError",
    "TransportError",
    "ValidationError",
    "WrongURLError",
    "__version__",
    "payload_from_record",
]

#: Public names imported when first asked for, and the module each lives in.
_LAZY = {"SendcloudHandler": ".handler", "SendcloudClient": ".client", "payload_from_record": "._payload"}


def _public(obj: _typing.Any) -> _typing.Any:
    """Show the public path, not the private module a name lives in: tracebacks and reprs read
    ``sendcloud_logging.NotFoundError``, as httpx does for its own names."""
    obj.__module__ = "sendcloud_logging"
    return obj


def __getattr__(name: str) -> _typing.Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sendcloud_logging' has no attribute {name!r}")
    import importlib  # noqa: PLC0415

    value = _public(getattr(importlib.import_module(_LAZY[name], __name__), name))
    globals()[name] = value  # asked once: later look-ups find it in the module
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


for __name in __all__:
    if not __name.startswith("__") and __name not in _LAZY:
        _public(globals()[__name])
