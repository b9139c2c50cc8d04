"""The caller-time benchmark's model: audio, reacting, keys and webhooks, added up per step."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bench._speech import render_say, sentences
from bench.caller_time import METHODS, Pace, Sentence, Step, caller_seconds, choose

LENGTHS = {"Main menu.": 1.0, "To pay, press 1.": 2.0, "To hear balances, press 2.": 3.0}
MENU = tuple(Sentence(text, "en-us") for text in LENGTHS)
STEPS = [
    Step(heard=MENU, keys=1, webhooks=1, cue=1),
    Step(heard=(Sentence("Enter your card number.", "en-us", pause=0.5),), keys=17, webhooks=1),
    Step(heard=(Sentence("Your confirmation number is 1 2.", "en-us"),), keys=0, webhooks=2),
]


def length(sentence: Sentence) -> float:
    return LENGTHS.get(sentence.text, 4.0)


def test_a_caller_who_listens_hears_every_sentence_then_reacts_types_and_waits():
    # 0.3 + 6 + 0.8 + 0.5 | 0.3 + 4.5 + 0.8 + 8.5 | 0.6 + 4 (no keys: no reaction)
    assert caller_seconds(STEPS, length, Pace(), early=False) == pytest.approx(26.3)


def test_a_caller_pressing_early_stops_listening_at_the_sentence_naming_their_option():
    # The menu's third sentence (3 s) goes unheard; steps without a cue are heard whole.
    assert caller_seconds(STEPS, length, Pace(), early=True) == pytest.approx(23.3)


def test_the_pace_sets_the_cost_of_reacting_keys_and_webhooks():
    slow = Pace(react=2.0, key=1.0, webhook=1.0)
    # audio 3 + 4.5 + 4, reactions 2 x 2, keys 18, webhooks 4
    assert caller_seconds(STEPS, length, slow, early=True) == pytest.approx(37.5)


def test_a_confirmation_number_in_say_as_characters_is_spoken_digit_by_digit():
    say = ET.fromstring(
        '<Say language="en-US">Your confirmation number is '
        '<say-as interpret-as="characters">1520</say-as>.</Say>'
    )
    assert render_say(say, "en-us") == ("Your confirmation number is 1 5 2 0.", 0.0)


def test_amounts_and_dates_are_spoken_in_words_in_the_callers_language():
    say = ET.fromstring(
        "<Say>Va a pagar $1,250.05 por su visita del "
        '<say-as interpret-as="date" format="dmy">14/9/2026</say-as>.'
        '<break time="500ms"/></Say>'
    )
    assert render_say(say, "es") == (
        "Va a pagar 1250 dólares con 5 centavos por su visita del 14 de septiembre de 2026.",
        0.5,
    )


def test_a_prompt_with_several_sentences_is_split_where_each_one_ends():
    assert sentences("To pay now, press 1. To cancel, press 4.") == [
        "To pay now, press 1.",
        "To cancel, press 4.",
    ]


def test_the_caller_presses_the_key_of_the_sentence_naming_their_method():
    heard = [
        Sentence("Para tarjeta de crédito o débito, oprima 1.", "es"),
        Sentence("Para cuenta bancaria, oprima 2.", "es"),
    ]
    assert choose(heard, METHODS["bank"]) == ("2", 1)
