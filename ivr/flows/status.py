"""The call's end: forget everything the call held."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from ivr.calls import call
from ivr.twiml import twiml

bp = Blueprint("status", __name__, url_prefix="/voice")
log = logging.getLogger(__name__)

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


@bp.post("/status")
def call_status():
    """Wipe the call's state once Twilio says the call is over."""
    status = request.form.get("CallStatus", "")
    state = call()
    if status in FINAL_STATUSES and state.call_sid:
        state.ended = True
        current_app.extensions["call_store"].end(
            state.call_sid, current_app.extensions["billing"].clock.now()
        )
        log.info("call %s ended (%s)", state.call_sid, status)
    return twiml(VoiceResponse())
