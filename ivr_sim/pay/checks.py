"""Checking card and bank digits as Twilio does: Luhn, card type, expiry, codes, ABA."""

from __future__ import annotations

import re
from datetime import date

from ivr_sim.pay.names import (
    INVALID_ACCOUNT_NUMBER,
    INVALID_CARD_NUMBER,
    INVALID_CARD_TYPE,
    INVALID_DATE,
    INVALID_POSTAL_CODE,
    INVALID_ROUTING_NUMBER,
    INVALID_SECURITY_CODE,
)

# Card type by the number's first digits (Twilio's validCardTypes table), and the lengths
# each type may have. Discover is tried before Maestro, which otherwise claims every 6.
_CARD_PREFIXES: tuple[tuple[str, re.Pattern[str], frozenset[int]], ...] = tuple(
    (name, re.compile(prefix), frozenset(lengths))
    for name, prefix, lengths in (
        ("amex", r"3[47]", (15,)),
        ("jcb", r"35(2[89]|[3-8]\d)", range(16, 20)),
        ("diners-club", r"36", range(14, 20)),
        ("diners-club", r"30[0-4]|3095|3[89]", range(16, 20)),
        ("enroute", r"2014|2149", (15,)),
        ("mastercard", r"5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720", (16,)),
        ("visa", r"4", (13, 16, 19)),
        ("discover", r"6011|6[45]", range(16, 20)),
        ("maestro", r"5[0678]|6", range(12, 20)),
    )
)


def card_type_of(number: str) -> str | None:
    """Return the card type Twilio reads from the number's first digits, or None."""
    for name, prefix, _ in _CARD_PREFIXES:
        if prefix.match(number):
            return name
    return None


def check_card_number(number: str, valid_types: tuple[str, ...]) -> str | None:
    """Return the error type for a card number, or None when Twilio would take it."""
    if not re.fullmatch(r"\d{12,19}", number) or not luhn_valid(number):
        return INVALID_CARD_NUMBER
    for name, prefix, lengths in _CARD_PREFIXES:
        if prefix.match(number):
            if len(number) not in lengths:
                return INVALID_CARD_NUMBER
            return None if name in valid_types else INVALID_CARD_TYPE
    return INVALID_CARD_TYPE


def check_expiration_date(mmyy: str, today: date) -> str | None:
    """Return invalid-date unless `mmyy` is a real month, this one or later."""
    if not re.fullmatch(r"\d{4}", mmyy):
        return INVALID_DATE
    month, year = int(mmyy[:2]), 2000 + int(mmyy[2:])
    if not 1 <= month <= 12 or (year, month) < (today.year, today.month):
        return INVALID_DATE
    return None


def check_security_code(code: str, card_type: str | None) -> str | None:
    """Return invalid-security-code unless it has 3 digits, or 4 for American Express."""
    length = 4 if card_type == "amex" else 3
    return None if re.fullmatch(rf"\d{{{length}}}", code) else INVALID_SECURITY_CODE


def check_postal_code(code: str, min_length: int | None) -> str | None:
    """Return invalid-postal-code unless it is a 5 or 9 digit ZIP (or minPostalCodeLength)."""
    if min_length is not None:
        return None if code.isdigit() and len(code) >= min_length else INVALID_POSTAL_CODE
    return None if re.fullmatch(r"\d{5}(\d{4})?", code) else INVALID_POSTAL_CODE


def check_routing_number(routing: str) -> str | None:
    """Return invalid-bank-routing-number unless it has 9 digits and a valid ABA checksum."""
    if not re.fullmatch(r"\d{9}", routing) or not aba_valid(routing):
        return INVALID_ROUTING_NUMBER
    return None


def check_account_number(account: str) -> str | None:
    """Return invalid-bank-account-number unless it has 4 to 17 digits."""
    return None if re.fullmatch(r"\d{4,17}", account) else INVALID_ACCOUNT_NUMBER


def luhn_valid(number: str) -> bool:
    """Tell whether a digit string passes the Luhn check that card numbers carry."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def aba_valid(routing: str) -> bool:
    """Tell whether 9 digits pass the ABA routing number checksum (weights 3, 7, 1)."""
    weights = (3, 7, 1) * 3
    total = sum(int(digit) * weight for digit, weight in zip(routing, weights, strict=True))
    return total % 10 == 0
