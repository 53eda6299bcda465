"""aiohttp through the handler: real failing calls against the local Shop, read back from an Inbox."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

import aiohttp

from sendcloud_logging._capture import UNREAD_RESPONSE, snapshot_record
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.shop import Shop

from .conftest import AppLogger
from .conftest import logged as logged_sync


def logged(app_logger: AppLogger, inbox: Inbox, coro: Callable[[logging.Logger], Any], n: int = 1) -> list[dict[str, Any]]:
    return logged_sync(app_logger, inbox, lambda log: asyncio.run(coro(log)), n)


def test_certificate_and_connection_errors(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    async def call(log: logging.Logger) -> None:
        async with aiohttp.ClientSession() as session:
            for url in (f"{shop.https_url}/ok", f"{shop.refused_url}/ok"):
                try:
                    async with session.get(url):
                        pass
                except aiohttp.ClientConnectorError:
                    log.exception("Shop unreachable at %s", url)

    certificate, refused = logged(app_logger, inbox, call, n=2)
    assert certificate["exception_type"] == "aiohttp.ClientConnectorCertificateError"
    assert certificate["full_url"] == shop.https_url  # aiohttp keeps only host and port on these errors
    assert "CERTIFICATE_VERIFY_FAILED" in certificate["exception"]
    assert refused["exception_type"] == "aiohttp.ClientConnectorError"
    assert refused["full_url"] == shop.refused_url


def test_response_error_carries_request_info_and_status(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    async def call(log: logging.Logger) -> None:
        async with aiohttp.ClientSession(raise_for_status=True) as session:
            try:
                async with session.get(f"{shop.http_url}/api/orders/401", headers={"X-Order": "401"}):
                    pass
            except aiohttp.ClientResponseError:
                log.exception("The shop refused our token")

    (got,) = logged(app_logger, inbox, call)
    assert got["exception_type"] == "aiohttp.ClientResponseError"
    assert got["response_code"] == 401
    assert got["method"] == "GET"
    assert got["full_url"] == f"{shop.http_url}/api/orders/401"
    assert got["request"]["headers"]["X-Order"] == "401"
    assert got["response"]["headers"]["Content-Type"] == "application/json"
    assert "WWW-Authenticate" in got["response"]["headers"]


def test_read_response_in_extra_gives_its_body(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    async def call(log: logging.Logger) -> None:
        async with aiohttp.ClientSession() as session:
            url = f"{shop.http_url}/api/orders/7/notes"
            async with session.post(url, json={"order_note": {"note": "Shipped"}}) as response:
                await response.read()
                log.error("The shop refused the note", extra={"response": response})

    (got,) = logged(app_logger, inbox, call)
    assert got["response_code"] == 422
    assert got["method"] == "POST"  # from the response's request_info
    assert got["response"]["body"] == {"errors": {"order": ["is already fulfilled; notes can no longer be added"]}}


def test_ssl_error_subclass_is_named_by_its_public_path() -> None:
    from sendcloud_logging._capture import exception_type_name

    assert exception_type_name(aiohttp.ClientSSLError) == "aiohttp.ClientSSLError"
    assert exception_type_name(aiohttp.ClientConnectorSSLError) == "aiohttp.ClientConnectorSSLError"
    assert exception_type_name(aiohttp.ServerTimeoutError) == "aiohttp.ServerTimeoutError"


def test_unread_response_is_described_not_read(shop: Shop) -> None:
    async def call() -> tuple[Any, bytes]:
        async with aiohttp.ClientSession() as session, session.get(f"{shop.http_url}/ok") as response:
            snap = snapshot_record(logging.makeLogRecord({"msg": "x", "response": response}))
            return snap, await response.read()

    snap, body = asyncio.run(call())
    assert body == b'{"ok": true, "method": "GET"}'
    assert snap.response.body == UNREAD_RESPONSE
    assert snap.response.status == 200
    assert snap.request.method == "GET"
