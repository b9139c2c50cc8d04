"""The calls under tests/calls/scripts/speech-alone are made by speech alone: not one key.

Each is played as written by test_call_scripts; this checks that they stay what their
folder promises. Calls before the one played (saving a card) may use the keypad: <Pay>
takes a card's digits from the keypad only.
"""

from __future__ import annotations

import pytest

from ivr_sim.script import load_scripts
from tests.calls.conftest import SCRIPTS_DIR

SPEECH_ALONE = load_scripts(SCRIPTS_DIR / "speech-alone")
TASKS = ("balance-check", "premium-payment", "autopay-enrollment", "document-request")


def test_a_balance_check_a_premium_payment_autopay_and_a_document_are_done_in_both_languages():
    names = {script.name.removeprefix("speech-alone/") for script in SPEECH_ALONE}
    assert names >= {f"{task}-{language}" for task in TASKS for language in ("english", "spanish")}


@pytest.mark.parametrize("script", SPEECH_ALONE, ids=[s.name for s in SPEECH_ALONE])
def test_the_call_played_uses_speech_and_never_a_key(script):
    call = script.calls[-1]
    inputs = [step.action for step in call.steps if step.is_input]
    assert inputs.count("say") >= 5
    assert set(inputs) <= {"say", "silence", "hang-up"}, [s.written for s in call.steps]
