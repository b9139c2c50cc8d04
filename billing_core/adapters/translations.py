"""The billing core's words in other languages, read from its gettext .po catalogs.

The .po files under billing_core/translations are the only translation files: nothing is
compiled to .mo. Each catalog is read once, with Babel, the first time it is needed
(BillingCore reads them as it starts). Only finished entries are used; a fuzzy, empty or
malformed one falls back to the English.
"""

from __future__ import annotations

import functools
import gettext
import logging
import string
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from babel.messages.catalog import Message
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"
# Languages whose words are English, the source: they need no catalog.
SOURCE_LANGUAGE = "en"

log = logging.getLogger(__name__)


def N_(message: str) -> str:
    """Mark an English message for the catalog (make catalog); it is translated when used."""
    return message


class Words:
    """A module's English words by key, and the same keys in a language, read once each."""

    def __init__(self, english: Mapping[str, str]) -> None:
        self.english = dict(english)
        self._by_language: dict[str, dict[str, str]] = {}

    def __call__(self, language: str) -> dict[str, str]:
        found = self._by_language.get(language)
        if found is None:
            gettext = translations(language).gettext
            found = {key: gettext(text) for key, text in self.english.items()}
            self._by_language[language] = found
        return found


def catalog_path(language: str) -> Path:
    """Where the .po catalog of a language (es) lives."""
    return TRANSLATIONS_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> NullTranslations:
    """The catalog of a language code (es); English, and a language with no catalog, get none."""
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    path = catalog_path(language)
    if not path.is_file():
        log.warning("no %s catalog for language %s: receipts will be in English", DOMAIN, language)
        return NullTranslations()
    with path.open("rb") as po_file:
        return PoTranslations(po_file)


def load_all(languages: tuple[str, ...]) -> None:
    """Read the catalogs of these languages now, so a broken one shows at start-up."""
    for language in languages:
        translations(language)


class PoTranslations(Translations):
    """gettext translations parsed from a .po file rather than a compiled .mo.

    Overriding _parse is how gettext supports another catalog format. Entries that are
    fuzzy, untranslated or whose {placeholders} differ from the English are left out, so
    gettext falls back to the English message for them.
    """

    def __init__(self, fp: IO[bytes]) -> None:
        super().__init__(fp, domain=DOMAIN)

    def _parse(self, fp: IO[bytes]) -> None:
        catalog = read_po(fp, domain=DOMAIN, ignore_obsolete=True, abort_invalid=True)
        self._info = {name.lower(): value for name, value in catalog.mime_headers}
        self._charset = "utf-8"  # read_po has already decoded the file
        self.plural = gettext.c2py(catalog.plural_expr)
        self._catalog = {}
        source = getattr(fp, "name", DOMAIN)
        for message in catalog:
            if not message.id:
                continue  # the header
            if not is_finished(message):
                log.warning("%s: %r has no finished translation", source, message.id)
                continue
            msgid = message.id[0] if message.pluralizable else message.id
            if message.context:
                msgid = self.CONTEXT % (message.context, msgid)
            if message.pluralizable:
                for form, text in enumerate(message.string):
                    self._catalog[(msgid, form)] = text
            else:
                self._catalog[msgid] = message.string


def is_finished(message: Message) -> bool:
    """Whether a catalog entry may be spoken: translated, not fuzzy, same placeholders."""
    strings = message.string if message.pluralizable else (message.string,)
    if message.fuzzy or not all(strings):
        return False
    if not message.pluralizable:
        english = placeholder_names(message.id)
        return english is not None and placeholder_names(message.string) == english
    # A plural form may leave out the count ("one bill") but never adds a name.
    english = Counter()
    for msgid in message.id:
        english |= placeholder_names(msgid) or Counter()
    forms = [placeholder_names(text) for text in strings]
    return all(form is not None and form <= english for form in forms)


def placeholder_names(text: str) -> Counter[str] | None:
    """Return the {placeholder} names in a message, counted, or None if its braces are wrong."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return None
    return Counter(fields)
