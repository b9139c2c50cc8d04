"""A day said aloud becomes the month and day the keypad would send (MMDD)."""

from __future__ import annotations

from datetime import date

import pytest

from ivr.spoken_dates import spoken_month_day

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("said", "language", "keys"),
    [
        ("December fifteenth", "en", "1215"),
        ("December 15th.", "en", "1215"),
        ("the 15th of December", "en", "1215"),
        ("on January first", "en", "0101"),
        ("thirty-first of December", "en", "1231"),
        ("Dec. 20", "en", "1220"),
        ("12/15", "en", "1215"),
        ("tomorrow", "en", "1204"),
        ("the day after tomorrow", "en", "1205"),
        ("the twentieth", "en", "1220"),  # this month: the 20th is still to come
        ("on the 2nd", "en", "0102"),  # next month: the 2nd has passed
        ("quince de diciembre", "es", "1215"),
        ("el primero de enero", "es", "0101"),
        ("el 2 de enero", "es", "0102"),
        ("veintiuno de diciembre", "es", "1221"),
        ("el treinta y uno de diciembre", "es", "1231"),
        ("20 dic", "es", "1220"),
        ("mañana", "es", "1204"),
        ("pasado mañana", "es", "1205"),
        ("el 20 de December", "es", "1220"),  # a month named in English, on the Spanish line
    ],
)
def test_a_day_said_is_its_month_and_day(said, language, keys):
    assert spoken_month_day(said, language, TODAY) == keys


@pytest.mark.parametrize("said", ["December", "fifteen", "my balance", "", "el 20", "1 2 3"])
def test_words_that_name_no_one_day_are_no_date(said):
    assert spoken_month_day(said, "en", TODAY) is None
