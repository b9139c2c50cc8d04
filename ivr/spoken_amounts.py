"""Understand an amount said aloud: "two hundred and twelve fifty", "$25.50", "veinte dólares".

Twilio's recognition gives words or numerals depending on the caller and the model; the
number words become numerals with text2num (English and Spanish), then the amount is
read the ways people say money: dollars alone, dollars and cents, or two numbers.
"""

from __future__ import annotations

import re

from text_to_num import alpha2digit

# text2num writes "cincuenta centavos" as "50 1/100": the fraction names the unit only.
_HUNDREDTHS = re.compile(r"\b1/100\b")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_CENTS = re.compile(r"\b(cents?|centavos?)\b|1/100", re.IGNORECASE)
_DOLLARS = re.compile(r"\$|\b(dollars?|d[oó]lar(es)?)\b", re.IGNORECASE)
LANGUAGES = {"en": "en", "es": "es"}


def spoken_cents(speech: str, language: str) -> int | None:
    """Return the cents of the amount said, or None when the words are not one amount."""
    text = alpha2digit(speech, LANGUAGES.get(language, "en"))
    numbers = [n.replace(",", "") for n in _NUMBER.findall(_HUNDREDTHS.sub(" ", text))]
    if len(numbers) == 1 and _CENTS.search(text) and not _DOLLARS.search(text):
        return int(numbers[0]) if numbers[0].isdigit() and int(numbers[0]) < 100 else None
    if len(numbers) == 1:
        dollars, _point, cents = numbers[0].partition(".")
        if len(cents) > 2:
            return None
        return int(dollars) * 100 + int(cents.ljust(2, "0") or 0)
    if len(numbers) == 2 and "." not in "".join(numbers) and int(numbers[1]) < 100:
        # "two twelve fifty" is not money; "twelve fifty" and "12 dollars 50 cents" are.
        return int(numbers[0]) * 100 + int(numbers[1])
    return None
