"""The shop platforms' own ways of carrying credentials: PrestaShop, WooCommerce, Magento, Shopware, Azure
API Management, and shops that echo the request's headers back in an error body."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from sendcloud_logging._payload.redact import FILTERED, Redactor
from sendcloud_logging._payload.secret_names import SecretNames

from .conftest import payload_with

NAMES = SecretNames()
WS_KEY = "WSKEY7Q2M9XK4P1L8N3R6T0V5Z2B4D6F"


@pytest.mark.parametrize(
    "name",
    ["ws_key", "consumer_key", "consumer_secret", "oauth_signature", "oauth_consumer_key", "oauth_token",
     "oauth_nonce", "sessionId", "session_id", "private_key", "privateKey", "pwd", "pass", "jwt", "JWT",
     "security_code", "securityCode", "card_code", "access_key", "subscription_key"],
)
def test_platform_key_names_are_secret(name: str) -> None:
    assert NAMES.is_secret_key(name)


@pytest.mark.parametrize("name", ["passenger", "compass", "pass_through", "signature_required", "session_timeout",
                                  "consumer", "order_key", "product_key"])
def test_look_alike_key_names_are_kept(name: str) -> None:
    assert not NAMES.is_secret_key(name)


@pytest.mark.parametrize("name", ["sw-access-key", "Ocp-Apim-Subscription-Key", "X-Access-Key", "X-Shopware-Key",
                                  "X-Access-Key-Id", "x-subscription-key-v2", "X-Private-Key"])
def test_key_headers_are_secret(name: str) -> None:
    assert NAMES.is_secret_header(name)
    got = payload_with(request={"headers": {name: "k-123456", "Idempotency-Key": "order-42-try-1"}})
    assert got["request"]["headers"] == {name: FILTERED, "Idempotency-Key": "order-42-try-1"}


def test_prestashop_ws_key_in_query_form_json_multipart_and_basic_auth() -> None:
    got = payload_with(
        full_url=f"https://shop.example/api/orders?ws_key={WS_KEY}&display=full",
        request={"headers": {"Content-Type": "application/x-www-form-urlencoded"}, "payload": f"ws_key={WS_KEY}&a=1"},
    )
    assert got["full_url"] == f"https://shop.example/api/orders?ws_key={FILTERED}&display=full"
    assert got["request"]["payload"] == {"ws_key": FILTERED, "a": "1"}
    assert payload_with(request={"payload": {"prestashop": {"ws_key": WS_KEY}}})["request"]["payload"] == {
        "prestashop": {"ws_key": FILTERED}
    }
    multipart = (
        "--b\r\nContent-Disposition: form-data; name=\"ws_key\"\r\n\r\n" + WS_KEY + "\r\n--b--\r\n"
    )
    got = payload_with(request={"headers": {"Content-Type": "multipart/form-data; boundary=b"}, "payload": multipart})
    assert WS_KEY not in json.dumps(got)
    basic = base64.b64encode(f"{WS_KEY}:".encode()).decode()  # the key as user name, no password
    got = payload_with(msg=f"GET /api failed: Authorization: Basic {basic}", full_url=f"https://{WS_KEY}@shop.example/api")
    assert WS_KEY not in json.dumps(got) and basic not in json.dumps(got)


def test_woocommerce_keys_and_oauth1_parameters() -> None:
    url = (
        "https://shop.example/wp-json/wc/v3/orders?consumer_key=ck_0123456789abcdef&consumer_secret=cs_fedcba9876543210"
        "&oauth_consumer_key=ck_0123456789abcdef&oauth_nonce=n0nc3v4lu3&oauth_signature=c2lnbmF0dXJl%3D"
        "&oauth_signature_method=HMAC-SHA1&oauth_timestamp=1764680000"
    )
    got = payload_with(full_url=url)["full_url"]
    for secret in ("ck_0123456789abcdef", "cs_fedcba9876543210", "n0nc3v4lu3", "c2lnbmF0dXJl"):
        assert secret not in got
    assert "oauth_signature_method=HMAC-SHA1" in got and "oauth_timestamp=1764680000" in got
    header = 'OAuth oauth_consumer_key="ck_01234567", oauth_token="tok-98765", oauth_signature="c2ln%3D"'
    assert payload_with(request={"headers": {"Authorization": header}})["request"]["headers"] == {"Authorization": FILTERED}
    assert "ck_01234567" not in Redactor().text(f"sent {header}")


def test_magento_soap_session_and_keys() -> None:
    soap = (
        '<?xml version="1.0"?><SOAP-ENV:Envelope><SOAP-ENV:Body><ns1:login><username>api</username>'
        "<apiKey>m4g3nt0-k3y</apiKey></ns1:login><ns1:call><sessionId>5f1d3c9a8b7e</sessionId>"
        "<resourcePath>sales_order.info</resourcePath></ns1:call></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    got = payload_with(request={"headers": {"Content-Type": "text/xml"}, "payload": soap})["request"]["payload"]
    assert "m4g3nt0-k3y" not in got and "5f1d3c9a8b7e" not in got and "sales_order.info" in got
    body = {"session_id": "s-1", "privateKey": "pk-2", "pwd": "p-3", "pass": "p-4", "jwt": "j-5", "user": "api"}
    assert payload_with(request={"payload": body})["request"]["payload"] == {
        **{key: FILTERED for key in body if key != "user"}, "user": "api"
    }


def test_xml_values_inside_cdata() -> None:
    xml = (
        "<prestashop><employee><passwd><![CDATA[s3cr3t-pw]]></passwd><lastname><![CDATA[Support]]></lastname>"
        "<ws_key>\n  <![CDATA[" + WS_KEY + "]]>\n</ws_key><id><![CDATA[42]]></id><empty><![CDATA[]]></empty>"
        "</employee></prestashop>"
    )
    got = Redactor(send_pii=True).text(xml)
    assert "s3cr3t-pw" not in got and WS_KEY not in got
    assert f"<passwd>{FILTERED}</passwd>" in got and "<id><![CDATA[42]]></id>" in got
    assert "<lastname><![CDATA[Support]]></lastname>" in got  # personal data sent on request
    assert "<lastname>[Filtered]</lastname>" in Redactor().text(xml)  # and not by default


def test_secret_headers_echoed_in_a_json_error_body() -> None:
    body = {
        "error": "bad request",
        "headers": {"Cookie": "shop_session=abc123", "Accept": "*/*", "X-Shop-Token": "t-1", "sw-access-key": "k-2"},
        "request": {"headers": [{"Set-Cookie": "sid=1"}], "Authorization": "Basic eA=="},
        "cookie": "c-3",
    }
    got = payload_with(response={"headers": {"Content-Type": "application/json"}, "body": json.dumps(body)})
    assert got["response"]["body"] == {
        "error": "bad request",
        "headers": {"Cookie": FILTERED, "Accept": "*/*", "X-Shop-Token": FILTERED, "sw-access-key": FILTERED},
        "request": {"headers": [{"Set-Cookie": FILTERED}], "Authorization": FILTERED},
        "cookie": FILTERED,
    }
    text = '{"headers": {"Cookie": "shop_session=abc123", "Accept": "*/*"}}'
    assert Redactor().text(text) == f'{{"headers": {{"Cookie": "{FILTERED}", "Accept": "*/*"}}}}'
    pairs = {"request_headers": [["Cookie", "sid=1"], ["Accept", "*/*"]], "sent": "X-Shopware-Key: SW-k-1\nA: b"}
    assert payload_with(response={"body": pairs})["response"]["body"] == {
        "request_headers": [["Cookie", FILTERED], ["Accept", "*/*"]], "sent": f"X-Shopware-Key: {FILTERED}\nA: b"
    }


def test_keep_headers_keeps_a_key_header(**_: Any) -> None:
    names = SecretNames(keep_headers=["sw-access-key"])
    assert not names.is_secret_header("sw-access-key") and names.is_secret_header("X-Access-Key")
    assert not SecretNames(defaults=False).is_secret_header("X-Access-Key")
