"""The exception tree: drawn in full in its docstring, one status map, context without secrets, pickling."""

from __future__ import annotations

import inspect
import pickle
import re
from typing import Any

import pytest

import sendcloud_logging
from sendcloud_logging import errors
from sendcloud_logging.errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    MissingCredentialsError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    SendcloudError,
    ServerError,
    TransportError,
    ValidationError,
    error_for_status,
)

CLASSES = {
    obj for obj in vars(errors).values() if inspect.isclass(obj) and issubclass(obj, SendcloudError)
}


def drawn_tree() -> dict[str, str]:
    """Each class the module docstring draws, with the class drawn above it."""
    parents: dict[str, str] = {}
    line_of_depth = ["SendcloudError"]
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^ {4}((?:[│ ] {3})*)[├└]── (\w+)", line)
        if match:
            depth = len(match.group(1)) // 4 + 1
            del line_of_depth[depth:]
            parents[match.group(2)] = line_of_depth[depth - 1]
            line_of_depth.append(match.group(2))
    return parents


def test_the_docstring_draws_every_class_under_its_parent() -> None:
    parents = drawn_tree()
    assert set(parents) | {"SendcloudError"} == {cls.__name__ for cls in CLASSES}
    for cls in CLASSES - {SendcloudError}:
        assert cls.__bases__[0].__name__ == parents[cls.__name__], cls
    depth = {name: len([c for c in getattr(errors, name).__mro__ if issubclass(c, SendcloudError)]) for name in parents}
    assert max(depth.values()) <= 4  # shallow: at most three levels below SendcloudError


def test_every_class_is_exported() -> None:
    assert {cls.__name__ for cls in CLASSES} <= set(sendcloud_logging.__all__)
    assert all(getattr(sendcloud_logging, cls.__name__) is cls for cls in CLASSES)


@pytest.mark.parametrize(
    ("status", "cls", "token_cls"),
    [
        (400, ValidationError, AuthenticationError),  # RFC 6749 5.2: the token endpoint refuses with a 400
        (401, AuthenticationError, AuthenticationError),
        (403, AuthenticationError, AuthenticationError),
        (404, NotFoundError, NotFoundError),
        (413, PayloadTooLargeError, PayloadTooLargeError),
        (429, RateLimitedError, RateLimitedError),
        (500, ServerError, ServerError),
        (503, ServerError, ServerError),
        (302, APIError, APIError),
        (418, APIError, APIError),
    ],
)
def test_error_for_status_is_the_one_status_map(status: int, cls: type[APIError], token_cls: type[APIError]) -> None:
    assert type(error_for_status(status, "c", "d")) is cls
    assert type(error_for_status(status, "c", "d", token_endpoint=True)) is token_cls


def test_api_errors_say_what_and_where() -> None:
    error = error_for_status(429, "throttled", "slow down", 3.0, method="POST", url="https://api.example/api/v3/x")
    assert str(error) == "HTTP 429 throttled: slow down (POST https://api.example/api/v3/x)"
    assert (error.status, error.code, error.detail, error.retry_after) == (429, "throttled", "slow down", 3.0)
    assert str(APIError(500)) == "HTTP 500"
    assert str(APIError(404, None, "gone")) == "HTTP 404: gone"
    assert APIError(401, "x").method is None and APIError(401, "x").url is None


def instances() -> list[SendcloudError]:
    return [
        SendcloudError("base"),
        ConfigurationError("api_url", "must be https"),
        errors.MissingBaseURLError("no base_url"),
        TransportError("down", method="GET", url="https://api.example/x"),
        ConnectError("cannot connect", method="POST", url="https://api.example/y"),
        errors.RequestTimeoutError("slow", method="POST", url="https://api.example/y"),
        errors.TLSError("untrusted"),
        APIError(418, "teapot", "short and stout", retry_after=1.5, method="GET", url="https://api.example/z"),
        RateLimitedError(429, "throttled", None, retry_after=7.0),
        MissingCredentialsError(401, "no_credentials", "credentials(3) gave no pair"),
    ]


@pytest.mark.parametrize("error", instances(), ids=lambda error: type(error).__name__)
def test_every_error_pickles_with_its_message_and_context(error: SendcloudError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    fields = ("key", "method", "url", "status", "code", "detail", "retry_after")
    assert {f: getattr(copy, f, None) for f in fields} == {f: getattr(error, f, None) for f in fields}


def test_an_api_error_pickled_before_it_carried_method_and_url_still_loads() -> None:
    old: Any = APIError.__new__(ServerError)
    Exception.__init__(old, "HTTP 503")
    old.__dict__.update(status=503, code=None, detail=None)
    old.__setstate__({"retry_after": 2.0})  # the state the older __reduce__ gave
    assert (str(old), old.retry_after, old.method, old.url) == ("HTTP 503", 2.0, None, None)


def test_missing_credentials_is_an_authentication_error_no_server_sent() -> None:
    error = MissingCredentialsError(401, "no_credentials", "credentials(7) raised KeyError")
    assert isinstance(error, AuthenticationError) and isinstance(error, APIError)
    assert str(error) == "no_credentials: credentials(7) raised KeyError; nothing was sent"


def test_configuration_errors_are_value_errors_naming_the_key() -> None:
    error = ConfigurationError("timeout", "must be > 0")
    assert isinstance(error, ValueError)
    assert (error.key, str(error)) == ("timeout", "timeout: must be > 0")
    assert isinstance(errors.MissingBaseURLError("x"), ValueError)
    assert not isinstance(TransportError("x"), ValueError)
