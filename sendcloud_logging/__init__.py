"""Put failed shop-API calls into Sendcloud's connection issue log through plain Python logging."""

from ._payload import payload_from_record
from ._version import __version__
from .client import SendcloudClient
from .errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    MissingBaseURLError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    SendcloudError,
    ServerError,
    TransportError,
    ValidationError,
)
from .handler import SendcloudHandler

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "MissingBaseURLError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "SendcloudClient",
    "SendcloudError",
    "SendcloudHandler",
    "ServerError",
    "TransportError",
    "ValidationError",
    "__version__",
    "payload_from_record",
]
