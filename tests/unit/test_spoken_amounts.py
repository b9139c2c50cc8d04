"""Amounts said aloud are the cents the caller means, in English and Spanish."""

from __future__ import annotations

import pytest

from ivr.spoken_amounts import spoken_cents


@pytest.mark.parametrize(
    ("language", "said", "cents"),
    [
        ("en", "two hundred dollars", 20000),
        ("en", "two hundred and twelve fifty", 21250),
        ("en", "twenty five dollars and fifty cents", 2550),
        ("en", "one hundred twelve dollars fifty cents", 11250),
        ("en", "$25.50", 2550),
        ("en", "$1,234.56", 123456),
        ("en", "25.50", 2550),
        ("en", "fifty", 5000),
        ("en", "twelve point five", 1250),
        ("en", "ten oh five", 1005),
        ("en", "five cents", 5),
        ("en", "a thousand dollars", 100000),
        ("es", "doscientos dólares", 20000),
        ("es", "doscientos doce con cincuenta", 21250),
        ("es", "veinticinco dólares con cincuenta centavos", 2550),
        ("es", "ciento doce dólares", 11200),
        ("es", "cincuenta centavos", 50),
        ("es", "$38.50", 3850),
    ],
)
def test_an_amount_said_is_the_cents_meant(language, said, cents):
    assert spoken_cents(said, language) == cents


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "pay my bill"),
        ("en", "one two three"),  # digits one by one: the keys, not an amount
        ("en", "12.345"),
        ("en", "two hundred cents"),
        ("es", "pagar mi factura"),
    ],
)
def test_words_that_are_not_one_amount_are_none(language, said):
    assert spoken_cents(said, language) is None
