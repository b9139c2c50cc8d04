"""Reach a billing specialist: dial them in business hours, tell the hours outside them."""

from __future__ import annotations

import logging

from flask import Blueprint
from twilio.twiml.voice_response import Dial, Say, VoiceResponse

from ivr.kernel import IDENTIFICATION, MAIN_MENU, SPECIALIST, Turn, bind_prompt, go, goodbye, step
from ivr.prompts import Prompt
from ivr.sentences import hours_and_number

bp = Blueprint("agent", __name__, url_prefix="/voice/agent")
log = logging.getLogger(__name__)

RING_SECONDS = 30
# <Dial>'s DialCallStatus: the specialist took the call, or did not (and why).
TAKEN = frozenset({"completed", "answered"})
NOT_TAKEN = {
    "busy": Prompt.SPECIALIST_BUSY,
    "no-answer": Prompt.SPECIALIST_BUSY,
    "failed": Prompt.SPECIALIST_UNREACHABLE,
    "canceled": Prompt.SPECIALIST_UNREACHABLE,
}


@SPECIALIST.bind
@step(bp, "")
def transfer(turn: Turn, reason: str = "asked") -> VoiceResponse:
    """Connect the caller to the region's billing line, or tell its hours when closed."""
    line = turn.region
    if line.billing_is_open(turn.billing.clock.now()):
        log.info("call %s: transferring to a billing specialist (%s)", turn.call.call_sid, reason)
        response = VoiceResponse()
        response.append(turn.say(Prompt.TRANSFERRING))
        dial = Dial(action=bind_prompt(turn, after_dial), method="POST", timeout=RING_SECONDS)
        dial.number(line.billing.number)
        response.append(dial)
        turn.call.transferred = True
        return response
    closed = [turn.say(Prompt.SPECIALIST_CLOSED), *hours_and_number(turn.voice, line)]
    return back_to_menu_or_goodbye(turn, closed)


@step(bp, "/after-dial", answer=True, legacy=lambda state: True)
def after_dial(turn: Turn) -> VoiceResponse:
    """End the call after a specialist took it; otherwise say so and carry on."""
    status = turn.form.get("DialCallStatus", "")
    if status in TAKEN:
        turn.call.ended = True
        return goodbye(turn)
    log.info("call %s: the specialist line gave %s", turn.call.call_sid, status or "no status")
    turn.call.transferred = False
    said = turn.say(NOT_TAKEN.get(status, Prompt.SPECIALIST_UNREACHABLE))
    return back_to_menu_or_goodbye(turn, [said, *hours_and_number(turn.voice, turn.region)])


def back_to_menu_or_goodbye(turn: Turn, says: list[Say]) -> VoiceResponse:
    """Carry on where the caller can: the main menu, identification, or goodbye.

    A caller who could not be verified hears goodbye; one who asked for a specialist
    before identifying can still identify and go on.
    """
    if turn.call.member_id is not None:
        return go(turn, MAIN_MENU, *says)
    if turn.call.identification_failures >= turn.settings["IVR_MAX_TRIES"]:
        return goodbye(turn, *says)
    return go(turn, IDENTIFICATION, *says)
