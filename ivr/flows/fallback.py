"""When the app cannot answer: the apology, and a way to a person.

Twilio calls the number's Fallback URL (`POST /voice/fallback`) when a webhook fails or
takes more than 15 seconds; the app's own error handler answers the same way.
"""

from __future__ import annotations

import logging

from flask import Blueprint
from twilio.twiml.voice_response import Dial, Hangup, VoiceResponse

from ivr.kernel import Turn, step
from ivr.prompts import Prompt
from ivr.sentences import hours_and_number

bp = Blueprint("fallback", __name__, url_prefix="/voice")
log = logging.getLogger(__name__)


@step(bp, "/fallback", new_call=True)
def fallback(turn: Turn) -> VoiceResponse:
    """Apologise in the call's language and transfer to its region's specialists."""
    place_by_dialed_number(turn)
    log.warning(
        "call %s: Twilio fell back (error %s)",
        turn.call.call_sid,
        turn.form.get("ErrorCode", "unknown")[:16],
    )
    return apology(turn)


def place_by_dialed_number(turn: Turn) -> None:
    """Give a call the app knows nothing of the region of the number it dialed."""
    if turn.call.region is None:
        dialed = turn.form.get("To") or turn.form.get("Called") or ""
        turn.call.region = turn.billing.regions.for_dialed_number(dialed)[0].key


def apology(turn: Turn) -> VoiceResponse:
    """Say sorry, then dial the specialists in their hours, or give the hours and number."""
    line = turn.region
    response = VoiceResponse()
    response.append(turn.say(Prompt.SYSTEM_TROUBLE))
    try:
        is_open = line.billing_is_open(turn.billing.clock.now())
    except Exception:  # noqa: BLE001 - a broken clock must not stop the apology
        is_open = False
    if is_open:
        response.append(turn.say(Prompt.TRANSFERRING))
        # No action URL: while this app is failing, the call must not come back to it.
        # If the line does not answer, the caller still leaves with the number and TTY.
        response.append(Dial(line.billing.number))
    for said in hours_and_number(turn.voice, line):
        response.append(said)
    response.append(turn.say(Prompt.GOODBYE))
    response.append(Hangup())
    return response
