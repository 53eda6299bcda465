"""Personal data of shop customers (``_payload.pii``): redacted unless ``send_pii=True``."""

from __future__ import annotations

import json

import pytest

from sendcloud_logging._payload import PayloadPolicy
from sendcloud_logging._payload.pii import scrub
from sendcloud_logging._payload.redact import FILTERED, Redactor
from sendcloud_logging._settings import resolve
from sendcloud_logging.inbox import Inbox

from .conftest import PUBLIC_KEY, SECRET_KEY, AppLogger, payload_with

SEND_PII = PayloadPolicy(redactor=Redactor(send_pii=True))


@pytest.mark.parametrize(
    "written",
    [
        "jan.jansen@example.com", "J.Jansen+orders@shop-mail.example.co.uk", "info@xn--bcher-kva.example",
        "+31 6 12345678", "+31612345678", "+49 (30) 1234567", "+1-555-123-4567", "0031 20 123 4567",
        "(555) 123-4567", "020 123 4567", "06-12345678", "030 12345678", "555-123-4567", "06 12 34 56 78",
        "0470 12 34 56", "030/12345678", "+44 20 7946 0958", "jürgen@bücher.example", "jan@xn--bcher-kva.example",
        "203.0.113.7", "198.51.100.23", "10.1.2.3", "2001:db8::1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "fe80::1%eth0",
    ],
)
def test_emails_phones_and_ips_in_text(written: str) -> None:
    assert scrub(f"customer {written} wrote") == f"customer {FILTERED} wrote"
    got = payload_with(msg=f"Could not notify {written}", request={"payload": {"note": f"({written})"}})
    assert written not in json.dumps(got)
    kept = payload_with(SEND_PII, msg=f"Could not notify {written}")
    assert kept["exception"] == f"Could not notify {written}"


@pytest.mark.parametrize(
    "text",
    [
        "order SO-2026-00042", "order 000123456", "2026-12-02 13:00:00", "12:30:45", "at 09:30",
        "version 1.2.3", "postal code 5611 AB, Eindhoven", "price 12.50 EUR, 3 items", "sha 00:1a:2b:3c:4d:5e",
        "tracking 3SABCD0123456789", "localhost 127.0.0.1 and ::1 and 0.0.0.0", "order 00123456789",
        "shipment 1234567", "weight 2.500 kg", "user@ alone", "ids 123-456", "on 01-12-2026", "on 01.12.2026",
        "ref 2026-0042-1234", "iso 2026/12/02", "sku 123-456-7890",
    ],
)
def test_what_a_shipping_integration_needs_is_kept(text: str) -> None:
    assert scrub(text) == text


ADDRESS = {
    "first_name": "Jan", "last_name": "Jansen", "name": "Jan Jansen", "company": "Acme Shoes BV",
    "company_contact": "Piet", "email": "jan@example.com", "phone": "0612345678", "telephone": "+31 6 1",
    "address_1": "Stationsstraat 12", "address_2": "2nd floor", "street": "Stationsstraat", "house_number": "12",
    "city": "Eindhoven", "postal_code": "5611 AB", "postcode": "5611AB", "country": "NL", "country_code": "NL",
    "state": "NB", "address_id": 77, "email_verified": True,
}
PERSONAL = {"first_name", "last_name", "name", "company_contact", "email", "phone", "telephone", "address_1",
            "address_2", "street", "house_number"}


def test_personal_keys_in_bodies() -> None:
    body = {"order_number": "SO-42", "shipping_address": ADDRESS, "billing": {"fullName": "J. Jansen", "zip": "5611"},
            "customer": {"firstName": "Jan", "contact_person": "Piet", "date_of_birth": "1990-01-01"},
            "lines": [{"name": "Blue shirt", "sku": "B-1", "qty": 1}]}
    got = payload_with(request={"payload": body})["request"]["payload"]
    assert got["order_number"] == "SO-42"
    assert got["shipping_address"] == {key: FILTERED if key in PERSONAL else value for key, value in ADDRESS.items()}
    assert got["billing"] == {"fullName": FILTERED, "zip": "5611"}
    assert got["customer"] == {"firstName": FILTERED, "contact_person": FILTERED, "date_of_birth": FILTERED}
    assert got["lines"] == [{"name": "Blue shirt", "sku": "B-1", "qty": 1}]  # a product's name is no person's
    assert payload_with(SEND_PII, request={"payload": body})["request"]["payload"] == body


def test_personal_values_that_are_numbers_and_encoded_addresses() -> None:
    got = payload_with(
        full_url="https://shop.example/api/customers/jan%40example.com/orders",
        request={"payload": {"phone": 31612345678, "house_number": 12, "customer_id": 77, "email_verified": True}},
    )
    assert got["full_url"] == f"https://shop.example/api/customers/{FILTERED}/orders"
    assert got["request"]["payload"] == {"phone": FILTERED, "house_number": FILTERED, "customer_id": 77,
                                         "email_verified": True}


def test_personal_keys_in_text_forms_and_xml() -> None:
    got = payload_with(
        full_url="https://shop.example/api/customers?email=jan%40example.com&last_name=Jansen&country=NL",
        request={"headers": {"Content-Type": "text/xml"},
                 "payload": "<customer><firstname>Jan</firstname><city>Utrecht</city></customer>"},
    )
    assert got["full_url"] == f"https://shop.example/api/customers?email={FILTERED}&last_name={FILTERED}&country=NL"
    assert got["request"]["payload"] == f"<customer><firstname>{FILTERED}</firstname><city>Utrecht</city></customer>"


def test_send_pii_is_a_handler_keyword_off_by_default() -> None:
    keys = {"integration_id": 1, "public_key": PUBLIC_KEY, "secret_key": SECRET_KEY}
    default = resolve(keys, environ={}).policy.redactor
    assert default is not None and default.send_pii is False
    opted_in = resolve({**keys, "send_pii": "true"}, environ={}).policy.redactor
    assert opted_in is not None and opted_in.send_pii is True


def test_personal_data_never_reaches_the_inbox(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger(summary_window=0)
    log.error("Label for jan@example.com failed", extra={"request": {"payload": {"shipping": ADDRESS}}})
    assert handler.flush(10)
    (got,) = inbox.logs()
    text = json.dumps(got)
    for value in ("jan@example.com", "Jansen", "Stationsstraat", "0612345678"):
        assert value not in text
    assert "Eindhoven" in text and "5611 AB" in text


def test_keep_keys_keeps_a_personal_key() -> None:
    policy = PayloadPolicy(redactor=Redactor(keep_keys=["city_name", "first_name"]))
    got = payload_with(policy, request={"payload": {"first_name": "Jan", "last_name": "Jansen"}})
    assert got["request"]["payload"] == {"first_name": "Jan", "last_name": FILTERED}
