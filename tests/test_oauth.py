"""OAuth2 client credentials end to end: the handler and client against the Inbox's real token endpoint."""

from __future__ import annotations

import logging
import logging.config
import socket
from collections.abc import Iterator
from typing import Any, Callable

import pytest
import requests

from sendcloud_logging import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    RequestTimeoutError,
    SendcloudClient,
    SendcloudError,
    SendcloudHandler,
    ServerError,
    TLSError,
    TransportError,
    WrongURLError,
)
from sendcloud_logging.auth import ClientCredentials
from sendcloud_logging.inbox import Inbox

from .conftest import INTEGRATION_ID
from .fakes import FakeClock, FakeTransport, Reply, created

CLIENT_ID = "client-oauth-test-2c41"
CLIENT_SECRET = "client-secret-oauth-test-9f3e"  # must never appear in output, reprs or messages
PAYLOAD = {"base_url": "https://shop.example", "exception": "Could not post the order note"}


@pytest.fixture(autouse=True)
def _no_oauth_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SENDCLOUD_CLIENT_ID", "SENDCLOUD_CLIENT_SECRET", "SENDCLOUD_TOKEN_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def oauth_inbox() -> Iterator[Inbox]:
    """An Inbox whose only way in for the handler is the client credentials grant."""
    with Inbox(public_key="basic-not-used", secret_key="basic-not-used-secret", client_id=CLIENT_ID,
               client_secret=CLIENT_SECRET) as server:
        yield server


def oauth_client(inbox: Inbox, **kwargs: Any) -> SendcloudClient:
    return SendcloudClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_url=inbox.token_url, api_url=inbox.api_url, **kwargs
    )


def oauth_handler(inbox: Inbox, **kwargs: Any) -> SendcloudHandler:
    options: dict[str, Any] = {
        "integration_id": INTEGRATION_ID,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "token_url": inbox.token_url,
        "api_url": inbox.api_url,
        "base_url": "https://shop.example",
        "summary_window": 0,
    }
    options.update(kwargs)
    return SendcloudHandler(**options)


def post_statuses(inbox: Inbox) -> list[int]:
    return [post["status"] for post in inbox.posts]


def test_handler_fetches_one_token_and_reuses_it(oauth_inbox: Inbox) -> None:
    handler = oauth_handler(oauth_inbox)
    log = logging.getLogger("tests.oauth.reuse")
    log.addHandler(handler)
    try:
        for n in range(3):
            log.error("Could not sync order %s", n)
        assert handler.flush(10)
    finally:
        handler.close()
    assert [got["exception"] for got in oauth_inbox.logs()] == [f"Could not sync order {n}" for n in range(3)]
    assert oauth_inbox.tokens_issued == 1
    assert post_statuses(oauth_inbox) == [201, 201, 201]


def test_token_is_renewed_before_it_expires(oauth_inbox: Inbox) -> None:
    now = [1000.0]
    auth = ClientCredentials(CLIENT_ID, CLIENT_SECRET, oauth_inbox.token_url, clock=lambda: now[0])
    first = auth.token()
    now[0] += 3600 - 61  # more than a minute left: kept
    assert auth.token() == first
    now[0] += 2  # less than a minute left: renewed, while the Inbox would still take the old one
    second = auth.token()
    assert second != first
    assert (auth.fetched, oauth_inbox.tokens_issued) == (2, 2)
    for token in (first, second):
        answer = requests.get(
            f"{oauth_inbox.api_url}/integrations/logs", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert answer.status_code == 200


def test_an_expired_token_is_replaced_without_a_401() -> None:
    clock = FakeClock()  # one clock for the Inbox's token lifetimes and the client's renewal
    with Inbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_lifetime=1, clock=clock) as inbox:
        session = requests.Session()
        auth = ClientCredentials(CLIENT_ID, CLIENT_SECRET, inbox.token_url, session=session, clock=clock)
        session.auth = auth
        with session, SendcloudClient(api_url=inbox.api_url, session=session) as client:
            client.create_log(INTEGRATION_ID, PAYLOAD)
            first = auth.token()
            clock.advance(1.1)  # the token's lifetime passes
            bearer = {"Authorization": f"Bearer {first}"}
            assert requests.get(f"{inbox.api_url}/integrations/logs", headers=bearer, timeout=5).status_code == 401
            client.create_log(INTEGRATION_ID, PAYLOAD)
        assert inbox.tokens_issued == 2
        assert post_statuses(inbox) == [201, 201]  # renewed ahead of time: the API never saw an expired token


