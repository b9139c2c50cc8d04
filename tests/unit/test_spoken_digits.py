"""Digits said aloud, in English or Spanish, become the keys a caller would have pressed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.spoken_digits import spoken_to_keys

ENGLISH = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
SPANISH = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]


@pytest.mark.parametrize(
    ("said", "keys"),
    [
        ("one two three four", "1234"),
        ("oh five", "05"),
        ("O 7", "07"),
        ("double five", "55"),
        ("1 2 3", "123"),
        ("12345678.", "12345678"),
        ("zero one, three one, nineteen ninety", "01311990"),
        ("twenty five star fifty", "25*50"),
        ("star", "*"),
        ("pound", "#"),
        ("Cero nueve", "09"),
        ("uno dos tres cuatro", "1234"),
        ("treinta y uno", "31"),
        ("cero siete cero cuatro mil novecientos cincuenta y uno", "07041951"),
        ("doce veinticinco dos mil cinco", "12252005"),
        ("cero uno, uno cinco, mil novecientos noventa", "01151990"),
        ("dos mil veinticinco", "2025"),
        ("mil novecientos quince", "1915"),
        ("diecinueve ochenta", "1980"),
        ("asterisco", "*"),
        ("doble cinco", "55"),
    ],
)
def test_spoken_digits_become_keys(said, keys):
    assert spoken_to_keys(said) == keys


@pytest.mark.parametrize("said", ["I want to pay", "quiero pagar", "", "um", "two dogs"])
def test_words_that_are_not_digits_are_not_guessed_at(said):
    assert spoken_to_keys(said) is None


@given(st.text(alphabet="0123456789", min_size=1, max_size=16), st.sampled_from([ENGLISH, SPANISH]))
def test_any_digit_string_said_word_by_word_comes_back_the_same(digits, words):
    said = " ".join(words[int(d)] for d in digits)
    assert spoken_to_keys(said) == digits
