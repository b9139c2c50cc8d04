"""Money in one module: text amounts, plain and locale formatting, amounts keyed on a phone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_core.domain.exceptions import (
    AmountBadCents,
    AmountNotUnderstood,
    AmountTooLarge,
    AmountZero,
    KeyedAmountInvalid,
)
from billing_core.domain.money import (
    MAX_KEYED_DOLLAR_DIGITS,
    format_amount,
    format_currency_for_locale,
    format_money,
    parse_keyed_amount,
    parse_money,
    to_decimal,
)


@pytest.mark.parametrize(
    ("keys", "cents"),
    [
        ("25*50#", 2550),
        ("25*50", 2550),
        ("25", 2500),
        ("25#", 2500),
        ("*50", 50),
        ("*05#", 5),
        ("0*01", 1),
        ("007", 700),
        ("9999999*99", 999_999_999),
        ("00000009999999", 999_999_900),
        ("25##", 2500),
    ],
)
def test_keyed_amounts_are_dollars_star_cents(keys, cents):
    assert parse_keyed_amount(keys) == cents


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        ("", AmountNotUnderstood),
        ("#", AmountNotUnderstood),
        ("*", AmountNotUnderstood),
        ("*#", AmountNotUnderstood),
        ("2*5*0", AmountNotUnderstood),
        ("25*5a", AmountNotUnderstood),
        ("1#2", AmountNotUnderstood),
        ("**50", AmountNotUnderstood),
        ("25*", AmountBadCents),
        ("25*5", AmountBadCents),
        ("25*505", AmountBadCents),
        ("25*#", AmountBadCents),
        ("10000000", AmountTooLarge),
        ("12345678*00", AmountTooLarge),
        ("0", AmountZero),
        ("0*00", AmountZero),
        ("*00#", AmountZero),
        ("000", AmountZero),
    ],
)
def test_keyed_amounts_that_are_not_amounts_name_the_reason(keys, reason):
    with pytest.raises(reason) as raised:
        parse_keyed_amount(keys)
    assert isinstance(raised.value, KeyedAmountInvalid)


def test_the_dollar_digits_are_checked_before_the_star():
    # Too many dollars with bad cents: the cents are named first, as the phone flow did.
    with pytest.raises(AmountBadCents):
        parse_keyed_amount("123456789*5")
    with pytest.raises(AmountTooLarge):
        parse_keyed_amount("1" * (MAX_KEYED_DOLLAR_DIGITS + 1))


@given(st.integers(min_value=1, max_value=10**MAX_KEYED_DOLLAR_DIGITS * 100 - 1))
def test_keyed_amounts_read_back_what_was_keyed(cents):
    assert parse_keyed_amount(f"{cents // 100}*{cents % 100:02d}#") == cents


def test_plain_and_locale_formatting():
    assert format_money(123450) == "1234.50"
    assert format_money(5) == "0.05"
    assert parse_money(format_money(99)) == 99
    assert to_decimal(2550) == Decimal("25.50")
    assert format_amount(123450, "en") == "$1,234.50"
    assert format_amount(4550, "xx") == "$45.50"
    assert format_currency_for_locale(2550, "es_US") == format_amount(2550, "es")
    with pytest.raises(ValueError):
        format_money(-1)
