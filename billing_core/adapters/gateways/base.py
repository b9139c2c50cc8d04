"""The one interface every payment gateway (sandbox, Stripe) implements for the billing core."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

SUCCEEDED = "succeeded"
DECLINED = "declined"


@dataclass(frozen=True)
class ChargeResult:
    """The gateway's answer: the money moved (succeeded) or the payer's bank said no (declined)."""

    outcome: Literal["succeeded", "declined"]
    reference: str | None = None
    decline_code: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.outcome == SUCCEEDED


class GatewayError(Exception):
    """The gateway failed to process the charge; no money moved."""


class GatewayTimeout(Exception):
    """No answer in time: the charge may or may not have happened (ask find_charge later).

    Deliberately not a GatewayError: code that treats an error as "not charged" must
    never treat a timeout that way.
    """


class PaymentGateway(Protocol):
    """Charges a token once per idempotency key, and says later what became of a key."""

    name: str

    def charge(
        self, *, token: str, amount_cents: int, idempotency_key: str, description: str
    ) -> ChargeResult:
        """Charge the token; the same key again returns the first result without charging."""
        ...

    def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        """Return the result of the charge made with this key, or None if none was made."""
        ...
