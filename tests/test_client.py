"""SendcloudClient against the real local Inbox: success, error mapping, paging, keep-alive."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from sendcloud_logging import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    MissingCredentialsError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    SendcloudClient,
    SendcloudHandler,
    ServerError,
    TLSError,
    ValidationError,
    WrongURLError,
)
from sendcloud_logging.client import USER_AGENT, check_api_url, normalise_timeout
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.shop import Shop

from .conftest import PUBLIC_KEY, SECRET_KEY, assert_valid_body
from .fakes import FakeTransport, Reply


@pytest.fixture
def client(inbox: Inbox) -> Iterator[SendcloudClient]:
    with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=inbox.api_url, timeout=5) as c:
        yield c


def test_create_log_returns_the_created_log(client: SendcloudClient, inbox: Inbox) -> None:
    payload = {"base_url": "https://shop.example", "method": "GET", "response_code": 404}
    created = client.create_log(7, payload)
    assert created["id"] >= 1
    assert created["integration_id"] == 7
    assert created["base_url"] == "https://shop.example"
    assert created["response_code"] == 404
    assert inbox.logs(7)[0]["id"] == created["id"]


def test_user_agent_and_keep_alive(client: SendcloudClient, inbox: Inbox) -> None:
    for i in range(10):
        client.create_log(1, {"base_url": f"https://shop{i}.example"})
    assert inbox.connections == 1
    assert client._session.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("sendcloud-logging/")


def test_wrong_credentials_raise_authentication_error(inbox: Inbox) -> None:
    with SendcloudClient(PUBLIC_KEY, "wrong", api_url=inbox.api_url) as bad:
        with pytest.raises(AuthenticationError) as info:
            bad.create_log(1, {"base_url": "https://shop.example"})
    assert info.value.status == 401
    assert info.value.code == "authentication_failed"
    assert "wrong" not in str(info.value)
    assert SECRET_KEY not in repr(bad)
    assert PUBLIC_KEY not in repr(bad)


@pytest.mark.invalid_posts
def test_unknown_field_raises_validation_error_with_pointer(client: SendcloudClient) -> None:
    with pytest.raises(ValidationError) as info:
        client.create_log(1, {"base_url": "https://shop.example", "user_id": 5})
    assert info.value.status == 400
    assert info.value.code == "extra_forbidden"
    assert "body/user_id" in (info.value.detail or "")


def test_unknown_integration_raises_not_found() -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, integrations=[1]) as inbox, SendcloudClient(
        PUBLIC_KEY, SECRET_KEY, api_url=inbox.api_url
    ) as client:
        with pytest.raises(NotFoundError) as info:
            client.create_log(2, {"base_url": "https://shop.example"})
        assert info.value.status == 404
        client.create_log(1, {"base_url": "https://shop.example"})


@pytest.mark.parametrize("retry_after,expected", [("3", 3.0), (None, None)])
def test_rate_limited_carries_retry_after(
    client: SendcloudClient, inbox: Inbox, retry_after: str | None, expected: float | None
) -> None:
    inbox.fail_next(1, 429, retry_after=retry_after)
    with pytest.raises(RateLimitedError) as info:
        client.create_log(1, {"base_url": "https://shop.example"})
    assert info.value.status == 429
    assert info.value.retry_after == expected


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors(client: SendcloudClient, inbox: Inbox, status: int) -> None:
    inbox.fail_next(1, status)
    with pytest.raises(ServerError) as info:
        client.create_log(1, {"base_url": "https://shop.example"})
    assert info.value.status == status
    assert isinstance(info.value, APIError)


def test_timeout_is_a_request_timeout_error(inbox: Inbox) -> None:
    inbox.latency = 1.0
    with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=inbox.api_url, timeout=(1, 0.2)) as client:
        with pytest.raises(RequestTimeoutError) as info:
            client.create_log(1, {"base_url": "https://shop.example"})
    assert isinstance(info.value.__cause__, requests.Timeout)


def test_connection_closed_mid_answer_is_a_connect_error(client: SendcloudClient, inbox: Inbox) -> None:
    inbox.drop_next(1)
    with pytest.raises(ConnectError) as info:
        client.create_log(1, {"base_url": "https://shop.example"})
    assert f"the connection to {inbox.host}:{inbox.port} broke before the answer" in str(info.value)
    client.create_log(1, {"base_url": "https://shop.example"})  # the session recovers


def test_iter_logs_follows_link_pages(client: SendcloudClient, inbox: Inbox) -> None:
    ids = {client.create_log(3, {"base_url": f"https://s{i}.example"})["id"] for i in range(23)}
    client.create_log(4, {"base_url": "https://other.example"})
    seen = [log["id"] for log in client.iter_logs(3, page_size=5)]
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))
    assert len(list(client.iter_logs(page_size=100))) == 24
    gets = [p for p in inbox.posts]  # posts only: GETs are not recorded as posts
    assert len(gets) == 24


def test_iter_logs_of_unknown_integration() -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, integrations=[1]) as inbox, SendcloudClient(
        PUBLIC_KEY, SECRET_KEY, api_url=inbox.api_url
    ) as client, pytest.raises(NotFoundError):
        list(client.iter_logs(9))


def test_created_bodies_are_valid(client: SendcloudClient, inbox: Inbox) -> None:
    client.create_log(1, {"base_url": "https://shop.example", "request": {"headers": {"A": "b"}, "payload": "x"}})
    assert_valid_body(inbox.posts[-1]["body"])


@pytest.mark.parametrize(
    "url",
    ["http://panel.sendcloud.sc/api/v3", "ftp://x/api", "", "panel.sendcloud.sc/api/v3"],
)
def test_api_url_must_be_https_unless_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        check_api_url(url)
    assert info.value.key == "api_url"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "url", ["https://pk:sk-in-url@panel.sendcloud.sc/api/v3", "http://pk@127.0.0.1:8025/api/v3", "https://x:99999999/"]
)
def test_api_url_with_credentials_or_garbage_is_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        check_api_url(url)
    assert "sk-in-url" not in str(info.value)
    assert "pk" not in str(info.value).replace("api_url", "")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8025/api/v3", "http://localhost/api/v3/", "http://[::1]:80/api/v3"]
)
def test_loopback_http_is_allowed(url: str) -> None:
    assert check_api_url(url) == url.rstrip("/")


def test_insecure_http_can_be_allowed_explicitly() -> None:
    assert check_api_url("http://sendcloud.internal/api/v3", allow_insecure_http=True)


@pytest.mark.parametrize("word", ["false", "0", "no", "off", "False", " OFF ", 0])
def test_insecure_http_said_false_in_any_words_is_false(word: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        SendcloudClient("a", "b", "http://sendcloud.internal/api/v3", allow_insecure_http=word)  # type: ignore[arg-type]
    assert info.value.key == "api_url"


@pytest.mark.parametrize("falsy", [False, 0, "", [], 0.0, None, "0", "false", "off"])
def test_verification_cannot_be_turned_off(falsy: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        SendcloudClient("a", "b", verify=falsy)  # type: ignore[arg-type]  # what a config file may hand over
    assert info.value.key == "verify"


def test_timeouts_normalise() -> None:
    assert normalise_timeout(4) == (4.0, 4.0)
    assert normalise_timeout((1, 2)) == (1.0, 2.0)
    for bad in (0, -1, (1,), "x", (0, 1)):
        with pytest.raises(ConfigurationError):
            normalise_timeout(bad)  # type: ignore[arg-type]


def test_proxy_variables_are_read_once_when_the_client_is_made(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Inbox plays the proxy: requests sends it the absolute URL of a host that does not exist.
    monkeypatch.setenv("HTTP_PROXY", f"http://{inbox.host}:{inbox.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = SendcloudClient(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url="http://panel.invalid/api/v3",
                             allow_insecure_http=True)
    monkeypatch.delenv("HTTP_PROXY")  # read at construction: later changes do not matter
    assert client.create_log(1, {"base_url": "https://shop.example"})["integration_id"] == 1
    assert inbox.count(1) == 1


def test_a_credentials_callable_without_keys_sends_nothing() -> None:
    def keys(integration_id: object) -> tuple[str, str] | None:
        if integration_id == 1:
            raise LookupError("no merchant 1")
        return None

    transport = FakeTransport()
    with SendcloudClient(credentials=keys, api_url="https://api.example/api/v3", transport=transport) as client:
        for integration_id, why in ((1, "raised LookupError"), (2, "gave no (public_key, secret_key) pair")):
            with pytest.raises(MissingCredentialsError) as info:
                client.create_log(integration_id, {"base_url": "https://shop.example"})
            assert isinstance(info.value, AuthenticationError)  # caught as before
            assert (info.value.status, info.value.code) == (401, "no_credentials")
            assert why in str(info.value) and "HTTP 401" not in str(info.value)  # no server said 401
    assert transport.requests == []


class Answering:
    """A real HTTP server on 127.0.0.1 that answers every request with ``status``, ``headers`` and ``body``."""

    def __init__(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        self.seen: list[tuple[str, str, str | None]] = []  # method, path, Authorization
        answering = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answering.seen.append((self.command, self.path, self.headers.get("Authorization")))
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Answering:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def test_a_refused_port_is_a_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound and never listening: connections are refused, nobody can take the port
        port = sock.getsockname()[1]
        with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=f"http://127.0.0.1:{port}/api/v3") as client:
            with pytest.raises(ConnectError) as info:
                client.create_log(1, {"base_url": "https://shop.example"})
    assert str(info.value) == (
        f"cannot connect to 127.0.0.1:{port}: Connection refused (POST http://127.0.0.1:{port}/api/v3/integrations/1/logs)"
    )
    assert isinstance(info.value.__cause__, requests.ConnectionError)
    assert SECRET_KEY not in str(info.value)


def test_a_server_that_never_answers_is_a_read_timeout() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)  # the kernel completes the handshake; nobody ever reads or answers
        port = sock.getsockname()[1]
        with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=f"http://127.0.0.1:{port}/api/v3", timeout=(1, 0.2)) as c:
            with pytest.raises(RequestTimeoutError) as info:
                c.create_log(1, {"base_url": "https://shop.example"})
    assert str(info.value).startswith(f"127.0.0.1:{port} did not answer within 0.2 s, the read timeout (POST ")
    assert isinstance(info.value.__cause__, requests.exceptions.ReadTimeout)


def test_a_self_signed_certificate_is_a_tls_error(shop: Shop) -> None:
    with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=f"{shop.https_url}/api/v3") as client:
        with pytest.raises(TLSError) as info:
            client.create_log(1, {"base_url": "https://shop.example"})
    assert "is not trusted: self-signed certificate" in str(info.value)
    assert "pass verify= a CA bundle" in str(info.value)
    assert isinstance(info.value.__cause__, requests.exceptions.SSLError)


def test_a_created_answer_without_a_body_counts_as_sent() -> None:
    with Answering(201) as api:
        api_url = f"http://127.0.0.1:{api.port}/api/v3"
        with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=api_url) as client:
            assert client.create_log(1, {"base_url": "https://shop.example"}) == {}
        handler = SendcloudHandler(integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=api_url,
                                   base_url="https://shop.example", summary_window=0)
        log = logging.getLogger("tests.client.created_without_body")
        log.propagate = False
        log.addHandler(handler)
        log.error("Could not post the order note")
        assert handler.flush(5)
        stats = handler.stats()
        handler.close()
    assert (stats["sent"], stats["retried"], stats["dropped_total"]) == (1, 0, 0)
    assert [method for method, _, _ in api.seen] == ["POST", "POST"]  # once each: not retried


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_host_is_not_followed(status: int) -> None:
    with Answering(200, body=b"{}") as other:
        location = f"http://localhost:{other.port}/api/v3/integrations/1/logs?cursor=c"
        with Answering(status, {"Location": location}) as api:
            with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=f"http://127.0.0.1:{api.port}/api/v3") as client:
                with pytest.raises(APIError) as info:
                    client.create_log(1, {"base_url": "https://shop.example"})
            # What requests would do on its own: the POST goes on (307/308) or turns into a GET that
            # "succeeds" without creating anything (301/302), only the Authorization header is stripped.
            requests.post(location.replace(f"localhost:{other.port}", f"127.0.0.1:{api.port}"), data=b"{}",
                          auth=(PUBLIC_KEY, SECRET_KEY), timeout=2).raise_for_status()
    assert info.value.status == status
    assert f"redirected to http://localhost:{other.port}/api/v3/integrations/1/logs;" in str(info.value)
    assert "cursor" not in str(info.value)
    assert [(method, auth is not None) for method, _, auth in api.seen] == [("POST", True), ("POST", True)]
    assert other.seen == [("POST" if status in (307, 308) else "GET", "/api/v3/integrations/1/logs?cursor=c", None)]


@pytest.mark.parametrize(
    "following",
    [
        "http://api.example/api/v3/integrations/logs?cursor=2",  # https -> http
        "https://api.example:8443/api/v3/integrations/logs?cursor=2",  # another port
        "https://elsewhere.example/api/v3/integrations/logs?cursor=2",  # another host
        "//elsewhere.example/api/v3/integrations/logs?cursor=2",  # another host, relative to the scheme
    ],
)
def test_a_next_page_elsewhere_is_not_followed_with_the_keys(following: str) -> None:
    def page(request: requests.PreparedRequest) -> Reply:
        link = {"Content-Type": "application/json", "Link": f'<{following}>; rel="next"'}
        return Reply(200, {"data": [{"id": 1}]}, link)

    transport = FakeTransport(page)
    with SendcloudClient("pk", "sk", "https://api.example/api/v3", transport=transport) as client:
        pages = client.iter_pages(page_size=1)
        assert next(pages) == [{"id": 1}]
        with pytest.raises(WrongURLError) as info:
            next(pages)
    assert info.value.code == "foreign_next_page"
    assert [r.url for r in transport.requests] == ["https://api.example/api/v3/integrations/logs?page_size=1"]


def test_a_next_page_at_the_same_origin_is_followed() -> None:
    same = "https://API.example:443/api/v3/integrations/logs?c=1"  # the same origin, spelled otherwise
    answers = iter(
        [
            Reply(200, {"data": [{"id": 2}]}, {"Link": f"<{same}>; rel=next"}),
            Reply(200, {"data": [{"id": 1}]}),
        ]
    )
    transport = FakeTransport(lambda request: next(answers))
    with SendcloudClient("pk", "sk", "https://api.example/api/v3", transport=transport) as client:
        assert [log["id"] for log in client.iter_logs(page_size=1)] == [2, 1]