def test_a_revoked_token_costs_one_401_and_one_renewal(oauth_inbox: Inbox) -> None:
    handler = oauth_handler(oauth_inbox)
    log = logging.getLogger("tests.oauth.revoked")
    log.addHandler(handler)
    try:
        log.error("first")
        assert handler.flush(10)
        assert oauth_inbox.revoke_tokens() == 1
        log.error("second")
        assert handler.flush(10)
        assert handler.stats()["sent"] == 2
        assert handler.stats()["dropped_total"] == 0
    finally:
        handler.close()
    assert [got["exception"] for got in oauth_inbox.logs()] == ["first", "second"]
    assert post_statuses(oauth_inbox) == [201, 401, 201]
    assert oauth_inbox.tokens_issued == 2


def test_a_second_401_is_final(oauth_inbox: Inbox) -> None:
    oauth_inbox.token_lifetime = 0  # every token is expired as soon as it is issued
    with oauth_client(oauth_inbox) as client, pytest.raises(AuthenticationError) as refused:
        client.create_log(INTEGRATION_ID, PAYLOAD)
    assert refused.value.status == 401
    assert post_statuses(oauth_inbox) == [401, 401]
    assert oauth_inbox.tokens_issued == 2  # the first token, and exactly one renewal


def test_wrong_client_secret_is_an_authentication_error_without_the_secret(
    oauth_inbox: Inbox, capfd: pytest.CaptureFixture[str]
) -> None:
    wrong = "client-secret-wrong-5d0a"
    with SendcloudClient(
        client_id=CLIENT_ID, client_secret=wrong, token_url=oauth_inbox.token_url, api_url=oauth_inbox.api_url
    ) as client, pytest.raises(AuthenticationError) as refused:
        client.create_log(INTEGRATION_ID, PAYLOAD)
    assert (refused.value.status, refused.value.code) == (401, "invalid_client")
    assert wrong not in str(refused.value)
    handler = oauth_handler(oauth_inbox, client_secret=wrong)
    log = logging.getLogger("tests.oauth.wrong")
    log.addHandler(handler)
    try:
        log.error("refused")
        assert handler.flush(10)
        assert handler.stats()["dropped"] == {"unauthorized": 1}
    finally:
        handler.close()
    assert oauth_inbox.posts == []
    out, err = capfd.readouterr()
    assert "invalid_client" in err
    assert wrong not in out + err
    assert CLIENT_SECRET not in out + err


def test_environment_variables_choose_oauth(oauth_inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENDCLOUD_INTEGRATION_ID", "31")
    monkeypatch.setenv("SENDCLOUD_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SENDCLOUD_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SENDCLOUD_TOKEN_URL", oauth_inbox.token_url)
    monkeypatch.setenv("SENDCLOUD_API_URL", oauth_inbox.api_url)
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "ignored-when-oauth-is-configured")
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"sendcloud": {"class": "sendcloud_logging.SendcloudHandler", "base_url": "https://shop.example"}},
            "loggers": {"tests.oauth.env": {"handlers": ["sendcloud"], "level": "ERROR", "propagate": False}},
        }
    )
    handler = logging.getLogger("tests.oauth.env").handlers[0]
    assert isinstance(handler, SendcloudHandler)
    logging.getLogger("tests.oauth.env").error("from the environment")
    assert handler.flush(10)
    assert [(got["integration_id"], got["exception"]) for got in oauth_inbox.logs()] == [(31, "from the environment")]
    assert oauth_inbox.tokens_issued == 1
    assert CLIENT_SECRET not in repr(handler) + repr(handler._settings)


