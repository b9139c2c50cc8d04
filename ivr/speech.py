"""Turn catalog prompts into <Say> verbs: translated, with money, dates and digits in say-as."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from babel import Locale
from babel.dates import format_skeleton, format_time, get_timezone_name
from babel.lists import format_list
from babel.support import NullTranslations
from twilio.twiml.voice_response import Say

from billing_core.domain.money import format_currency_for_locale
from ivr.i18n import Language
from ivr.prompts import Prompt


@dataclass(frozen=True)
class Money:
    cents: int


@dataclass(frozen=True)
class Day:
    """A day; `year=False` leaves the year out ("September 14"), for a recent day."""

    value: date
    year: bool = True


@dataclass(frozen=True)
class Month:
    """A month and year, such as a coverage month: "January 2027"."""

    value: date


@dataclass(frozen=True)
class Digits:
    """Spoken one digit at a time: confirmation numbers, examples of what to key in."""

    value: str


@dataclass(frozen=True)
class PhoneNumber:
    e164: str


@dataclass(frozen=True)
class ClockTime:
    value: time


@dataclass(frozen=True)
class ZoneName:
    zone: ZoneInfo


@dataclass(frozen=True)
class Fragment:
    """A catalog phrase placed inside another sentence."""

    prompt: Prompt
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Listing:
    """Several values joined as the language joins a list: "a, b, and c"."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class SayAs:
    text: str
    interpret_as: str
    format: str | None = None


Part = str | SayAs
_FORMATTER = string.Formatter()


class Voice:
    """Speaks catalog prompts in one language with its configured voice."""

    def __init__(self, language: Language, translations: NullTranslations) -> None:
        self.language = language
        self._translations = translations
        self.spoken: list[str] = []  # prompt names, in order: for coverage and recordings

    def say(self, prompt: Prompt, **values: Any) -> Say:
        """Return a <Say> of the prompt, with its placeholders filled."""
        self.spoken.append(prompt.name)
        verb = Say(voice=self.language.voice, language=self.language.twilio_language)
        for part in self.parts(prompt, values):
            if isinstance(part, SayAs):
                attributes = {"interpret_as": part.interpret_as}
                if part.format:
                    attributes["format"] = part.format
                verb.say_as(part.text, **attributes)
            else:
                verb.append(part)
        return verb

    def text(self, prompt: Prompt, **values: Any) -> str:
        """Return the prompt as plain text, as a listener would hear it."""
        return "".join(p.text if isinstance(p, SayAs) else p for p in self.parts(prompt, values))

    def parts(self, prompt: Prompt, values: dict[str, Any]) -> list[Part]:
        template = self._translations.gettext(prompt.value)
        parts: list[Part] = []
        for literal, name, _spec, _conversion in _FORMATTER.parse(template):
            previous = parts[-1] if parts else ""
            previous = previous.text if isinstance(previous, SayAs) else previous
            if literal.startswith(".") and previous.endswith("."):
                # A value ending in a period ("Washington D.C.") ends the sentence too.
                literal = literal[1:]
            if literal:
                parts.append(literal)
            if name is not None:
                parts.extend(self._value_parts(values[name]))
        return _merge_text(parts)

    def _value_parts(self, value: Any) -> list[Part]:
        locale = self.language.locale
        match value:
            case Money(cents):
                # Twilio's say-as has no currency: the voices read Babel's "$1,234.56" as
                # dollars and cents by themselves.
                return [format_currency_for_locale(cents, locale)]
            case Day(day, year):
                pattern, order = _numeric_date_pattern(locale, year=year)
                return [SayAs(_format_numeric_date(day, pattern), "date", order)]
            case Month(month):
                return [format_skeleton("yMMMM", month, locale=locale)]
            case Digits(digits):
                # "characters" reads one digit at a time on both Google and Polly voices
                # ("digits" is Polly's alone).
                return [SayAs(digits, "characters")]
            case PhoneNumber(e164):
                parsed = phonenumbers.parse(e164, "US")
                national = phonenumbers.format_number(
                    parsed, phonenumbers.PhoneNumberFormat.NATIONAL
                )
                return [SayAs(national, "telephone")]
            case ClockTime(clock_time):
                return [_plain_spaces(format_time(clock_time, "short", locale=locale))]
            case ZoneName(zone):
                name = get_timezone_name(zone, "long", locale=locale, zone_variant="generic")
                if "(" in name:  # Babel falls back to a city name where no generic name exists
                    name = get_timezone_name(zone, "long", locale=locale, zone_variant="standard")
                return [name]
            case Fragment(prompt, values):
                self.spoken.append(prompt.name)
                return self.parts(prompt, values)
            case Listing(items):
                rendered = [self._value_parts(item) for item in items]
                if all(all(isinstance(p, str) for p in r) for r in rendered):
                    return [format_list(["".join(r) for r in rendered], locale=locale)]
                # Items holding say-as parts are joined with the list pattern's separators.
                placeholders = [f"\x00{i}\x00" for i in range(len(rendered))]
                joined = format_list(placeholders, locale=locale)
                parts: list[Part] = []
                for chunk in joined.split("\x00"):
                    if chunk.isdigit() and int(chunk) < len(rendered):
                        parts.extend(rendered[int(chunk)])
                    elif chunk:
                        parts.append(chunk)
                return parts
            case int():
                return [str(value)]
            case str():
                return [value]
        raise TypeError(f"cannot speak a {type(value).__name__}")


def _numeric_date_pattern(locale: str, *, year: bool = True) -> tuple[str, str]:
    """Return a numeric date pattern (a 4-digit year, or none) and its say-as order."""
    short = Locale.parse(locale).date_formats["short"].pattern
    # "M/d/yy" gives "mdy", "d/M/y" gives "dmy": the order the locale writes dates in; without
    # the year, "md" or "dm", which say-as also takes.
    wanted = "mdy" if year else "md"
    order = "".join(dict.fromkeys(ch for ch in short.lower() if ch in wanted))
    fields = {"m": "M", "d": "d", "y": "yyyy"}
    return "/".join(fields[ch] for ch in order), order


def _format_numeric_date(day: date, pattern: str) -> str:
    values = {"M": str(day.month), "d": str(day.day), "yyyy": f"{day.year:04d}"}
    return "/".join(values[token] for token in pattern.split("/"))


def _plain_spaces(text: str) -> str:
    # CLDR puts narrow no-break spaces in times ("7:00\u202fAM"); voices and relay
    # operators' screens handle a plain space best.
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _merge_text(parts: list[Part]) -> list[Part]:
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return merged
