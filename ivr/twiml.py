"""The one way a webhook answers: a TwiML document as text/xml."""

from __future__ import annotations

from flask import Response, g
from twilio.twiml.voice_response import VoiceResponse


def twiml(response: VoiceResponse) -> Response:
    """Return the TwiML document with the text/xml type Twilio expects."""
    answer = Response(str(response), status=200, mimetype="text/xml")
    # Names of the catalog prompts spoken, by every voice of this answer, in order of the
    # voices' creation: read by recordings and the coverage report.
    spoken = [name for voice in g.get("voices", []) for name in voice.spoken]
    if spoken:
        answer.headers["X-IVR-Prompts"] = ",".join(spoken)
    return answer
