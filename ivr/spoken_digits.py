"""Understand digits said aloud, in English or Spanish: "one two three", "oh", "cero nueve".

Twilio's speech recognition returns either numerals ("1 2 3", "123") or words,
depending on the caller and the model; relay operators may type either. Both
become the same keypad digits, so every prompt accepts speech as well as keys.
"""

from __future__ import annotations

import re
import unicodedata

DIGIT_WORDS = {
    # English
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "to": "2",
    "too": "2",
    "three": "3",
    "four": "4",
    "for": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    # Spanish
    "cero": "0",
    "uno": "1",
    "una": "1",
    "un": "1",
    "dos": "2",
    "tres": "3",
    "cuatro": "4",
    "cinco": "5",
    "seis": "6",
    "siete": "7",
    "ocho": "8",
    "nueve": "9",
}
# Spanish says 21 to 29 as one word.
SPANISH_TWENTIES = {
    "veintiuno": "21",
    "veintiun": "21",
    "veintiuna": "21",
    "veintidos": "22",
    "veintitres": "23",
    "veinticuatro": "24",
    "veinticinco": "25",
    "veintiseis": "26",
    "veintisiete": "27",
    "veintiocho": "28",
    "veintinueve": "29",
}
# Numbers said as one word, digit pairs when read as keys (and Spanish's 21 to 29).
TEENS = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
    "diez": "10",
    "once": "11",
    "doce": "12",
    "trece": "13",
    "catorce": "14",
    "quince": "15",
    "dieciseis": "16",
    "diecisiete": "17",
    "dieciocho": "18",
    "diecinueve": "19",
    **SPANISH_TWENTIES,
}
TENS = {
    "twenty": "2",
    "thirty": "3",
    "forty": "4",
    "fifty": "5",
    "sixty": "6",
    "seventy": "7",
    "eighty": "8",
    "ninety": "9",
    "veinte": "2",
    "treinta": "3",
    "cuarenta": "4",
    "cincuenta": "5",
    "sesenta": "6",
    "setenta": "7",
    "ochenta": "8",
    "noventa": "9",
}
KEY_WORDS = {
    "star": "*",
    "asterisk": "*",
    "estrella": "*",
    "asterisco": "*",
    "pound": "#",
    "hash": "#",
    "number sign": "#",
    "numeral": "#",
    "gato": "#",
}
REPEATERS = {"double": 2, "triple": 3, "doble": 2}
HUNDREDS = {
    "cien": 100,
    "ciento": 100,
    "doscientos": 200,
    "trescientos": 300,
    "cuatrocientos": 400,
    "quinientos": 500,
    "seiscientos": 600,
    "setecientos": 700,
    "ochocientos": 800,
    "novecientos": 900,
}
# Words that carry no digit: "my number is", "um", punctuation read aloud.
FILLER = re.compile(r"[,.;:!?¿¡\-–—/()]")


def fold(text: str) -> str:
    """Lower-case text without its accents: "Dieciséis" -> "dieciseis" (as the tables spell)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def spoken_to_keys(text: str) -> str | None:
    """Return the keys a caller said, or None when the words are not only digits and keys.

    "one two three four" -> "1234"; "cero nueve" -> "09"; "double five" -> "55";
    "1 2 3" -> "123"; "star" -> "*"; "I want to pay" -> None.
    """
    folded = FILLER.sub(" ", fold(text))
    for phrase, key in KEY_WORDS.items():
        folded = re.sub(rf"\b{phrase}\b", f" {key} ", folded)
    keys: list[str] = []
    words = _spanish_years(folded.split())
    repeat = 1
    tens: str | None = None  # "twenty" waits to see whether "five" follows: 25, else 20
    for word in words:
        if word == "y" and tens is not None:  # "treinta y uno"
            continue
        if tens is not None:
            if word in DIGIT_WORDS and DIGIT_WORDS[word] != "0":
                keys.append(tens + DIGIT_WORDS[word])
                tens = None
                continue
            keys.append(tens + "0")
            tens = None
        if word in REPEATERS:
            repeat = REPEATERS[word]
            continue
        if word.isdigit() or word in {"*", "#"}:
            keys.append(word * repeat if len(word) == 1 else word)
        elif word in DIGIT_WORDS:
            keys.append(DIGIT_WORDS[word] * repeat)
        elif word in TEENS:
            keys.append(TEENS[word])
        elif word in TENS:
            tens = TENS[word]
        else:
            return None
        repeat = 1
    if tens is not None:
        keys.append(tens + "0")
    return "".join(keys) or None


def _spanish_years(words: list[str]) -> list[str]:
    """Read a year said as a Spanish number ("mil novecientos cincuenta y uno": 1951,
    "dos mil cinco": 2005) as its four digits; the words before it stay digits."""
    for at, word in enumerate(words):
        if word != "mil":
            continue
        start = at - 1 if at > 0 and words[at - 1] == "dos" else at
        year = 2000 if start < at else 1000
        end, rest = at + 1, 0
        while end < len(words) and words[end] in HUNDREDS:
            rest += HUNDREDS[words[end]]
            end += 1
        value, used = _under_hundred(words[end : end + 3])
        rest, end = rest + value, end + used
        return [*words[:start], str(year + rest), *_spanish_years(words[end:])]
    return words


def _under_hundred(words: list[str]) -> tuple[int, int]:
    """The number below 100 the words begin with ("cincuenta y uno"), and how many words
    it takes; (0, 0) if none."""
    first = words[0] if words else ""
    if first in TENS:
        if words[1:2] == ["y"] and words[2:3] and words[2] in DIGIT_WORDS:
            return int(TENS[first]) * 10 + int(DIGIT_WORDS[words[2]]), 3
        return int(TENS[first]) * 10, 1
    if first in TEENS:
        return int(TEENS[first]), 1
    if first in DIGIT_WORDS:
        return int(DIGIT_WORDS[first]), 1
    return 0, 0
