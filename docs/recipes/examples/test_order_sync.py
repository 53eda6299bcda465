"""Testing your own error logging with the sendcloud_logging pytest plugin (fixtures: sendcloud, ...).

Run with ``pytest`` once ``sendcloud-logging[inbox]`` is installed: the fixtures need no import.
"""

import logging

import requests

log = logging.getLogger("myshop.sync")


def fetch_order(shop_url: str, order_id: int) -> None:
    """The code under test: fetch an order, log a failure."""
    try:
        requests.get(f"{shop_url}/api/orders/{order_id}", timeout=5).raise_for_status()
    except requests.RequestException:
        log.exception("Could not fetch order %s", order_id)


def test_a_missing_order_is_logged(sendcloud, sendcloud_shop):
    fetch_order(sendcloud_shop.http_url, 404)
    (sent,) = sendcloud.sent_logs()
    assert sent["exception_type"] == "requests.exceptions.HTTPError"
    assert sent["response_code"] == 404
    assert sent["full_url"] == f"{sendcloud_shop.http_url}/api/orders/404"
    assert sent["exception"].startswith("Could not fetch order 404")


def test_a_found_order_logs_nothing(sendcloud, sendcloud_shop):
    requests.get(f"{sendcloud_shop.http_url}/ok", timeout=5).raise_for_status()
    assert sendcloud.sent_logs() == []
