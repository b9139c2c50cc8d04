"""Payment rules as plain values: targets, amounts, allocation, confirmation numbers.

Nothing here touches the database or a gateway, so the rules can be read and tested alone.
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from billing_core.domain.exceptions import BillingError

CONFIRMATION_DIGITS = 10


class PaymentStatus(enum.StrEnum):
    """Where a payment stands.

    A card payment SUCCEEDED when the gateway took it. A bank debit is SUBMITTED when the
    gateway accepted it, then SETTLED when the money arrived or RETURNED when the
    member's bank sent it back (a NACHA return code says why), one to three business days
    on. Before it settles a payment may be VOIDED; after, refunded (REFUNDED once in
    full). A payment that went through counts against the balance until it is returned,
    voided or refunded, which give the balance back.
    """

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    SUBMITTED = "submitted"
    SETTLED = "settled"
    RETURNED = "returned"
    VOIDED = "voided"
    REFUNDED = "refunded"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def went_through(self) -> bool:
        """Whether the money was taken or is on its way: it pays what it was for."""
        return self in WENT_THROUGH


# The payments that count against the balance: taken (card), on its way or arrived (bank).
WENT_THROUGH = (PaymentStatus.SUCCEEDED, PaymentStatus.SUBMITTED, PaymentStatus.SETTLED)
# The payments whose money was given back in full: returned, voided, refunded.
GIVEN_BACK = (PaymentStatus.RETURNED, PaymentStatus.VOIDED, PaymentStatus.REFUNDED)

# The NACHA return codes a bank debit comes back with that the line tells members of; a
# return with another code (or none) is told as "returned by your bank".
RETURN_CODES = ("R01", "R02", "R03", "R04", "R08", "R10", "R16", "R20", "R29")


class TargetKind(enum.StrEnum):
    BILL = "bill"
    ALL_BILLS = "all_bills"
    PREMIUM = "premium"
    # The bills a payment plan took, earliest due first: an installment or the payoff.
    PLAN = "plan"


class MethodKind(enum.StrEnum):
    CARD = "card"
    BANK = "bank"


class ItemKind(enum.StrEnum):
    BILL = "bill"
    PREMIUM = "premium"


@dataclass(frozen=True)
class PaymentTarget:
    """What a payment pays: one medical bill, every open medical bill, the premium, or a plan."""

    kind: TargetKind
    bill_number: str | None = None
    plan_id: int | None = None

    def __post_init__(self) -> None:
        if (self.kind is TargetKind.BILL) != (self.bill_number is not None):
            raise ValueError("a bill number goes with, and only with, a single-bill target")
        if (self.kind is TargetKind.PLAN) != (self.plan_id is not None):
            raise ValueError("a plan id goes with, and only with, a plan target")

    @classmethod
    def bill(cls, bill_number: str) -> PaymentTarget:
        """One medical bill, by its number."""
        return cls(TargetKind.BILL, bill_number)

    @classmethod
    def all_bills(cls) -> PaymentTarget:
        """Every open medical bill, oldest due first."""
        return cls(TargetKind.ALL_BILLS)

    @classmethod
    def premium(cls) -> PaymentTarget:
        """Every unpaid premium month, oldest first."""
        return cls(TargetKind.PREMIUM)

    @classmethod
    def plan(cls, plan_id: int) -> PaymentTarget:
        """The bills of one payment plan, earliest due first (no bill outside it)."""
        return cls(TargetKind.PLAN, plan_id=plan_id)


@dataclass(frozen=True)
class AchAuthorization:
    """The caller's spoken or keyed consent to one bank debit, kept with the payment (NACHA)."""

    accepted_at: datetime
    amount_cents: int
    account_last4: str
    call_sid: str | None
    text: str


@dataclass(frozen=True)
class OpenItem:
    """A bill or premium month that can take money now: its balance less payments in flight."""

    kind: ItemKind
    item_id: int
    due_date: date
    # Second sort key among items due the same day (a bill's date of service).
    since: date
    payable_cents: int


@dataclass(frozen=True)
class Allocation:
    """The part of a payment that goes to one bill or premium month."""

    kind: ItemKind
    item_id: int
    amount_cents: int


class PaymentError(BillingError):
    """Base of every refusal to take a payment."""


class AmountNotAllowed(PaymentError):
    """The amount cannot be paid on that target now.

    reason is "not_positive" (zero, negative or not whole cents), "nothing_due" (nothing
    can be paid on the target now, perhaps because another payment on it is in progress)
    or "over_balance" (more than can be paid now; payable_cents says how much can).
    """

    def __init__(self, reason: str, *, payable_cents: int = 0, held_cents: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.payable_cents = payable_cents
        self.held_cents = held_cents


class TargetNotPayable(PaymentError):
    """The target does not exist for this member: "no_such_bill" or "premium_not_billed_here"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PaymentRequestInvalid(PaymentError):
    """The request itself is malformed (a channel bug, not a caller's choice); reason says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IdempotencyKeyReused(PaymentError):
    """The idempotency key already belongs to a different payment."""


def check_amount(amount_cents: int, *, payable_cents: int, held_cents: int = 0) -> None:
    """Raise AmountNotAllowed unless 0 < amount <= what can be paid now."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise AmountNotAllowed("not_positive", payable_cents=payable_cents, held_cents=held_cents)
    if payable_cents <= 0:
        raise AmountNotAllowed("nothing_due", payable_cents=0, held_cents=held_cents)
    if amount_cents > payable_cents:
        raise AmountNotAllowed("over_balance", payable_cents=payable_cents, held_cents=held_cents)


def allocate(amount_cents: int, items: Sequence[OpenItem]) -> tuple[Allocation, ...]:
    """Spread a payment over open items, oldest due first, each up to what it can take."""
    check_amount(amount_cents, payable_cents=sum(max(i.payable_cents, 0) for i in items))
    allocations = []
    remaining = amount_cents
    for item in sorted(items, key=lambda i: (i.due_date, i.since, i.kind, i.item_id)):
        if remaining == 0:
            break
        share = min(remaining, item.payable_cents)
        if share > 0:
            allocations.append(Allocation(item.kind, item.item_id, share))
            remaining -= share
    return tuple(allocations)


def new_confirmation_number() -> str:
    """A random 10-digit number with a Luhn check digit, so a misread digit is caught."""
    # No leading zero: ledgers and spreadsheets would drop it.
    body = str(
        secrets.randbelow(9 * 10 ** (CONFIRMATION_DIGITS - 2)) + 10 ** (CONFIRMATION_DIGITS - 2)
    )
    return body + _luhn_check_digit(body)


def is_confirmation_number(value: str) -> bool:
    """True for a well-formed confirmation number (right length, digits, check digit)."""
    return (
        re.fullmatch(rf"[1-9]\d{{{CONFIRMATION_DIGITS - 1}}}", value) is not None
        and _luhn_check_digit(value[:-1]) == value[-1]
    )


def luhn_valid(number: str) -> bool:
    """Return True when the digits end in their Luhn check digit (card numbers do)."""
    return len(number) > 1 and number.isdigit() and _luhn_check_digit(number[:-1]) == number[-1]


def _luhn_check_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def looks_like_card_number(value: str | None) -> bool:
    """True if the text is a card number (13 to 19 digits passing the Luhn check, spaced or not)."""
    digits = re.sub(r"[\s-]", "", value or "")
    return (
        re.fullmatch(r"\d{13,19}", digits) is not None
        and _luhn_check_digit(digits[:-1]) == digits[-1]
    )
