"""The fake transport answers through the real client: statuses, bodies, headers and exceptions."""

from __future__ import annotations

import pytest
import requests

from sendcloud_logging import ConnectError, NotFoundError, RateLimitedError, SendcloudClient, ServerError, TLSError
from tests.fakes import FakeClock, FakeTransport, Reply, api_error


def client(transport: FakeTransport) -> SendcloudClient:
    return SendcloudClient("pk", "sk", api_url="https://api.example/api/v3", transport=transport)


def test_a_post_goes_through_the_fake_transport_with_auth_and_json():
    transport = FakeTransport()
    log = client(transport).create_log(7, {"base_url": "https://shop.example"})
    assert log["base_url"] == "https://shop.example"
    (request,) = transport.requests
    assert request.url == "https://api.example/api/v3/integrations/7/logs"
    assert request.headers["Authorization"].startswith("Basic ")
    assert transport.bodies() == [{"base_url": "https://shop.example"}]


def test_error_answers_and_exceptions_become_the_clients_errors():
    answers = iter([api_error(404, "not_found"), api_error(429, "throttled", **{"Retry-After": "7"}),
                    requests.ConnectionError("refused"), requests.exceptions.SSLError("untrusted")])
    transport = FakeTransport(lambda request: next(answers))
    c = client(transport)
    with pytest.raises(NotFoundError):
        c.create_log(7, {"base_url": "https://shop.example"})
    with pytest.raises(RateLimitedError) as limited:
        c.create_log(7, {"base_url": "https://shop.example"})
    assert limited.value.retry_after == 7.0
    with pytest.raises(ConnectError) as refused:
        c.create_log(7, {"base_url": "https://shop.example"})
    assert isinstance(refused.value.__cause__, requests.ConnectionError)
    with pytest.raises(TLSError):  # raised as requests' own adapter raises it: an SSLError is a ConnectionError too
        c.create_log(7, {"base_url": "https://shop.example"})
    assert len(transport.requests) == 4


def test_a_body_that_is_not_json_is_read_as_text():
    transport = FakeTransport(lambda request: Reply(500, "<html>down</html>"))
    with pytest.raises(ServerError, match="down"):
        client(transport).create_log(7, {"base_url": "https://shop.example"})


def test_the_fake_clock_moves_only_when_told():
    clock = FakeClock(10.0)
    assert clock() == 10.0
    clock.advance(2.5)
    clock.sleep(0.5)
    assert clock() == 13.0
