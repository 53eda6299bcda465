"""Personal data of shop customers, redacted unless the handler is built with ``send_pii=True``.

GDPR's data minimisation: a failed shop call is debugged with order numbers, countries, postal codes and
cities; a customer's name, e-mail address, phone number, street and IP address are not needed for it.

- In any text: e-mail addresses, phone numbers written as phone numbers (``+31 6 12345678``,
  ``0031 20 1234567``, ``(555) 123-4567``, ``555-123-4567``, ``020 123 4567``, ``06 12 34 56 78``) and IP
  addresses (v4 and v6, checked by ``ipaddress``; loopback and unspecified addresses stay: they name no one).
- In bodies: string values under personal keys (``PERSONAL_KEYS``: first, last and full names, e-mail,
  phone, street and address lines, company contacts), at any depth. A key that also names what a shipment
  needs (``country``, ``postal_code``, ``city``...) is kept, and so are values that are objects (an
  ``address`` object keeps its country and city, its ``street`` goes). ``name`` alone is personal only beside
  another personal key (``{"name": ..., "email": ...}``), not as a product's name.

Patterns are compiled once and linear: each starts where the character before cannot continue it, and each
repetition is bounded.
"""

from __future__ import annotations

import ipaddress
import re

from .secret_names import normalise_name

__all__ = ["KEPT_KEYS", "PERSONAL_KEYS", "is_personal_key", "scrub"]

FILTERED = "[Filtered]"

#: A key whose name contains one of these words holds personal data (compared as ``secret_names`` does).
PERSONAL_KEYS = (
    "first_name", "firstname", "last_name", "lastname", "full_name", "fullname", "given_name", "family_name",
    "middle_name", "surname", "customer_name", "contact_name", "recipient_name", "billing_name", "shipping_name",
    "contact_person", "company_contact", "email", "e_mail", "phone", "mobile", "fax", "street", "address",
    "house_number", "housenumber", "birth", "ip_address", "remote_addr", "client_ip",
)
#: Words that keep a key although it holds a personal word: what a shipping integration needs to debug.
KEPT_KEYS = ("country", "postal", "postcode", "zip", "city", "state", "province", "region", "verified", "type",
             "opt_in", "optin", "id")

_PERSONAL = re.compile("|".join(sorted({normalise_name(word) for word in PERSONAL_KEYS}, key=len, reverse=True)))
_KEPT = re.compile("|".join(sorted({normalise_name(word) for word in KEPT_KEYS if word != "id"}, key=len,
                                   reverse=True)))

_EMAIL = re.compile(  # any script: a label is letters and digits of any alphabet, with inner dashes
    r"(?<![\w.%+\-])[\w.%+\-]{1,64}(?:@|%40)(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.){1,8}"
    r"(?:[^\W\d_]{2,24}|xn--[a-z0-9\-]{1,59})(?![\w\-])"
)
_PHONE = re.compile(
    r"(?<![\w+.\-/:])(?:"
    r"(?:\+|00)[1-9][0-9 .\-()]{5,20}[0-9]"  # international: +31 6 12345678, 0031 20 1234567
    r"|\([0-9]{2,5}\)[ .\-]?[0-9]{3,4}[ .\-]?[0-9]{3,5}"  # (555) 123-4567
    r"|[2-9][0-9]{2}[\-. ][0-9]{3}[\-. ][0-9]{4}"  # North American: 555-123-4567
    r"|0[1-9][0-9]{0,3}(?:[ .\-/][0-9]{2,8}){1,4}"  # national, groups split: 020 123 4567, 06 12 34 56 78
    r")(?![0-9]|[\-.][0-9])"
)
_IPV4 = re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9]|\.[0-9])")
_IPV6 = re.compile(r"(?<![0-9A-Za-z:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:]{2,39}(?:%[0-9A-Za-z]{1,16})?"
                   r"(?:(?<=:)[0-9]{1,3}(?:\.[0-9]{1,3}){3})?(?![0-9A-Za-z:])")
_DIGITS_MIN, _DIGITS_MAX = 7, 15  # a phone number (E.164 allows 15)
_NATIONAL_MIN, _NATIONAL_MAX = 9, 12  # with its leading 0 and area code


def _phone(match: re.Match[str]) -> str:
    """A phone number has 7 to 15 digits; one written with ``00`` has a separator too (else it may be a
    zero-padded order number); a national one (``0`` and an area code) has 9 to 12 (a date has 8)."""
    found = match.group(0)
    digits = sum(char.isdigit() for char in found)
    if found.startswith("00") and digits == len(found):
        return found
    if found[0] == "0" and found[1:2] != "0":
        return FILTERED if _NATIONAL_MIN <= digits <= _NATIONAL_MAX else found
    return FILTERED if _DIGITS_MIN <= digits <= _DIGITS_MAX else found


def _ip(match: re.Match[str]) -> str:
    found = match.group(0)
    try:
        address = ipaddress.ip_address(found.partition("%")[0])
    except ValueError:
        return found
    return found if address.is_loopback or address.is_unspecified else FILTERED


def scrub(text: str, digits: bool = True) -> str:
    """E-mail addresses, phone numbers and IP addresses in a text replaced by ``[Filtered]``.

    ``digits``: False when the text is known to hold no seven digits in a row (so no phone number)."""
    if "@" in text or "%40" in text:  # also URL-encoded: /customers/jan%40example.com
        text = _EMAIL.sub(FILTERED, text)
    if text.count(".") >= 3:
        text = _IPV4.sub(_ip, text)
    if "::" in text or text.count(":") >= 7:
        text = _IPV6.sub(_ip, text)
    return _PHONE.sub(_phone, text) if digits else text


def is_personal_key(name: str) -> bool:
    """Whether a string value under this key is personal data (``name`` alone: see ``names_a_person``)."""
    word = normalise_name(name)
    return bool(_PERSONAL.search(word)) and not _KEPT.search(word) and not word.endswith("id")


