"""Secrets recognised by their values (``_payload.detectors``): whatever key they are under, or in free text.

The tokens are made up here from their public formats (never real ones), glued at run time so that no
secret scanner mistakes this file for a leak.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
import requests

from sendcloud_logging._payload import PayloadPolicy, payload_from_record
from sendcloud_logging._payload.detectors import scrub, tokens
from sendcloud_logging._payload.redact import FILTERED, Redactor

from .conftest import SHOP, make_record, payload_with


def glue(*parts: str) -> str:
    return "".join(parts)


HEX32 = "0123456789abcdef" * 2
ALNUM36 = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
AWS_ID = glue("AKIA", "Z7QX4M2P9K1L3N5R")
AWS_SECRET = glue("wJalrXUtnFEMIK7MDENG", "bPxRfiCYzK9m2q8L4t0A")  # 40 characters
JWT = glue("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", ".", "eyJzdWIiOiJzaG9wLTQyIiwiZXhwIjoxOTAwMDAwMDAwfQ", ".",
           "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
TOKENS = {
    "Shopify admin token": glue("shp", "at_", HEX32),
    "Shopify custom app token": glue("shp", "ca_", HEX32),
    "Shopify private app token": glue("shp", "pa_", HEX32),
    "Shopify shared secret": glue("shp", "ss_", HEX32),
    "Stripe live secret key": glue("sk_", "live_", "51Hx", ALNUM36[:24]),
    "Stripe test secret key": glue("sk_", "test_", "51Hx", ALNUM36[:24]),
    "Stripe restricted key": glue("rk_", "live_", ALNUM36[:30]),
    "Stripe webhook secret": glue("whsec_", ALNUM36[:32]),
    "GitHub personal token": glue("gh", "p_", ALNUM36),
    "GitHub OAuth token": glue("gh", "o_", ALNUM36),
    "GitHub app token": glue("gh", "s_", ALNUM36),
    "GitHub fine-grained token": glue("github_", "pat_", "11ABCDEFG0", "_", ALNUM36, "xY"),
    "Slack bot token": glue("xox", "b-", "1234567890-1234567890123-", ALNUM36[:24]),
    "Slack user token": glue("xox", "p-", "1234567890-1234567890123-", ALNUM36[:24]),
    "Google API key": glue("AI", "za", "SyD", ALNUM36[:32]),
    "JWT": JWT,
    "AWS access key id": AWS_ID,
    "WooCommerce consumer key": glue("ck", "_", HEX32, "01234567"),
    "WooCommerce consumer secret": glue("cs", "_", HEX32, "89abcdef"),
    "Shopware sales channel key": glue("SW", "SC", "VHJQWJRNUDHJZGQXBGDSEG0"),
    "Shopware integration key": glue("SW", "IA", "ZZLOBLLVBLJ2RHZQUXNVAGZ1"),
    "Ecwid secret token": glue("secret", "_", "4T6z2Dm8vQxYbN3kLp9sRw1e"),
    "Google OAuth client secret": glue("GOC", "SPX-", "1a2B3c4D5e6F7g8H9i0JkLmNoP"),
    "Google OAuth access token": glue("ya", "29.", "a0AfH6SMBx", ALNUM36),
    "Mollie live key": glue("live", "_", "dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"),
    "Mollie test key": glue("test", "_", "dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"),
    "SendGrid API key": glue("SG", ".", "ngeVfQFYQlKU0ufo8x5d1A", ".", "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr"),
}


@pytest.mark.parametrize("name", list(TOKENS))
def test_token_formats_are_redacted_wherever_they_are(name: str) -> None:
    token = TOKENS[name]
    result = payload_with(
        msg=f"Shop call failed with {token}.",
        full_url=f"https://shop.example/api?q={token}",
        request={"headers": {"X-Note": f"used {token}"}, "payload": {"note": token, "list": [f"({token})"]}},
        response={"headers": {"Content-Type": "text/plain"}, "body": f"refused '{token}' here"},
    )
    text = json.dumps(result)
    assert token not in text
    assert result["exception"] == f"Shop call failed with {FILTERED}."
    assert result["request"]["payload"] == {"note": FILTERED, "list": [f"({FILTERED})"]}
    assert result["response"]["body"] == f"refused '{FILTERED}' here"


@pytest.mark.parametrize(
    "text",
    [
        "shpat_ is the prefix of Shopify admin tokens",  # a prefix alone is no token
        "sk_live_ keys start so",
        "the key AKIA is too short",
        "eyJ alone, or eyJhbGci.only-two-parts",
        "ghp_short",
        "xoxb-",
        "price_list_live_test",
        "SKU-AKIAIOSFODNN",
        "order 10293847 shipped",
        "ck_short and cs_ABCDEF",
        "SWSC is short",
        "secret_key_name_is_here_ok",
        "test_order_sync_runs_every_minute",
        "live_stream",
    ],
)
def test_look_alikes_are_kept(text: str) -> None:
    assert tokens(text) == text


def test_an_aws_secret_key_beside_its_access_key_id() -> None:
    text = f"aws configure: {AWS_ID} / {AWS_SECRET}"
    assert scrub(text) == f"aws configure: {FILTERED} / {FILTERED}"
    result = payload_with(request={"payload": {"id": AWS_ID, "key": AWS_SECRET, "sha1": "a" * 40}})
    assert result["request"]["payload"] == {"id": FILTERED, "key": FILTERED, "sha1": "a" * 40}
    assert payload_with(request={"payload": [AWS_ID, AWS_SECRET]})["request"]["payload"] == f'["{FILTERED}","{FILTERED}"]'
    # Without an access key id nearby, a 40-character value (a sha1, a commit) is kept.
    alone = payload_with(request={"payload": {"key": AWS_SECRET, "commit": "0123456789abcdef0123456789abcdef01234567"}})
    assert alone["request"]["payload"]["commit"] == "0123456789abcdef0123456789abcdef01234567"
    assert scrub(f"commit {AWS_SECRET}") == f"commit {AWS_SECRET}"


PEM_KEY = "\n".join(
    ["-----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA1n5fake", "line2+/fake==", "-----END RSA PRIVATE KEY-----"]
)


@pytest.mark.parametrize("kind", ["RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", ""])
def test_pem_private_key_blocks(kind: str) -> None:
    key = PEM_KEY.replace("RSA ", kind)
    text = f"loaded:\n{key}\nthen failed"
    got = scrub(text)
    assert "MIIEowIBAAKCAQEA1n5fake" not in got and "line2" not in got
    assert got.endswith("then failed") and FILTERED in got
    assert "BEGIN CERTIFICATE" in scrub("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")  # public
    cut = scrub(f"key: {key[:40]}")  # a key whose END was cut off: everything after BEGIN goes
    assert "MIIEow"[:4] not in cut.partition("-----")[2].partition("-----")[2]
    in_json = payload_with(request={"payload": {"note": key}})
    assert "fake" not in json.dumps(in_json)


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("curl -H 'Authorization: Basic {b}' https://shop.example", "b"),
        ("retrying with basic {b}", "b"),
        ("auth=Basic%20{b}", None),  # url-encoded: the name rule takes it
        ("Bearer {t} was refused", "t"),
        ("header bearer {t}", "t"),
        ('{{"auth": "Bearer {t}"}}', "t"),
    ],
)
def test_basic_and_bearer_credentials_anywhere_in_text(text: str, secret: Any) -> None:
    b, t = basic("ws-key-12345", ""), "tok-" + ALNUM36
    written = text.format(b=b, t=t)
    got = Redactor().text(written)
    assert b not in got and t not in got
    if secret is not None:
        assert FILTERED in got


def test_basic_without_credentials_is_kept() -> None:
    for text in ("Basic information about the order", "basic shipping", "Basic Basic"):
        assert scrub(text) == text


@pytest.mark.parametrize("value", ["Bearer shp-secret-42\n", "sk-secret-42 \n", "secret-42\r\n"])
def test_requests_invalid_header_texts_lose_the_header_value(value: str) -> None:
    try:
        requests.Request("GET", "https://shop.example/", headers={"X-Shop-Token": value}).prepare()
    except requests.RequestException as exc:
        record = make_record("Could not call the shop", exc_info=(type(exc), exc, exc.__traceback__))
    else:  # requests before 2.33 strips one trailing newline of a value: then there is no error text to scrub
        pytest.skip(f"requests {requests.__version__} takes {value!r} as a header value")
    got = payload_from_record(record, base_url=SHOP)
    assert "secret-42" not in json.dumps(got)
    assert got["exception_type"] == "requests.exceptions.InvalidHeader"
    assert "header value" in got["exception"] and FILTERED in got["exception"]


def test_requests_header_part_text_loses_the_value() -> None:
    try:
        requests.Request("GET", "https://shop.example/", headers={"X-Shop-Key": 123456789012}).prepare()
    except requests.RequestException as exc:
        text = str(exc)
    else:
        pytest.fail("requests took an int header value")
    assert "123456789012" in text
    got = scrub(text)
    assert "123456789012" not in got and "X-Shop-Key" in got


def test_http_client_invalid_header_text() -> None:
    assert scrub("ValueError: Invalid header value b'Bearer abc\\r\\n'") == f"ValueError: Invalid header value b'{FILTERED}'"


def test_detectors_apply_with_the_default_lists_off() -> None:
    policy = PayloadPolicy(redactor=Redactor(defaults=False))
    token = TOKENS["Shopify admin token"]
    assert payload_with(policy, msg=f"failed with {token}")["exception"] == f"failed with {FILTERED}"


def test_a_logger_call_with_a_token_in_its_arguments() -> None:
    record = logging.getLogger("shop.sync").makeRecord(
        "shop.sync", logging.ERROR, __file__, 1, "token %s refused", (TOKENS["GitHub personal token"],), None
    )
    assert payload_from_record(record, base_url=SHOP)["exception"] == f"token {FILTERED} refused"
