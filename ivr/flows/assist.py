"""Help for callers who need more time: the relay-mode offer and the time-running-out warning."""

from __future__ import annotations

import logging

from flask import Blueprint

from ivr.calls import call, region, voice
from ivr.flows.agent import hours_and_number
from ivr.flows.steps import RELAY_KEY, SPECIALIST_KEY, answered, ask, go, goodbye, resume
from ivr.prompts import Prompt

bp = Blueprint("assist", __name__, url_prefix="/voice/assist")
log = logging.getLogger(__name__)


@bp.post("/relay")
def relay_offer():
    """Offer relay mode after two silences in a row."""
    return ask(
        [voice().say(Prompt.NO_INPUT), voice().say(Prompt.RELAY_OFFER)],
        "assist.relay_offer_answer",
        num_digits=1,
    )


@bp.post("/relay/answer")
def relay_offer_answer():
    """Turn relay mode on when asked, or when the caller still cannot answer in time."""
    digits = answered()
    if digits == "1":
        return resume()
    if digits in (None, "", RELAY_KEY):
        # Silence again is itself a sign the caller needs longer than a spoken-call timeout.
        call()["relay"] = True
        log.info("call %s: relay mode on", call().call_sid)
        return resume(voice().say(Prompt.RELAY_ON))
    if digits == SPECIALIST_KEY:
        return go("agent.transfer")
    return resume()


@bp.post("/still-there")
def still_there():
    """Warn that time is running out and say how to get more."""
    return ask([voice().say(Prompt.STILL_THERE)], "assist.still_there_answer", num_digits=1)


@bp.post("/still-there/answer")
def still_there_answer():
    """More time on any answer; a specialist on 0; after silence, the number and goodbye."""
    digits = answered()
    if digits == SPECIALIST_KEY:
        return go("agent.transfer")
    if digits:
        call().pop("silences", None)
        return resume()
    # Even the last word offers a person, with the TTY-capable number.
    return goodbye(voice().say(Prompt.ENDING_FOR_SILENCE), *hours_and_number(voice(), region()))
