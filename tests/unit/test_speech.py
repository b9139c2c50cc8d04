"""Spoken sentences: from the catalog, with money, dates and digits marked for the voice."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, time
from zoneinfo import ZoneInfo

from babel.messages.extract import extract_from_file

from ivr.i18n import load_languages, load_translations
from ivr.prompts import Prompt
from ivr.speech import (
    ClockTime,
    Day,
    Digits,
    Fragment,
    Listing,
    Money,
    Month,
    PhoneNumber,
    Voice,
    ZoneName,
)

LANGUAGES = load_languages({"en": "Google.en-US-Neural2-F", "es": "Google.es-US-Neural2-A"})


def voice(code: str = "en") -> Voice:
    return Voice(LANGUAGES[code], load_translations(LANGUAGES[code].locale))


def say_as(verb) -> list[tuple[str, str, str | None]]:
    root = ET.fromstring(str(verb).split("?>", 1)[1])
    return [(e.get("interpret-as"), e.text, e.get("format")) for e in root.iter("say-as")]


def test_dates_are_marked_with_say_as_and_money_is_babel_text_in_english():
    verb = voice().say(
        Prompt.MEDICAL_BILL,
        date_of_service=Day(date(2026, 9, 14)),
        facility="Oakland Medical Center",
        balance=Money(123456),
        due_date=Day(date(2026, 12, 15)),
    )
    # Twilio's say-as has no currency; the amount is written as the locale writes it.
    assert say_as(verb) == [("date", "9/14/2026", "mdy"), ("date", "12/15/2026", "mdy")]
    root = ET.fromstring(str(verb).split("?>", 1)[1])
    assert "$1,234.56" in "".join(root.itertext())
    assert root.get("voice") == "Google.en-US-Neural2-F" and root.get("language") == "en-US"


def test_spanish_dates_are_written_day_first_for_the_voice():
    verb = voice("es").say(
        Prompt.PREMIUM_DUE,
        month=Month(date(2027, 1, 1)),
        balance=Money(41200),
        due_date=Day(date(2026, 12, 31)),
    )
    assert ("date", "31/12/2026", "dmy") in say_as(verb)
    assert "enero de 2027" in "".join(ET.fromstring(str(verb).split("?>", 1)[1]).itertext())


def test_digits_and_phone_numbers_are_spoken_as_such():
    verb = voice().say(
        Prompt.SPECIALIST_NUMBER, number=PhoneNumber("+18002181059"), tty=Digits("711")
    )
    assert say_as(verb) == [("telephone", "(800) 218-1059", None), ("characters", "711", None)]


def test_cents_are_never_rounded_through_floats():
    for cents in [1, 10, 99, 100, 1005, 29999999, 123456789012]:
        text = voice().text(Prompt.MEDICAL_TOTAL, total=Money(cents))
        dollars, _, rest = text.removeprefix("Your total medical balance is $").partition(".")
        assert int(dollars.replace(",", "")) * 100 + int(rest[:2]) == cents


def test_hours_are_composed_from_catalog_phrases_and_babel_names():
    spans = Listing(
        (
            Fragment(
                Prompt.HOURS_SPAN,
                {
                    "days": Fragment(Prompt.DAY_RANGE, {"first": "Monday", "last": "Friday"}),
                    "opens": ClockTime(time(7)),
                    "closes": ClockTime(time(19)),
                },
            ),
            Fragment(
                Prompt.HOURS_SPAN,
                {"days": "Saturday", "opens": ClockTime(time(8)), "closes": ClockTime(time(16))},
            ),
        )
    )
    text = voice().text(
        Prompt.SPECIALIST_HOURS, hours=spans, time_zone=ZoneName(ZoneInfo("America/Denver"))
    )
    assert text == (
        "Billing specialists are available Monday through Friday, from 7:00 AM to 7:00 PM and "
        "Saturday, from 8:00 AM to 4:00 PM, Mountain Time."
    )


def test_every_catalog_prompt_is_found_by_message_extraction():
    from ivr import prompts

    extracted = {
        message
        for _line, message, _comments, _context in extract_from_file(
            "python", prompts.__file__, keywords={"N_": None}
        )
    }
    assert {prompt.value for prompt in Prompt} == extracted
    assert len(extracted) == len(Prompt)
