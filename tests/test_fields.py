"""``_payload.fields``: one table of the nine fields drives the payload, the hook's check and the storm signature."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from typing import Any

import pytest

from sendcloud_logging._capture import HTTPParts, Snapshot
from sendcloud_logging._payload import PayloadPolicy, build_payload, conform, fields, redact
from sendcloud_logging._payload.fields import FIELDS, signature
from sendcloud_logging._types import API_FIELDS, dumps
from sendcloud_logging.errors import MissingBaseURLError

from .conftest import SHOP, Trap


def snap(
    request: Any = None, response: Any = None, type_name: Any = None, integration_id: Any = None, **given: Any
) -> Snapshot:
    """A snapshot; ``given``: the API fields the record gave by name."""
    return Snapshot("Could not sync", 1_700_000_000.0, type_name, None, request, response, given, integration_id)


def test_one_row_per_api_field() -> None:
    assert sorted(field.name for field in FIELDS) == sorted(API_FIELDS)
    built = build_payload(snap(full_url=f"{SHOP}/a", method="get"))
    assert list(built) == [name for name in API_FIELDS if name in built]  # sent in the API's order


def test_a_source_whose_value_breaks_its_coercer_falls_through_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="sendcloud_logging")
    result = build_payload(snap(request=HTTPParts(method="PATCH"), method=Trap()), {"base_url": SHOP})
    assert result["method"] == "PATCH"  # the request's method, as if the record had given none
    (entry,) = [r for r in caplog.records if r.name == "sendcloud_logging"]
    assert entry.levelno == logging.DEBUG and "payload field method" in entry.getMessage()
    assert entry.exc_info is not None and "no __class__" in str(entry.exc_info[1])


def test_a_coercer_bug_costs_only_its_field_and_leaves_a_trace(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(value: Any, policy: PayloadPolicy) -> Any:
        raise ZeroDivisionError("a bug in a coercer")

    rows = tuple(dataclasses.replace(f, coerce=broken) if f.name == "exception_type" else f for f in FIELDS)
    monkeypatch.setattr(fields, "FIELDS", rows)
    caplog.set_level(logging.DEBUG, logger="sendcloud_logging")
    result = build_payload(snap(type_name="shop.Gone", method="get"), {"base_url": SHOP})
    assert "exception_type" not in result and result["method"] == "GET"
    traced = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], ZeroDivisionError)]
    assert traced and all("exception_type" in r.getMessage() for r in traced)


def test_conform_reads_the_same_table_without_redaction_or_derived_values() -> None:
    long_method = "x" * 500
    out = conform({"base_url": SHOP, "method": long_method, "response_code": "404", "password": "pw", "full_url": 5})
    assert out == {"base_url": SHOP, "method": build_payload(snap(method=long_method), {"base_url": SHOP})["method"],
                   "response_code": 404}
    assert conform({"base_url": SHOP, "exception": "password=hunter2"})["exception"] == "password=hunter2"
    with pytest.raises(MissingBaseURLError):
        conform({"full_url": f"{SHOP}/a"})  # build_payload would derive base_url from it; the hook's edit counts


def test_each_policy_owns_its_redactor() -> None:
    assert PayloadPolicy().redactor is not PayloadPolicy().redactor
    assert not [name for name, value in vars(redact).items() if isinstance(value, redact.Redactor)]


def test_dumps_is_the_wire_encoding() -> None:
    assert dumps({"a": "é", "b": [1, 2]}) == '{"a":"é","b":[1,2]}'
    with pytest.raises(ValueError, match="JSON compliant"):
        dumps({"nan": math.nan})
    assert json.loads(dumps({"x": 1})) == {"x": 1}


def test_signature_reads_the_fields_sources_in_their_precedence() -> None:
    request = HTTPParts(method="post", url=f"{SHOP}/api/orders/42/notes?page=2")
    response = HTTPParts(url=f"{SHOP}/api/orders/42/notes", status=422)
    assert signature(snap(request, response, "requests.exceptions.HTTPError"), 7, SHOP, "Could not post %s") == (
        7, SHOP, "POST", f"{SHOP}/api/orders/:id/notes", 422, "requests.exceptions.HTTPError", "Could not post %s",
    )
    given = snap(request, response, "x.Y", integration_id=9, base_url="https://other.example", method="put",
                 full_url="https://u:pw@other.example/a/0a1b2c3d4e5f", response_code=0, exception_type="shop.Gone")
    assert signature(given, 7, SHOP, 5) == (
        9, "https://other.example", "PUT", "https://other.example/a/:id", 0, "shop.Gone", "<class 'int'>",
    )


def test_signature_of_a_bare_record() -> None:
    assert signature(snap(), 7, None, "plain") == (7, None, "", "", None, None, "plain")
    assert signature(snap(response=HTTPParts(status=None)), 7, SHOP, "plain")[4] is None


def test_records_that_differ_only_in_ids_and_queries_share_a_signature() -> None:
    def of(order: int) -> Any:
        request = HTTPParts(method="GET", url=f"{SHOP}/orders/{order}?token=t{order}")
        return signature(snap(request, HTTPParts(status=404)), 7, SHOP, "Order %s missing")

    assert of(1) == of(2) != signature(snap(HTTPParts(method="GET", url=f"{SHOP}/orders/1")), 8, SHOP, "x")
