"""The one way a webhook answers: a TwiML document as text/xml."""

from __future__ import annotations

from flask import Response, g
from twilio.twiml.voice_response import VoiceResponse


def twiml(response: VoiceResponse) -> Response:
    """Return the TwiML document with the text/xml type Twilio expects."""
    answer = Response(str(response), status=200, mimetype="text/xml")
    voice = g.get("voice")
    if voice is not None and voice.spoken:
        # Names of the catalog prompts spoken: read by recordings and the coverage report.
        answer.headers["X-IVR-Prompts"] = ",".join(voice.spoken)
    return answer
