"""Automatic premium payments: the member's standing authorization and the rules of a run.

Pure values and rules: nothing here reads the database or charges anything.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from billing_core.domain.exceptions import BillingError
from billing_core.domain.members import CoverageType

# Declines worth another try on a later day; every other decline is final.
SOFT_DECLINES = frozenset({"insufficient_funds", "processing_error"})
# Days after the due date on which a soft-declined charge is tried again.
DEFAULT_RETRY_DAYS = (1, 3)
# Regulation E (12 CFR 1005.10(d)): a preauthorized debit that varies in amount is
# announced at least 10 days before it is made.
DEFAULT_CHANGE_NOTICE_DAYS = 10


class AutopayNotAllowed(BillingError):
    """The member cannot enroll (or change method); `reason` says why."""

    EMPLOYER_GROUP = "employer_group"
    EXCHANGE_BINDER_UNPAID = "exchange_binder_unpaid"
    NO_SAVED_METHOD = "no_saved_method"
    NOT_ENROLLED = "not_enrolled"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AttemptOutcome(enum.StrEnum):
    PENDING = "pending"  # charged, its answer not yet known (left to reconcile)
    SUCCEEDED = "succeeded"
    SOFT_DECLINED = "soft_declined"  # retried on next_retry_on
    FAILED = "failed"  # final: the member was told
    OVER_MAXIMUM = "over_maximum"  # not charged: above the member's maximum; told


@dataclass(frozen=True)
class AutopayAuthorization:
    """What the member accepted, as it was read or shown to them, and where."""

    accepted_at: datetime
    method_kind: str
    method_brand: str | None
    method_last4: str
    channel: str
    wording_version: str
    text: str
    call_sid: str | None = None

    def __post_init__(self) -> None:
        if self.accepted_at.tzinfo is None:
            raise ValueError("accepted_at must be UTC-aware")
        if not self.text.strip() or not self.wording_version:
            raise ValueError("an authorization keeps the exact words accepted and their version")


@dataclass(frozen=True)
class RetrySchedule:
    """When soft declines are tried again: days after the due date, one per retry."""

    days_after_due: tuple[int, ...] = DEFAULT_RETRY_DAYS

    def __post_init__(self) -> None:
        if list(self.days_after_due) != sorted(set(self.days_after_due)) or any(
            d <= 0 for d in self.days_after_due
        ):
            raise ValueError("retry days are increasing and after the due date")

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.days_after_due)

    def next_retry(self, due: date, attempt: int, decline_code: str | None) -> date | None:
        """The day of the next try after attempt `attempt` declined so; None: it is final."""
        if decline_code not in SOFT_DECLINES or attempt >= self.max_attempts:
            return None
        return due + timedelta(days=self.days_after_due[attempt - 1])


def charge_key(member_id: int, coverage_month: date, attempt: int) -> str:
    """The idempotency key of one try at one month's premium: fixed by what it pays."""
    return f"autopay:{member_id}:{coverage_month:%Y-%m}:{attempt}"


def check_eligible(coverage_type: CoverageType, *, binder_paid: bool, has_method: bool) -> None:
    """Raise AutopayNotAllowed unless this member may pay the premium automatically."""
    if not coverage_type.pays_premium_here:
        raise AutopayNotAllowed(AutopayNotAllowed.EMPLOYER_GROUP)
    if coverage_type is CoverageType.INDIVIDUAL_EXCHANGE and not binder_paid:
        raise AutopayNotAllowed(AutopayNotAllowed.EXCHANGE_BINDER_UNPAID)
    if not has_method:
        raise AutopayNotAllowed(AutopayNotAllowed.NO_SAVED_METHOD)


def method_expires_before(exp_month: int | None, exp_year: int | None, day: date) -> bool:
    """Whether a card good through exp_month/exp_year is no longer good on `day`."""
    if exp_month is None or exp_year is None:
        return False
    last_day = date(exp_year, exp_month, calendar.monthrange(exp_year, exp_month)[1])
    return last_day < day


def needs_amount_notice(amount_cents: int, last_charged_cents: int | None) -> bool:
    """Whether a charge of this amount must be announced: a first one, or a changed one."""
    return last_charged_cents is None or amount_cents != last_charged_cents


def notice_allows_charge(noticed_on: date | None, today: date, notice_days: int) -> bool:
    """Whether a notice queued on `noticed_on` was queued early enough to charge today."""
    return noticed_on is not None and noticed_on + timedelta(days=notice_days) <= today


def announced_charge_day(due: date, noticed_on: date, notice_days: int) -> date:
    """The day an announced charge is made: its due date, or once the notice has run."""
    return max(due, noticed_on + timedelta(days=notice_days))


@dataclass(frozen=True)
class MemberRange:
    """The members of one batch of a run: ids from `first` up to, not including, `stop`."""

    first: int
    stop: int

    def __post_init__(self) -> None:
        if not 0 <= self.first < self.stop:
            raise ValueError("a batch holds at least one member id")


def member_ranges(range_numbers: list[int], size: int) -> list[MemberRange]:
    """Batches of `size` consecutive member ids, one for each range number (id // size).

    Fixed by the ids, not by who is enrolled: a split made twice, or on two hosts, makes
    the same batches, so their jobs are recognized as the same.
    """
    if size <= 0:
        raise ValueError("a batch holds at least one member")
    numbers = sorted(set(range_numbers))
    return [MemberRange(number * size, (number + 1) * size) for number in numbers]
