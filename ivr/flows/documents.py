"""Statements, paperless billing and notices: the menu that leads to each."""

from __future__ import annotations

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from ivr.flows import notices, paperless
from ivr.kernel import Turn, answered, ask, done, global_key, go, no_answer, retry, step
from ivr.prompts import Prompt

bp = Blueprint("documents", __name__, url_prefix="/voice/documents")

# What each key of this menu does; the menu offers only these.
CHOICES = {
    "2": paperless.overview,
    "3": notices.menu,
}
OPTIONS = (
    Prompt.DOCUMENTS_PAPERLESS,
    Prompt.DOCUMENTS_NOTICES,
    Prompt.MENU_BACK,
)


@step(bp, "", member=True)
def menu(turn: Turn) -> VoiceResponse:
    """Offer paperless billing and the choice of how notices are sent."""
    return ask(turn, [turn.say(option) for option in OPTIONS], choose, num_digits=1)


@step(bp, "/choose", member=True, answer=True)
def choose(turn: Turn) -> VoiceResponse:
    """Go where the key pressed leads."""
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "documents", menu)
    if digits in CHOICES:
        done(turn, "documents")
        return go(turn, CHOICES[digits])
    return global_key(turn, digits, menu) or retry(turn, "documents", menu, Prompt.NOT_A_CHOICE)
