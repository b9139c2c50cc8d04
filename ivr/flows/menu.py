"""The main menu, offered once the caller is identified."""

from __future__ import annotations

from flask import Blueprint

from ivr.calls import voice
from ivr.flows.identified import member_required
from ivr.flows.steps import answered, ask, done, global_key, go, no_answer, retry
from ivr.prompts import Prompt

bp = Blueprint("menu", __name__, url_prefix="/voice/menu")

# What each key of the main menu does; the menu offers only these.
CHOICES = {
    "1": "pay.choose_target",
    "2": "balances.read",
    "3": "recent.read",
    "4": "ways_to_pay.read",
}


@bp.post("")
@member_required
def main():
    """Offer the main menu."""
    options = [
        Prompt.MAIN_MENU,
        Prompt.MENU_PAY,
        Prompt.MENU_BALANCES,
        Prompt.MENU_RECENT_PAYMENTS,
        Prompt.MENU_WAYS_TO_PAY,
        Prompt.MENU_SPECIALIST,
        Prompt.MENU_REPEAT,
    ]
    return ask([voice().say(option) for option in options], "menu.choose", num_digits=1)


@bp.post("/choose")
@member_required
def choose():
    """Go where the key pressed at the main menu leads."""
    digits = answered()
    if not digits:
        return no_answer("main_menu", "menu.main")
    if digits in CHOICES:
        done("main_menu")
        return go(CHOICES[digits])
    handled = global_key(digits, "menu.main")
    if handled is not None:
        done("main_menu")
        return handled
    return retry("main_menu", "menu.main", Prompt.NOT_A_CHOICE)
