"""The capacity baseline: a bare Flask app that checks the Twilio signature and answers a fixed
<Gather>, whatever webhook it gets. `gunicorn bench.baseline_app:app`.

It reads the same IVR_TWILIO_AUTH_TOKEN and IVR_PUBLIC_BASE_URL as the app and checks the
signature the same way (twilio's RequestValidator over the public URL and the form), so the
difference to the app is everything the app does beyond that: call state, the billing core,
the database, the prompts.
"""

from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Gather action="/voice/menu/choose" finishOnKey="#" input="dtmf speech" language="en-US" '
    'method="POST" numDigits="1" timeout="6">'
    '<Say language="en-US" voice="Google.en-US-Neural2-F">To make a payment, press 1. '
    "To hear your balances, press 2. To hear your recent payments, press 3. "
    "For mail and other ways to pay, press 4. For a billing specialist, press 0. "
    "To repeat, press star.</Say></Gather>"
    '<Redirect method="POST">/voice/menu/choose</Redirect></Response>'
)


def create_baseline_app() -> Flask:
    app = Flask(__name__, static_folder=None)
    validator = RequestValidator(os.environ.get("IVR_TWILIO_AUTH_TOKEN", "dev-twilio-auth-token"))
    base = os.environ.get("IVR_PUBLIC_BASE_URL", "").rstrip("/")

    @app.post("/", defaults={"path": ""})
    @app.post("/<path:path>")
    def webhook(path: str) -> Response:
        if base:
            query = request.query_string.decode()
            url = f"{base}{request.path}" + (f"?{query}" if query else "")
        else:
            url = request.url
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(url, request.form, signature):
            abort(403)
        return Response(TWIML, mimetype="text/xml")

    return app


app = create_baseline_app()
