"""Money: integer cents, parsed from text and formatted for people, in this one module.

- `parse_money` reads an amount a file or a person wrote ("1234.50", 12, Decimal("9.99")).
- `format_money` writes cents as plain decimal text ("1234.50"), as files carry them.
- `format_amount` writes cents as a language writes money ("$1,234.50"), with Babel.
- `parse_keyed_amount` reads an amount keyed on a phone: dollars, star, two digits of cents.
"""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import format_currency

from billing_core.domain.exceptions import (
    AmountBadCents,
    AmountNotUnderstood,
    AmountTooLarge,
    AmountZero,
)

# Anything larger is a mistake in the source system, not a bill.
MAX_MONEY_CENTS = 1_000_000_000
_MAX_DOLLARS = Decimal(MAX_MONEY_CENTS) / 100
_MAX_DOLLAR_DIGITS = len(str(MAX_MONEY_CENTS // 100))
_MONEY_TEXT = re.compile(r"(-?)(\d+)(?:\.(\d{1,2}))?")

# Dollars keyed on the phone: no member owes ten million.
MAX_KEYED_DOLLAR_DIGITS = 7

CURRENCY = "USD"
LOCALES = {"en": "en_US", "es": "es_US"}
DEFAULT_LANGUAGE = "en"


# --- text amounts ----------------------------------------------------------------------


def parse_money(value: object) -> int:
    """Return integer cents of a non-negative amount with at most two decimals.

    Raises ValueError whose message says what is wrong and shows the value.
    """
    if isinstance(value, str):
        found = _MONEY_TEXT.fullmatch(value.strip())
        if found is None:
            raise ValueError(f"not an amount of money: {shown(value)}")
        sign, dollars, fraction = found.groups()
        if sign:
            raise ValueError(f"must not be negative: {shown(value)}")
        # Checked before int(): a thousand-digit amount is a mistake, not a number to build.
        if len(dollars.lstrip("0")) > _MAX_DOLLAR_DIGITS:
            raise ValueError(f"more than {format_money(MAX_MONEY_CENTS)}: {shown(value)}")
        cents = int(dollars) * 100 + int((fraction or "0").ljust(2, "0"))
    elif isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"must not be negative: {shown(value)}")
        cents = value * 100 if value <= MAX_MONEY_CENTS else MAX_MONEY_CENTS + 1
    elif isinstance(value, Decimal):
        # JSON numbers arrive as Decimal (parse_float=Decimal), never as float.
        exponent = value.as_tuple().exponent
        if not value.is_finite() or not isinstance(exponent, int) or exponent < -2:
            raise ValueError(f"not an amount of money: {shown(value)}")
        if value < 0:
            raise ValueError(f"must not be negative: {shown(value)}")
        # Compared in dollars first so an absurd exponent never becomes a huge int.
        cents = int(value * 100) if value <= _MAX_DOLLARS else MAX_MONEY_CENTS + 1
    else:
        raise ValueError(f"not an amount of money: {shown(value)}")
    if cents > MAX_MONEY_CENTS:
        raise ValueError(f"more than {format_money(MAX_MONEY_CENTS)}: {shown(value)}")
    return cents


def format_money(cents: int) -> str:
    """Return cents as plain decimal text, dollars and two decimals ("1234.50")."""
    if cents < 0:
        raise ValueError("amounts in the feed are never negative")
    return f"{cents // 100}.{cents % 100:02d}"


def shown(value: object) -> str:
    """A value as a problem message shows it: quoted, and cut short when long."""
    text = value if isinstance(value, str) else str(value)
    # A whole row pasted into one cell would bury the message.
    return repr(text if len(text) <= 40 else text[:37] + "...")


# --- for people ------------------------------------------------------------------------


def locale_for(language: str) -> str:
    """The Babel locale money is written in for a language code (en, es); English otherwise."""
    return LOCALES.get(language, LOCALES[DEFAULT_LANGUAGE])


def to_decimal(cents: int) -> Decimal:
    """Cents as exact dollars: money is never a float."""
    return Decimal(cents).scaleb(-2)


def format_amount(amount_cents: int, language: str) -> str:
    """Dollars and cents as the language writes them, e.g. $1,234.50."""
    return format_currency_for_locale(amount_cents, locale_for(language))


def format_currency_for_locale(amount_cents: int, locale: str) -> str:
    """Dollars and cents as a Babel locale (en_US, es_US) writes them."""
    return format_currency(to_decimal(amount_cents), CURRENCY, locale=locale)


# --- keyed on a phone ------------------------------------------------------------------


def parse_keyed_amount(keys: str) -> int:
    """Return the cents keyed as dollars[*cents][#], or raise the reason they are not an amount.

    "25*50#" is 2550 cents, "25" is 2500; the cents after a star are exactly two digits.
    """
    keys = keys.rstrip("#")
    dollars, star, cents = keys.partition("*")
    if not dollars and not cents:
        raise AmountNotUnderstood(keys)
    if not dollars.isdigit() and dollars != "":
        raise AmountNotUnderstood(keys)
    if star and not (cents.isdigit() and len(cents) == 2):
        if cents.isdigit() or cents == "":
            raise AmountBadCents(keys)
        raise AmountNotUnderstood(keys)
    if len(dollars.lstrip("0")) > MAX_KEYED_DOLLAR_DIGITS:
        raise AmountTooLarge(keys)
    amount = int(dollars or "0") * 100 + int(cents or "0")
    if amount == 0:
        raise AmountZero(keys)
    return amount
