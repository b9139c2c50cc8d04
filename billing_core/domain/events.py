"""What the billing core tells its observers once a change is committed: plain values only.

A channel subscribes (BillingCore.observe) to count or trace what happened; nothing here
names a member, an MRN, a birth date or a card. An observer that fails changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MATCHED = "matched"
NOT_MATCHED = "not_matched"
LOCKED_OUT = "locked_out"


@dataclass(frozen=True)
class PaymentSettled:
    """A payment's status changed: to succeeded, failed or unknown (a PaymentStatus value)."""

    status: str
    method: str  # a MethodKind value: card or bank
    channel: str  # where the payment was made: phone, autopay, scheduled, plan
    decline_code: str | None = None  # a failed payment's reason, as the gateway gave it


@dataclass(frozen=True)
class IdentificationAttempted:
    """An MRN and birth date were checked: matched, not matched, or refused while locked out."""

    result: str
    channel: str


Event = PaymentSettled | IdentificationAttempted
Observer = Callable[[Event], None]
