"""Help for callers who need more time: the relay-mode offer and the time-running-out warning."""

from __future__ import annotations

import logging

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from ivr.commands import RELAY_KEY, SPECIALIST_KEY
from ivr.flows import agent
from ivr.kernel import (
    RELAY_OFFER,
    STILL_THERE,
    Turn,
    answered,
    ask,
    go,
    goodbye,
    resume,
    step,
)
from ivr.prompts import Prompt
from ivr.sentences import hours_and_number

bp = Blueprint("assist", __name__, url_prefix="/voice/assist")
log = logging.getLogger(__name__)


@RELAY_OFFER.bind
@step(bp, "/relay")
def relay_offer(turn: Turn) -> VoiceResponse:
    """Offer relay mode after two silences in a row."""
    prompts = [turn.say(Prompt.NO_INPUT), turn.say(Prompt.RELAY_OFFER)]
    return ask(turn, prompts, relay_offer_answer, num_digits=1)


@step(bp, "/relay/answer", answer=True)
def relay_offer_answer(turn: Turn) -> VoiceResponse:
    """Turn relay mode on when asked, or when the caller still cannot answer in time."""
    digits = answered(turn)
    if digits == "1":
        return resume(turn)
    if digits in (None, "", RELAY_KEY):
        # Silence again is itself a sign the caller needs longer than a spoken-call timeout.
        turn.call.relay = True
        log.info("call %s: relay mode on", turn.call.call_sid)
        return resume(turn, turn.say(Prompt.RELAY_ON))
    if digits == SPECIALIST_KEY:
        return go(turn, agent.transfer)
    return resume(turn)


@STILL_THERE.bind
@step(bp, "/still-there")
def still_there(turn: Turn) -> VoiceResponse:
    """Warn that time is running out and say how to get more."""
    return ask(turn, [turn.say(Prompt.STILL_THERE)], still_there_answer, num_digits=1)


@step(bp, "/still-there/answer", answer=True)
def still_there_answer(turn: Turn) -> VoiceResponse:
    """More time on any answer; a specialist on 0; after silence, the number and goodbye."""
    digits = answered(turn)
    if digits == SPECIALIST_KEY:
        return go(turn, agent.transfer)
    if digits:
        turn.call.silences = 0
        return resume(turn)
    # Even the last word offers a person, with the TTY-capable number.
    return goodbye(
        turn, turn.say(Prompt.ENDING_FOR_SILENCE), *hours_and_number(turn.voice, turn.region)
    )
