"""The Spanish line: every prompt translated, catalogs in step with the English, natural sentences.

When a test here fails after an English prompt changed, update the catalogs (README: catalog
update) and translate the entries it names.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections import Counter
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from babel.support import NullTranslations

from ivr import i18n, prompts
from ivr.commands import SPOKEN_COMMANDS
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

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = i18n.TRANSLATIONS_DIR / "messages.pot"
SPANISH = i18n.TRANSLATIONS_DIR / "es" / "LC_MESSAGES" / "messages.po"
LANGUAGES = load_languages({"en": "Google.en-US-Neural2-F", "es": "Google.es-US-Neural2-A"})
NAMES = {prompt.value: prompt.name for prompt in Prompt}


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as po_file:
        return read_po(po_file, ignore_obsolete=True, abort_invalid=True)


def msgids(catalog: Catalog) -> set[str]:
    return {message.id for message in catalog if message.id}


def extracted_messages() -> set[str]:
    """What `pybabel extract -k N_` finds in the prompt catalog, extracted in memory."""
    return {
        message
        for _line, message, _comments, _context in extract_from_file(
            "python", prompts.__file__, keywords={"N_": None}
        )
    }


def described(messages: set[str]) -> str:
    return "; ".join(sorted(f"{NAMES.get(m, '(no longer a prompt)')}: {m!r}" for m in messages))


def spanish_voice() -> Voice:
    return Voice(LANGUAGES["es"], load_translations(LANGUAGES["es"].locale))


def placeholders(text: str) -> Counter[str]:
    return Counter(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def literal_text(text: str) -> str:
    return "".join(literal for literal, _, _, _ in string.Formatter().parse(text))


def spanish_entries() -> list[tuple[str, str]]:
    return [(m.id, m.string) for m in read_catalog(SPANISH) if m.id and m.string]


# The catalogs are in step with the English prompts


def test_every_prompt_of_the_catalog_has_its_own_text():
    # Two members with one text make the second an alias of the first: it is never listed,
    # so the coverage report and the recordings' prompt names would not know it.
    aliases = [name for name, prompt in Prompt.__members__.items() if prompt.name != name]
    assert not aliases, f"these repeat another prompt's text; use that prompt: {aliases}"


def test_the_template_lists_exactly_the_prompts_of_the_catalog():
    template, extracted = msgids(read_catalog(TEMPLATE)), extracted_messages()
    assert not extracted - template, (
        f"messages.pot is missing prompts; re-extract: {described(extracted - template)}"
    )
    assert not template - extracted, (
        f"messages.pot has messages no prompt says; re-extract: {described(template - extracted)}"
    )


def test_the_spanish_catalog_lists_exactly_the_prompts_of_the_catalog():
    spanish, extracted = msgids(read_catalog(SPANISH)), extracted_messages()
    assert not extracted - spanish, (
        f"the Spanish catalog is missing prompts; update it: {described(extracted - spanish)}"
    )
    assert not spanish - extracted, (
        f"the Spanish catalog has entries no prompt says: {described(spanish - extracted)}"
    )


def test_every_prompt_has_a_finished_spanish_translation():
    catalog = read_catalog(SPANISH)
    unfinished = []
    for prompt in Prompt:
        message = catalog.get(prompt.value)
        if message is None or not message.string or message.fuzzy:
            state = "missing" if message is None else "fuzzy" if message.fuzzy else "empty"
            unfinished.append(f"{prompt.name} ({state}): {prompt.value!r}")
    assert not unfinished, "prompts without a finished Spanish translation: " + "; ".join(
        unfinished
    )


def test_every_translation_uses_exactly_the_placeholders_of_its_english():
    wrong = [
        f"{NAMES.get(english, english)}: {dict(placeholders(english))} in English, "
        f"{dict(placeholders(spanish))} in Spanish"
        for english, spanish in spanish_entries()
        if placeholders(spanish) != placeholders(english)
    ]
    assert not wrong, "; ".join(wrong)


def test_every_translation_keeps_the_keys_and_numbers_of_its_english():
    def keys(text: str, star: str, pound: str) -> Counter[str]:
        literal = literal_text(text).lower()
        found = Counter(re.findall(r"\d+", literal))
        found["star"] = len(re.findall(rf"\b{star}\b", literal))
        found["pound"] = len(re.findall(rf"\b{pound}\b", literal))
        return +found

    wrong = [
        f"{NAMES.get(english, english)}: {spanish!r}"
        for english, spanish in spanish_entries()
        if keys(english, "star", "pound") != keys(spanish, "asterisco", "numeral")
    ]
    assert not wrong, "keys or numbers differ from the English: " + "; ".join(wrong)


def test_every_word_the_spanish_line_asks_callers_to_say_is_understood():
    asked = {
        word
        for _english, spanish in spanish_entries()
        for word in re.findall(r"\bdiga (\w+)", spanish.lower())
    }
    assert asked, "the Spanish line tells callers what they can say"
    assert asked <= set(SPOKEN_COMMANDS), f"not understood: {sorted(asked - set(SPOKEN_COMMANDS))}"


def test_the_po_catalogs_ship_with_the_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert (
        "translations/*/LC_MESSAGES/*.po" in pyproject["tool"]["setuptools"]["package-data"]["ivr"]
    )


# Loading the catalogs


def test_english_is_the_source_and_needs_no_catalog():
    translations = load_translations("en_US")
    assert type(translations) is NullTranslations
    assert translations.gettext(Prompt.MAIN_MENU.value) == "Main menu."


def test_spanish_is_read_straight_from_the_po_file():
    translations = load_translations("es_US")
    assert translations.gettext(Prompt.MAIN_MENU.value) == "Menú principal."
    assert translations.info()["language"] == "es"
    assert not list(i18n.TRANSLATIONS_DIR.rglob("*.mo")), "no compiled catalog is needed"


def test_fuzzy_empty_and_broken_translations_fall_back_to_english(tmp_path, monkeypatch):
    catalog_dir = tmp_path / "es" / "LC_MESSAGES"
    catalog_dir.mkdir(parents=True)
    (catalog_dir / "messages.po").write_text(
        'msgid ""\n'
        'msgstr ""\n'
        '"Language: es\\n"\n'
        '"Content-Type: text/plain; charset=utf-8\\n"\n'
        "\n"
        'msgid "Main menu."\n'
        'msgstr "Menú principal."\n'
        "\n"
        "#, fuzzy\n"
        'msgid "Please try again."\n'
        'msgstr "Adiós."\n'
        "\n"
        'msgid "Thank you for calling. Goodbye."\n'
        'msgstr ""\n'
        "\n"
        'msgid "Thank you, {name}."\n'
        'msgstr "Gracias, {nombre}."\n'
        "\n"
        'msgid "Your confirmation number is {number}."\n'
        'msgstr "Su número de confirmación es {number."\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    translations = load_translations("es_US")
    assert translations.gettext("Main menu.") == "Menú principal."
    for english in [
        "Please try again.",
        "Thank you for calling. Goodbye.",
        "Thank you, {name}.",
        "Your confirmation number is {number}.",
    ]:
        assert translations.gettext(english) == english


def test_a_locale_without_a_catalog_speaks_english(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    assert load_translations("es_US").gettext("Main menu.") == "Main menu."


# The Spanish voice: composed sentences read naturally


def test_the_spanish_menu_uses_oprima_and_asterisco():
    voice = spanish_voice()
    assert voice.text(Prompt.MAIN_MENU) == "Menú principal."
    assert voice.text(Prompt.MENU_PAY) == "Para hacer un pago, oprima 1."
    assert voice.text(Prompt.MENU_REPEAT) == "Para repetir, oprima asterisco."
    assert voice.text(Prompt.OFFER_SPANISH) == "Para español, oprima 8."


def test_a_bill_is_read_with_us_dollars_and_day_first_dates():
    text = spanish_voice().text(
        Prompt.MEDICAL_BILL,
        date_of_service=Day(date(2026, 9, 14)),
        facility="Oakland Medical Center",
        balance=Money(123456),
        due_date=Day(date(2026, 12, 15)),
    )
    assert text == (
        "Por su visita del 14/9/2026 en Oakland Medical Center, debe $1,234.56. "
        "Vence el 15/12/2026."
    )


def test_a_premium_is_read_with_its_coverage_month_in_spanish():
    text = spanish_voice().text(
        Prompt.PREMIUM_DUE,
        month=Month(date(2027, 1, 1)),
        balance=Money(41200),
        due_date=Day(date(2026, 12, 31)),
    )
    assert text == "Su prima por la cobertura de enero de 2027 es de $412.00. Vence el 31/12/2026."


@pytest.mark.parametrize(
    ("target", "method", "expected"),
    [
        (
            Fragment(
                Prompt.PAYING_BILL,
                {"date_of_service": Day(date(2026, 9, 14), year=False)},
            ),
            Fragment(Prompt.METHOD_CARD, {"brand": "Visa", "last4": Digits("4242")}),
            "Va a pagar $1,234.56 por su visita del 14/9 con su tarjeta Visa terminada en 4242.",
        ),
        (
            Fragment(Prompt.PAYING_PREMIUM),
            Fragment(
                Prompt.METHOD_BANK,
                {"account_type": Fragment(Prompt.SAVINGS), "last4": Digits("6789")},
            ),
            "Va a pagar $1,234.56 por su prima con su cuenta de ahorros terminada en 6789.",
        ),
        (
            Fragment(Prompt.PAYING_ALL_BILLS),
            Fragment(
                Prompt.METHOD_BANK,
                {"account_type": Fragment(Prompt.CHECKING), "last4": Digits("6789")},
            ),
            "Va a pagar $1,234.56 por todas sus facturas médicas "
            "con su cuenta de cheques terminada en 6789.",
        ),
    ],
)
def test_the_payment_read_back_composes_what_and_how_in_spanish(target, method, expected):
    voice = spanish_voice()
    text = voice.text(Prompt.CONFIRM_PAYMENT, amount=Money(123456), target=target, method=method)
    assert text == expected


def test_a_recent_payment_is_one_spanish_sentence_with_its_confirmation_number():
    text = spanish_voice().text(
        Prompt.RECENT_PAYMENT,
        date=Day(date(2026, 11, 27)),
        amount=Money(12000),
        target=Fragment(Prompt.PAYING_A_BILL, {"bill_number": "B-200"}),
        method=Fragment(Prompt.METHOD_CARD, {"brand": "Mastercard", "last4": Digits("4444")}),
        number=Digits("4823019576"),
    )
    assert text == (
        "El 27/11/2026 pagó $120.00 por la factura médica B-200, con su tarjeta Mastercard "
        "terminada en 4444. Número de confirmación: 4823019576."
    )


def test_the_bank_authorization_names_the_account_and_date_in_spanish():
    text = spanish_voice().text(
        Prompt.ACH_AUTHORIZATION,
        name="María González",
        payee="Kaiser Permanente",
        amount=Money(8000),
        account_type=Fragment(Prompt.CHECKING),
        last4=Digits("6789"),
        date=Day(date(2026, 11, 27)),
        phone=PhoneNumber("+18002181059"),
    )
    assert text == (
        "Al oprimir 1, usted, María González, autoriza a Kaiser Permanente a hacer un débito "
        "electrónico por "
        "única vez de $80.00 de su cuenta de cheques terminada en 6789, el 27/11/2026. "
        "Si tiene preguntas sobre este pago, llame al (800) 218-1059."
    )


def test_the_specialists_hours_are_composed_in_spanish():
    voice = spanish_voice()
    spans = Listing(
        (
            Fragment(
                Prompt.HOURS_SPAN,
                {
                    "days": Fragment(Prompt.DAY_RANGE, {"first": "lunes", "last": "viernes"}),
                    "opens": ClockTime(time(7)),
                    "closes": ClockTime(time(19)),
                },
            ),
            Fragment(
                Prompt.HOURS_SPAN,
                {"days": "sábado", "opens": ClockTime(time(8)), "closes": ClockTime(time(16))},
            ),
        )
    )
    text = voice.text(
        Prompt.SPECIALIST_HOURS, hours=spans, time_zone=ZoneName(ZoneInfo("America/Los_Angeles"))
    )
    assert text == (
        "Los especialistas en facturación atienden de lunes a viernes, de 7:00 a.m. a "
        "7:00 p.m. y sábado, de 8:00 a.m. a 4:00 p.m., hora del Pacífico."
    )


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (
            Fragment(Prompt.METHOD_CARD, {"brand": "Visa", "last4": Digits("4242")}),
            "Su tarjeta Visa terminada en 4242 quedó guardada para la próxima vez.",
        ),
        (
            Fragment(
                Prompt.METHOD_BANK,
                {"account_type": Fragment(Prompt.CHECKING), "last4": Digits("6789")},
            ),
            "Su cuenta de cheques terminada en 6789 quedó guardada para la próxima vez.",
        ),
    ],
)
def test_a_saved_card_or_account_agrees_with_the_spanish_sentence(method, expected):
    assert spanish_voice().text(Prompt.METHOD_SAVED, method=method) == expected
