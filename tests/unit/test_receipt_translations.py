"""The receipts' Spanish: every English word of a receipt translated, catalogs in step.

When a test here fails after an English receipt word changed, run `make catalog` and
translate the entries it names in billing_core/translations/es/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from billing_core.adapters import translations
from billing_core.services import (
    autopay_notices,
    documents,
    plan_notices,
    receipts,
    reminder_notices,
    scheduled_notices,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = translations.TRANSLATIONS_DIR / "messages.pot"
SPANISH = translations.catalog_path("es")


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as po_file:
        return read_po(po_file, ignore_obsolete=True, abort_invalid=True)


def msgids(catalog: Catalog) -> set[str]:
    return {message.id for message in catalog if message.id}


def extracted_messages() -> set[str]:
    """What `make catalog` extracts from receipts, notices and documents (`-k N_`), in memory."""
    return {
        message
        for module in (
            receipts,
            autopay_notices,
            scheduled_notices,
            plan_notices,
            reminder_notices,
            documents,
        )
        for _line, message, _comments, _context in extract_from_file(
            "python", module.__file__, keywords={"N_": None}
        )
    }


def test_the_template_holds_exactly_the_words_the_receipts_use():
    assert msgids(read_catalog(TEMPLATE)) == extracted_messages()


def test_the_spanish_catalog_holds_exactly_the_template_s_entries():
    assert msgids(read_catalog(SPANISH)) == msgids(read_catalog(TEMPLATE))


def test_every_spanish_entry_is_translated_not_fuzzy_and_has_the_english_placeholders():
    unfinished = [
        message.id
        for message in read_catalog(SPANISH)
        if message.id and not translations.is_finished(message)
    ]
    assert unfinished == []


def test_an_untranslated_fuzzy_or_mismatched_entry_is_not_finished():
    assert translations.is_finished(Message("card {x}", "tarjeta {x}"))
    assert not translations.is_finished(Message("card {x}", ""))
    assert not translations.is_finished(Message("card {x}", "tarjeta {x}", flags={"fuzzy"}))
    assert not translations.is_finished(Message("card {x}", "tarjeta {y}"))
    assert not translations.is_finished(Message("card {x}", "tarjeta {x} {x}"))
    assert not translations.is_finished(Message("card {x}", "tarjeta {x"))


def test_the_spanish_catalog_is_used_and_english_needs_none():
    spanish = translations.translations("es")
    assert spanish.gettext("your premium") == "su prima"
    assert spanish.gettext("{method} ending in {last4}") == "{method} terminada en {last4}"
    assert translations.translations("en").gettext("your premium") == "your premium"
    # A brand's name, and "Total", are written the same in Spanish.
    for english in extracted_messages():
        assert spanish.gettext(english) != english or english in ("{brand}", "Total")


def test_every_placeholder_of_the_english_is_kept_in_the_spanish():
    for message in read_catalog(SPANISH):
        if message.id:
            assert translations.placeholder_names(message.string) == Counter(
                translations.placeholder_names(message.id)
            ), message.id


def test_the_catalogs_ship_with_the_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["package-data"]["billing_core"]
    for path in (TEMPLATE, SPANISH):
        relative = path.relative_to(ROOT / "billing_core")
        assert any(relative.match(pattern) for pattern in shipped), relative
