"""Payment data recognised by its value: card numbers and IBANs, each confirmed by its check digits.

- A card number is 13 to 19 digits, written together or in groups split by single spaces, dashes or ``+``
  (a form-encoded space), that
  starts like a card of a real scheme (Visa 4, Mastercard 51-55 and 2221-2720, Amex 34/37, Discover 6011/65/
  644-649, JCB 35, Diners 36/38/300-305, UnionPay 62, Maestro 50/56-69) and passes the Luhn check. Order
  numbers, tracking numbers, EANs and millisecond timestamps rarely do both, so they stay readable.
- An IBAN is two letters, two check digits and 11 to 30 letters or digits (groups of four may be split by
  spaces); it is redacted only when its ISO 13616 mod-97 check holds.

CVV/CVC values are redacted by their key names (``secret_names``). Patterns are compiled once and linear:
each starts where no digit (or letter) is before it, and its repetitions are bounded.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["is_card_number", "is_iban", "luhn", "scrub"]

FILTERED = "[Filtered]"

#: Characters of an IBAN by country (ISO 13616 registry); other countries' IBANs are taken at 15-34.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}
_CARD = re.compile(r"(?<![\w\-+])[0-9](?:[ \-+]?[0-9]){12,18}(?![\w\-+])")
_GROUP_SEPARATOR = re.compile(r"[ \-+]")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_NOT_DIGIT = re.compile(r"[^0-9]")


def luhn(digits: str) -> bool:
    """Whether a string of digits passes the Luhn (mod 10) check."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = ord(char) - 48
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_prefix(digits: str) -> bool:
    """Whether the digits start like a card of a real scheme (its issuer identification number)."""
    first = digits[0]
    if first == "4":
        return True
    two, four = int(digits[:2]), int(digits[:4])
    if first == "5":
        return 50 <= two <= 59  # Mastercard 51-55, Maestro 50 and 56-59
    if first == "3":
        return two in (34, 35, 36, 37, 38) or 300 <= int(digits[:3]) <= 305
    if first == "6":
        return True  # Discover, UnionPay, Maestro 6x, RuPay
    if first == "2":
        return 2221 <= four <= 2720
    return False


def is_card_number(value: Any) -> bool:
    """Whether a string (digits with optional spaces or dashes) or an int is a card number."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return False
    digits = str(value) if isinstance(value, int) else _NOT_DIGIT.sub("", value)
    return 13 <= len(digits) <= 19 and _card_prefix(digits) and luhn(digits)


def is_iban(text: str) -> bool:
    """Whether ``text`` (spaces allowed) is an IBAN whose mod-97 check holds."""
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    moved = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(char, 36)) for char in moved))
    except ValueError:
        return False
    return number % 97 == 1


def _card(match: re.Match[str]) -> str:
    """The card number the match starts with: all of it, or its first groups (a card followed by its
    expiry month, ``4111 1111 1111 1111 12/28``, keeps ``12/28``)."""
    found = match.group(0)
    if is_card_number(found):
        return FILTERED
    for separator in reversed(list(_GROUP_SEPARATOR.finditer(found))):
        head = found[: separator.start()]
        if len(head) < 13:
            break
        if is_card_number(head):
            return FILTERED + found[separator.start():]
    return found


def _iban(match: re.Match[str]) -> str:
    """The IBAN the match starts with: as many characters as its country's IBANs have (a word after it,
    "NL91 ABNA 0417 1643 00 EUR", stays), else the longest prefix, group by group, whose check holds."""
    found = match.group(0)
    length = IBAN_LENGTHS.get(found[:2])
    if length is not None:
        taken = end = 0
        while end < len(found) and taken < length:
            taken += found[end] != " "
            end += 1
        tail = found[end:]
        ok = taken == length and (not tail or tail.startswith(" ")) and is_iban(found[:end])
        return FILTERED + tail if ok else found
    candidate = found
    while len(candidate) >= 15:
        if is_iban(candidate):
            return FILTERED + found[len(candidate):]
        head, space, _ = candidate.rpartition(" ")
        if not space:
            break
        candidate = head
    return found


def scrub(text: str) -> str:
    """Card numbers (Luhn-checked) and IBANs (mod-97-checked) in a text replaced by ``[Filtered]``."""
    text = _CARD.sub(_card, text)
    return _IBAN.sub(_iban, text)
