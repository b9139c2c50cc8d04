"""Every webhook must carry Twilio's signature; anything else is refused before it acts."""

from __future__ import annotations

import logging

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


def public_url() -> str:
    """Return the URL Twilio requested, as Twilio saw it.

    Behind a proxy or load balancer request.url is not what Twilio signed, so the
    configured public base URL replaces scheme, host and port.
    """
    base = current_app.config["IVR_PUBLIC_BASE_URL"].rstrip("/")
    if not base:
        return request.url
    query = request.query_string.decode()
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def require_twilio_signature() -> None:
    """Abort with 403 unless X-Twilio-Signature matches this request."""
    validator: RequestValidator = current_app.extensions["twilio_validator"]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not validator.validate(public_url(), request.form, signature):
        log.warning("refused a webhook with a missing or wrong signature: %s", request.path)
        abort(403)
