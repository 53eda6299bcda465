"""The HTTP layer on the fake transport: each row of the exception map, error answers, redirects not followed."""

from __future__ import annotations

from typing import Any, Optional

import pytest
import requests

from sendcloud_logging import (
    APIError,
    ConfigurationError,
    ConnectError,
    RateLimitedError,
    RequestTimeoutError,
    SendcloudClient,
    SendcloudError,
    ServerError,
    TLSError,
    TransportError,
    ValidationError,
    client,
)
from sendcloud_logging._http import EXCEPTION_MAP, parse_retry_after, redacted_url
from sendcloud_logging.errors import WrongURLError
from tests.fakes import FakeTransport, Handler, Reply, api_error

API = "https://api.example/api/v3"
POST_URL = f"{API}/integrations/7/logs"
PUBLIC = "pk-http-test-51d0"
SECRET = "sk-http-test-secret-0b7e"  # never in a message
E = requests.exceptions


def make_client(handler: Handler) -> tuple[SendcloudClient, FakeTransport]:
    transport = FakeTransport(handler)
    return SendcloudClient(PUBLIC, SECRET, api_url=API, timeout=(2, 5), transport=transport), transport


def raised(answer: Any) -> SendcloudError:
    """What create_log raises when the transport answers ``answer`` (a Reply or an exception)."""
    c, _ = make_client(lambda request: answer)
    with pytest.raises(SendcloudError) as info:
        c.create_log(7, {"base_url": "https://shop.example"})
    return info.value


# One row of EXCEPTION_MAP each: (what requests raises, what the client raises, the setting a
# ConfigurationError names, words the message has).
ROWS: list[tuple[BaseException, type[SendcloudError], Optional[str], str]] = [
    (E.SSLError("x"), TLSError, None, "TLS handshake with api.example:443 failed"),
    (E.ConnectTimeout("x"), RequestTimeoutError, None, "no connection to api.example:443 within 2 s"),
    (E.ReadTimeout("x"), RequestTimeoutError, None, "api.example:443 did not answer within 5 s"),
    (E.ProxyError("x"), ConnectError, None, "through the proxy"),
    (E.ConnectionError("x"), ConnectError, None, "the connection to api.example:443 broke"),
    (E.InvalidProxyURL("x"), ConfigurationError, "proxies", "HTTPS_PROXY"),
    (E.InvalidURL("x"), ConfigurationError, "api_url", "cannot parse the URL"),
    (E.MissingSchema("x"), ConfigurationError, "api_url", "needs http:// or https://"),
    (E.InvalidSchema("x"), ConfigurationError, "api_url", "cannot send to this URL's scheme"),
    (E.URLRequired("x"), ConfigurationError, "api_url", "needs http:// or https://"),
    (E.InvalidHeader("x"), ConfigurationError, "credentials", "line break"),
    (E.ChunkedEncodingError("x"), TransportError, None, "ChunkedEncodingError"),
    (E.ContentDecodingError("x"), TransportError, None, "ContentDecodingError"),
    (E.RetryError("x"), TransportError, None, "RetryError"),
    (UnicodeEncodeError("latin-1", "s\u20ack", 1, 2, "no"), ConfigurationError, "credentials", "non-Latin-1"),
    (OSError("Could not find a suitable TLS CA certificate bundle, invalid path: /x.pem"), ConfigurationError,
     "verify", "invalid path: /x.pem"),
]


@pytest.mark.parametrize(("exc", "expected", "key", "words"), ROWS, ids=[type(row[0]).__name__ for row in ROWS])
def test_each_failure_of_requests_becomes_its_own_class(
    exc: BaseException, expected: type[SendcloudError], key: Optional[str], words: str
) -> None:
    error = raised(exc)
    assert type(error) is expected
    assert error.__cause__ is exc
    message = str(error)
    assert words in message
    assert message.endswith(f"(POST {POST_URL})")
    assert "\n" not in message and SECRET not in message
    if key is None:
        assert isinstance(error, TransportError)
        assert (error.method, error.url) == ("POST", POST_URL)
    else:
        assert isinstance(error, ConfigurationError) and isinstance(error, ValueError)
        assert error.key == key


def test_the_map_lists_the_most_specific_class_first() -> None:
    sources = [source for source, _ in EXCEPTION_MAP]
    for i, source in enumerate(sources):
        shadowing = [earlier for earlier in sources[:i] if issubclass(source, earlier)]
        assert not shadowing, f"{source.__name__} can never match: {shadowing[0].__name__} comes first"
    assert issubclass(E.SSLError, E.ConnectionError) and issubclass(E.ConnectTimeout, E.ConnectionError)
    assert {row[1] for row in ROWS} == {target for _, target in EXCEPTION_MAP}
    assert all(any(isinstance(row[0], source) for row in ROWS) for source in sources)


def test_messages_quote_neither_query_nor_requests_own_text() -> None:
    cause = E.ConnectionError(f"HTTPSConnectionPool(host='api.example'): Max retries exceeded with url: /x?key={SECRET}")
    c, transport = make_client(lambda request: cause)
    with pytest.raises(ConnectError) as info:
        list(c.iter_logs(7, page_size=5))
    assert transport.requests[0].url == f"{API}/integrations/7/logs?page_size=5"
    assert str(info.value) == (
        f"the connection to api.example:443 broke before the answer: ConnectionError (GET {API}/integrations/7/logs)"
    )
    assert SECRET in str(info.value.__cause__)  # requests' text is kept where a debugger finds it


