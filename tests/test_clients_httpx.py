"""httpx through the handler: real failing calls against the local Shop, logs read back from a real Inbox."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx

from sendcloud_logging import payload_from_record
from sendcloud_logging._capture import STREAMED_REQUEST, UNREAD_RESPONSE, snapshot_record
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.shop import Shop

from .conftest import AppLogger, logged


class OrderSyncError(Exception):
    """An application error raised from an httpx error: the chain still carries the request and response."""


def test_tls_failure_is_a_connect_error_with_the_request(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    def call(log: logging.Logger) -> None:
        with httpx.Client(timeout=5) as client:
            try:
                client.get(f"{shop.https_url}/ok", headers={"X-Order": "7"})
            except httpx.RequestError:
                log.exception("Shop certificate rejected")

    (got,) = logged(app_logger, inbox, call)
    assert got["exception_type"] == "httpx.ConnectError"
    assert got["full_url"] == f"{shop.https_url}/ok"
    assert got["method"] == "GET"
    assert got["request"]["headers"]["X-Order"] == "7"
    assert "CERTIFICATE_VERIFY_FAILED" in got["exception"]
    assert got["response_code"] is None


def test_refused_connection_and_read_timeout(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    def call(log: logging.Logger) -> None:
        with httpx.Client() as client:
            for url, timeout in ((f"{shop.refused_url}/ok", 2.0), (f"{shop.http_url}/stall", 0.3)):
                try:
                    client.get(url, timeout=timeout)
                except httpx.TransportError:
                    log.exception("Shop unreachable at %s", url)

    logs = logged(app_logger, inbox, call, n=2)
    assert [got["exception_type"] for got in logs] == ["httpx.ConnectError", "httpx.ReadTimeout"]
    assert [got["full_url"] for got in logs] == [f"{shop.refused_url}/ok", f"{shop.http_url}/stall"]


def test_status_error_carries_request_and_html_response(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    def call(log: logging.Logger) -> None:
        with httpx.Client(timeout=5) as client:
            try:
                client.get(f"{shop.http_url}/api/orders/404", headers={"Accept": "text/html"}).raise_for_status()
            except httpx.HTTPStatusError:
                log.exception("Could not fetch order %s", 404)

    (got,) = logged(app_logger, inbox, call)
    assert got["exception_type"] == "httpx.HTTPStatusError"
    assert got["response_code"] == 404
    assert got["method"] == "GET"
    assert got["full_url"] == f"{shop.http_url}/api/orders/404"
    assert got["response"]["body"].startswith("<!DOCTYPE html>")
    assert got["response"]["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert got["request"]["headers"]["Accept"] == "text/html"
    assert got["exception"].startswith("Could not fetch order 404: Client error '404 Not Found'")


def test_response_in_extra_gives_json_request_and_response(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    def call(log: logging.Logger) -> None:
        with httpx.Client(timeout=5) as client:
            response = client.post(f"{shop.http_url}/api/orders/7/notes", json={"order_note": {"note": "Shipped"}})
            log.error("The shop refused the note", extra={"response": response})

    (got,) = logged(app_logger, inbox, call)
    assert got["response_code"] == 422
    assert got["method"] == "POST"
    assert got["request"]["payload"] == {"order_note": {"note": "Shipped"}}
    assert got["response"]["body"] == {"errors": {"order": ["is already fulfilled; notes can no longer be added"]}}
    assert got["exception_type"] is None


def test_application_error_raised_from_httpx_error(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    def call(log: logging.Logger) -> None:
        try:
            try:
                httpx.get(f"{shop.http_url}/api/orders/404", timeout=5).raise_for_status()
            except httpx.HTTPStatusError as exc:
                raise OrderSyncError("order 404 could not be synchronised") from exc
        except OrderSyncError:
            log.exception("Sync failed")

    (got,) = logged(app_logger, inbox, call)
    assert got["exception_type"] == f"{__name__}.OrderSyncError"
    assert got["response_code"] == 404
    assert got["full_url"] == f"{shop.http_url}/api/orders/404"


def test_async_client_errors_are_the_same(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    import asyncio

    async def fetch(log: logging.Logger) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            try:
                (await client.get(f"{shop.http_url}/api/orders/401")).raise_for_status()
            except httpx.HTTPStatusError:
                log.exception("The shop token expired")

    (got,) = logged(app_logger, inbox, lambda log: asyncio.run(fetch(log)))
    assert got["exception_type"] == "httpx.HTTPStatusError"
    assert got["response_code"] == 401
    assert got["response"]["body"] == {"error": "invalid_token"}


def test_the_snapshot_copies_headers_and_leaves_streams_unread(shop: Shop) -> None:
    request = httpx.Request("PUT", f"{shop.http_url}/ok", headers={"X-A": "1"}, content=b"stock=3")
    with httpx.Client(timeout=5) as client, client.stream("GET", f"{shop.http_url}/ok") as streamed:
        record = logging.makeLogRecord({"msg": "x", "request": request, "response": streamed})
        before = [dict(vars(obj)) for obj in (request, request.headers, streamed, streamed.headers)]
        snap = snapshot_record(record)
        assert [dict(vars(obj)) for obj in (request, request.headers, streamed, streamed.headers)] == before
        request.headers["X-Later"] = "2"  # after the snapshot: must not be in it
        assert streamed.read() == b'{"ok": true, "method": "GET"}'  # the snapshot did not consume the stream
    assert snap.request is not None and snap.response is not None
    assert snap.request.headers == {"Host": shop.http_url.split("//")[1], "X-A": "1", "Content-Length": "7"}
    assert snap.request.body == b"stock=3"
    assert snap.response.body == UNREAD_RESPONSE
    assert snap.response.status == 200

    def chunks() -> Iterator[bytes]:
        yield b"a"

    streaming = httpx.Request("POST", f"{shop.http_url}/ok", content=chunks())
    snap = snapshot_record(logging.makeLogRecord({"msg": "x", "request": streaming}))
    assert snap.request is not None and snap.request.body == STREAMED_REQUEST


def test_a_response_without_request_and_odd_objects_do_not_break_logging() -> None:
    bare = httpx.Response(502, text="bad gateway")
    payload = payload_from_record(
        logging.makeLogRecord({"msg": "x", "response": bare}), base_url="https://shop.example"
    )
    assert payload["response_code"] == 502
    assert payload["response"]["body"] == "bad gateway"
    assert "full_url" not in payload
    error = httpx.ConnectError("no request attached")  # .request raises RuntimeError until httpx sets it
    record = logging.makeLogRecord({"msg": "x", "exc_info": (type(error), error, None)})
    assert payload_from_record(record, base_url="https://shop.example")["exception_type"] == "httpx.ConnectError"
