"""The one way a webhook answers: a TwiML document as text/xml."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Response
from twilio.twiml.voice_response import VoiceResponse

# Read by recordings and the coverage report, never by Twilio.
STEPS_HEADER = "X-IVR-Steps"
PROMPTS_HEADER = "X-IVR-Prompts"
REQUESTS_HEADER = "X-IVR-Requests"


def twiml(
    response: VoiceResponse,
    *,
    steps: Sequence[str] = (),
    prompts: Sequence[str] = (),
    requests: Sequence[str] = (),
) -> Response:
    """Return the TwiML document with the text/xml type Twilio expects.

    steps: the steps run inside this answer without a request of their own; prompts: the
    names of the catalog prompts spoken, in order; requests: the spoken requests heard,
    as language:request ("es:pay_premium").
    """
    answer = Response(str(response), status=200, mimetype="text/xml")
    if steps:
        answer.headers[STEPS_HEADER] = ",".join(steps)
    if prompts:
        answer.headers[PROMPTS_HEADER] = ",".join(prompts)
    if requests:
        answer.headers[REQUESTS_HEADER] = ",".join(requests)
    return answer
