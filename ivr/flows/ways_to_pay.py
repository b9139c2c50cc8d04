"""Other ways to pay: the region's address for checks, and online."""

from __future__ import annotations

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from ivr.flows.info import after_page, page
from ivr.kernel import Turn, step
from ivr.prompts import Prompt

bp = Blueprint("ways_to_pay", __name__, url_prefix="/voice/ways-to-pay")


@step(bp, "", member=True)
def read(turn: Turn) -> VoiceResponse:
    """Tell the caller where to mail a check and where else they can pay."""
    address = turn.region.check_address
    sentences = [
        turn.say(Prompt.CHECK_PAYABLE, payee=address[0]),
        turn.say(Prompt.CHECK_ADDRESS, address=", ".join(address[1:]) or address[0]),
        turn.say(Prompt.CHECK_MRN_NOTE),
        turn.say(Prompt.PAY_ONLINE, website=turn.settings["IVR_WEBSITE"]),
    ]
    return page(turn, sentences, Prompt.HEAR_AGAIN, after)


@step(bp, "/after", member=True, answer=True)
def after(turn: Turn) -> VoiceResponse:
    """Repeat the ways to pay or go back to the main menu."""
    return after_page(turn, read)
