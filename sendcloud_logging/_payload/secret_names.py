"""Which names are secret: the default lists, how names are compared, and the decision for one name.

Redacted by default:

- headers named ``Authorization``, ``Proxy-Authorization``, ``Cookie``, ``Set-Cookie``, ``X-Api-Key``, any
  header whose name contains one of ``DEFAULT_HEADER_WORDS`` (``token``, ``session``, ``auth``,
  ``access-key``...), and any whose name ends in ``-key`` (but ``Idempotency-Key``);
- values of keys (bodies, forms, JSON, XML, query strings) whose name contains one of ``DEFAULT_KEYS``
  (``password``, ``token``, ``card_number``, ``ws_key``, ``consumer_key``, ``session_id``...), or is one of
  ``DEFAULT_EXACT_KEYS`` (``pass``).

Names are compared by their words: lower case, with ``_``, ``-``, ``.`` and spaces removed, so ``api_key``,
``Api-Key`` and ``apiKey`` are one name, and ``customer_password`` contains ``password``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Optional

__all__ = [
    "DEFAULT_EXACT_KEYS",
    "DEFAULT_HEADERS",
    "DEFAULT_HEADER_WORDS",
    "DEFAULT_KEYS",
    "SecretNames",
    "normalise_name",
]

#: Headers redacted by name (any case).
DEFAULT_HEADERS = ("Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key")
#: A header whose name contains one of these words is redacted too.
DEFAULT_HEADER_WORDS = (
    "token", "secret", "password", "passwd", "signature", "api-key", "apikey", "session", "auth", "access-key",
    "subscription-key",
)
#: Keys (body, form, JSON, XML, query) whose name contains one of these words are redacted, at any depth.
DEFAULT_KEYS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "client_secret",
    "authorization",
    "card_number",
    "cc_number",
    "cvv",
    "cvc",
    "security_code",
    "card_code",
    "card_verification",
    "iban",
    "ws_key",
    "consumer_key",
    "oauth_signature",
    "oauth_nonce",
    "oauth_verifier",
    "session_id",
    "private_key",
    "access_key",
    "subscription_key",
    "passphrase",
    "pwd",
    "jwt",
)
#: Keys kept although they contain a word (they name how, not what): switched off with the defaults.
DEFAULT_KEPT_KEYS = ("oauth_signature_method",)
#: Keys redacted only under exactly this name (as words they would match ordinary names: ``passenger``).
DEFAULT_EXACT_KEYS = ("pass", "pw")
#: A header whose name ends in ``-key`` (``sw-access-key``, ``X-Shopware-Key``) is redacted, except these.
KEY_SUFFIX_KEPT = ("Idempotency-Key",)

_SEPARATORS = re.compile(r"[\s_\-.]+")
_CACHE_SIZE = 4096


def normalise_name(name: str) -> str:
    """A key or header name as redaction compares it: lower case, without ``_``, ``-``, ``.`` and spaces."""
    return _SEPARATORS.sub("", name.lower())


def _words(names: Iterable[str]) -> set[str]:
    return {word for word in (normalise_name(name) for name in names) if word}


def _matcher(words: set[str]) -> Optional[re.Pattern[str]]:
    if not words:
        return None
    return re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)))


class SecretNames:
    """Decide whether a key's or a header's value is secret, by the words of its name.

    Its only state is two bounded caches of names already decided, private to the ``Redactor`` that owns it.
    The arguments are ``Redactor``'s (see there).
    """

    def __init__(
        self,
        *,
        keys: Iterable[str] = (),
        headers: Iterable[str] = (),
        keep_keys: Iterable[str] = (),
        keep_headers: Iterable[str] = (),
        defaults: bool = True,
    ) -> None:
        self._keep_keys = _words(keep_keys) | (_words(DEFAULT_KEPT_KEYS) if defaults else set())
        self._keep_headers = _words(keep_headers)
        key_words = (_words(DEFAULT_KEYS) if defaults else set()) | _words(keys)
        header_words = (_words(DEFAULT_HEADER_WORDS) if defaults else set()) | _words(headers)
        self._header_names = frozenset((_words(DEFAULT_HEADERS) if defaults else set()) - self._keep_headers)
        self._key_words = _matcher(key_words - self._keep_keys)
        self._exact_keys = frozenset((_words(DEFAULT_EXACT_KEYS) if defaults else set()) - self._keep_keys)
        self._key_suffix = defaults
        self._key_suffix_kept = _words(KEY_SUFFIX_KEPT) | self._keep_headers
        self._header_words = _matcher(header_words - self._keep_headers)
        self._key_cache: dict[str, bool] = {}
        self._header_cache: dict[str, bool] = {}
        self._full_name_cache: dict[str, bool] = {}

    @property
    def has_keys(self) -> bool:
        """Whether any key is secret (False when every key word was switched off)."""
        return self._key_words is not None

    @property
    def has_header_words(self) -> bool:
        """Whether any header is secret by a word of its name."""
        return self._header_words is not None

    @property
    def found_in_text(self) -> bool:
        """Whether free text can name a secret: a key word, or a header by its full name (``Cookie: ...``)."""
        return self._key_words is not None or bool(self._exact_keys) or bool(self._header_names)

    def is_secret_key(self, name: str) -> bool:
        """Whether the value under this key (body, form, JSON, XML, query) is redacted."""
        known = self._key_cache.get(name)
        if known is None:
            word = normalise_name(name)
            known = word not in self._keep_keys and (
                word in self._exact_keys or bool(self._key_words is not None and self._key_words.search(word))
            )
            self._remember(self._key_cache, name, known)
        return known

    def is_kept_key(self, name: str) -> bool:
        """Whether ``keep_keys`` names this key in full (its value is then never redacted by its name)."""
        return normalise_name(name) in self._keep_keys

    def is_secret_header(self, name: str) -> bool:
        """Whether this header's value is redacted."""
        known = self._header_cache.get(name)
        if known is None:
            word = normalise_name(name)
            known = word not in self._keep_headers and (
                word in self._header_names
                or bool(self._header_words is not None and self._header_words.search(word))
                or (self._key_suffix and name.rstrip().lower().endswith("-key") and word not in self._key_suffix_kept)
            )
            self._remember(self._header_cache, name, known)
        return known

    def is_secret_header_name(self, name: str) -> bool:
        """Whether this is one of the headers redacted by their full name (not by a word in it)."""
        known = self._full_name_cache.get(name)
        if known is None:
            known = normalise_name(name) in self._header_names
            self._remember(self._full_name_cache, name, known)
        return known

    @staticmethod
    def _remember(cache: dict[str, bool], name: str, value: bool) -> None:
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[name] = value
