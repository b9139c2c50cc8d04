"""The one way a webhook answers: a TwiML document as text/xml."""

from __future__ import annotations

from flask import Response, g
from twilio.twiml.voice_response import VoiceResponse


def twiml(response: VoiceResponse) -> Response:
    """Return the TwiML document with the text/xml type Twilio expects."""
    lead = g.pop("lead", [])
    if lead:
        # What the step that handed over had to say comes before this step's own verbs.
        response.verbs[:0] = lead
    answer = Response(str(response), status=200, mimetype="text/xml")
    steps = g.get("steps")
    if steps:
        # Steps run in this answer without a request of their own: for coverage reports.
        answer.headers["X-IVR-Steps"] = ",".join(steps)
    # Names of the catalog prompts spoken, by every voice of this answer, in order of the
    # voices' creation: read by recordings and the coverage report.
    spoken = [name for voice in g.get("voices", []) for name in voice.spoken]
    if spoken:
        answer.headers["X-IVR-Prompts"] = ",".join(spoken)
    return answer