def test_an_error_answer_carries_status_code_detail_and_where() -> None:
    body = {"errors": [{"status": 400, "code": "extra_forbidden", "detail": "Extra inputs", "source": {"pointer": "body/x"}}]}
    error = raised(Reply(400, body, {"Content-Type": "application/json"}))
    assert isinstance(error, ValidationError)
    assert (error.status, error.code, error.detail) == (400, "extra_forbidden", "Extra inputs (body/x)")
    assert (error.method, error.url) == ("POST", POST_URL)
    assert str(error) == f"HTTP 400 extra_forbidden: Extra inputs (body/x) (POST {POST_URL})"
    assert SECRET not in str(error) and PUBLIC not in str(error)


@pytest.mark.parametrize(
    ("reply", "code", "detail"),
    [
        (Reply(502, "<html>\n  <h1>Bad gateway</h1>\n</html>" + "x" * 300), None, "<html> <h1>Bad gateway</h1> </html>"),
        (Reply(500, None), None, "Fake"),  # no body: the reason phrase
        (Reply(500, {"message": "no errors member"}), None, "Fake"),
        (Reply(503, {"error": "temporarily_unavailable", "error_description": "later"}), "temporarily_unavailable", "later"),
        (Reply(503, {"errors": {"code": "down", "detail": "one object, not a list"}}), "down", "one object, not a list"),
    ],
)
def test_bodies_other_than_a_json_api_error_list(reply: Reply, code: Optional[str], detail: str) -> None:
    error = raised(reply)
    assert isinstance(error, ServerError)
    assert error.code == code
    assert (error.detail or "").startswith(detail)
    assert len(error.detail or "") <= 200 and "\n" not in (error.detail or "")


def test_retry_after_in_seconds_or_as_a_date() -> None:
    limited = raised(api_error(429, "throttled", **{"Retry-After": "7"}))
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 7.0
    dated = raised(api_error(503, "down", **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    assert isinstance(dated, ServerError) and dated.retry_after == 0.0


def test_parse_retry_after() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert client.parse_retry_after is parse_retry_after  # still importable where it used to live


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://u:p@api.example:8443/api/v3/logs?cursor=x&key=s#f", "https://api.example:8443/api/v3/logs"),
        ("http://[::1]:8025/api/v3", "http://[::1]:8025/api/v3"),
        ("https://x:99999999/", "https://x:99999999/"),  # as typed: the error is about that port
        ("https://Panel.Sendcloud.SC/api/v3", "https://Panel.Sendcloud.SC/api/v3"),
        ("panel.sendcloud.sc/api/v3", "panel.sendcloud.sc/api/v3"),  # no scheme: not '://panel...'
        ("u:p@panel.sendcloud.sc/api/v3?key=s", "panel.sendcloud.sc/api/v3"),
        ("https://[::1/", "<an unparsable URL>"),
    ],
)
def test_redacted_url(url: str, expected: str) -> None:
    assert redacted_url(url) == expected


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_error_and_is_not_followed(status: int) -> None:
    c, transport = make_client(lambda request: Reply(status, None, {"Location": "https://elsewhere.example/x?token=t"}))
    with pytest.raises(APIError) as info:
        c.create_log(7, {"base_url": "https://shop.example"})
    assert len(transport.requests) == 1
    assert info.value.status == status
    assert info.value.detail == "redirected to https://elsewhere.example/x; not followed: api_url is wrong (it should end in /api/v3)"
    assert isinstance(info.value, WrongURLError)
    assert "token=t" not in str(info.value)


@pytest.mark.parametrize("reply", [Reply(201, None), Reply(201, "Created"), Reply(204, None), Reply(201, [1, 2])])
def test_a_success_without_a_json_object_still_created_the_log(reply: Reply) -> None:
    c, transport = make_client(lambda request: reply)
    assert c.create_log(7, {"base_url": "https://shop.example"}) == ({"data": [1, 2]} if reply.body == [1, 2] else {})
    assert len(transport.requests) == 1


def test_a_page_that_is_not_json_is_an_api_error() -> None:
    c, _ = make_client(lambda request: Reply(200, "<html>portal</html>", {"Content-Type": "text/html"}))
    with pytest.raises(APIError) as info:
        next(c.iter_pages(7))
    assert (info.value.status, info.value.code) == (200, "unreadable_body")
    assert "text/html" in (info.value.detail or "")
    assert info.value.url == f"{API}/integrations/7/logs"


def test_page_arguments_are_checked_at_the_call_and_relative_next_links_resolved() -> None:
    def pages(request: requests.PreparedRequest) -> Reply:
        if "cursor" in (request.url or ""):
            return Reply(200, {"data": [{"id": 2}]})
        return Reply(200, {"data": [{"id": 1}]}, {"Link": '</api/v3/integrations/7/logs?cursor=c2>; rel="next"'})

    c, transport = make_client(pages)
    for bad in ({"page_size": 0}, {"page_size": 101}, {"integration_id": "seven"}):
        with pytest.raises(ConfigurationError):
            c.iter_pages(**bad)
        with pytest.raises(ConfigurationError):
            c.iter_logs(**bad)
    assert transport.requests == []  # nothing was sent for a bad argument
    assert [log["id"] for log in c.iter_logs(7)] == [1, 2]
    assert transport.requests[1].url == f"{API}/integrations/7/logs?cursor=c2"
