"""A recorded turn never holds a card, account or MRN number or a date, however it was said.

Every case is written through the recording's own path (turn_entry, then append_turn) and
the file's text is searched: not the input, not any 4 digits in a row of the number it
stands for, not its digits spoken as words, not a month name or a numeric form of the date.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.recording import REDACTED, append_turn, redact, turn_entry
from ivr.spoken_digits import DIGIT_WORDS, TEENS, TENS, fold

AT = datetime(2031, 1, 1, tzinfo=UTC)  # its digits (2031, 01, 00) are in every line
CALL_SID = "CAabcdefabcdefabcdefabcdefabcdefab"
CALLER = "+14155550123"
MENU = "/voice/menu/answer"
PARAMS = ("Digits", "SpeechResult", "UnstableSpeechResult", "CallerName", "msg")

EN = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ES = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]
MONTHS_EN = [
    *("january", "february", "march", "april", "may", "june", "july", "august"),
    *("september", "october", "november", "december"),
]
MONTHS_ES = [
    *("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"),
    *("septiembre", "octubre", "noviembre", "diciembre"),
]
NUMBER_WORDS = {*DIGIT_WORDS, *TEENS, *TENS} - {"o", "to", "too", "for", "un", "una", "oh"}


def written(tmp_path: Path, params: dict[str, str], path: str = MENU) -> str:
    """The text of the recording after one turn with these parameters."""
    entry = turn_entry(
        at=AT,
        call_sid=CALL_SID,
        path=path,
        params={"CallSid": CALL_SID, "From": CALLER, **params},
        twiml="<Response/>",
        prompts=("MAIN_MENU",),
    )
    file = append_turn(tmp_path, CALL_SID, entry)
    text = file.read_text(encoding="utf-8")
    file.unlink()
    return text


def digits_of(text: str) -> str:
    """The digits text stands for, its number words made digits ("four 2" -> "42")."""
    out = []
    for word in re.findall(r"\d+|[a-z]+", fold(text)):
        if word.isdigit():
            out.append(word)
        elif word in {"double", "doble"}:
            out.append("2x")
        elif word in DIGIT_WORDS and word not in {"o", "to", "too", "for", "un", "una"}:
            out.append(DIGIT_WORDS[word])
        elif word in TEENS:
            out.append(TEENS[word])
    joined = "".join(out)
    return re.sub(r"2x(\d)", r"\1\1", joined).replace("2x", "")


def searchable(line: str) -> str:
    """A written line without what every line of the test call holds: its time, its caller."""
    return fold(line.replace(AT.isoformat(), "").replace(CALLER, ""))


def leaks(text: str, line: str) -> list[str]:
    """What of text can still be read in a written line."""
    lowered = searchable(line)
    found = [text] if fold(text) in lowered else []
    digits = digits_of(text)
    for i in range(len(digits) - 3):
        window = digits[i : i + 4]
        if set(window) != {"9"} and window in lowered:  # a shape is all 9s
            found.append(window)
    for word in re.findall(r"[a-z]+", fold(text)):
        if (word in NUMBER_WORDS or word in MONTHS_EN or word in MONTHS_ES) and re.search(
            rf"\b{word}\b", lowered
        ):
            found.append(word)
    return found


def date_forms(day: date) -> list[str]:
    """Forms of a date that must not be read in a line."""
    forms = []
    for m, d in [(f"{day.month:02}", f"{day.day:02}"), (str(day.month), str(day.day))]:
        for sep in "/-.":
            forms += [f"{m}{sep}{d}", f"{d}{sep}{m}"]
    forms += [str(day.year), MONTHS_EN[day.month - 1], MONTHS_ES[day.month - 1]]
    forms += [MONTHS_EN[day.month - 1][:3] + " ", day.strftime("%m%d%y")]
    return forms


def assert_not_written(tmp_path: Path, text: str, when: date | None = None) -> None:
    for name in PARAMS:
        line = written(tmp_path, {name: text})
        assert leaks(text, line) == [], (name, line)
        entry = json.loads(line)
        assert entry["params"][name] == REDACTED
        assert set(entry["redacted"][name]["shape"]) <= set("9*#")
        if when is not None:
            for form in date_forms(when):
                assert form not in searchable(line), (name, form, line)


CARD = "4242 4242 4242 4242"
SENSITIVE_NUMBERS = [
    # Cards, accounts and MRNs keyed or said with separators.
    CARD,
    "4242-4242-4242-4242",
    "4242.4242.4242.4242",
    "4242, 4242, 4242, 4242",
    "4000 0566 5566 5556",
    "3782 822463 10005",
    "5555 5555 5555 4444",
    "4242*4242*4242*4242#",
    "my card number is 4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2",
    "6000 0006",
    "6000-0006",
    "000 123 456 789",
    "0001 2345 6789",
    "routing 110 000 000",
    "4242 um 4242 uh 4242 and 4242",
    # In words, English.
    "four two four two four two four two four two four two four two four two",
    "Four, two, four, two. Four, two, four, two.",
    "one zero zero zero zero zero zero one",
    "one oh oh oh oh oh oh one",
    "six zero zero zero zero zero zero six",
    "double four two double four two four two",
    "triple five five five five five five four four four four",
    "my account is one two three four five six seven eight",
    "forty two forty two forty two forty two",
    "nineteen eighty four twenty twenty one",
    # In words, Spanish.
    "cuatro dos cuatro dos cuatro dos cuatro dos cuatro dos cuatro dos cuatro dos cuatro dos",
    "uno cero cero cero cero cero cero uno",
    "seis cero cero cero cero cero cero seis",
    "Cuatro, dos, cuatro, dos, cuatro, dos, cuatro, dos.",
    "doble cuatro dos doble cuatro dos cuatro dos",
    "mi tarjeta es cuatro dos cuatro dos cuatro dos cuatro dos",
    "cuarenta y dos cuarenta y dos cuarenta y dos cuarenta y dos",
    "número de cuenta uno dos tres cuatro cinco seis siete ocho",
    # Digits and words mixed.
    "4242 four two four two",
    "4242 cuatro dos cuatro dos",
    "four two four two 4242 4242 4242",
    "6 zero 0 zero 0 zero 0 six",
    "4 2 4 2 four 2 4 2",
    # Security codes said beside what they are.
    "the security code is 987",
    "security code nine eight seven",
    "código de seguridad 987",
    "cvv 4521",
]
SENSITIVE_DATES = [
    ("04/12/1980", date(1980, 4, 12)),
    ("4/12/1980", date(1980, 4, 12)),
    ("4/12/80", date(1980, 4, 12)),
    ("4-12-80", date(1980, 4, 12)),
    ("04-12-1980", date(1980, 4, 12)),
    ("04.12.1980", date(1980, 4, 12)),
    ("12.04.1980", date(1980, 4, 12)),
    ("1980-04-12", date(1980, 4, 12)),
    ("1980/4/12", date(1980, 4, 12)),
    ("04121980", date(1980, 4, 12)),
    ("041280", date(1980, 4, 12)),
    ("4 12 1980", date(1980, 4, 12)),
    ("April 12, 1980", date(1980, 4, 12)),
    ("april 12 1980", date(1980, 4, 12)),
    ("Apr 12, 1980", date(1980, 4, 12)),
    ("Apr. 12th", date(1980, 4, 12)),
    ("April 12", date(1980, 4, 12)),
    ("12 April 1980", date(1980, 4, 12)),
    ("the twelfth of April nineteen eighty", date(1980, 4, 12)),
    ("April twelfth", date(1980, 4, 12)),
    ("april twelve nineteen eighty", date(1980, 4, 12)),
    ("four twelve eighty", date(1980, 4, 12)),
    ("four twelve nineteen eighty", date(1980, 4, 12)),
    ("zero four one two one nine eight zero", date(1980, 4, 12)),
    ("born on February 14th, 1985", date(1985, 2, 14)),
    ("Feb 14", date(1985, 2, 14)),
    ("Sept. 3, 1971", date(1971, 9, 3)),
    ("December 31st", date(1971, 12, 31)),
    ("May 1st", date(1971, 5, 1)),
    ("12 de abril de 1980", date(1980, 4, 12)),
    ("12 de abril", date(1980, 4, 12)),
    ("doce de abril de mil novecientos ochenta", date(1980, 4, 12)),
    ("el doce de abril", date(1980, 4, 12)),
    ("abril doce", date(1980, 4, 12)),
    ("12 abr 1980", date(1980, 4, 12)),
    ("12/04/1980", date(1980, 4, 12)),
    ("1 de mayo de 1990", date(1990, 5, 1)),
    ("el primero de mayo", date(1990, 5, 1)),
    ("1º de enero", date(1990, 1, 1)),
    ("veintiuno de septiembre de 1975", date(1975, 9, 21)),
    ("catorce de febrero de mil novecientos ochenta y cinco", date(1985, 2, 14)),
    ("treinta y uno de diciembre", date(1985, 12, 31)),
    ("cuatro doce ochenta", date(1980, 4, 12)),
    ("4/12", date(1980, 4, 12)),
]


def test_the_tables_are_thorough():
    assert len(SENSITIVE_NUMBERS) + len(SENSITIVE_DATES) >= 80
    assert len(HARMLESS) >= 25


@pytest.mark.parametrize("text", SENSITIVE_NUMBERS)
def test_a_number_said_or_keyed_any_way_is_never_written(tmp_path, text):
    assert_not_written(tmp_path, text)


@pytest.mark.parametrize(("text", "when"), SENSITIVE_DATES)
def test_a_date_in_any_written_form_is_never_written(tmp_path, text, when):
    assert_not_written(tmp_path, text, when)


HARMLESS = [
    ("Digits", "1"),
    ("Digits", "2"),
    ("Digits", "9"),
    ("Digits", "*"),
    ("Digits", "#"),
    ("Digits", "0"),
    ("Digits", "25*50#"),
    ("Digits", "125*00#"),
    ("Digits", "1500#"),
    ("Digits", "12#"),
    ("Digits", "4242"),  # a card's last four, as the caller may confirm it
    ("SpeechResult", "twenty five dollars"),
    ("SpeechResult", "twenty five fifty"),
    ("SpeechResult", "one hundred twenty five dollars and fifty cents"),
    ("SpeechResult", "$25.50"),
    ("SpeechResult", "1,250.00"),
    ("SpeechResult", "repeat"),
    ("SpeechResult", "agent"),
    ("SpeechResult", "relay"),
    ("SpeechResult", "yes"),
    ("SpeechResult", "no"),
    ("SpeechResult", "español"),
    ("SpeechResult", "main menu"),
    ("SpeechResult", "one"),
    ("SpeechResult", "two"),
    ("SpeechResult", "I want to pay for two bills"),
    ("SpeechResult", "May I speak to an agent?"),
    ("SpeechResult", "quiero pagar veinticinco dólares"),
    ("SpeechResult", "otra vez"),
    ("SpeechResult", "repetir"),
    ("SpeechResult", "the card ending in 4242"),
    ("SpeechResult", "I paid two weeks ago"),
    ("UnstableSpeechResult", "twenty"),
    ("msg", "Gather End"),
]


@pytest.mark.parametrize(("name", "value"), HARMLESS)
def test_menu_keys_amounts_and_commands_stay_readable(tmp_path, name, value):
    entry = json.loads(written(tmp_path, {name: value}))
    assert entry["params"][name] == value
    assert "redacted" not in entry


def test_twilio_s_own_parameters_stay_readable(tmp_path):
    params = {
        "ApiVersion": "2010-04-01",
        "Timestamp": "Tue, 01 Dec 2026 22:29:51 +0000",
        "To": "+18773659900",
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "PaymentCardNumber": "xxxxxxxxxxxx4242",
    }
    entry = json.loads(written(tmp_path, params))
    assert entry["params"]["ApiVersion"] == "2010-04-01"
    assert entry["params"]["Timestamp"] == params["Timestamp"]
    assert entry["params"]["AccountSid"] == params["AccountSid"]
    assert entry["params"]["PaymentCardNumber"] == "xxxx4242"
    assert "redacted" not in entry


def test_a_redacted_entry_keeps_its_shape_in_keys_for_a_replay():
    kept, notes = redact(
        MENU,
        {
            "Digits": "4242424242424242#",
            "SpeechResult": "four two four two four two four two",
            "UnstableSpeechResult": "April 12, 1980",
        },
    )
    assert kept == {name: REDACTED for name in kept}
    assert notes["Digits"] == {"shape": "9999999999999999#", "found": "number"}
    assert notes["SpeechResult"] == {"shape": "99999999", "found": "number"}
    assert notes["UnstableSpeechResult"] == {"shape": "999999", "found": "date"}


def test_partial_speech_at_identification_is_never_written_even_a_few_digits():
    kept, notes = redact(
        "/voice/identify/mrn/answer",
        {"UnstableSpeechResult": "six zero zero", "SpeechResult": "six zero zero zero"},
        ("MRN_INVALID",),
    )
    assert kept == {"UnstableSpeechResult": REDACTED, "SpeechResult": REDACTED}
    assert notes["UnstableSpeechResult"]["field"] == "mrn"
    assert notes["UnstableSpeechResult"]["shape"] == "999"


# -- generated numbers: random separators, digits and words in either language ---------------

WORDS = {
    str(d): [EN[d], ES[d], *(["oh", "o"] if d == 0 else [])] + (["for"] if d == 4 else [])
    for d in range(10)
}
SEPARATORS = st.sampled_from([" ", "  ", "-", " - ", ".", ", ", ",", "", " um ", " y "])


@st.composite
def said_numbers(draw, length: int) -> tuple[str, str]:
    """A number of `length` digits, keyed or said: "4242 cuatro dos-4 two, 4242"."""
    digits = draw(st.text(alphabet="0123456789", min_size=length, max_size=length))
    pieces: list[str] = []
    i = 0
    while i < len(digits):
        digit = digits[i]
        twice = i + 1 < len(digits) and digits[i + 1] == digit
        how = draw(
            st.sampled_from(["digit", "word", "word", "double"] if twice else ["digit", "word"])
        )
        if how == "double":
            pieces.append(
                draw(st.sampled_from(["double ", "doble "])) + draw(st.sampled_from(WORDS[digit]))
            )
            i += 2
            continue
        pieces.append(digit if how == "digit" else draw(st.sampled_from(WORDS[digit])))
        i += 1
    text = pieces[0]
    for previous, piece in zip(pieces, pieces[1:], strict=False):
        separator = draw(SEPARATORS)
        if separator == "" and not (previous[-1].isdigit() and piece[0].isdigit()):
            separator = " "
        text += separator + piece
    return digits, text


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(13, 19).flatmap(said_numbers), st.sampled_from(PARAMS))
def test_a_generated_card_number_is_never_written(tmp_path, said, name):
    digits, text = said
    line = written(tmp_path, {name: text})
    assert json.loads(line)["params"][name] == REDACTED, text
    for i in range(len(digits) - 3):
        window = digits[i : i + 4]
        assert set(window) == {"9"} or window not in searchable(line), (text, line)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from([8, 9, 10, 12]).flatmap(said_numbers))
def test_a_generated_mrn_or_account_said_at_a_menu_is_never_written(tmp_path, said):
    digits, text = said
    entry = json.loads(written(tmp_path, {"SpeechResult": text}))
    assert entry["params"]["SpeechResult"] == REDACTED, text


SPANISH_TEENS = ["diez", "once", "doce", "trece", "catorce", "quince", "dieciséis"]
SPANISH_TEENS += ["diecisiete", "dieciocho", "diecinueve", "veinte", "veintiuno", "veintidós"]
SPANISH_TEENS += ["veintitrés", "veinticuatro", "veinticinco", "veintiséis", "veintisiete"]
SPANISH_TEENS += ["veintiocho", "veintinueve", "treinta", "treinta y uno"]


def _spanish_day(day: int) -> str:
    """A day of the month as said in Spanish: "primero", "dos", "catorce", "treinta y uno"."""
    if day == 1:
        return "primero"
    return ES[day] if day < 10 else SPANISH_TEENS[day - 10]


DATE_FORMATS = [
    lambda d: f"{d.month:02}/{d.day:02}/{d.year}",
    lambda d: f"{d.month}/{d.day}/{d.year % 100:02}",
    lambda d: f"{d.month}-{d.day}-{d.year % 100:02}",
    lambda d: f"{d.month:02}.{d.day:02}.{d.year}",
    lambda d: f"{d.day:02}/{d.month:02}/{d.year}",
    lambda d: d.isoformat(),
    lambda d: d.strftime("%m%d%Y"),
    lambda d: d.strftime("%m%d%y"),
    lambda d: f"{MONTHS_EN[d.month - 1].title()} {d.day}, {d.year}",
    lambda d: f"{MONTHS_EN[d.month - 1][:3].title()}. {d.day}",
    lambda d: f"{MONTHS_EN[d.month - 1]} {d.day}",
    lambda d: f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}",
    lambda d: f"{d.day} de {MONTHS_ES[d.month - 1]} de {d.year}",
    lambda d: f"{_spanish_day(d.day)} de {MONTHS_ES[d.month - 1]}",
    lambda d: f"el {d.day} de {MONTHS_ES[d.month - 1]}",
    lambda d: " ".join(EN[int(c)] for c in d.strftime("%m%d%Y")),
    lambda d: " ".join(ES[int(c)] for c in d.strftime("%m%d%Y")),
    lambda d: f"{EN[d.month] if d.month < 10 else d.month} {d.day} {d.year % 100:02}",
]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dates(min_value=date(1920, 1, 1), max_value=date(2025, 12, 31)),
    st.sampled_from(DATE_FORMATS),
    st.sampled_from(PARAMS),
)
def test_a_generated_date_in_any_form_is_never_written(tmp_path, when, form, name):
    text = form(when)
    line = written(tmp_path, {name: text})
    assert json.loads(line)["params"][name] == REDACTED, text
    assert fold(text) not in searchable(line)
