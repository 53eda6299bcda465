"""Which names are secret, decided alone: by the words of a name, with the lists switched on and off."""

from __future__ import annotations

import pytest

from sendcloud_logging._payload.secret_names import DEFAULT_KEYS, SecretNames, normalise_name

NAMES = SecretNames()


@pytest.mark.parametrize("name", ["api_key", "Api-Key", "apiKey", "API KEY", "api.key"])
def test_a_name_is_compared_by_its_words(name: str) -> None:
    assert normalise_name(name) == "apikey"
    assert NAMES.is_secret_key(name)


@pytest.mark.parametrize("name", ["customer_password", "X-Shop-Token", "refreshToken", "card-number"])
def test_a_key_containing_a_word_is_secret(name: str) -> None:
    assert NAMES.is_secret_key(name)


@pytest.mark.parametrize("name", ["order_id", "note", "email", "X-Request-Id"])
def test_ordinary_keys_are_not_secret(name: str) -> None:
    assert not NAMES.is_secret_key(name)


def test_headers_are_secret_by_full_name_or_by_a_word() -> None:
    assert NAMES.is_secret_header("cookie") and NAMES.is_secret_header_name("Set-Cookie")
    assert NAMES.is_secret_header("X-Session-Id") and not NAMES.is_secret_header_name("X-Session-Id")
    assert not NAMES.is_secret_header("Accept") and not NAMES.is_secret_header("Content-Type")


def test_keep_switches_a_word_off_or_keeps_one_full_name() -> None:
    kept_name = SecretNames(keep_keys=["token_type"])
    assert not kept_name.is_secret_key("token_type") and kept_name.is_secret_key("access_token")
    no_token = SecretNames(keep_keys=["token"], keep_headers=["Cookie", "session"])
    assert not no_token.is_secret_key("token") and no_token.is_secret_key("access_token")  # its own word
    assert not no_token.is_secret_header("Cookie") and not no_token.is_secret_header("X-Session")
    assert no_token.is_secret_header("Authorization")


def test_without_defaults_only_the_given_names_are_secret() -> None:
    names = SecretNames(defaults=False, keys=["pin"], headers=["X-Pin"])
    assert names.is_secret_key("shop_pin") and not names.is_secret_key("password")
    assert names.is_secret_header("X-Pin") and not names.is_secret_header("Authorization")
    assert (names.has_keys, names.has_header_words, names.found_in_text) == (True, True, True)
    nothing = SecretNames(defaults=False)
    assert (nothing.has_keys, nothing.has_header_words, nothing.found_in_text) == (False, False, False)
    headers_only = SecretNames(keep_keys=DEFAULT_KEYS)  # "Cookie: ..." lines are still found in text
    assert (headers_only.has_keys, headers_only.found_in_text) == (False, True)


def test_decisions_stay_right_past_the_cache_bound() -> None:
    names = SecretNames()
    for i in range(10_000):  # more names than the cache holds: it is emptied and filled again
        assert names.is_secret_key(f"field_{i}") is False
        assert names.is_secret_key(f"token_{i}") is True
