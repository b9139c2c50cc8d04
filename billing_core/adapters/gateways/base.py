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


# What became of a bank debit the gateway accepted.
CLEARING = "clearing"
SETTLED = "settled"
RETURNED = "returned"
VOIDED = "voided"


@dataclass(frozen=True)
class Settlement:
    """A bank debit's fate: still clearing, settled, returned (with its NACHA code), voided."""

    state: Literal["clearing", "settled", "returned", "voided"]
    return_code: str | None = None


@dataclass(frozen=True)
class RefundResult:
    """A refund or void the gateway made: its reference and the amount given back."""

    reference: str
    amount_cents: int


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
    # Whether it checks a card's billing ZIP code against the issuer's records: where it
    # does not, asking the caller for one only costs them time.
    verifies_postal_code: bool

    def charge(
        self, *, token: str, amount_cents: int, idempotency_key: str, description: str
    ) -> ChargeResult:
        """Charge the token; the same key again returns the first result without charging."""
        ...

    def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        """Return the result of the charge made with this key, or None if none was made."""
        ...

    def settlement(self, reference: str) -> Settlement:
        """What became of the bank debit with this reference (the charge's)."""
        ...

    def refund(self, *, reference: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        """Give back part or all of a charge; the same key again refunds nothing more."""
        ...

    def void(self, *, reference: str, idempotency_key: str) -> RefundResult:
        """Cancel a charge not yet settled, in full; GatewayError once it has settled."""
        ...
