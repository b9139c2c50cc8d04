"""The method menu of a standing authorization: each saved method, then a new card or account.

Automatic payments and payment plans both charge a method later, with no one on the
line: the caller picks one here, and the flow captures a new one or reads its terms.
"""

from __future__ import annotations

from typing import Protocol

from twilio.twiml.voice_response import Say

from ivr.call_state import Method
from ivr.kernel import Turn
from ivr.prompts import Prompt
from ivr.sentences import method_phrase

# What a key of the menu stands for, other than a saved method.
NEW_CARD = "card"
NEW_BANK = "bank"
SAVED = "saved"


class Choosing(Protocol):
    """The part of a flow's draft the menu fills."""

    method_ids: list[int] | None
    method_id: int | None
    method: Method | None


def options(turn: Turn, draft: Choosing) -> list[Say]:
    """Offer each saved method, then a new card and a new bank account; remember the keys."""
    saved = turn.billing.saved_methods(turn.call.member_id)
    said = [
        turn.say(
            Prompt.AUTOPAY_ASK_METHOD, method=method_phrase(Method.of_saved(method)), key=str(key)
        )
        for key, method in enumerate(saved, start=1)
    ]
    said.append(turn.say(Prompt.AUTOPAY_NEW_CARD, key=str(len(saved) + 1)))
    said.append(turn.say(Prompt.AUTOPAY_NEW_BANK, key=str(len(saved) + 2)))
    draft.method_ids = [method.id for method in saved]
    draft.method_id = draft.method = None
    return said


def choice(draft: Choosing, digits: str) -> str | None:
    """What the key pressed chose (a saved method is kept in the draft); None: not a choice."""
    choices = draft.method_ids or []
    if not (digits.isdigit() and 1 <= int(digits) <= len(choices) + 2):
        return None
    key = int(digits)
    if key == len(choices) + 1:
        return NEW_CARD
    if key == len(choices) + 2:
        return NEW_BANK
    draft.method_id = choices[key - 1]
    return SAVED


def chosen(turn: Turn, draft: Choosing) -> Method | None:
    """The method chosen: the new one captured, or the saved one (None if it was removed)."""
    if draft.method is not None:
        return draft.method
    if draft.method_id is None:
        return None
    saved = turn.billing.saved_method(turn.call.member_id, draft.method_id)
    return Method.of_saved(saved) if saved is not None else None
