"""urllib through the handler: real failing ``urlopen`` calls against the local Shop, read back from an Inbox."""

from __future__ import annotations

import io
import logging
import urllib.error
import urllib.request

import pytest

from sendcloud_logging._capture import STREAMED_REQUEST, UNREAD_RESPONSE, snapshot_record
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.shop import Shop

from .conftest import AppLogger, logged


def test_http_error_is_its_own_response(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    def call(log: logging.Logger) -> None:
        try:
            urllib.request.urlopen(f"{shop.http_url}/api/orders/404", timeout=5)
        except urllib.error.HTTPError as exc:
            log.exception("Could not fetch order 404")
            assert exc.read().startswith(b"<!DOCTYPE html>")  # logging did not consume the body

    (got,) = logged(app_logger, inbox, call)
    assert got["exception_type"] == "urllib.error.HTTPError"
    assert got["response_code"] == 404
    assert got["full_url"] == f"{shop.http_url}/api/orders/404"
    assert got["response"]["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert got["response"]["body"] == UNREAD_RESPONSE
    assert got["exception"] == "Could not fetch order 404: HTTP Error 404: Not Found"


def test_request_in_extra_with_an_http_error(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    def call(log: logging.Logger) -> None:
        request = urllib.request.Request(
            f"{shop.http_url}/api/orders/7/notes",
            data=b'{"order_note": {"note": "Shipped"}}',
            headers={"Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(request, timeout=5)
        except urllib.error.HTTPError:
            log.exception("Could not post the order note", extra={"request": request})

    (got,) = logged(app_logger, inbox, call)
    assert got["method"] == "POST"
    assert got["response_code"] == 422
    assert got["request"]["payload"] == {"order_note": {"note": "Shipped"}}
    assert got["request"]["headers"]["Content-type"] == "application/json"


@pytest.mark.parametrize("where", ["https", "refused"])
def test_url_errors_keep_their_type_and_take_the_request_from_extra(
    app_logger: AppLogger, inbox: Inbox, shop: Shop, where: str
) -> None:
    url = f"{shop.https_url}/ok" if where == "https" else f"{shop.refused_url}/ok"

    def call(log: logging.Logger) -> None:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=5)
        except urllib.error.URLError:
            log.exception("Shop unreachable", extra={"request": request})

    (got,) = logged(app_logger, inbox, call)
    assert got["exception_type"] == "urllib.error.URLError"
    assert got["full_url"] == url
    assert got["method"] == "GET"
    assert got["request"]["headers"]["Accept"] == "application/json"
    assert ("CERTIFICATE_VERIFY_FAILED" if where == "https" else "Connection refused") in got["exception"]


def test_snapshot_copies_headers_and_never_reads_a_file_body(shop: Shop) -> None:
    request = urllib.request.Request(f"{shop.http_url}/ok", data=b"a=1", method="PUT", headers={"X-A": "1"})
    snap = snapshot_record(logging.makeLogRecord({"msg": "x", "request": request}))
    request.add_header("X-Later", "2")
    assert snap.request is not None
    assert snap.request.headers == {"X-a": "1"}
    assert (snap.request.method, snap.request.body) == ("PUT", b"a=1")
    stream = io.BytesIO(b"data")
    snap = snapshot_record(logging.makeLogRecord({"msg": "x", "request": urllib.request.Request(shop.http_url, data=stream)}))
    assert snap.request is not None and snap.request.body == STREAMED_REQUEST
    assert stream.read() == b"data"
    with urllib.request.urlopen(f"{shop.http_url}/ok", timeout=5) as response:
        snap = snapshot_record(logging.makeLogRecord({"msg": "x", "response": response}))
        assert response.read() == b'{"ok": true, "method": "GET"}'
    assert snap.response is not None
    assert (snap.response.status, snap.response.url) == (200, f"{shop.http_url}/ok")
