"""Paperless billing: hear whether it is on, accept its terms to turn it on, or turn it off."""

from __future__ import annotations

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from billing_core.services.preferences import PaperlessTerms, PreferenceNotAllowed
from ivr.kernel import (
    MAIN_MENU,
    Turn,
    agreed,
    answered,
    ask,
    done,
    global_key,
    go,
    no_answer,
    retry,
    step,
)
from ivr.prompts import Prompt

bp = Blueprint("paperless", __name__, url_prefix="/voice/paperless")

# The version of the digital delivery terms read; recorded with them.
WORDING_VERSION = "paperless-phone-202612"


@step(bp, "", member=True)
def overview(turn: Turn) -> VoiceResponse:
    """Say whether paperless billing is on; offer to turn it off, or read its terms."""
    chosen = turn.billing.message_preferences(turn.call.member_id)
    if chosen.paperless:
        lead = [turn.say(Prompt.PAPERLESS_IS_ON)]
        options = [turn.say(Prompt.PAPERLESS_TURN_OFF), turn.say(Prompt.MENU_BACK)]
        return ask(turn, options, turn_off, num_digits=1, lead=lead)
    if chosen.email is None:
        return go(turn, MAIN_MENU, turn.say(Prompt.PAPERLESS_NO_EMAIL))
    lead = [turn.say(Prompt.PAPERLESS_IS_OFF)]
    options = [terms_prompt(turn), turn.say(Prompt.AUTOPAY_ACCEPT)]
    return ask(turn, options, accept, num_digits=1, lead=lead)


def terms_prompt(turn: Turn):
    return turn.say(Prompt.PAPERLESS_TERMS, payee=turn.billing.regions.plan_name)


@step(bp, "/accept", member=True, answer=True)
def accept(turn: Turn) -> VoiceResponse:
    """On 1, turn paperless on under the terms read; on 2, back to the main menu."""
    answer = agreed(turn, "paperless_terms", overview, declined=MAIN_MENU)
    if answer is not None:
        return answer
    call = turn.call
    terms = PaperlessTerms(
        text=turn.voice.text(Prompt.PAPERLESS_TERMS, payee=turn.billing.regions.plan_name),
        wording_version=WORDING_VERSION,
        accepted_at=turn.billing.clock.now(),
        channel="phone",
        call_sid=call.call_sid,
    )
    try:
        turn.billing.paperless_on(call.member_id, terms)
    except PreferenceNotAllowed:
        return go(turn, MAIN_MENU, turn.say(Prompt.PAPERLESS_NO_EMAIL))
    return go(turn, MAIN_MENU, turn.say(Prompt.PAPERLESS_TURNED_ON))


@step(bp, "/off", member=True, answer=True)
def turn_off(turn: Turn) -> VoiceResponse:
    """On 1, turn paperless billing off."""
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "paperless_off", overview)
    if digits != "1":
        return global_key(turn, digits, overview) or retry(
            turn, "paperless_off", overview, Prompt.NOT_A_CHOICE
        )
    done(turn, "paperless_off")
    call = turn.call
    turn.billing.paperless_off(call.member_id, channel="phone", call_sid=call.call_sid)
    return go(turn, MAIN_MENU, turn.say(Prompt.PAPERLESS_TURNED_OFF))
