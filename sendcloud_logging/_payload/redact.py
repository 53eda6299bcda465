"""Redaction: shop secrets in headers, bodies, URLs and messages become ``[Filtered]`` before a log is queued.

Pure code, run on the worker thread by ``_payload.build_payload`` over values that are already JSON-safe
(dicts, lists, strings, numbers); each ``PayloadPolicy`` owns its ``Redactor``, so no instance (and no
name cache) is shared between handlers. Which names are secret is ``secret_names``'s rule; this module finds
them and their values:

- in headers, and in raw ``Name: value`` header blocks;
- at any depth of a body's keys; in any text, as ``key=value`` pairs (query strings, forms, cookies), as
  ``"key": value`` pairs (JSON, Python reprs), as ``<key>value</key>`` (XML), as ``key: value`` lines and
  as multipart form fields;
- the user information of URLs (``https://user:password@host`` becomes ``https://[Filtered]@host``);
- then, in every text, secrets by their values (``detectors.scrub``: token formats, ``Basic``/``Bearer``
  credentials, PEM keys, card numbers, IBANs, and personal data unless ``send_pii``).

In bodies, besides the secret names: the values of secret headers a shop echoes back (``{"headers":
{"Cookie": ...}}``), an AWS secret key beside its access key id, card numbers given as ints, and (unless
``send_pii``) string and number values under personal keys (``pii.PERSONAL_KEYS``).

Empty values (``None``, ``""``) are kept as they are: they hide nothing and tell a reader that nothing was sent.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any, Callable, Optional
from urllib.parse import unquote_plus

from . import detectors, payment, pii
from .limits import CUT_MARKER, CUT_MARKER_PATTERN, clip, head
from .secret_names import SecretNames, normalise_name

__all__ = [
    "FILTERED",
    "Redactor",
    "bounded_text",
]

#: What a redacted value becomes.
FILTERED = detectors.FILTERED

_MIN_SECRET_VALUE = 6  # exact secret values shorter than this would match ordinary text
_CACHE_SIZE = 4096  # names decided, at most, as in ``SecretNames``
_MAX_NESTING = 3  # pairs inside pairs' values (url=https://x?token=..., '{"token": ...}' in a repr) looked into

# Patterns over text. Each is linear: bounded keys, value classes that cannot overlap their terminators.
_USERINFO = re.compile(r"((?:\b[A-Za-z][A-Za-z0-9+.\-]{0,30}:)?//)([^\s/?#@\[\]<>\"']+)@")  # also //user@host
# A URL whose authority was cut before its "@" (at the end of a cut text, or before a cut's marker): its
# "user:pass" cannot be told from "host:port", so both go.
_AUTHORITY_AT_END = r"\b([A-Za-z][A-Za-z0-9+.\-]{0,30}://)[^\s/?#@\[\]<>\"']+"
_CUT_USERINFO = re.compile(_AUTHORITY_AT_END + rf"(?={CUT_MARKER_PATTERN}\Z)")
_CUT_TAIL = CUT_MARKER.rpartition("}")[2]  # " bytes cut]": a cheap test before the pattern
_CUT_USERINFO_AT_END = re.compile(_AUTHORITY_AT_END + r"\Z")
_KEY_VALUE = re.compile(
    r"(?<![\w.\-\[\]%+])(?P<key>[\w.\-\[\]%+]{1,128})=(?P<val>\"[^\"\n]*\"?|'[^'\n]*'?|[^&;\s#\"'<>]*)"
)
_QUOTED_PAIR = re.compile(
    r"(?P<q>[\"'])(?P<key>[^\"'\\\n]{1,128})(?P=q)[ \t]*:[ \t]*"
    r"(?P<val>\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?|[-+\w.]+)"
)
_ESCAPED_PAIR = re.compile(  # JSON inside a JSON string, as raw text shows it: {\"token\": \"abc\"}
    r"(?<!\\)(?P<q>\\{1,7}\")(?P<key>[^\"\\\n]{1,128})(?P=q)[ \t]*:[ \t]*"
    r"(?P<val>(?P=q)(?:[^\"\\\n]|\\{1,7}[^\"\\\n])*(?:(?P=q))?|[-+\w.]+)"
)
_XML_ELEMENT = re.compile(  # a value as text, or inside CDATA (PrestaShop writes every value so)
    r"<(?P<tag>[A-Za-z_][\w.\-]{0,63}(?::[A-Za-z_][\w.\-]{0,63})?)(?P<attrs>\s[^<>]{0,1024})?>"
    r"(?P<val>[^<]*|[ \t\r\n]{0,64}<!\[CDATA\[(?P<cdata>(?:[^<\]]|\](?!\]>))*)\]\]>[ \t\r\n]{0,64})</(?P=tag)\s*>"
)
_LINE_PAIR = re.compile(r"(?m)^(?P<pre>[ \t]*)(?P<key>[A-Za-z][\w\-]{0,63})[ \t]*:[ \t]*(?P<val>[^\r\n]*)")
_FIELD_NAME = re.compile(r'\bname="([^"\r\n]{1,128})"')
_MAX_PART_HEADERS = 16
_EMPTY_LITERALS = frozenset({"", '""', "''", "null", "None"})
_HEADERS_KEY = "headers"  # a dict under a key ending so holds headers (``{"headers": {"Cookie": ...}}``)
_NAME_KEY = "name"
_SECRET, _PERSONAL, _NAME = "secret", "personal", "name"  # what a key means for its value (``Redactor._rule``)


class Redactor:
    """Replace secret values with ``[Filtered]``: under secret names (``names``) and inside free text.

    Its only state is its ``SecretNames``' bounded caches, private to the policy that owns it.

    Args:
        keys: More key words to redact in bodies, forms, JSON, XML and query strings.
        headers: More header names (or words of names) to redact.
        keep_keys: Keys never redacted: a default word listed here is switched off (``"token"``), and a
            full key name listed here is kept although it contains a word (``"token_type"``).
        keep_headers: The same for headers (``"WWW-Authenticate"``, or ``"session"`` to switch that word off).
        defaults: False switches every built-in list off; only ``keys`` and ``headers`` are redacted then.
        values: Exact strings (such as the handler's own API keys) replaced wherever they appear in text.
        send_pii: True sends personal data (e-mail addresses, phone numbers, IP addresses, names and
            addresses); by default they are redacted.
    """

    def __init__(
        self,
        *,
        keys: Iterable[str] = (),
        headers: Iterable[str] = (),
        keep_keys: Iterable[str] = (),
        keep_headers: Iterable[str] = (),
        defaults: bool = True,
        values: Iterable[str] = (),
        send_pii: bool = False,
    ) -> None:
        #: Which keys and headers are secret.
        self.names = SecretNames(
            keys=keys, headers=headers, keep_keys=keep_keys, keep_headers=keep_headers, defaults=defaults
        )
        self._values = _exact(values)
        self.send_pii = send_pii
        self._rules: dict[str, str] = {}
        self._key_texts: dict[str, str] = {}

    def __repr__(self) -> str:  # never the secret values themselves
        return f"<Redactor keys={self.names.has_keys} headers={self.names.has_header_words} send_pii={self.send_pii}>"

    def with_values(self, values: Iterable[str]) -> Redactor:
        """This redactor with more exact values (a merchant's own keys); its names and caches are shared."""
        more = _exact((*self._values, *values))
        if more == self._values:
            return self
        twin = copy.copy(self)
        twin._values = more
        twin._key_texts = {}  # texts redacted without these values
        return twin

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Secret headers' values replaced; the other values redacted as text (URLs in ``Location``...), and
        names too (a name is text a record made up)."""
        return {
            self.text(name): FILTERED if value and self.names.is_secret_header(name) else self.text(value)
            for name, value in headers.items()
        }

    def header_block(self, raw: str, *, cut: bool = False) -> str:
        """A raw ``Name: value`` header block, line by line; ``cut``: as for ``text``."""
        lines = raw.split("\n")
        for i, line in enumerate(lines):
            name, colon, value = line.partition(":")
            if colon and value.strip() and self.names.is_secret_header(name.strip()):
                ending = "\r" if value.endswith("\r") else ""
                lines[i] = f"{name}: {FILTERED}{ending}"
            else:
                lines[i] = self.text(line, cut=cut and i == len(lines) - 1)
        return "\n".join(lines)

    def value(self, value: Any, parent: str = "") -> Any:
        """A copy of a JSON-safe value with secret keys' values replaced, at any depth; strings as text.

        ``parent``: the key the value is under (a dict under ``headers`` is redacted as headers)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return self._dict(value, parent)
        if isinstance(value, list):
            if parent[-7:].lower() == _HEADERS_KEY and _is_header_pair(value) and self.names.is_secret_header(value[0]):
                return [self._key_text(value[0]), FILTERED]  # ["Cookie", "..."] among a shop's echoed headers
            if detectors.aws_secret_beside(value):  # ["AKIA...", "<its secret>"]
                return [FILTERED if detectors.is_aws_secret(item) else self.value(item, parent) for item in value]
            return [self.value(item, parent) for item in value]
        if isinstance(value, int) and not isinstance(value, bool) and value >= 10**12 and payment.is_card_number(value):
            return FILTERED
        return value

    def _dict(self, value: dict[str, Any], parent: str) -> dict[str, Any]:
        as_headers = parent[-7:].lower() == _HEADERS_KEY
        aws = detectors.aws_secret_beside(value)
        rules = [self._rule(key) for key in value]
        person = _NAME in rules and _PERSONAL in rules  # "name" beside an e-mail or a street: a person's name
        out = {}
        for rule, (key, item) in zip(rules, value.items()):
            if item is not None and item != "" and (
                rule is _SECRET
                or (rule is _PERSONAL and isinstance(item, (str, int)) and not isinstance(item, bool))
                or (person and rule is _NAME and isinstance(item, str))
                or (as_headers and self.names.is_secret_header(key))
                or (aws and detectors.is_aws_secret(item))
            ):
                out[self._key_text(key)] = FILTERED
            else:
                out[self._key_text(key)] = self.value(item, key)
        return out

    def _rule(self, key: str) -> str:
        """What a body's key means for its value (``_SECRET``, ``_PERSONAL``, ``_NAME`` or ``""``), cached."""
        known = self._rules.get(key)
        if known is None:
            names = self.names
            if names.is_secret_key(key) or names.is_secret_header_name(key):
                known = _SECRET
            elif self.send_pii or names.is_kept_key(key):  # keep_keys=["email"] keeps e-mail values too
                known = ""
            elif pii.is_personal_key(key):
                known = _PERSONAL
            else:
                known = _NAME if normalise_name(key) == _NAME_KEY else ""
            _remember(self._rules, key, known)
        return known

    def _key_text(self, key: str) -> str:
        """A body's key redacted as text, cached (keys repeat in every item of a list)."""
        known = self._key_texts.get(key)
        if known is None:
            known = self.text(key)
            _remember(self._key_texts, key, known)
        return known

    def _secret_in_text(self, key: str) -> bool:
        """Whether a key found in text (``key=value``, ``"key": value``, XML) names a value to redact."""
        return self._rule(key) in (_SECRET, _PERSONAL)

    def text(self, text: str, *, multipart: bool = False, cut: bool = False) -> str:
        """Secrets inside free text: ``key=value``, ``"key": value``, XML elements, ``Key: value`` lines,
        URL user information, the exact ``values`` given, then every detector by value (``detectors.scrub``).

        ``multipart``: the text is a multipart form. ``cut``: the text is the head of a longer one, so a URL
        at its very end may have lost its ``@``.
        """
        if len(text) < 4:
            return text
        text = self._by_name(text, multipart, cut)
        return text if len(text) < detectors.SHORTEST else detectors.scrub(text, self.send_pii)

    def _by_name(self, text: str, multipart: bool, cut: bool) -> str:
        """The name-based rules of ``text`` (and the exact values, and URL user information)."""
        for secret in self._values:
            if secret in text:
                text = text.replace(secret, FILTERED)
        if "//" in text:
            text = _USERINFO.sub(rf"\1{FILTERED}@", text)
            if _CUT_TAIL in text:
                text = _CUT_USERINFO.sub(rf"\1{FILTERED}", text)
            if cut:
                text = _CUT_USERINFO_AT_END.sub(rf"\1{FILTERED}", text)
        if not self.names.found_in_text and self.send_pii:
            return text
        if multipart and "name=" in text:
            text = self._multipart(text)
        if "=" in text:
            text = self._pairs(_KEY_VALUE, self._key_value, text)
        if ":" in text:
            if '"' in text or "'" in text:
                text = self._pairs(_QUOTED_PAIR, self._quoted_pair, text)
            if '\\"' in text:
                text = self._pairs(_ESCAPED_PAIR, self._escaped_pair, text)
            text = _LINE_PAIR.sub(self._line_pair, text)
        if "</" in text:
            text = _XML_ELEMENT.sub(self._xml_element, text)
        return text

    def _pairs(self, pattern: re.Pattern[str], secret: Callable[[re.Match[str]], Optional[str]], text: str,
               depth: int = 0) -> str:
        """``pattern.sub`` for key/value pairs: ``secret(match)`` gives the pair's redacted text, or None when
        the key is not secret; then the value is searched for pairs of its own, ``_MAX_NESTING`` deep."""

        def replace(match: re.Match[str]) -> str:
            redacted = secret(match)
            if redacted is not None:
                return redacted
            value = match.group("val")
            if depth >= _MAX_NESTING or len(value) < 4:
                return match.group(0)
            start = match.start("val") - match.start(0)
            return match.group(0)[:start] + self._pairs(pattern, secret, value, depth + 1)

        return pattern.sub(replace, text)

    def _key_value(self, match: re.Match[str]) -> Optional[str]:
        value = match.group("val")
        if not self._secret_in_text(unquote_plus(match.group("key"))):
            return None
        if value in _EMPTY_LITERALS:
            return match.group(0)
        quote = value[0] if value[0] in "\"'" else ""
        return f"{match.group('key')}={quote}{FILTERED}{quote}"

    def _quoted_pair(self, match: re.Match[str]) -> Optional[str]:
        value = match.group("val")
        key = match.group("key")
        if not self._secret_in_text(key):  # a secret header's name too: "Cookie": "..."
            return None
        if value in _EMPTY_LITERALS:
            return match.group(0)
        start = match.start("val") - match.start(0)
        quote = value[0] if value[0] in "\"'" else match.group("q")
        return f"{match.group(0)[:start]}{quote}{FILTERED}{quote}"

    def _escaped_pair(self, match: re.Match[str]) -> Optional[str]:
        value = match.group("val")
        key = match.group("key")
        if not self._secret_in_text(key):  # a secret header's name too: "Cookie": "..."
            return None
        quote = match.group("q")
        start = match.start("val") - match.start(0)
        if value in _EMPTY_LITERALS or (value.startswith(quote) and value[len(quote):] in ("", quote)):
            return match.group(0)  # an empty string
        return f"{match.group(0)[:start]}{quote}{FILTERED}{quote}"

    def _line_pair(self, match: re.Match[str]) -> str:
        key, value = match.group("key"), match.group("val").strip()
        if not value or value.startswith(FILTERED):
            return match.group(0)
        is_key_header = key[-4:].lower() == "-key" and self.names.is_secret_header(key)  # X-Shopware-Key: ...
        if not (self._secret_in_text(key) or is_key_header):
            return match.group(0)
        return f"{match.group('pre')}{key}: {FILTERED}"

    def _xml_element(self, match: re.Match[str]) -> str:
        tag = match.group("tag")
        cdata = match.group("cdata")
        shown = match.group("val") if cdata is None else cdata
        if not shown.strip() or not self._secret_in_text(tag.rpartition(":")[2]):
            return match.group(0)
        return f"<{tag}{match.group('attrs') or ''}>{FILTERED}</{tag}>"

    def _multipart(self, text: str) -> str:
        """A multipart form, line by line: a secret field's value (the lines after its headers' blank line,
        up to the next boundary) becomes one ``[Filtered]`` line."""
        lines = text.split("\n")
        out: list[str] = []
        i, n = 0, len(lines)
        while i < n:
            line = lines[i]
            out.append(line)
            i += 1
            if "name=" not in line or not line.lstrip().lower().startswith("content-disposition:"):
                continue
            name = _FIELD_NAME.search(line)
            if name is None or not self._secret_in_text(name.group(1)):
                continue
            blank = i
            while blank < n and blank - i < _MAX_PART_HEADERS and lines[blank].strip("\r"):
                blank += 1  # the part's other headers
            if blank >= n or lines[blank].strip("\r"):
                continue
            out.extend(lines[i : blank + 1])
            i = blank + 1
            if i < n and not lines[i].startswith("--"):
                out.append(FILTERED + ("\r" if lines[i].endswith("\r") else ""))
                while i < n and not lines[i].startswith("--"):
                    i += 1
        return "\n".join(out)


def _is_header_pair(value: list[Any]) -> bool:
    return len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], str) and value[1] != ""


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value


def _exact(values: Iterable[str]) -> tuple[str, ...]:
    """Exact secret values worth looking for, longest first (a key may contain a shorter one)."""
    return tuple(sorted({v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET_VALUE},
                        key=len, reverse=True))


def bounded_text(
    text: str,
    max_bytes: int,
    redactor: Optional[Redactor],
    missing: int = 0,
    *,
    mime: str = "",
    header_block: bool = False,
) -> str:
    """At most ``max_bytes`` of ``text``: its head is redacted (only the head: the work stays bounded by
    the cap, not by the input), then cut, with one marker counting every byte left out.

    ``missing``: bytes already left off the end of ``text``. ``mime``: the body's type (multipart forms are
    redacted field by field). ``header_block``: the text is a raw header block.
    """
    kept, cut = head(text, max_bytes)
    if redactor is not None:
        was_cut = bool(cut or missing)
        if header_block:
            kept = redactor.header_block(kept, cut=was_cut)
        else:
            kept = redactor.text(kept, multipart=mime.startswith("multipart/"), cut=was_cut)
    return clip(kept, max_bytes, cut + missing)
