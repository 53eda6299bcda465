"""Integration and log ids in the Inbox's URLs: 64-bit signed integers, 1 to 2**63 - 1, as the API's."""

from __future__ import annotations

import pytest
import requests

from sendcloud_logging.inbox import Inbox

from .conftest import AUTH, SHOP, TIMEOUT, logs_url

LARGEST = 2**63 - 1


@pytest.mark.parametrize("integration", [LARGEST, 10**18, 1])
def test_ids_up_to_the_largest_64_bit_integer_are_integrations(inbox: Inbox, integration: int) -> None:
    url = logs_url(inbox, integration)
    created = requests.post(url, json={"base_url": SHOP}, auth=AUTH, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["integration_id"] == integration
    listed = requests.get(url, auth=AUTH, timeout=TIMEOUT)
    assert listed.status_code == 200
    assert [log["integration_id"] for log in listed.json()["data"]] == [integration]


@pytest.mark.parametrize("integration", [str(LARGEST + 1), "9" * 19, "0", "0" * 19, "1" * 20, "+5", "5 "])
def test_other_ids_are_not_found(inbox: Inbox, integration: str) -> None:
    url = logs_url(inbox, integration)
    for method in ("GET", "POST"):
        response = requests.request(method, url, json={"base_url": SHOP}, auth=AUTH, timeout=TIMEOUT)
        assert response.status_code == 404, (method, response.text)
    assert inbox.count() == 0


@pytest.mark.parametrize(("cursor_id", "status"), [(str(LARGEST), 200), (str(LARGEST + 1), 400), ("0", 400)])
def test_cursor_ids_are_ids_too(inbox: Inbox, cursor_id: str, status: int) -> None:
    params = {"cursor": "2026-11-28T05:00:00Z", "cursor_id": cursor_id}
    response = requests.get(logs_url(inbox, 5), params=params, auth=AUTH, timeout=TIMEOUT)
    assert response.status_code == status, response.text
