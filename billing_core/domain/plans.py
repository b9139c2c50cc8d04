"""Payment plans for large medical balances: who may have one, the options, the schedule.

Pure values and rules: nothing here reads the database or charges anything. A plan
splits the eligible medical balance into monthly installments, the first paid the day
the plan is set up, each later one on the same day of the following months.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from billing_core.domain.exceptions import BillingError
from billing_core.domain.regions import RegionConfigError

# What the plan's billing team configures (per region where it differs).
DEFAULT_MIN_BALANCE_CENTS = 50_000
DEFAULT_TERMS = (3, 6, 12)
DEFAULT_MIN_INSTALLMENT_CENTS = 2_500
# A bill whose service is older than this is the billing office's to settle, not a plan's.
DEFAULT_MAX_BILL_AGE_DAYS = 365
# Installments missed (after their retries) before the plan lapses.
DEFAULT_MISSED_TO_LAPSE = 2


class BillExclusion(enum.StrEnum):
    """Why a bill cannot go into a plan, as the caller is told."""

    IN_PLAN = "in_plan"
    DISPUTED = "disputed"
    TOO_OLD = "too_old"


class PlanNotAllowed(BillingError):
    """No plan can be offered or set up; `reason` says why (one of the constants below)."""

    BELOW_MINIMUM = "below_minimum"
    NOTHING_ELIGIBLE = "nothing_eligible"
    ALREADY_IN_PLAN = "already_in_plan"
    TERM_NOT_OFFERED = "term_not_offered"
    NO_METHOD = "no_method"
    # Servicing a plan: none active, nothing left to pay, or a payment on it under way.
    NOT_ACTIVE = "not_active"
    NOTHING_OWED = "nothing_owed"
    PAYMENT_IN_PROGRESS = "payment_in_progress"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PlanRules:
    """The configured limits of the plans a region offers."""

    min_balance_cents: int = DEFAULT_MIN_BALANCE_CENTS
    terms: tuple[int, ...] = DEFAULT_TERMS
    min_installment_cents: int = DEFAULT_MIN_INSTALLMENT_CENTS
    max_bill_age_days: int = DEFAULT_MAX_BILL_AGE_DAYS
    missed_to_lapse: int = DEFAULT_MISSED_TO_LAPSE

    def __post_init__(self) -> None:
        if not self.terms or list(self.terms) != sorted(set(self.terms)) or self.terms[0] < 2:
            raise ValueError("plan terms are increasing numbers of months, two or more")
        if self.min_balance_cents <= 0 or self.min_installment_cents <= 0:
            raise ValueError("plan minimums are positive amounts")
        if self.max_bill_age_days <= 0 or self.missed_to_lapse <= 0:
            raise ValueError("a bill age and a number of missed installments are positive")


@dataclass(frozen=True)
class PlanRulebook:
    """The rules of every region: the default, and a region's own where it differs."""

    default: PlanRules = field(default_factory=PlanRules)
    by_region: Mapping[str, PlanRules] = field(default_factory=dict)

    def for_region(self, region_key: str) -> PlanRules:
        return self.by_region.get(region_key, self.default)

    @classmethod
    def with_changes(
        cls, default: PlanRules, changes: Mapping[str, Mapping[str, object]]
    ) -> PlanRulebook:
        """The default, and for each region that changes some of it, the default so changed.

        `changes` maps a region key to PlanRules field values; RegionConfigError names the
        region whose rules, once changed, do not hold together.
        """
        by_region: dict[str, PlanRules] = {}
        for region_key, values in changes.items():
            if not values:
                continue
            try:
                by_region[region_key] = replace(default, **values)
            except (TypeError, ValueError) as bad:
                raise RegionConfigError(region_key, "plans", str(bad)) from None
        return cls(default, by_region)


@dataclass(frozen=True)
class PlanBill:
    """A medical bill as a plan sees it: what is owed and what could keep it out."""

    bill_id: int
    balance_cents: int
    date_of_service: date
    in_plan: bool = False
    disputed: bool = False


@dataclass(frozen=True)
class PlanOption:
    """One way to split the balance: `months` installments, the first one today.

    The cents that do not divide evenly go on the first installment, so every later
    one is the same amount and the installments add up to the balance exactly.
    """

    months: int
    installments: tuple[int, ...]

    @property
    def first_cents(self) -> int:
        return self.installments[0]

    @property
    def monthly_cents(self) -> int:
        """The amount of every installment after the first."""
        return self.installments[-1]

    @property
    def total_cents(self) -> int:
        return sum(self.installments)


def exclusion(bill: PlanBill, today: date, rules: PlanRules) -> BillExclusion | None:
    """Why this bill cannot go into a new plan, or None if it can."""
    if bill.in_plan:
        return BillExclusion.IN_PLAN
    if bill.disputed:
        return BillExclusion.DISPUTED
    if (today - bill.date_of_service).days > rules.max_bill_age_days:
        return BillExclusion.TOO_OLD
    return None


def eligible_bills(
    bills: list[PlanBill], today: date, rules: PlanRules
) -> tuple[list[PlanBill], dict[int, BillExclusion]]:
    """The open bills a plan may take, and why each of the others may not (by bill id)."""
    eligible: list[PlanBill] = []
    excluded: dict[int, BillExclusion] = {}
    for bill in bills:
        if bill.balance_cents <= 0:
            continue
        reason = exclusion(bill, today, rules)
        if reason is None:
            eligible.append(bill)
        else:
            excluded[bill.bill_id] = reason
    return eligible, excluded


def split(total_cents: int, months: int) -> tuple[int, ...]:
    """The installments of `total_cents` over `months`: equal, the remainder first."""
    if total_cents <= 0 or months <= 0:
        raise ValueError("a plan splits a positive balance over at least one month")
    base, remainder = divmod(total_cents, months)
    return (base + remainder, *([base] * (months - 1)))


def options(bills: list[PlanBill], today: date, rules: PlanRules) -> list[PlanOption]:
    """Each term the rules offer for these bills, shortest first; PlanNotAllowed if none."""
    eligible, _excluded = eligible_bills(bills, today, rules)
    if not eligible:
        raise PlanNotAllowed(PlanNotAllowed.NOTHING_ELIGIBLE)
    total = sum(bill.balance_cents for bill in eligible)
    if total < rules.min_balance_cents:
        raise PlanNotAllowed(PlanNotAllowed.BELOW_MINIMUM)
    offered = [
        PlanOption(months, split(total, months))
        for months in rules.terms
        if total // months >= rules.min_installment_cents
    ]
    if not offered:
        raise PlanNotAllowed(PlanNotAllowed.BELOW_MINIMUM)
    return offered


def installment_days(first: date, months: int) -> list[date]:
    """The day of each installment: `first`, then the same day of each following month.

    A day the month does not have (the 31st in April) is that month's last day; the
    next month goes back to the day of the first installment.
    """
    days = []
    for offset in range(months):
        year, month = divmod(first.month - 1 + offset, 12)
        year, month = first.year + year, month + 1
        last = calendar.monthrange(year, month)[1]
        days.append(date(year, month, min(first.day, last)))
    return days


def lapses(missed_installments: int, rules: PlanRules) -> bool:
    """Whether a plan with this many missed installments has lapsed."""
    return missed_installments >= rules.missed_to_lapse
