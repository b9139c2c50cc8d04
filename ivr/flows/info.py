"""What follows a spoken page of information: hear it again, or back to the menu."""

from __future__ import annotations

from collections.abc import Iterable

from twilio.twiml.voice_response import Say, VoiceResponse

from ivr.kernel import MAIN_MENU, Step, Turn, answered, ask, global_key, go
from ivr.prompts import Prompt


def page(turn: Turn, says: Iterable[Say], again: Prompt, answer_step: Step) -> VoiceResponse:
    """Speak the page, then offer star to hear it again and 9 for the main menu."""
    options = [turn.say(again), turn.say(Prompt.MENU_BACK)]
    return ask(turn, options, answer_step, num_digits=1, lead=says)


def after_page(turn: Turn, repeat_step: Step) -> VoiceResponse:
    """Repeat the page on star; otherwise the caller is done listening: main menu."""
    digits = answered(turn)
    if digits:
        handled = global_key(turn, digits, repeat_step)
        if handled is not None:
            return handled
        return go(turn, MAIN_MENU, turn.say(Prompt.NOT_A_CHOICE))
    return go(turn, MAIN_MENU)
