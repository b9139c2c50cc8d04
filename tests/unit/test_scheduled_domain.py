"""The rules of scheduled payments: which days may be chosen, the year of a month and day."""

from __future__ import annotations

from datetime import date

import pytest

from billing_core.domain.scheduled import (
    PayDateNotAllowed,
    ScheduledStatus,
    amount_to_charge,
    charge_key,
    check_pay_date,
    latest_pay_date,
    next_occurrence,
)

TODAY = date(2026, 11, 27)


def reason(day, due) -> str | None:
    try:
        check_pay_date(day, today=TODAY, due=due)
    except PayDateNotAllowed as refused:
        return refused.reason
    return None


def test_tomorrow_through_the_due_date_is_allowed():
    due = date(2026, 12, 20)
    assert reason(date(2026, 11, 28), due) is None
    assert reason(due, due) is None


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (None, "not_a_date"),
        (TODAY, "not_after_today"),
        (date(2026, 11, 2), "not_after_today"),
        (date(2026, 12, 21), "after_due_date"),
    ],
)
def test_a_day_outside_the_window_is_refused_with_its_reason(day, why):
    assert reason(day, date(2026, 12, 20)) == why


def test_no_day_more_than_60_days_out_even_before_the_due_date():
    due = date(2027, 3, 1)
    assert latest_pay_date(TODAY, due) == date(2027, 1, 26)
    assert reason(date(2027, 1, 26), due) is None
    assert reason(date(2027, 1, 27), due) == "too_far_ahead"


def test_the_refusal_names_the_latest_day_allowed():
    with pytest.raises(PayDateNotAllowed) as refused:
        check_pay_date(date(2026, 12, 25), today=TODAY, due=date(2026, 12, 20))
    assert refused.value.latest == date(2026, 12, 20)


def test_a_target_due_today_or_past_due_has_no_later_day():
    assert latest_pay_date(TODAY, TODAY) is None
    assert latest_pay_date(TODAY, date(2026, 11, 1)) is None
    assert reason(date(2026, 11, 28), TODAY) == "no_later_date"
    assert reason(date(2026, 11, 28), None) == "nothing_due"


def test_a_month_and_day_is_its_next_occurrence():
    assert next_occurrence("1220", today=TODAY) == date(2026, 12, 20)
    assert next_occurrence("0115", today=TODAY) == date(2027, 1, 15)
    assert next_occurrence("1127", today=TODAY) == TODAY  # today: refused as not after today
    assert next_occurrence("0229", today=TODAY) == date(2028, 2, 29)


@pytest.mark.parametrize("keys", ["1332", "0230", "0000", "12", "12345", "12a0", ""])
def test_keys_that_are_no_date_give_none(keys):
    assert next_occurrence(keys, today=TODAY) is None


def test_the_amount_charged_is_capped_at_what_is_owed():
    assert amount_to_charge(12000, 20000) == 12000
    assert amount_to_charge(12000, 3000) == 3000
    assert amount_to_charge(12000, 0) == 0


def test_each_try_has_its_own_fixed_key():
    assert charge_key(7, 1) == "scheduled:7:1"
    assert charge_key(7, 2) != charge_key(7, 1)


def test_only_payments_with_no_charge_in_progress_can_be_cancelled():
    assert ScheduledStatus.SCHEDULED.cancellable and ScheduledStatus.RETRYING.cancellable
    assert not ScheduledStatus.CHARGING.cancellable and not ScheduledStatus.PAID.cancellable
    assert ScheduledStatus.CHARGING.upcoming and not ScheduledStatus.CANCELLED.upcoming
