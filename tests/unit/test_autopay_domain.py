"""The rules of autopay as plain values: keys, retries, eligibility, expiry."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from billing_core.domain.autopay import (
    AutopayAuthorization,
    AutopayNotAllowed,
    RetrySchedule,
    charge_key,
    check_eligible,
    method_expires_before,
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