def test_nothing_secret_in_reprs(oauth_inbox: Inbox) -> None:
    with oauth_client(oauth_inbox) as client:
        client.create_log(INTEGRATION_ID, PAYLOAD)
        assert client.oauth is not None
        token = client.oauth.token()
        text = repr(client) + repr(client.oauth)
    assert CLIENT_SECRET not in text
    assert CLIENT_ID not in text
    assert token not in text


# the Inbox's token endpoint ------------------------------------------------------------------------------


def token_request(inbox: Inbox, data: dict[str, str], auth: Any = (CLIENT_ID, CLIENT_SECRET)) -> requests.Response:
    return requests.post(inbox.token_url, data=data, auth=auth, timeout=5)


def test_token_endpoint_answers_as_rfc_6749(oauth_inbox: Inbox) -> None:
    ok = token_request(oauth_inbox, {"grant_type": "client_credentials", "scope": "api"})
    assert ok.status_code == 200
    body = ok.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "api"
    assert ok.headers["Cache-Control"] == "no-store"
    in_body = token_request(
        oauth_inbox,
        {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        auth=None,
    )
    assert in_body.status_code == 200
    cases: list[tuple[dict[str, str], Any, int, str]] = [
        ({"grant_type": "password"}, (CLIENT_ID, CLIENT_SECRET), 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "admin"}, (CLIENT_ID, CLIENT_SECRET), 400, "invalid_scope"),
        ({}, (CLIENT_ID, CLIENT_SECRET), 400, "invalid_request"),
        ({"grant_type": "client_credentials"}, (CLIENT_ID, "nope"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
    ]
    for data, auth, status, error in cases:
        answer = token_request(oauth_inbox, data, auth=auth)
        assert (answer.status_code, answer.json()["error"]) == (status, error), data
    assert requests.get(oauth_inbox.token_url, timeout=5).status_code == 405
    assert oauth_inbox.tokens_issued == 2
    assert oauth_inbox.posts == []  # token requests are not log POSTs


def test_bearer_tokens_open_the_api_until_revoked(oauth_inbox: Inbox) -> None:
    token = token_request(oauth_inbox, {"grant_type": "client_credentials"}).json()["access_token"]
    url = f"{oauth_inbox.api_url}/integrations/{INTEGRATION_ID}/logs"
    bearer: Callable[[str], dict[str, str]] = lambda value: {"Authorization": f"Bearer {value}"}  # noqa: E731
    assert requests.post(url, json=PAYLOAD, headers=bearer(token), timeout=5).status_code == 201
    assert requests.get(url, headers=bearer("made-up-token"), timeout=5).status_code == 401
    oauth_inbox.revoke_tokens()
    assert requests.get(url, headers=bearer(token), timeout=5).status_code == 401
    assert requests.get(url, auth=("basic-not-used", "basic-not-used-secret"), timeout=5).status_code == 200


def test_an_inbox_without_a_token_endpoint() -> None:
    with Inbox(client_id=None, client_secret=None) as inbox:
        with pytest.raises(RuntimeError):
            inbox.token_url  # noqa: B018
        assert requests.post(f"{inbox.api_url[:-len('/api/v3')]}/oauth2/token", timeout=5).status_code == 404
    with pytest.raises(ValueError, match="client_id"):
        Inbox(client_id="only-the-id", client_secret=None)


# the token request's errors, on the fake transport --------------------------------------------------------

FAKE_API = "https://api.example/api/v3"
FAKE_TOKEN_URL = "https://account.example/oauth2/token"


def fake_oauth_client(token_answer: Any) -> tuple[SendcloudClient, FakeTransport]:
    """A client whose token request gets ``token_answer`` (a Reply or an exception); the API creates logs."""

    def answer(request: requests.PreparedRequest) -> Any:
        return token_answer if request.url == FAKE_TOKEN_URL else created(request)

    transport = FakeTransport(answer)
    client = SendcloudClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_url=FAKE_API,
                             token_url=FAKE_TOKEN_URL, transport=transport)
    return client, transport


@pytest.mark.parametrize(
    ("reply", "cls", "code", "detail"),
    [
        (Reply(401, {"error": "invalid_client", "error_description": "Unknown client"}), AuthenticationError,
         "invalid_client", "Unknown client"),
        (Reply(400, {"error": "invalid_scope"}), AuthenticationError, "invalid_scope", "Fake"),
        (Reply(403, {"errors": [{"code": "forbidden", "detail": "Not for you"}]}), AuthenticationError, "forbidden",
         "Not for you"),
        (Reply(503, "<html>maintenance</html>", {"Retry-After": "30"}), ServerError, None, "<html>maintenance</html>"),
        (Reply(302, None, {"Location": "https://login.example/?next=x"}), WrongURLError, None,
         "redirected to https://login.example/; not followed: token_url is wrong"),
    ],
)
def test_token_endpoint_errors_are_read_like_the_apis(reply: Reply, cls: type[APIError], code: str | None,
                                                      detail: str) -> None:
    client, transport = fake_oauth_client(reply)
    with client, pytest.raises(APIError) as refused:
        client.create_log(INTEGRATION_ID, PAYLOAD)
    error = refused.value
    assert type(error) is cls
    assert (error.status, error.code, error.detail) == (reply.status, code, detail)
    assert (error.method, error.url) == ("POST", FAKE_TOKEN_URL)
    assert str(error).endswith(f"(POST {FAKE_TOKEN_URL})")
    assert error.retry_after == (30.0 if reply.status == 503 else None)
    assert CLIENT_SECRET not in str(error)
    assert [request.url for request in transport.requests] == [FAKE_TOKEN_URL]  # no API request without a token


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (requests.ConnectionError("refused"), ConnectError),
        (requests.exceptions.ReadTimeout("slow"), RequestTimeoutError),
        (requests.exceptions.SSLError("untrusted"), TLSError),
        (requests.exceptions.InvalidURL("bad"), ConfigurationError),
    ],
)
def test_token_request_failures_use_the_same_map(exc: BaseException, cls: type[SendcloudError]) -> None:
    client, _ = fake_oauth_client(exc)
    with client, pytest.raises(SendcloudError) as failed:
        client.create_log(INTEGRATION_ID, PAYLOAD)
    assert type(failed.value) is cls
    assert failed.value.__cause__ is exc
    assert str(failed.value).endswith(f"(POST {FAKE_TOKEN_URL})")
    if cls is ConfigurationError:
        assert getattr(failed.value, "key", None) == "token_url"


@pytest.mark.parametrize("token", ["line\nbreak", "with space", "", "t\u00e9", 42])
def test_a_token_that_cannot_go_in_a_header_is_not_used(token: Any) -> None:
    client, transport = fake_oauth_client(Reply(200, {"access_token": token, "token_type": "Bearer"}))
    with client, pytest.raises(TransportError, match="without a usable bearer access_token") as failed:
        client.create_log(INTEGRATION_ID, PAYLOAD)
    assert (failed.value.method, failed.value.url) == ("POST", FAKE_TOKEN_URL)
    assert len(transport.requests) == 1


def test_a_refused_token_endpoint_names_it(oauth_inbox: Inbox) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # never listening: refused
        port = sock.getsockname()[1]
        token_url = f"http://127.0.0.1:{port}/oauth2/token"
        with SendcloudClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_url=token_url,
                             api_url=oauth_inbox.api_url) as client, pytest.raises(ConnectError) as failed:
            client.create_log(INTEGRATION_ID, PAYLOAD)
    assert str(failed.value).startswith(f"cannot connect to 127.0.0.1:{port}: Connection refused")
    assert failed.value.url == token_url
    assert oauth_inbox.posts == []
