"""Understand a day said aloud: "December fifteenth", "the 15th of December", "15 de diciembre".

Twilio's recognition gives words or numerals ("December 15th"); number words become
numerals with text2num, month names come from Babel's locale data (both languages, so a
Spanish caller saying "December" is understood too), and "tomorrow" counts from today.
The day is given as the month and day keys (MMDD) the keypad would send, so one rule
decides which year it falls in and whether it is allowed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache

from babel.dates import get_month_names
from text_to_num import alpha2digit

from ivr.intents import normalize

LANGUAGES = ("en", "es")
# A day of the month as text2num writes it: 15, 15th, 1st, 1º (1o once normalized), 1ro.
_DAY = re.compile(r"^(\d{1,2})(st|nd|rd|th|o|ro|ero)?$")
# Days from today that a word names.
_RELATIVE = {"tomorrow": 1, "manana": 1}
_DAY_AFTER = ("day after tomorrow", "pasado manana")


@cache
def _months() -> dict[str, int]:
    """Every month name and abbreviation of both languages, as normalized words."""
    months: dict[str, int] = {}
    for language in LANGUAGES:
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=language).items():
                months[normalize(name)] = number
    months["sept"] = 9
    return months


def spoken_month_day(speech: str, language: str, today: date) -> str | None:
    """Return the day said as MMDD, or None when the words name no one day."""
    text = normalize(alpha2digit(speech, language if language in LANGUAGES else "en", threshold=0))
    words = text.split()
    if any(phrase in text for phrase in _DAY_AFTER):
        return (today + timedelta(days=2)).strftime("%m%d")
    relative = [_RELATIVE[word] for word in words if word in _RELATIVE]
    if relative:
        return (today + timedelta(days=relative[0])).strftime("%m%d")
    months = [_months()[word] for word in words if word in _months()]
    found = [day for word in words if (day := _DAY.match(word))]
    days = [int(day[1]) for day in found]
    if len(months) == 1 and len(days) == 1:
        return f"{months[0]:02d}{days[0]:02d}"
    if not months and len(found) == 1 and found[0][2]:
        # "The twentieth": that day this month, or next month once it has passed.
        month = today.month if days[0] > today.day else today.month % 12 + 1
        return f"{month:02d}{days[0]:02d}"
    if not months and len(days) == 2 and 1 <= days[0] <= 12:
        # "12/15" as Twilio may write it: month first, as the keypad takes it.
        return f"{days[0]:02d}{days[1]:02d}"
    return None
