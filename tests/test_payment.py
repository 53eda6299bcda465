"""Payment data by its value (``_payload.payment``): card numbers (Luhn) and IBANs (mod 97); CVV by name."""

from __future__ import annotations

import json

import pytest

from sendcloud_logging._payload.payment import is_card_number, is_iban, luhn, scrub
from sendcloud_logging._payload.redact import FILTERED

from .conftest import payload_with

# Test numbers the card schemes publish for integration testing.
CARDS = [
    "4111111111111111",  # Visa
    "4012888888881881",
    "4222222222222",  # Visa, 13 digits
    "5555555555554444",  # Mastercard
    "2223003122003222",  # Mastercard 2-series
    "378282246310005",  # Amex
    "6011111111111117",  # Discover
    "3530111333300000",  # JCB
    "30569309025904",  # Diners
    "6200000000000005",  # UnionPay
    "6759649826438453",  # Maestro
    "4111111111111111110",  # Visa, 19 digits
]


@pytest.mark.parametrize("card", CARDS)
def test_card_numbers_in_every_shape(card: str) -> None:
    spaced = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    dashed = spaced.replace(" ", "-")
    for written in (card, spaced, dashed):
        assert scrub(f"card {written} declined") == f"card {FILTERED} declined"
    got = payload_with(
        msg=f"Payment failed for {spaced}",
        request={"payload": {"payment": {"number": card, "pan": int(card), "note": f"pan={dashed}"}}},
    )
    assert card not in json.dumps(got) and spaced not in json.dumps(got)
    assert got["exception"] == f"Payment failed for {FILTERED}"
    assert got["request"]["payload"] == {"payment": {"number": FILTERED, "pan": FILTERED, "note": f"pan={FILTERED}"}}


@pytest.mark.parametrize(
    "text",
    [
        "order 4111111111111112 shipped",  # a Visa prefix, but the Luhn check fails
        "order 1234567890123452",  # Luhn holds, but no card scheme starts with 1
        "timestamp 1764680000000",  # milliseconds since the epoch
        "tracking 00340434161234567890",  # 20 digits: a parcel label, not a card
        "EAN 8712345678906",  # a barcode (8 is no card prefix)
        "order 2026-1204-5678-9012",  # digits that do not start like a card
        "SO-4111111111111111-X",  # part of a longer id
        "price 12.50, qty 3",
    ],
)
def test_numbers_that_are_not_cards_are_kept(text: str) -> None:
    assert scrub(text) == text


def test_a_card_number_followed_by_more_digits() -> None:
    assert scrub("card 4111 1111 1111 1111 12/28 cvc 123") == f"card {FILTERED} 12/28 cvc 123"
    assert scrub("4111-1111-1111-1111 2028") == f"{FILTERED} 2028"
    assert scrub("order 1234 5678 9012 3456 7890") == "order 1234 5678 9012 3456 7890"  # no card inside


def test_card_numbers_in_forms_and_queries() -> None:
    got = payload_with(full_url="https://shop.example/pay?cc=4111+1111+1111+1111&order=10293847")
    assert got["full_url"] == f"https://shop.example/pay?cc={FILTERED}&order=10293847"


def test_order_numbers_as_ints_are_kept() -> None:
    body = {"order_id": 1234567890123452, "number": 10293847, "timestamp": 1764680000000, "total": 4111}
    assert payload_with(request={"payload": body})["request"]["payload"] == body


def test_luhn() -> None:
    assert luhn("79927398713") and not luhn("79927398710")
    assert is_card_number(4111111111111111) and not is_card_number(True) and not is_card_number(4111)


IBANS = ["NL91ABNA0417164300", "DE89370400440532013000", "GB82WEST12345698765432", "BE68539007547034",
         "FR1420041010050500013M02606", "MT84MALT011000012345MTLCAST001S"]


@pytest.mark.parametrize("iban", IBANS)
def test_ibans_in_text_and_values(iban: str) -> None:
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    for written in (iban, grouped):
        assert scrub(f"refund to {written}, thanks") == f"refund to {FILTERED}, thanks"
        assert scrub(f"IBAN: {written} EUR") == f"IBAN: {FILTERED} EUR"
    got = payload_with(request={"payload": {"account_number": grouped, "bank": {"account": iban}, "city": "Utrecht"}})
    assert got["request"]["payload"] == {"account_number": FILTERED, "bank": {"account": FILTERED}, "city": "Utrecht"}


@pytest.mark.parametrize("text", ["NL91ABNA0417164301", "DE00370400440532013000", "SKU AB12CDEFGHIJKLMNOP",
                                  "NL12 3456 7890 1234 5678", "ORDER NL91ABNA"])
def test_iban_look_alikes_with_a_wrong_checksum_are_kept(text: str) -> None:
    assert not is_iban(text) and scrub(text) == text
    assert payload_with(request={"payload": {"account_number": text}})["request"]["payload"] == {"account_number": text}


@pytest.mark.parametrize("key", ["cvv", "CVV2", "cvc", "security_code", "securityCode", "card_code", "cvc2",
                                 "card_verification_value"])
def test_card_security_codes_by_name(key: str) -> None:
    got = payload_with(
        msg=f"declined: {key}=123",
        request={"payload": {"payment": {key: "123", "cvv_result": "M"[:0] or "N", "amount": "12.50"}}},
    )
    assert got["exception"] == f"declined: {key}={FILTERED}"
    assert got["request"]["payload"]["payment"][key] == FILTERED
    assert got["request"]["payload"]["payment"]["amount"] == "12.50"
