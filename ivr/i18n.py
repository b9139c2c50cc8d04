"""Languages of the line and their translations, read from the gettext .po catalogs at start-up.

The .po files under ivr/translations are the only translation files: nothing is compiled
to .mo, so no compile step can leave the line speaking stale translations. Only finished
entries are used; a fuzzy, empty or malformed one falls back to the English.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from babel.support import NullTranslations

from billing_core.adapters.translations import PoTranslations

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DOMAIN = "messages"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Language:
    """A language the line speaks: its Babel locale, Twilio's language tag and the voice."""

    code: str
    locale: str
    twilio_language: str
    voice: str


def load_languages(voices: dict[str, str]) -> dict[str, Language]:
    """Return the line's languages with the configured voice for each."""
    return {
        "en": Language("en", "en_US", "en-US", voices["en"]),
        "es": Language("es", "es_US", "es-US", voices["es"]),
    }


def load_translations(locale: str) -> NullTranslations:
    """Return the catalog for a locale (es_US, else es); English is the source and needs none."""
    if locale.startswith("en"):
        return NullTranslations()
    for candidate in dict.fromkeys([locale, locale.split("_")[0]]):
        path = catalog_path(candidate)
        if path.is_file():
            with path.open("rb") as po_file:
                return PoTranslations(po_file)
    log.warning("no %s catalog for locale %s: the line will speak English", DOMAIN, locale)
    return NullTranslations()


def catalog_path(locale: str) -> Path:
    """Where the .po catalog of a locale lives."""
    return TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
