"""Scheduled one-time payments: which days a payment may be set for, and the keys of a run.

Pure values and rules: nothing here reads the database or charges anything.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta

from billing_core.domain.exceptions import BillingError

# How far ahead a payment may be set: the day must be within this many days of today.
MAX_DAYS_AHEAD = 60


class PayDateNotAllowed(BillingError):
    """The day cannot be a scheduled payment's day; `reason` says why, `latest` what could be.

    latest is the last day the target may be scheduled for, or None when no later day
    can be (the target is due today or already past due, or owes nothing).
    """

    NOT_A_DATE = "not_a_date"
    NOT_AFTER_TODAY = "not_after_today"
    TOO_FAR_AHEAD = "too_far_ahead"
    AFTER_DUE_DATE = "after_due_date"
    NO_LATER_DATE = "no_later_date"  # due today or past due: only paying now is possible
    NOTHING_DUE = "nothing_due"

    def __init__(self, reason: str, *, latest: date | None = None, due: date | None = None):
        super().__init__(reason)
        self.reason = reason
        self.latest = latest
        self.due = due


class ScheduledStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # waiting for its day
    CHARGING = "charging"  # claimed by a run: its charge began (or its answer is unknown)
    RETRYING = "retrying"  # soft declined; tried again on next_try_on
    PAID = "paid"
    FAILED = "failed"  # final: the member was told
    SKIPPED = "skipped"  # nothing owed on its day: not charged; the member was told
    CANCELLED = "cancelled"

    @property
    def upcoming(self) -> bool:
        """Whether a payment in this state is still ahead of the member."""
        return self in (ScheduledStatus.SCHEDULED, ScheduledStatus.CHARGING, self.RETRYING)

    @property
    def cancellable(self) -> bool:
        """Whether no charge is in progress, so the payment may still be called off."""
        return self in (ScheduledStatus.SCHEDULED, ScheduledStatus.RETRYING)


def latest_pay_date(today: date, due: date | None) -> date | None:
    """The last day a payment due on `due` may be set for; None when no later day can be."""
    if due is None:
        return None
    latest = min(due, today + timedelta(days=MAX_DAYS_AHEAD))
    return latest if latest > today else None


def check_pay_date(day: date | None, *, today: date, due: date | None) -> None:
    """Raise PayDateNotAllowed unless `day` is after today, within 60 days and not after due."""
    latest = latest_pay_date(today, due)
    if due is None:
        raise PayDateNotAllowed(PayDateNotAllowed.NOTHING_DUE)
    if latest is None:
        raise PayDateNotAllowed(PayDateNotAllowed.NO_LATER_DATE, due=due)
    if day is None:
        raise PayDateNotAllowed(PayDateNotAllowed.NOT_A_DATE, latest=latest, due=due)
    if day <= today:
        raise PayDateNotAllowed(PayDateNotAllowed.NOT_AFTER_TODAY, latest=latest, due=due)
    if day > due:
        raise PayDateNotAllowed(PayDateNotAllowed.AFTER_DUE_DATE, latest=latest, due=due)
    if day > latest:
        raise PayDateNotAllowed(PayDateNotAllowed.TOO_FAR_AHEAD, latest=latest, due=due)


def next_occurrence(month_day: str, *, today: date) -> date | None:
    """The date keyed as MMDD on or after today (this year or a later one); None if no date."""
    if len(month_day) != 4 or not month_day.isdigit():
        return None
    month, day = int(month_day[:2]), int(month_day[2:])
    # February 29 comes back within four years; every other real date within one.
    for year in range(today.year, today.year + 5):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    return None


def charge_key(scheduled_id: int, attempt: int) -> str:
    """The idempotency key of one try at one scheduled payment: fixed by what it pays."""
    return f"scheduled:{scheduled_id}:{attempt}"


def amount_to_charge(scheduled_cents: int, owed_cents: int) -> int:
    """What to take on the day: the amount scheduled, but never more than is still owed."""
    return max(min(scheduled_cents, owed_cents), 0)
