"""Payment plans: which bills a plan may take, the options offered, the installment days."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_core.domain.plans import (
    BillExclusion,
    PlanBill,
    PlanNotAllowed,
    PlanRules,
    eligible_bills,
    installment_days,
    lapses,
    options,
    split,
)

TODAY = date(2026, 12, 2)
RULES = PlanRules()


def bill(bill_id: int, cents: int, served: date = date(2026, 9, 14), **flags) -> PlanBill:
    return PlanBill(bill_id=bill_id, balance_cents=cents, date_of_service=served, **flags)


def test_a_balance_of_1251_dollars_is_offered_3_6_and_12_payments_the_odd_cents_first():
    offered = options([bill(1, 100_000), bill(2, 25_105)], TODAY, RULES)
    assert [(o.months, o.first_cents, o.monthly_cents) for o in offered] == [
        (3, 41_703, 41_701),
        (6, 20_855, 20_850),
        (12, 10_430, 10_425),
    ]
    assert all(o.total_cents == 125_105 for o in offered)


def test_terms_whose_installment_would_be_under_the_minimum_are_not_offered():
    offered = options([bill(1, 60_000)], TODAY, PlanRules(min_installment_cents=10_000))
    assert [o.months for o in offered] == [3, 6]


def test_a_balance_under_the_minimum_gets_no_plan_and_says_so():
    with pytest.raises(PlanNotAllowed) as refused:
        options([bill(1, 49_999)], TODAY, RULES)
    assert refused.value.reason == PlanNotAllowed.BELOW_MINIMUM


def test_bills_in_a_plan_in_dispute_or_too_old_are_left_out_each_with_its_reason():
    bills = [
        bill(1, 30_000),
        bill(2, 40_000, in_plan=True),
        bill(3, 50_000, disputed=True),
        bill(4, 60_000, served=date(2025, 12, 1)),
        bill(5, 0),
    ]
    eligible, excluded = eligible_bills(bills, TODAY, RULES)
    assert [b.bill_id for b in eligible] == [1]
    assert excluded == {
        2: BillExclusion.IN_PLAN,
        3: BillExclusion.DISPUTED,
        4: BillExclusion.TOO_OLD,
    }
    with pytest.raises(PlanNotAllowed) as refused:
        options(bills, TODAY, RULES)  # $300.00 eligible: under the $500.00 minimum
    assert refused.value.reason == PlanNotAllowed.BELOW_MINIMUM
    with pytest.raises(PlanNotAllowed) as refused:
        options(bills[1:], TODAY, RULES)
    assert refused.value.reason == PlanNotAllowed.NOTHING_ELIGIBLE


def test_installments_fall_on_the_same_day_each_month_or_the_last_day_of_a_short_one():
    assert installment_days(date(2026, 12, 31), 4) == [
        date(2026, 12, 31),
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]
    assert installment_days(date(2027, 11, 15), 3)[-1] == date(2028, 1, 15)


def test_a_plan_lapses_at_the_configured_number_of_missed_installments():
    assert not lapses(1, RULES)
    assert lapses(2, RULES)


def test_rules_that_could_not_make_a_plan_are_refused_at_start_up():
    with pytest.raises(ValueError):
        PlanRules(terms=(6, 3))
    with pytest.raises(ValueError):
        PlanRules(min_installment_cents=0)


@given(total=st.integers(min_value=1, max_value=10_000_000), months=st.integers(1, 60))
def test_installments_add_up_to_the_balance_and_differ_only_on_the_first(total, months):
    installments = split(total, months)
    assert len(installments) == months and sum(installments) == total
    assert len(set(installments[1:])) <= 1
    assert 0 <= installments[0] - installments[-1] < months


@given(first=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)))
def test_installment_days_are_a_month_apart_and_never_before_the_first(first):
    days = installment_days(first, 12)
    assert days[0] == first
    for earlier, later in zip(days, days[1:], strict=False):
        assert (later.year * 12 + later.month) - (earlier.year * 12 + earlier.month) == 1
        assert later.day == min(first.day, calendar.monthrange(later.year, later.month)[1])
