"""The rules of autopay as plain values: keys, retries, eligibility, expiry, notices, batches."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from billing_core.domain.autopay import (
    AutopayAuthorization,
    AutopayNotAllowed,
    MemberRange,
    RetrySchedule,
    announced_charge_day,
    charge_key,
    check_eligible,
    member_ranges,
    method_expires_before,
    needs_amount_notice,
    notice_allows_charge,
)
from billing_core.domain.members import CoverageType

DUE = date(2026, 12, 31)


def test_a_charge_key_is_fixed_by_member_month_and_attempt():
    assert charge_key(42, date(2027, 1, 1), 1) == "autopay:42:2027-01:1"
    assert charge_key(42, date(2027, 1, 15), 3) == "autopay:42:2027-01:3"


def test_soft_declines_are_retried_1_and_3_days_after_the_due_date_by_default():
    schedule = RetrySchedule()
    assert schedule.max_attempts == 3
    assert schedule.next_retry(DUE, 1, "insufficient_funds") == date(2027, 1, 1)
    assert schedule.next_retry(DUE, 2, "processing_error") == date(2027, 1, 3)
    assert schedule.next_retry(DUE, 3, "insufficient_funds") is None
    assert schedule.next_retry(DUE, 1, "card_declined") is None
    assert RetrySchedule((5,)).next_retry(DUE, 1, "insufficient_funds") == date(2027, 1, 5)
    with pytest.raises(ValueError):
        RetrySchedule((3, 1))


@pytest.mark.parametrize(
    ("coverage", "binder_paid", "has_method", "reason"),
    [
        (CoverageType.EMPLOYER_GROUP, True, True, "employer_group"),
        (CoverageType.INDIVIDUAL_EXCHANGE, False, True, "exchange_binder_unpaid"),
        (CoverageType.INDIVIDUAL, True, False, "no_saved_method"),
    ],
)
def test_who_may_not_enroll_is_refused_with_the_reason(coverage, binder_paid, has_method, reason):
    with pytest.raises(AutopayNotAllowed) as refused:
        check_eligible(coverage, binder_paid=binder_paid, has_method=has_method)
    assert refused.value.reason == reason


def test_exchange_members_with_the_binder_paid_and_others_may_enroll():
    for coverage in (CoverageType.INDIVIDUAL_EXCHANGE, CoverageType.MEDICARE, CoverageType.COBRA):
        check_eligible(coverage, binder_paid=True, has_method=True)


def test_a_card_is_good_through_the_last_day_of_its_expiry_month():
    assert not method_expires_before(12, 2026, DUE)
    assert method_expires_before(11, 2026, DUE)
    assert not method_expires_before(None, None, DUE)


def test_an_authorization_keeps_its_words_and_an_aware_time():
    with pytest.raises(ValueError):
        AutopayAuthorization(datetime(2026, 12, 1), "card", "visa", "4242", "phone", "v1", "x")
    with pytest.raises(ValueError):
        AutopayAuthorization(
            datetime(2026, 12, 1, tzinfo=UTC), "card", None, "4242", "phone", "v1", " "
        )


def test_a_first_amount_and_a_changed_one_are_announced_the_same_one_is_not():
    assert needs_amount_notice(41200, None)
    assert needs_amount_notice(45050, 41200)
    assert not needs_amount_notice(41200, 41200)


def test_a_charge_waits_until_its_notice_is_ten_days_old():
    noticed = date(2026, 12, 21)
    assert not notice_allows_charge(noticed, date(2026, 12, 30), 10)
    assert notice_allows_charge(noticed, DUE, 10)
    assert not notice_allows_charge(None, DUE, 10)  # never told: never charged
    assert notice_allows_charge(DUE, DUE, 0)


def test_a_late_notice_moves_the_charge_past_the_due_date_an_early_one_does_not():
    assert announced_charge_day(DUE, date(2026, 12, 21), 10) == DUE
    assert announced_charge_day(DUE, date(2026, 12, 29), 10) == date(2027, 1, 8)


def test_batches_are_fixed_ranges_of_member_ids_one_per_range_that_holds_a_member():
    assert member_ranges([2, 0, 2], 500) == [MemberRange(0, 500), MemberRange(1000, 1500)]
    assert member_ranges([], 500) == []
    with pytest.raises(ValueError):
        member_ranges([1], 0)
    with pytest.raises(ValueError):
        MemberRange(5, 5)
