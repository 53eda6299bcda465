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
    "__version__",
    "payload_from_record",
]
