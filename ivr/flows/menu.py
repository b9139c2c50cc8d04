"""The main menu, offered once the caller is identified."""

from __future__ import annotations

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from ivr.flows import balances, documents, pay, planned, questions, recent, ways_to_pay
from ivr.kernel import MAIN_MENU, Turn, choice, offer, step
from ivr.prompts import Prompt

bp = Blueprint("menu", __name__, url_prefix="/voice/menu")

# What each key of the main menu does; the menu offers only these.
CHOICES = {
    "1": pay.choose_target,
    "2": balances.read,
    "3": planned.menu,
    "4": recent.read,
    "5": documents.menu,
    "6": ways_to_pay.read,
    "8": questions.menu,
}
OPTIONS = (
    Prompt.MAIN_MENU,
    Prompt.MENU_PAY,
    Prompt.MENU_BALANCES,
    Prompt.MENU_PLANNED,
    Prompt.MENU_RECENT_PAYMENTS,
    Prompt.MENU_DOCUMENTS,
    Prompt.MENU_WAYS_TO_PAY,
    Prompt.MENU_QUESTIONS,
    Prompt.MENU_SPECIALIST,
    Prompt.MENU_REPEAT,
)


@MAIN_MENU.bind
@step(bp, "", member=True)
def main(turn: Turn) -> VoiceResponse:
    """Offer the main menu: a key, or the request in the caller's own words."""
    turn.call.spoken_amount = None  # an amount said with an earlier request is forgotten
    return offer(turn, OPTIONS, choose)


@step(bp, "/choose", member=True, answer=True)
def choose(turn: Turn) -> VoiceResponse:
    """Go where the key pressed, or the request said, at the main menu leads."""
    return choice(turn, CHOICES, "main_menu", main)
