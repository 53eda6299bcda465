"""Answers mean what they say: redirects are failures that name api_url, a 2xx without JSON is a success,
a 404 of a wrong route is told from the API's unknown integration, and no answer is read past its bound.

Raw-socket servers on 127.0.0.1 give the answers the Inbox never would.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import tracemalloc
import zlib
from typing import Any

import pytest

from sendcloud_logging import NotFoundError, SendcloudClient, SendcloudHandler, WrongURLError
from sendcloud_logging._http import MAX_ANSWER_BYTES, error_from_response, is_unknown_route
from sendcloud_logging.inbox import Inbox
from tests.conftest import INTEGRATION_ID, PUBLIC_KEY, SECRET_KEY, SHOP
from tests.fakes import FakeTransport, Reply, api_error
from tests.raw_server import RawRequest, RawServer, reply

PAYLOAD = {"base_url": SHOP, "exception": "boom"}


def client_for(api_url: str, **kwargs: Any) -> SendcloudClient:
    return SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=api_url, timeout=(2, 2), **kwargs)


def handler_for(api_url: str, **kwargs: Any) -> SendcloudHandler:
    return SendcloudHandler(
        integration_id=INTEGRATION_ID, public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=api_url, base_url=SHOP,
        timeout=(2, 2), max_retries=1, max_backoff=0.01, summary_window=0, **kwargs,
    )


def log_errors(handler: SendcloudHandler, n: int) -> None:
    log = logging.getLogger(f"tests.answers.{id(handler)}")
    log.propagate = False
    log.addHandler(handler)
    try:
        for i in range(n):
            log.error("boom %d", i)
        assert handler.flush(10)
    finally:
        log.removeHandler(handler)


# --- redirects -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [300, 301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed_and_nothing_counts_as_sent(status: int, capfd: pytest.CaptureFixture[str]) -> None:
    with RawServer(lambda r, c: reply(c, 201, b'{"data": {"id": 1}}', {"Content-Type": "application/json"})) as elsewhere:
        target = f"{elsewhere.url}/api/v3/integrations/{INTEGRATION_ID}/logs"

        def answer(request: RawRequest, conn: socket.socket) -> None:
            if request.method == "GET":  # what a followed 301/302/303 would turn the POST into
                reply(conn, 200, b'{"data": []}', {"Content-Type": "application/json"})
            else:
                reply(conn, status, b"", {"Location": target})

        with RawServer(answer) as wrong:
            handler = handler_for(f"{wrong.url}/api/v3")
            try:
                log_errors(handler, 3)
                stats = handler.stats()
            finally:
                handler.close()
            assert [r.method for r in wrong.requests] == ["POST"] * 3
            assert elsewhere.requests == []  # nothing re-posted to the Location host
    assert stats["sent"] == 0
    assert stats["dropped"] == {"misconfigured": 3}
    err = capfd.readouterr().err
    assert "api_url is wrong" in err and "/api/v3" in err


def test_a_redirect_without_location_is_a_wrong_url_too() -> None:
    transport = FakeTransport(lambda request: Reply(302, "moved"))
    with client_for("https://api.test/api/v3", transport=transport) as client, pytest.raises(WrongURLError) as info:
        client.create_log(1, PAYLOAD)
    assert info.value.status == 302 and "api_url is wrong" in str(info.value)


# --- 2xx without JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (201, b"", {}),
        (204, b"", {}),
        (201, b"created", {"Content-Type": "text/plain"}),
        (201, b"<html>ok</html>", {"Content-Type": "text/html"}),
        (201, b"{not json", {"Content-Type": "application/json"}),
        (201, b"[1, 2]", {"Content-Type": "application/json"}),
        (200, b"null", {"Content-Type": "application/json"}),
        (202, b'"text"', {"Content-Type": "application/json"}),
    ],
)
def test_a_success_without_a_json_object_is_posted_once_and_counted_sent(
    status: int, body: bytes, headers: dict[str, str]
) -> None:
    def answer(request: RawRequest, conn: socket.socket) -> None:
        if status == 204:
            conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        else:
            reply(conn, status, body, headers)

    with RawServer(answer) as server:
        handler = handler_for(f"{server.url}/api/v3")
        try:
            log_errors(handler, 1)
            stats = handler.stats()
        finally:
            handler.close()
        assert len(server.requests) == 1
    assert stats["sent"] == 1 and stats["dropped_total"] == 0 and stats["retried"] == 0


# --- the two 404s ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/api", "/api/v2", "/api/v3/integrations", "/v3", "/api/v3/api/v3"])
def test_a_wrong_api_url_against_the_inbox_is_named_and_never_forgets_the_integration(
    suffix: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY) as inbox:
        root = inbox.api_url[: -len("/api/v3")]
        with client_for(root + suffix) as client, pytest.raises(WrongURLError) as info:
            client.create_log(INTEGRATION_ID, PAYLOAD)
        assert "api_url should end in /api/v3" in str(info.value)
        assert not isinstance(info.value, NotFoundError)

        handler = handler_for(root + suffix)
        try:
            log_errors(handler, 3)
            stats = handler.stats()
        finally:
            handler.close()
        assert stats["dropped"] == {"misconfigured": 3}
        # every log was tried: the integration was not forgotten for the life of the process
        assert len([p for p in inbox.posts if p["status"] == 404]) == 4
    assert "api_url should end in /api/v3" in capfd.readouterr().err


def test_an_unknown_integration_is_still_the_apis_404() -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, integrations=[1]) as inbox:
        with client_for(inbox.api_url) as client, pytest.raises(NotFoundError) as info:
            client.create_log(77, PAYLOAD)
    assert not isinstance(info.value, WrongURLError)


@pytest.mark.parametrize(
    ("url", "reply_", "route_missing"),
    [
        # the API's own answers for an integration it does not know
        ("https://panel.sendcloud.sc/api/v3/integrations/5/logs", api_error(404, "not_found", "Integration not found"),
         False),
        ("https://panel.sendcloud.sc/api/v3/integrations/5/logs", api_error(404, "not_found", "Not found."), False),
        ("http://127.0.0.1:1/api/v3/integrations/5/logs/", api_error(404, "not_found", "No Integration matches"),
         False),
        # a route the API does not have
        ("https://panel.sendcloud.sc/integrations/5/logs", api_error(404, "not_found", "Integration not found"), True),
        ("https://panel.sendcloud.sc/api/v3/integrations/integrations/5/logs", api_error(404), True),
        ("https://panel.sendcloud.sc/api/v3/integrations/5/logs", Reply(404, "<html><h1>Not Found</h1></html>",
                                                                        {"Content-Type": "text/html"}), True),
        ("https://panel.sendcloud.sc/api/v3/integrations/5/logs", Reply(404, {"detail": "Not found."}), True),
        ("https://panel.sendcloud.sc/api/v3/integrations/5/logs", Reply(404, ""), True),
        ("https://panel.sendcloud.sc/api/v3/integrations/5/logs",
         api_error(404, "not_found", "No such resource: POST /x"), True),
        ("https://proxy.example/sendcloud/integrations/5/logs", api_error(404, "not_found", "Page not found"), True),
    ],
)
def test_the_two_404s_are_told_apart_in_one_place(url: str, reply_: Reply, route_missing: bool) -> None:
    transport = FakeTransport(lambda request: reply_)
    client = SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url="https://x.test/api/v3", transport=transport)
    with client:
        response = client._session.get(url)  # the adapter answers: no network
    assert is_unknown_route(response) is route_missing
    error = error_from_response(response)
    assert isinstance(error, WrongURLError) is route_missing
    assert isinstance(error, NotFoundError) is not route_missing


def test_a_404_of_the_token_endpoint_names_token_url_and_forgets_no_integration() -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY) as inbox:
        client = SendcloudClient(
            client_id="c", client_secret="s", api_url=inbox.api_url, token_url=inbox.token_url + "/nope",
            timeout=(2, 2),
        )
        with client, pytest.raises(WrongURLError) as info:
            client.create_log(INTEGRATION_ID, PAYLOAD)
    assert info.value.status == 404 and "token_url is wrong" in str(info.value)


# --- answers read to a bound -----------------------------------------------------------------------------

HUGE = 100 * 1024 * 1024


def huge_answer(status: int, sent: list[int], done: threading.Event) -> Any:
    def answer(request: RawRequest, conn: socket.socket) -> None:
        head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {HUGE}\r\n\r\n"
        conn.sendall(head.encode())
        block = b"x" * 65536
        try:
            while sent[0] < HUGE:
                conn.sendall(block)
                sent[0] += len(block)
        except OSError:
            pass
        finally:
            done.set()

    return answer


@pytest.mark.parametrize("status", [201, 400, 500, 404])
def test_a_100_mb_answer_is_read_only_to_its_bound(status: int) -> None:
    sent, done = [0], threading.Event()
    with RawServer(huge_answer(status, sent, done)) as server:
        tracemalloc.start()
        try:
            with client_for(f"{server.url}/api/v3") as client:
                try:
                    client.create_log(1, PAYLOAD)
                except Exception as exc:  # an error status: what matters is memory
                    assert len(str(exc)) < 2000
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert done.wait(10), "the client never closed the connection"
    assert peak < 4 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    assert sent[0] < 30 * 1024 * 1024, f"{sent[0] / 2**20:.0f} MiB went out before the client closed"


def test_a_created_log_echo_over_the_bound_is_still_a_success() -> None:
    body = json.dumps({"data": {"id": 1, "exception": "x" * (2 * MAX_ANSWER_BYTES)}}).encode()
    with RawServer(lambda r, c: reply(c, 201, body, {"Content-Type": "application/json"})) as server:
        with client_for(f"{server.url}/api/v3") as client:
            assert client.create_log(1, PAYLOAD) == {}


def test_an_answer_within_its_bound_keeps_the_connection() -> None:
    with RawServer(lambda r, c: reply(c, 201, b'{"data": {"id": 3}}', {"Content-Type": "application/json"})) as server:
        with client_for(f"{server.url}/api/v3") as client:
            for _ in range(3):
                assert client.create_log(1, PAYLOAD) == {"id": 3}
        assert server.connections == 1  # keep-alive: the body was read to its end


def test_a_gzip_bomb_answer_is_cut_after_decompression_too() -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing, 100 MiB in about 100 KB
    block = b"x" * (1024 * 1024)
    bomb = b"".join(packer.compress(block) for _ in range(100)) + packer.flush()
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    with RawServer(lambda r, c: reply(c, 201, bomb, headers)) as server:
        tracemalloc.start()
        try:
            with client_for(f"{server.url}/api/v3") as client:
                assert client.create_log(1, PAYLOAD) == {}
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
