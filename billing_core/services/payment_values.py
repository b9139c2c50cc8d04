"""What a payment is asked with and answers with: plain values, and the checks on a request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_core.domain.payments import (
    AchAuthorization,
    MethodKind,
    PaymentRequestInvalid,
    PaymentStatus,
    PaymentTarget,
    TargetKind,
    looks_like_card_number,
)
from billing_core.services import receipts


@dataclass(frozen=True)
class PaymentRequest:
    """One payment as a channel asks for it; card and bank details are only a token."""

    member_id: int
    target: PaymentTarget
    amount_cents: int
    token: str
    method_kind: str
    method_brand: str | None
    method_last4: str | None
    idempotency_key: str
    channel: str
    call_sid: str | None = None
    ach_authorization: AchAuthorization | None = None
    # Where to text the receipt (E.164) instead of the member's phone on file.
    receipt_phone: str | None = None
    # The plan installment it pays (with a plan target); None for a plan paid off.
    plan_installment: int | None = None


@dataclass(frozen=True)
class PayableBalance:
    """What a target owes, how much of it payments in progress hold, and what can be paid now."""

    target: PaymentTarget
    balance_cents: int
    held_cents: int
    payable_cents: int


@dataclass(frozen=True)
class PaymentOutcome:
    """Where a payment stands, as a caller is told it."""

    status: PaymentStatus
    confirmation_number: str
    amount_cents: int
    decline_code: str | None


@dataclass(frozen=True)
class ChargeOrder:
    """A PENDING payment, committed, waiting for its one charge."""

    payment_id: int
    confirmation_number: str
    idempotency_key: str
    token: str
    amount_cents: int
    description: str
    receipt_phone: str | None = None


@dataclass(frozen=True)
class StartedPayment:
    """The first step's result; charge is None when the payment already existed."""

    outcome: PaymentOutcome
    charge: ChargeOrder | None


@dataclass(frozen=True)
class ReconcileReport:
    """Confirmation numbers the reconcile run settled, and those it had to leave open."""

    succeeded: tuple[str, ...]
    failed: tuple[str, ...]
    unsettled: tuple[str, ...]


@dataclass(frozen=True)
class PaymentLine:
    """A payment as the member hears it in their history."""

    made_at: datetime
    amount_cents: int
    target_kind: TargetKind
    bill_number: str | None
    method_kind: str
    method_brand: str | None
    method_last4: str | None
    confirmation_number: str
    status: PaymentStatus


def check_request(request: PaymentRequest) -> None:
    """Refuse a malformed request, and above all one that carries card data."""
    if not isinstance(request.target, PaymentTarget):
        raise PaymentRequestInvalid("bad_target")
    if request.method_kind not in tuple(MethodKind):
        raise PaymentRequestInvalid("unknown_method")
    if not request.token or len(request.token) > 200:
        raise PaymentRequestInvalid("bad_token")
    if looks_like_card_number(request.token) or looks_like_card_number(request.method_brand):
        # A full card number must never reach a column, a log or a gateway description.
        raise PaymentRequestInvalid("card_number_in_request")
    # Twilio shows a card's last 4 digits, but only the last 2 of a bank account.
    if request.method_last4 is not None and not (
        2 <= len(request.method_last4) <= 4 and request.method_last4.isdigit()
    ):
        raise PaymentRequestInvalid("bad_last4")
    if request.method_brand is not None and len(request.method_brand) > 30:
        raise PaymentRequestInvalid("bad_brand")
    if not request.idempotency_key or len(request.idempotency_key) > 80:
        raise PaymentRequestInvalid("bad_idempotency_key")
    if not request.channel or len(request.channel) > 20:
        raise PaymentRequestInvalid("bad_channel")
    if request.receipt_phone is not None and not receipts.is_e164(request.receipt_phone):
        raise PaymentRequestInvalid("bad_receipt_phone")
    ach = request.ach_authorization
    if request.method_kind == MethodKind.CARD:
        if ach is not None:
            raise PaymentRequestInvalid("ach_authorization_for_card")
        return
    # A bank debit needs the caller's authorization of exactly this debit (NACHA rules).
    if ach is None:
        raise PaymentRequestInvalid("ach_authorization_missing")
    if ach.amount_cents != request.amount_cents:
        raise PaymentRequestInvalid("ach_authorization_amount")
    if ach.account_last4 != request.method_last4:
        raise PaymentRequestInvalid("ach_authorization_account")
    if ach.accepted_at.tzinfo is None:
        raise PaymentRequestInvalid("ach_authorization_time")
    if not ach.text or len(ach.text) > 2000:
        raise PaymentRequestInvalid("ach_authorization_text")
