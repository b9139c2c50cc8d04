"""What follows a spoken page of information: hear it again, or back to the menu."""

from __future__ import annotations

from collections.abc import Iterable

from twilio.twiml.voice_response import Say

from ivr.calls import voice
from ivr.flows.steps import answered, ask, global_key, go
from ivr.prompts import Prompt


def page(says: Iterable[Say], again: Prompt, answer_endpoint: str):
    """Speak the page, then offer star to hear it again and 9 for the main menu."""
    options = [voice().say(again), voice().say(Prompt.MENU_BACK)]
    return ask(options, answer_endpoint, num_digits=1, lead=says)


def after_page(repeat_endpoint: str):
    """Repeat the page on star; otherwise the caller is done listening: main menu."""
    digits = answered()
    if digits:
        handled = global_key(digits, repeat_endpoint)
        if handled is not None:
            return handled
        return go("menu.main", voice().say(Prompt.NOT_A_CHOICE))
    return go("menu.main")
