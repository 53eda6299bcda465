"""RFC 3339 ``date-time``, one table of cases for both sides: what the handler sends as ``created_at``
(``_payload.values``) and what the Inbox accepts, orders and pages by (``inbox.timestamps``).

The two sides keep their own code on purpose (the Inbox is an independent check of what clients send); this
table is what makes them agree.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import pytest
import requests

from sendcloud_logging._payload import payload_from_record
from sendcloud_logging._payload.values import created_at, is_rfc3339
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.inbox.timestamps import format_micros, parse_rfc3339

from .conftest import PUBLIC_KEY, SECRET_KEY, SHOP, make_record

#: (text, the instant in UTC as the Inbox prints it for a cursor; None: not an RFC 3339 date-time).
CASES: list[tuple[str, Optional[str]]] = [
    ("2026-11-28T05:00:00Z", "2026-11-28T05:00:00.000000Z"),
    ("2026-11-28t05:00:00.5z", "2026-11-28T05:00:00.500000Z"),  # T and Z in either case
    ("2026-11-28T06:30:00+01:30", "2026-11-28T05:00:00.000000Z"),
    ("2026-11-28T00:00:00.1234567-05:00", "2026-11-28T05:00:00.123456Z"),  # digits after the sixth dropped
    ("2026-11-28T05:00:00-00:00", "2026-11-28T05:00:00.000000Z"),  # "offset unknown", still an offset
    ("1937-01-01T12:00:27.87+00:20", "1937-01-01T11:40:27.870000Z"),
    ("2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000000Z"),
    ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000Z"),  # instant 0: still an instant
    ("1985-04-12T23:20:50.999999999999999Z", "1985-04-12T23:20:50.999999Z"),
    ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999999Z"),  # a leap second ends a UTC day
    ("2016-12-31T15:59:60.25-08:00", "2016-12-31T23:59:59.999999Z"),  # ... also written with an offset
    ("2017-01-01T00:59:60+01:00", "2016-12-31T23:59:59.999999Z"),
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z"),
    ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"),
    ("0001-01-01T00:30:00+01:00", "0001-01-01T23:29:00.000000+23:59"),  # its UTC instant lies in year 0
    ("9999-12-31T23:30:00-01:00", "9999-12-31T00:31:00.000000-23:59"),  # ... and this one in year 10000
    ("2026-11-28T05:00:00", None),  # no offset
    ("2026-11-28 05:00:00Z", None),
    ("2026-11-28T05:00Z", None),  # no seconds
    ("2026-6-28T05:00:00Z", None),
    ("+12026-11-28T05:00:00Z", None),
    ("0000-01-01T00:00:00Z", None),  # the calendar starts at year 1
    ("2026-02-30T05:00:00Z", None),
    ("2025-02-29T05:00:00Z", None),
    ("2026-11-28T24:00:00Z", None),
    ("2026-11-28T05:60:00Z", None),
    ("2026-11-28T05:00:00+24:00", None),
    ("2026-11-28T05:00:00+05:60", None),
    ("2026-11-28T05:00:00.Z", None),
    ("2026-11-28T05:00:00+01:00Z", None),
    ("2026-11-28T05:00:00 Z", None),
    ("2016-12-31T23:59:61Z", None),
    ("2016-12-31T23:58:60Z", None),  # a leap second on any other minute
    ("2016-12-31T22:59:60Z", None),
    ("2016-12-31T23:59:60+01:00", None),  # 22:59:60 UTC
    ("2016-12-31T15:59:60-07:00", None),
    ("\uff12\uff10\uff12\uff16-11-28T05:00:00Z", None),  # fullwidth digits
    ("2026-11-2\u09eaT05:00:00Z", None),  # a Bengali four
    ("", None),
]
IDS = [text or "empty" for text, _ in CASES]


@pytest.mark.parametrize(("text", "utc"), CASES, ids=IDS)
def test_the_handler_and_the_inbox_agree(text: str, utc: Optional[str]) -> None:
    assert is_rfc3339(text) is (utc is not None)
    assert (parse_rfc3339(text) is not None) is (utc is not None)


@pytest.mark.parametrize(("text", "utc"), [case for case in CASES if case[1] is not None], ids=str)
def test_the_inbox_orders_by_the_instant_and_prints_it_back(text: str, utc: str) -> None:
    instant = parse_rfc3339(text)
    assert instant is not None
    assert format_micros(instant) == utc
    assert parse_rfc3339(utc) == instant  # a cursor names the instant it was made from


def record_with(created: Any) -> logging.LogRecord:
    return make_record(created_at=created)


def records_own_time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, timezone.utc).astimezone().isoformat()


@pytest.mark.parametrize(("text", "utc"), CASES, ids=IDS)
def test_a_given_date_time_is_sent_as_given_and_nothing_else_is(text: str, utc: Optional[str]) -> None:
    sent = payload_from_record(record_with(text), base_url=SHOP)["created_at"]
    assert (sent == text) is (utc is not None)
    assert parse_rfc3339(sent) is not None  # what is sent instead is valid too


@pytest.mark.parametrize(
    "text",
    ["2016-12-31T23:58:60Z", "2016-12-31T22:59:60Z", "2016-12-31T23:59:60+01:00", "2016-12-31T23:59:61Z",
     "2026-02-30T05:00:00Z", "2026-11-28T24:00:00Z", "2026-11-28T05:00:00+24:00", "", "yesterday"],
)
def test_a_value_that_names_no_time_is_replaced_by_the_records_own_time(text: str) -> None:
    record = record_with(text)
    assert payload_from_record(record, base_url=SHOP)["created_at"] == records_own_time(record)


def test_datetimes_are_formatted_from_their_own_fields() -> None:
    class Liar(datetime):
        def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
            return "2016-12-31T22:59:60Z"

        def utcoffset(self) -> Optional[timedelta]:
            return timedelta(hours=5)

        def __str__(self) -> str:
            return "yesterday"

    assert created_at(Liar(2026, 11, 28, 5, 0, tzinfo=timezone.utc)) == "2026-11-28T05:00:00+00:00"
    assert created_at(Liar(2026, 11, 28, 5, 0, 0, 250)) == datetime(2026, 11, 28, 5, 0, 0, 250).astimezone().isoformat()
    assert created_at(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == "0001-01-01T00:00:00+01:00"


def test_the_inbox_stores_and_pages_instants_outside_years_1_to_9999(inbox: Inbox) -> None:
    given = ["0001-01-01T00:30:00+01:00", "2026-11-28T05:00:00Z", "9999-12-31T23:30:00-01:00", "0001-01-01T00:40:00+01:00"]
    session = requests.Session()
    session.auth = (PUBLIC_KEY, SECRET_KEY)
    url = f"{inbox.api_url}/integrations/5/logs"
    for text in given:
        response = session.post(url, json={"base_url": SHOP, "created_at": text}, timeout=5)
        assert response.status_code == 201, response.text
        assert response.json()["data"]["created_at"] == text
    seen: list[str] = []
    response = session.get(url, params={"page_size": 1}, timeout=5)
    while True:
        assert response.status_code == 200, response.text
        seen += [log["created_at"] for log in response.json()["data"]]
        next_url = response.links.get("next", {}).get("url")
        if next_url is None:
            break
        response = session.get(next_url, timeout=5)
    assert seen == [given[2], given[1], given[3], given[0]]  # newest first, by the instant


@pytest.mark.invalid_posts
@pytest.mark.parametrize("text", ["2016-12-31T23:58:60Z", "2016-12-31T23:59:60+01:00", "2026-11-28T05:00:00"])
def test_the_inbox_refuses_what_is_no_date_time(inbox: Inbox, text: str) -> None:
    response = requests.post(
        f"{inbox.api_url}/integrations/5/logs", json={"base_url": SHOP, "created_at": text},
        auth=(PUBLIC_KEY, SECRET_KEY), timeout=5,
    )
    assert response.status_code == 400
    assert [error["source"]["pointer"] for error in response.json()["errors"]] == ["body/created_at"]
    assert inbox.count() == 0
