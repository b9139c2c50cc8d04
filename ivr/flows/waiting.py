"""Back to the prompt the call waits on, once any answer still being handled is done.

An answer that is not the one the call waits on (a replay, a double press, an answer
whose webhook is still charging) is never taken; the caller is told, and comes here.
"""

from __future__ import annotations

from flask import Blueprint, url_for
from twilio.twiml.voice_response import Pause, Redirect, VoiceResponse

from ivr.kernel import WAITING_PROMPT, Turn, endpoint_of, go, prompt_waited_on, step

bp = Blueprint("waiting", __name__, url_prefix="/voice/waiting")

# Seconds to wait, and how often, for the webhook handling an answer to finish.
PAUSE_SECONDS = 1
MOST_PAUSES = 4


@WAITING_PROMPT.bind
@step(bp, "")
def again(turn: Turn, pauses: str = "0") -> VoiceResponse:
    """Ask the prompt the call waits on again; while an answer is in hand, wait a moment."""
    waited = int(pauses) if pauses.isdigit() else MOST_PAUSES
    if turn.call.answer_in_flight and waited < MOST_PAUSES:
        response = VoiceResponse()
        response.append(Pause(length=PAUSE_SECONDS))
        url = url_for(endpoint_of(again), pauses=str(waited + 1))
        response.append(Redirect(url, method="POST"))
        return response
    return go(turn, prompt_waited_on(turn))
