"""Languages of the line and their translations (gettext catalogs compiled by Babel)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).parent / "translations"


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
    """Return the compiled catalog for a locale; English is the source and needs none."""
    if locale.startswith("en"):
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [locale, locale.split("_")[0]], "messages")
