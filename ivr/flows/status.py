"""The call's end: forget everything the call held."""

from __future__ import annotations

import logging

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from ivr.kernel import Turn, step
from ivr.metrics import metrics

bp = Blueprint("status", __name__, url_prefix="/voice")
log = logging.getLogger(__name__)

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


@step(bp, "/status", new_call=True)
def call_status(turn: Turn) -> VoiceResponse:
    """Wipe the call's state once Twilio says the call is over."""
    status = turn.form.get("CallStatus", "")
    state = turn.call
    if status in FINAL_STATUSES and state.call_sid:
        if not state.has_ended:  # a repeated callback counts the call once
            metrics().call_ended(state, status)
        state.ended = True
        turn.services.call_store.end(state.call_sid, turn.billing.clock.now())
        log.info("call %s ended (%s)", state.call_sid, status)
    return VoiceResponse()
