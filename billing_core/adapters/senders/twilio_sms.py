"""Text messages through Twilio's Messages API: the phone channel's outbox sender."""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from billing_core.services.outbox import OutgoingMessage, SendError


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
    ) -> None:
        # Without a timeout a stalled connection would hold the delivery run forever.
        self._client = Client(
            account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout_seconds)
        )
        if api_base:
            # The Messages resource lives on the "api" domain; its base URL is all there is to move.
            self._client.api.base_url = api_base.rstrip("/")
        self._from = from_number

    def send(self, message: OutgoingMessage) -> str:
        """Send one text; return its Twilio message SID.

        Twilio's Messages API takes no idempotency key, so exactly-once rests on the outbox.
        """
        try:
            created = self._client.api.v2010.account.messages.create(
                to=message.recipient, from_=self._from, body=message.body
            )
        except TwilioRestException as error:
            detail = f"Twilio HTTP {error.status}" + (f" error {error.code}" if error.code else "")
            # A 400 is about this message (invalid or opted-out number): a retry gets the same.
            raise SendError(detail, permanent=error.status == 400) from None
        except requests.RequestException as error:
            raise SendError(f"Twilio unreachable: {type(error).__name__}") from None
        return created.sid
