"""Put failed shop-API calls into Sendcloud's connection issue log through plain Python logging."""

from ._payload import payload_from_record
from ._version import __version__
from .client import SendcloudClient
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

# Show the public path, not the private module a name lives in: tracebacks and reprs read
# ``sendcloud_logging.NotFoundError``, as httpx does for its own names.
__locals = locals()
for __name in __all__:
    if not __name.startswith("__"):
        __locals[__name].__module__ = "sendcloud_logging"
