"""Sign webhook requests the way Twilio does."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Return the X-Twilio-Signature for a request to `url` carrying POST `params`."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))
