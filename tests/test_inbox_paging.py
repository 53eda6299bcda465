"""The Inbox's GET: pages newest first, linked by cursor, without gaps or repeats; one integration or all."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sendcloud_logging.inbox import Inbox
from sendcloud_logging.inbox.timestamps import parse_rfc3339

from .conftest import TIMEOUT, assert_matches, error_codes, logs_url


def follow_pages(session: requests.Session, url: str, params: dict[str, Any] | None = None) -> list[list[dict[str, Any]]]:
    pages = []
    response = session.get(url, params=params, timeout=TIMEOUT)
    while True:
        assert response.status_code == 200
        assert_matches("listResponse", response.json())
        pages.append(response.json()["data"])
        next_url = response.links.get("next", {}).get("url")
        if next_url is None:
            return pages
        response = session.get(next_url, timeout=TIMEOUT)


def test_pages_follow_link_newest_first_without_gaps_or_repeats(inbox: Inbox, session: requests.Session) -> None:
    created_ats = (
        ["2026-01-01T00:00:00Z"] * 30
        + ["2026-01-01T01:00:00+01:00"] * 10  # the same instant written with another offset
        + [f"2026-01-0{1 + i % 3}T12:00:00.{i:06d}-02:00" for i in range(15)]
        + [None] * 5  # the server's now: newest of all
    )
    ids = []
    for i, created_at in enumerate(created_ats):
        body = {"base_url": f"https://s{i}.example", "created_at": created_at}
        response = session.post(logs_url(inbox, 5), json=body, timeout=TIMEOUT)
        assert response.status_code == 201
        ids.append(response.json()["data"]["id"])
    session.post(logs_url(inbox, 6), json={"base_url": "https://other.example"}, timeout=TIMEOUT)

    pages = follow_pages(session, logs_url(inbox, 5), {"page_size": 25})
    assert [len(page) for page in pages] == [25, 25, 10]
    seen = [log for page in pages for log in page]
    assert sorted(log["id"] for log in seen) == sorted(ids)
    keys = [(parse_rfc3339(log["created_at"]), log["id"]) for log in seen]
    assert keys == sorted(keys, reverse=True)
    assert {log["integration_id"] for log in seen} == {5}

    all_pages = follow_pages(session, logs_url(inbox), {"page_size": 7})
    assert len(all_pages) == 9
    assert sorted(log["id"] for page in all_pages for log in page) == list(range(1, 62))


def test_default_page_size_and_link_absent_on_the_last_page(inbox: Inbox, session: requests.Session) -> None:
    for i in range(26):
        session.post(logs_url(inbox, 1), json={"base_url": f"https://s{i}.example"}, timeout=TIMEOUT)
    response = session.get(logs_url(inbox, 1), timeout=TIMEOUT)
    assert len(response.json()["data"]) == 25
    link = response.links["next"]["url"]
    assert link.startswith(f"{inbox.api_url}/integrations/1/logs?")
    assert "cursor=" in link
    last = session.get(link, timeout=TIMEOUT)
    assert len(last.json()["data"]) == 1
    assert "Link" not in last.headers


def test_a_bare_cursor_starts_at_that_instant(inbox: Inbox, session: requests.Session) -> None:
    for stamp in ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"):
        session.post(logs_url(inbox, 1), json={"base_url": "https://x.example", "created_at": stamp}, timeout=TIMEOUT)
    response = session.get(logs_url(inbox, 1), params={"cursor": "2026-01-02T01:00:00+01:00"}, timeout=TIMEOUT)
    assert [log["created_at"] for log in response.json()["data"]] == ["2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"]


def test_get_one_integration_or_all(inbox: Inbox, session: requests.Session) -> None:
    for integration in (1, 2, 1):
        session.post(logs_url(inbox, integration), json={"base_url": f"https://i{integration}.example"}, timeout=TIMEOUT)
    one = session.get(logs_url(inbox, 1), timeout=TIMEOUT).json()["data"]
    assert [log["integration_id"] for log in one] == [1, 1]
    assert [log["id"] for log in one] == [3, 1]
    every = session.get(logs_url(inbox), timeout=TIMEOUT).json()["data"]
    assert [log["id"] for log in every] == [3, 2, 1]
    assert session.get(logs_url(inbox, 9), timeout=TIMEOUT).json() == {"data": []}
    assert inbox.count() == 3
    assert inbox.count(1) == 2
    assert [log["id"] for log in inbox.logs()] == [1, 2, 3]


@pytest.mark.parametrize(
    "params,parameter",
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page_size": "-5"}, "page_size"),
        ({"page_size": ""}, "page_size"),
        ({"cursor": "yesterday"}, "cursor"),
        ({"cursor": "2026-01-01T00:00:00Z", "cursor_id": "x"}, "cursor_id"),
        ({"cursor_id": "5"}, "cursor_id"),
    ],
)
def test_bad_query_parameters_are_400(inbox: Inbox, session: requests.Session, params: dict[str, str], parameter: str) -> None:
    response = session.get(logs_url(inbox, 1), params=params, timeout=TIMEOUT)
    assert response.status_code == 400
    assert error_codes(response) == ["invalid"]
    assert response.json()["errors"][0]["source"] == {"parameter": parameter}
