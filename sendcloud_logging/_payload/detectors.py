"""Secrets recognised by their values: well-known token formats, ``Basic``/``Bearer`` credentials and PEM
private keys, in any text, whatever name (or none) they are under.

The formats are the public ones of the services our users' connectors call (the same families gitleaks'
rules and GitHub's secret scanning list): Shopify, Stripe, AWS, GitHub, Slack, Google (API keys, OAuth
client secrets and access tokens), Mollie, SendGrid, JWTs, and
the shop platforms' own (WooCommerce ``ck_``/``cs_`` keys, Shopware ``SWSC``/``SWIA`` access keys, Ecwid
``secret_`` tokens). Each
rule has literal keywords, looked for first with ``in`` (cheap), so a text holding none of them costs a few
substring tests; the patterns are compiled once, here, and every one is linear: a bounded or
lookbehind-anchored start (a run of token characters is tried once, at its start), and classes that cannot
overlap what ends them.

``scrub`` is the one function the ``Redactor`` calls on every text, after the name-based rules: the token
formats here, then payment data (``payment``), then personal data (``pii``) unless it is to be sent.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any, Callable, Union

from . import payment, pii

__all__ = ["FILTERED", "aws_secret_beside", "is_aws_key_id", "scrub", "tokens"]

#: What a redacted value becomes (``redact.FILTERED`` is this one).
FILTERED = "[Filtered]"
#: Characters of the shortest text a detector finds something in (``a@b.nl``); shorter ones are skipped.
SHORTEST = 6

_Rule = tuple[tuple[str, ...], re.Pattern[str], Union[str, Callable[[re.Match[str]], str]]]

# A token starts where no token character is before it: a long run is tried once, at its start (linear).
_START = r"(?<![A-Za-z0-9_\-])"
_AWS_KEY_ID = r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[A-Z0-9]{16}"
_AWS_KEY_ID_RE = re.compile(rf"(?<![A-Za-z0-9]){_AWS_KEY_ID}(?![A-Za-z0-9])")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_KEYWORDS = ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "A3T")


def _basic(match: re.Match[str]) -> str:
    """``Basic <base64>`` redacted when the base64 decodes to ``user:password`` (so "Basic information" stays)."""
    encoded = match.group(2).replace("%3D", "=").replace("%3d", "=")
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    if b":" not in decoded:
        return match.group(0)
    return f"{match.group(1)} {FILTERED}"


#: (keywords, pattern, replacement); a rule is tried only when one of its keywords is in the text.
_RULES: tuple[_Rule, ...] = (
    # Shopify admin, custom app, private app tokens and app shared secrets.
    (("shpat_", "shpca_", "shppa_", "shpss_", "shpua_"),
     re.compile(rf"{_START}shp(?:at|ca|pa|ss|ua)_[A-Za-z0-9]{{16,}}"), FILTERED),
    # Stripe secret and restricted keys, live and test; webhook signing secrets.
    (("_live_", "_test_"), re.compile(rf"{_START}(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{{10,}}"), FILTERED),
    (("whsec_",), re.compile(rf"{_START}whsec_[A-Za-z0-9+/=]{{16,}}"), FILTERED),
    # GitHub personal, OAuth, app, user-to-server and refresh tokens; fine-grained personal tokens.
    (("ghp_", "gho_", "ghs_", "ghu_", "ghr_"), re.compile(rf"{_START}gh[opsur]_[A-Za-z0-9]{{20,}}"), FILTERED),
    (("github_pat_",), re.compile(rf"{_START}github_pat_[A-Za-z0-9_]{{20,}}"), FILTERED),
    # Slack bot, user, app-level tokens and webhooks.
    (("xox", "xapp-"), re.compile(rf"{_START}(?:xox[abposre]|xapp)-[A-Za-z0-9\-]{{10,}}"), FILTERED),
    (("hooks.slack.com",), re.compile(r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9_/\-]+"),
     rf"\1{FILTERED}"),
    # WooCommerce REST keys, Shopware access keys (sales channel, integration, user), Ecwid secret tokens.
    (("ck_", "cs_"), re.compile(rf"{_START}c[ks]_[0-9a-f]{{40}}(?![A-Za-z0-9])"), FILTERED),
    (("SWSC", "SWIA", "SWUA"), re.compile(r"(?<![A-Za-z0-9])SW(?:SC|IA|UA)[A-Z0-9]{20,}"), FILTERED),
    (("secret_",), re.compile(rf"{_START}secret_(?=[A-Za-z]{{0,64}}[0-9])[A-Za-z0-9]{{24,}}"), FILTERED),
    # Google API keys, OAuth client secrets and access tokens.
    (("AIza",), re.compile(rf"{_START}AIza[A-Za-z0-9_\-]{{30,}}"), FILTERED),
    (("GOCSPX-",), re.compile(rf"{_START}GOCSPX-[A-Za-z0-9_\-]{{20,}}"), FILTERED),
    (("ya29.",), re.compile(rf"{_START}ya29\.[A-Za-z0-9_\-]{{20,}}"), FILTERED),
    # Mollie API keys (a payment provider of many shops), SendGrid API keys (shops' e-mail).
    (("live_", "test_"), re.compile(rf"{_START}(?:live|test)_[A-Za-z0-9]{{30}}(?![A-Za-z0-9])"), FILTERED),
    (("SG.",), re.compile(rf"{_START}SG\.[A-Za-z0-9_\-]{{16,32}}\.[A-Za-z0-9_\-]{{16,64}}"), FILTERED),
    # JWTs (JWS, JWE): base64url JSON header "eyJ", then two or more base64url parts.
    (("eyJ",), re.compile(
        rf"{_START}eyJ[A-Za-z0-9_\-]{{4,}}=*\.[A-Za-z0-9_\-]{{4,}}=*\.[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+){{0,2}}"
    ), FILTERED),
    # AWS access key ids (and the secret beside one: ``tokens``).
    (_AWS_KEYWORDS, _AWS_KEY_ID_RE, FILTERED),
    # Credentials of an Authorization header, wherever the text shows them.
    (("Basic", "basic", "BASIC"), re.compile(
        r"\b([Bb]asic|BASIC)(?:[ \t]+|%20|\+)([A-Za-z0-9+/]{4,}(?:={0,2}|(?:%3[Dd]){0,2}))(?![A-Za-z0-9+/=%])"
    ), _basic),
    (("Bearer", "bearer", "BEARER"), re.compile(r"\b([Bb]earer|BEARER)[ \t]+[A-Za-z0-9\-._~+/]{8,}=*"),
     rf"\1 {FILTERED}"),
    # requests' and http.client's errors quoting a header's value: "in header value: 'abc\n'".
    (("header value",), re.compile(
        r"((?:[Ii]n header value:?|[Ii]nvalid header value|[Ii]llegal header value)[ \t]*b?)"
        r"(?:'(?:[^'\\\n]|\\.){0,4096}'?|\"(?:[^\"\\\n]|\\.){0,4096}\"?)"
    ), rf"\1'{FILTERED}'"),
)

_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")


def _pem(text: str) -> str:
    """Private key blocks, from their BEGIN line to their END line (or to the end of a cut text).

    Found by ``str.find`` from each BEGIN onwards, never by a lazy pattern: one pass over the text."""
    out: list[str] = []
    pos = 0
    while True:
        begin = _PEM_BEGIN.search(text, pos)
        if begin is None:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos : begin.end()])
        end = _PEM_END.search(text, begin.end())
        if end is None:
            out.append(FILTERED)
            return "".join(out)
        out.append(FILTERED)
        out.append(end.group(0))
        pos = end.end()


_PART, _FROM, _MUST = "Header part (", ") from (", ") must be of type"
_MAX_PART = 1024  # characters of a quoted header value looked through


def _header_part(text: str) -> str:
    """requests' "Header part (<value>) from ('<name>', <value>) must be of type ...": the value goes twice,
    the name stays. Found by bounded ``str.find``s from each start: one pass over the text."""
    out: list[str] = []
    pos = 0
    while True:
        start = text.find(_PART, pos)
        if start < 0:
            break
        middle = text.find(_FROM, start, start + len(_PART) + _MAX_PART)
        end = -1 if middle < 0 else text.find(_MUST, middle, middle + len(_FROM) + 2 * _MAX_PART)
        if end < 0:
            out.append(text[pos : start + len(_PART)])
            pos = start + len(_PART)
            continue
        name = text[middle + len(_FROM) : end].partition(",")[0]
        out.append(f"{text[pos:start]}{_PART}{FILTERED}{_FROM}{name}, {FILTERED}{_MUST}")
        pos = end + len(_MUST)
    out.append(text[pos:])
    return "".join(out)


#: Every rule's keywords in one pattern: most texts hold none, and one search tells.
_ANY_KEYWORD = re.compile("|".join(sorted(
    {re.escape(word) for keywords, _, _ in _RULES for word in keywords} | {re.escape(_PART), "PRIVATE KEY"},
    key=len, reverse=True,
)))


def tokens(text: str) -> str:
    """Well-known token formats, ``Basic``/``Bearer`` credentials, header values quoted by errors and PEM
    private keys replaced by ``[Filtered]``; an AWS secret key beside an access key id too."""
    if _ANY_KEYWORD.search(text) is None:
        return text
    for keywords, pattern, replacement in _RULES:
        if any(word in text for word in keywords):
            if keywords is _AWS_KEYWORDS and _AWS_KEY_ID_RE.search(text):
                text = _AWS_SECRET.sub(_aws_secret, text)  # the 40-character secret that goes with the id
            text = pattern.sub(replacement, text)
    if _PART in text:
        text = _header_part(text)
    if "PRIVATE KEY" in text:
        text = _pem(text)
    return text


def is_aws_key_id(value: Any) -> bool:
    """Whether a value is an AWS access key id (its secret key is looked for beside it)."""
    return (isinstance(value, str) and len(value) == 20 and value.startswith(_AWS_KEYWORDS)
            and _AWS_KEY_ID_RE.fullmatch(value) is not None)


def aws_secret_beside(values: Union[Mapping[str, Any], list[Any]]) -> bool:
    """Whether a dict's values or a list's items hold an AWS access key id (then its 40-character values are
    secrets)."""
    items = values.values() if isinstance(values, Mapping) else values
    return any(type(value) is str and len(value) == 20 and is_aws_key_id(value) for value in items)


def is_aws_secret(value: Any) -> bool:
    """Whether a string is shaped like an AWS secret access key: 40 base64 characters, both cases and a digit
    or ``/``/``+`` among them (a hex digest is not)."""
    return isinstance(value, str) and len(value) == 40 and _AWS_SECRET.fullmatch(value) is not None and _mixed(value)


def _mixed(value: str) -> bool:
    return (not value.islower() and not value.isupper()
            and any(char.isdigit() or char in "/+" for char in value))


def _aws_secret(match: re.Match[str]) -> str:
    return FILTERED if _mixed(match.group(0)) else match.group(0)


#: Seven digits, single separators between them allowed: what a card number, an IBAN and a phone number
#: hold (an IP address is looked for by its dots). Most texts have none: one search skips those detectors.
_SEVEN_DIGITS = re.compile(r"[0-9](?:[ .\-+()/]?[0-9]){6}")


def scrub(text: str, send_pii: bool = False) -> str:
    """Every detector by value over one text: token formats, payment data, and personal data unless
    ``send_pii``. The one function the ``Redactor`` applies to every text, after the name-based rules."""
    text = tokens(text)
    digits = _SEVEN_DIGITS.search(text) is not None
    if digits:
        text = payment.scrub(text)
    return text if send_pii else pii.scrub(text, digits)
