"""Text messages through Twilio's Messages REST API: the phone channel's outbox sender.

Plain HTTPS with requests, posting what the twilio library posts:
POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json with basic auth (the account
SID and auth token) and the form fields To, From and Body.
"""

from __future__ import annotations

import json
import platform
from typing import Any

import requests

from billing_core.services.outbox import OutgoingMessage, SendError

TWILIO_API_BASE = "https://api.twilio.com"
API_VERSION = "2010-04-01"
_USER_AGENT = f"payline-ivr (requests/{requests.__version__}) Python/{platform.python_version()}"


class TwilioSmsSender:
    """Sends outbox texts from one Twilio number."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        api_base: str | None = None,
        timeout_seconds: float = 15,
        session: requests.Session | None = None,
    ) -> None:
        self._auth = (account_sid, auth_token)
        # The Messages resource lives on the "api" domain; its base URL is all there is to move.
        base = (api_base or TWILIO_API_BASE).rstrip("/")
        self._url = f"{base}/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        self._from = from_number
        # Without a timeout a stalled connection would hold the delivery run forever.
        self._timeout = timeout_seconds
        self._session = session or requests.Session()

    def send(self, message: OutgoingMessage) -> str:
        """Send one text; return its Twilio message SID.

        Twilio's Messages API takes no idempotency key, so exactly-once rests on the outbox.
        """
        try:
            response = self._session.post(
                self._url,
                data={"To": message.recipient, "From": self._from, "Body": message.body},
                auth=self._auth,
                headers={
                    "User-Agent": _USER_AGENT,
                    "Accept": "application/json",
                    "Accept-Charset": "utf-8",
                },
                timeout=self._timeout,
            )
        except requests.RequestException as error:
            raise SendError(f"Twilio unreachable: {type(error).__name__}") from None
        if not 200 <= response.status_code < 300:
            code = _error_code(response)
            detail = f"Twilio HTTP {response.status_code}" + (f" error {code}" if code else "")
            # A 400 is about this message (invalid or opted-out number): a retry gets the same.
            raise SendError(detail, permanent=response.status_code == 400)
        created = json.loads(response.text)
        return created["sid"]


def _error_code(response: requests.Response) -> Any:
    """Twilio's error code from an error answer's JSON; the HTTP status when there is none."""
    try:
        payload = json.loads(response.text)
    except ValueError:
        return response.status_code
    if not isinstance(payload, dict):
        return response.status_code
    return payload.get("code", response.status_code)
