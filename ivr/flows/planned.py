"""Payments arranged ahead: automatic payments, scheduled payments, payment plans."""

from __future__ import annotations

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from ivr.flows import autopay, plans, scheduled
from ivr.kernel import Turn, choice, offer, step
from ivr.prompts import Prompt

bp = Blueprint("planned", __name__, url_prefix="/voice/planned")

# What each key of this menu does; the menu offers only these.
CHOICES = {
    "1": autopay.overview,
    "2": scheduled.overview,
    "3": plans.overview,
}
OPTIONS = (
    Prompt.PLANNED_AUTOPAY,
    Prompt.PLANNED_SCHEDULED,
    Prompt.PLANNED_PLANS,
    Prompt.MENU_BACK,
)


@step(bp, "", member=True)
def menu(turn: Turn) -> VoiceResponse:
    """Offer automatic payments and the other payments arranged ahead."""
    return offer(turn, OPTIONS, choose)


@step(bp, "/choose", member=True, answer=True)
def choose(turn: Turn) -> VoiceResponse:
    """Go where the key pressed leads."""
    return choice(turn, CHOICES, "planned", menu)
