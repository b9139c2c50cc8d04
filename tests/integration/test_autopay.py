"""Autopay in the billing core: enrollment, the written copy, and the run, exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.models import (
    AchAuthorizationRecord,
    AutopayAttempt,
    AutopayEnrollment,
    OutboxMessage,
    Payment,
    SandboxCharge,
)
from billing_core.domain.autopay import (
    AutopayAuthorization,
    AutopayNotAllowed,
    RetrySchedule,
    charge_key,
)
from billing_core.domain.members import CoverageType
from billing_core.domain.payments import PaymentStatus
from billing_core.services.autopay import NewMethod
from tests.members import add_member

JAN = date(2027, 1, 1)
FEB = date(2027, 2, 1)
# Noon UTC: the same calendar day in every US region.
DEC_30 = datetime(2026, 12, 30, 12, tzinfo=UTC)
DEC_31 = datetime(2026, 12, 31, 12, tzinfo=UTC)
JAN_1 = datetime(2027, 1, 1, 12, tzinfo=UTC)
JAN_3 = datetime(2027, 1, 3, 12, tzinfo=UTC)
JAN_4 = datetime(2027, 1, 4, 12, tzinfo=UTC)
JAN_31 = datetime(2027, 1, 31, 12, tzinfo=UTC)
WORDS = "I authorize the plan to charge my card ending in 4242 for each monthly premium."

_mrns = iter(range(30000000, 39999999))


@pytest.fixture(autouse=True)
def announced_on_the_day(core):
    """Charge a first or changed amount the day it is announced: most tests here are about
    the charge; those about the notice period set their own (see "the notice" below)."""
    core.autopay_notice_days = 0


def member(core, **options) -> int:
    options.setdefault("premiums", [(JAN, 41200, 0)])
    options.setdefault("email", "ana@example.org")
    options.setdefault("phone", "+15105550123")
    return add_member(core, mrn=str(next(_mrns)), birth_date=date(1980, 1, 2), **options)


def save(core, member_id, outcome="success", last4="4242", exp="1230") -> int:
    return core.save_method(
        member_id,
        kind="card",
        token=fixed_token(outcome, last4),
        brand="visa",
        last4=last4,
        exp=exp,
        account_type=None,
    ).id


def authorization(core, last4="4242") -> AutopayAuthorization:
    return AutopayAuthorization(
        accepted_at=core.clock.now(),
        method_kind="card",
        method_brand="visa",
        method_last4=last4,
        channel="phone",
        call_sid="CA-autopay",
        wording_version="autopay-v1",
        text=WORDS,
    )


def enrolled(core, outcome="success", last4="4242", exp="1230", max_amount=None, **options):
    member_id = member(core, **options)
    method = save(core, member_id, outcome, last4, exp)
    core.enroll_autopay(member_id, method, authorization(core, last4), max_amount)
    return member_id


def count(core, model, *where) -> int:
    with core.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def rows(core, query) -> list:
    """The rows, detached with what was read (a unit of work expires what it leaves)."""
    with core.unit_of_work() as uow:
        found = list(uow.session.scalars(query))
        uow.session.expunge_all()
        return found


def messages(core, prefix: str) -> list[OutboxMessage]:
    return rows(
        core,
        select(OutboxMessage)
        .where(OutboxMessage.dedupe_key.startswith(prefix))
        .order_by(OutboxMessage.id),
    )


def payments_of(core, member_id) -> list[Payment]:
    return rows(core, select(Payment).where(Payment.member_id == member_id).order_by(Payment.id))


# --- enrollment -------------------------------------------------------------------------


def test_employer_group_members_are_refused(core):
    member_id = member(core, coverage=CoverageType.EMPLOYER_GROUP, premiums=[])
    method = save(core, member_id)
    with pytest.raises(AutopayNotAllowed) as refused:
        core.enroll_autopay(member_id, method, authorization(core))
    assert refused.value.reason == "employer_group"
    assert count(core, AutopayEnrollment) == 0


def test_exchange_members_are_refused_until_the_binder_premium_is_paid(core):
    unpaid = member(core, coverage=CoverageType.INDIVIDUAL_EXCHANGE)
    with pytest.raises(AutopayNotAllowed) as refused:
        core.enroll_autopay(unpaid, save(core, unpaid), authorization(core))
    assert refused.value.reason == "exchange_binder_unpaid"
    paid = member(
        core,
        coverage=CoverageType.INDIVIDUAL_EXCHANGE,
        premiums=[(date(2026, 12, 1), 35600, 35600), (JAN, 35600, 0)],
    )
    core.enroll_autopay(paid, save(core, paid), authorization(core))
    assert core.autopay_status(paid).enrolled


def test_a_member_with_no_saved_method_or_another_member_s_is_refused(core):
    member_id = member(core)
    other = member(core)
    for method in (None, save(core, other)):
        with pytest.raises(AutopayNotAllowed) as refused:
            core.enroll_autopay(member_id, method, authorization(core))
        assert refused.value.reason == "no_saved_method"


def test_the_authorization_is_kept_and_its_written_copy_queued_before_the_first_debit(core):
    member_id = enrolled(core)
    with core.unit_of_work() as uow:
        row = uow.session.scalars(select(AutopayEnrollment)).one()
        assert (row.authorization_text, row.wording_version) == (WORDS, "autopay-v1")
        assert (row.channel, row.call_sid, row.method_last4) == ("phone", "CA-autopay", "4242")
        assert row.accepted_at == core.clock.now()
    [copy] = messages(core, "autopay-copy:")
    assert copy.kind == "email" and copy.recipient == "ana@example.org"
    assert WORDS in copy.body and "Visa ending in 4242" in copy.body
    assert count(core, Payment) == 0 and count(core, SandboxCharge) == 0

    core.run_autopay(DEC_31)
    [payment] = payments_of(core, member_id)
    [receipt] = messages(core, f"receipt:{payment.id}:email")
    assert copy.id < receipt.id and copy.created_at <= payment.created_at


def test_without_an_email_the_copy_goes_by_text_in_the_member_s_language(core):
    enrolled(core, email=None)
    [copy] = messages(core, "autopay-copy:")
    assert copy.kind == "sms" and copy.recipient == "+15105550123" and WORDS in copy.body


def test_status_gives_the_method_and_the_next_date_and_amount(core):
    member_id = enrolled(core, max_amount=50000)
    status = core.autopay_status(member_id)
    assert status.enrolled and status.method_last4 == "4242" and status.max_amount_cents == 50000
    assert (status.next_coverage_month, status.next_due_date) == (JAN, date(2026, 12, 31))
    assert status.next_amount_cents == 41200
    maryland = enrolled(core, region="mas", state="MD")
    assert core.autopay_status(maryland).next_due_date == JAN
    assert not core.autopay_status(member(core)).enrolled


# --- the run ----------------------------------------------------------------------------


def test_the_run_charges_once_per_member_and_period_and_again_charges_nothing(core):
    first, second = enrolled(core), enrolled(core)
    assert core.run_autopay(DEC_30).charged == []  # not due yet
    report = core.run_autopay(DEC_31)
    assert len(report.charged) == 2
    for member_id in (first, second):
        [payment] = payments_of(core, member_id)
        assert payment.status is PaymentStatus.SUCCEEDED and payment.channel == "autopay"
        assert payment.idempotency_key == charge_key(member_id, JAN, 1)
        assert payment.amount_cents == 41200 and payment.target_kind == "premium"
        assert messages(core, f"receipt:{payment.id}:")  # the payment service's receipt
    again = core.run_autopay(DEC_31)
    later = core.run_autopay(JAN_3)
    assert again.charged == later.charged == []
    assert count(core, Payment) == 2 and count(core, SandboxCharge) == 2
    assert count(core, AutopayAttempt) == 2


def test_a_premium_already_paid_is_not_charged(core):
    enrolled(core, premiums=[(JAN, 41200, 41200)])
    report = core.run_autopay(DEC_31)
    assert report.charged == [] and count(core, Payment) == 0


def test_two_runs_at_once_charge_each_member_once(core):
    if core.engine.dialect.name != "postgresql":
        pytest.skip("concurrent runs are a PostgreSQL test (SQLite serializes writers)")
    members = [enrolled(core) for _ in range(20)]
    errors = []

    def run():
        try:
            core.run_autopay(DEC_31)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert count(core, SandboxCharge) == len(members)
    assert count(core, Payment, Payment.status == PaymentStatus.SUCCEEDED) == len(members)
    assert count(core, AutopayAttempt, AutopayAttempt.outcome == "succeeded") == len(members)
    assert core.run_autopay(DEC_31).charged == []


def test_a_soft_decline_is_retried_on_its_day_and_then_succeeds(core):
    member_id = enrolled(core, outcome="insufficient-funds", last4="9995")
    report = core.run_autopay(DEC_31)
    assert report.retrying == [member_id] and report.charged == []
    with core.unit_of_work() as uow:
        attempt = uow.session.scalars(select(AutopayAttempt)).one()
        assert (attempt.outcome, attempt.decline_code) == ("soft_declined", "insufficient_funds")
        assert attempt.next_retry_on == date(2027, 1, 1)
    assert core.run_autopay(DEC_31).retrying == []  # not again the same day
    core.change_autopay_method(member_id, save(core, member_id), authorization(core))
    report = core.run_autopay(JAN_1)
    assert len(report.charged) == 1
    failed, paid = payments_of(core, member_id)
    assert failed.status is PaymentStatus.FAILED and paid.status is PaymentStatus.SUCCEEDED
    assert paid.idempotency_key == charge_key(member_id, JAN, 2)
    assert messages(core, "autopay-failed:") == []
    assert core.run_autopay(JAN_3).charged == [] and count(core, Payment) == 2


def test_soft_declines_stop_after_the_schedule_and_the_member_is_told_once(core):
    member_id = enrolled(core, outcome="insufficient-funds", last4="9995")
    for moment in (DEC_31, JAN_1, JAN_3, JAN_4, JAN_31):
        core.run_autopay(moment)
    assert [p.idempotency_key for p in payments_of(core, member_id)] == [
        charge_key(member_id, JAN, n) for n in (1, 2, 3)
    ]
    assert len(messages(core, f"autopay-failed:{member_id}:2027-01")) == 1


def test_the_retry_schedule_is_configurable(core):
    core.autopay_retries = RetrySchedule((2,))
    member_id = enrolled(core, outcome="insufficient-funds", last4="9995")
    for moment in (DEC_31, JAN_1, datetime(2027, 1, 2, 12, tzinfo=UTC), JAN_3):
        core.run_autopay(moment)
    assert len(payments_of(core, member_id)) == 2
    assert len(messages(core, "autopay-failed:")) == 1


def test_a_hard_decline_is_not_retried_and_the_member_is_told_once(core):
    member_id = enrolled(core, outcome="declined", last4="0002")
    report = core.run_autopay(DEC_31)
    assert report.failed == [member_id]
    for moment in (DEC_31, JAN_1, JAN_3):
        core.run_autopay(moment)
    [payment] = payments_of(core, member_id)
    assert payment.failure_reason == "card_declined"
    [notice] = messages(core, "autopay-failed:")
    assert notice.kind == "email" and "did not go through" in notice.body
    assert messages(core, f"not-taken:{payment.id}") == []  # one notice, not two


def test_cancelling_between_runs_stops_the_next_charge(core):
    member_id = enrolled(core, premiums=[(JAN, 41200, 0), (FEB, 41200, 0)])
    assert len(core.run_autopay(DEC_31).charged) == 1
    assert core.cancel_autopay(member_id, channel="phone", call_sid="CA-2")
    assert not core.autopay_status(member_id).enrolled
    assert core.run_autopay(JAN_31).charged == []
    assert len(payments_of(core, member_id)) == 1
    assert not core.cancel_autopay(member_id, channel="phone")


def test_above_the_maximum_is_skipped_and_the_member_told_once(core):
    member_id = enrolled(core, max_amount=30000)
    report = core.run_autopay(DEC_31)
    assert report.over_maximum == [member_id] and report.charged == []
    core.run_autopay(DEC_31)
    core.run_autopay(JAN_1)
    assert payments_of(core, member_id) == []
    [notice] = messages(core, "autopay-over-maximum:")
    assert "$412.00" in notice.body and "$300.00" in notice.body


def test_maryland_members_are_charged_on_the_first_of_the_coverage_month(core):
    maryland = enrolled(core, region="mas", state="MD")
    virginia = enrolled(core, region="mas", state="VA")
    core.run_autopay(DEC_31)
    assert payments_of(core, maryland) == [] and len(payments_of(core, virginia)) == 1
    # 02:00 UTC on January 1 is still December 31 in Maryland.
    core.run_autopay(datetime(2027, 1, 1, 2, tzinfo=UTC))
    assert payments_of(core, maryland) == []
    core.run_autopay(JAN_1)
    [payment] = payments_of(core, maryland)
    assert payment.status is PaymentStatus.SUCCEEDED


def test_the_member_s_day_is_the_day_in_their_region(core):
    hawaii = enrolled(core, region="hi", state="HI")
    # 08:00 UTC on December 31 is still December 30 in Honolulu.
    core.run_autopay(datetime(2026, 12, 31, 8, tzinfo=UTC))
    assert payments_of(core, hawaii) == []
    core.run_autopay(datetime(2026, 12, 31, 11, tzinfo=UTC))
    assert len(payments_of(core, hawaii)) == 1


def test_a_method_expiring_before_the_next_due_date_gets_one_notice(core):
    member_id = enrolled(core, exp="1126")  # good through November 2026; due December 31
    core.run_autopay(core.clock.now())
    core.run_autopay(core.clock.now())
    [notice] = messages(core, "autopay-expiring:")
    assert "expires before your next payment on December 31, 2026" in notice.body
    enrolled(core, exp="1227")
    core.run_autopay(core.clock.now())
    assert len(messages(core, "autopay-expiring:")) == 1
    assert member_id


def test_spanish_speaking_members_get_the_copy_in_spanish(core):
    member_id = member(core)
    from billing_core.adapters.models import Member

    with core.unit_of_work() as uow:
        uow.session.get(Member, member_id).language = "es"
        uow.commit()
    core.enroll_autopay(member_id, save(core, member_id), authorization(core))
    [copy] = messages(core, "autopay-copy:")
    assert copy.subject.startswith("Sus pagos automáticos") and "terminada en 4242" in copy.body


def test_a_run_over_200_members_charges_each_once_and_a_rerun_none(core):
    # Its speed belongs in a benchmark (bench/), not here: this counts charges only.
    members = [enrolled(core) for _ in range(200)]
    report = core.run_autopay(DEC_31)
    assert len(report.charged) == len(set(report.charged)) == len(members)
    assert core.run_autopay(DEC_31).charged == []


def test_the_reason_a_member_may_not_pay_automatically_is_told_before_any_method(core):
    from billing_core.domain.autopay import AutopayNotAllowed
    from billing_core.domain.members import CoverageType
    from tests.members import add_member

    employer = add_member(
        core,
        mrn="91000001",
        birth_date=date(1980, 1, 1),
        coverage=CoverageType.EMPLOYER_GROUP,
        monthly_premium_cents=None,
    )
    individual = add_member(core, mrn="91000002", birth_date=date(1980, 1, 2))
    assert core.autopay_refusal(employer) == AutopayNotAllowed.EMPLOYER_GROUP
    assert core.autopay_refusal(individual) is None


# --- enrollment with a new method, a new authorization, a maximum -------------------------


def new_card(last4="4444", outcome="success") -> NewMethod:
    return NewMethod(
        kind="card", token=fixed_token(outcome, last4), last4=last4, brand="mastercard", exp="1129"
    )


def test_a_new_method_is_saved_with_the_enrollment_and_its_copy_in_one_transaction(core):
    member_id = member(core)
    enrollment = core.enroll_autopay(
        member_id, None, authorization(core, "4444"), new_method=new_card()
    )
    [method] = core.saved_methods(member_id)
    assert (method.brand, method.last4, method.exp_month, method.exp_year) == (
        "mastercard",
        "4444",
        11,
        2029,
    )
    [row] = rows(core, select(AutopayEnrollment))
    assert (row.id, row.saved_method_id) == (enrollment, method.id)
    [copy] = messages(core, "autopay-copy:")
    assert "Mastercard ending in 4444" in copy.body


def test_a_refused_enrollment_saves_no_new_method(core):
    employer = member(core, coverage=CoverageType.EMPLOYER_GROUP)
    with pytest.raises(AutopayNotAllowed):
        core.enroll_autopay(employer, None, authorization(core), new_method=new_card())
    assert core.saved_methods(employer) == [] and count(core, AutopayEnrollment) == 0


def test_the_same_authorization_again_records_nothing_new(core):
    member_id = member(core)
    first = core.enroll_autopay(member_id, None, authorization(core), new_method=new_card())
    again = core.enroll_autopay(member_id, None, authorization(core), new_method=new_card())
    assert again == first
    assert count(core, AutopayEnrollment) == 1 and len(core.saved_methods(member_id)) == 1
    assert len(messages(core, "autopay-copy:")) == 1


def test_a_change_with_its_authorization_replaces_the_enrollment_and_keeps_the_maximum(core):
    member_id = enrolled(core, max_amount=50000)
    changed = AutopayAuthorization(
        accepted_at=core.clock.now(),
        method_kind="card",
        method_brand="mastercard",
        method_last4="4444",
        channel="phone",
        call_sid="CA-change",
        wording_version="autopay-v1",
        text="I authorize the plan to charge my card ending in 4444 for each monthly premium.",
    )
    new_id = core.change_autopay_method(member_id, None, changed, new_method=new_card())
    old, new = rows(core, select(AutopayEnrollment).order_by(AutopayEnrollment.id))
    assert old.cancelled_at is not None and new.id == new_id and new.cancelled_at is None
    assert (new.method_last4, new.call_sid, new.max_amount_cents) == ("4444", "CA-change", 50000)
    assert new.authorization_text == changed.text
    assert len(messages(core, "autopay-copy:")) == 2
    assert core.autopay_status(member_id).method_last4 == "4444"
    core.run_autopay(DEC_31)
    [payment] = payments_of(core, member_id)
    assert payment.method_last4 == "4444" and payment.status is PaymentStatus.SUCCEEDED


def test_a_maximum_is_set_and_removed_and_refused_when_not_enrolled_or_not_positive(core):
    member_id = enrolled(core)
    core.set_autopay_maximum(member_id, 30000, channel="phone", call_sid="CA-max")
    assert core.autopay_status(member_id).max_amount_cents == 30000
    assert core.run_autopay(DEC_31).over_maximum == [member_id]
    core.set_autopay_maximum(member_id, None, channel="phone")
    assert core.autopay_status(member_id).max_amount_cents is None
    with pytest.raises(ValueError):
        core.set_autopay_maximum(member_id, 0, channel="phone")
    with pytest.raises(AutopayNotAllowed) as refused:
        core.set_autopay_maximum(member(core), 30000, channel="phone")
    assert refused.value.reason == AutopayNotAllowed.NOT_ENROLLED


# --- the notice of a first or changed amount (Regulation E: ten days ahead) -------------

DEC_20 = datetime(2026, 12, 20, 12, tzinfo=UTC)
DEC_21 = datetime(2026, 12, 21, 12, tzinfo=UTC)
DEC_29 = datetime(2026, 12, 29, 12, tzinfo=UTC)
JAN_7 = datetime(2027, 1, 7, 12, tzinfo=UTC)
JAN_8 = datetime(2027, 1, 8, 12, tzinfo=UTC)
JAN_21 = datetime(2027, 1, 21, 12, tzinfo=UTC)


def test_the_first_amount_is_announced_with_the_enrollment_and_charged_on_its_due_date(core):
    core.autopay_notice_days = 10
    member_id = enrolled(core)  # on November 27
    [notice] = messages(core, "autopay-amount:")
    assert notice.subject == "Your first automatic premium payment"
    assert "January 2027 premium of $412.00" in notice.body
    assert "Visa ending in 4242 on December 31, 2026" in notice.body
    assert core.autopay_status(member_id).next_charge_on == date(2026, 12, 31)
    assert core.run_autopay(DEC_21).announced == []  # told already
    report = core.run_autopay(DEC_31)
    assert len(report.charged) == 1 and report.held_for_notice == []
    [payment] = payments_of(core, member_id)
    assert notice.created_at < payment.created_at
    assert len(messages(core, "autopay-amount:")) == 1


def test_enrolling_days_before_the_due_date_charges_once_the_notice_has_run(core, clock):
    core.autopay_notice_days = 10
    clock.set(DEC_29)
    member_id = enrolled(core)
    [notice] = messages(core, "autopay-amount:")
    assert "Visa ending in 4242 on January 8, 2027" in notice.body
    assert core.autopay_status(member_id).next_charge_on == date(2027, 1, 8)
    assert core.run_autopay(DEC_31).held_for_notice == [member_id]
    assert payments_of(core, member_id) == []
    assert len(core.run_autopay(JAN_8).charged) == 1


def test_a_changed_amount_is_announced_once_and_charged_only_after_its_notice(core):
    core.autopay_notice_days = 10
    member_id = enrolled(core, premiums=[(JAN, 41200, 0), (FEB, 45050, 0)])
    core.run_autopay(DEC_21)
    core.run_autopay(DEC_31)  # January: $412.00, announced on December 21
    assert core.run_autopay(JAN_21).announced == [member_id]
    core.run_autopay(JAN_21)
    notices = messages(core, f"autopay-amount:{member_id}:2027-02")
    [notice] = notices
    assert notice.subject == "The amount of your automatic premium payment has changed"
    assert "$450.50, not the $412.00 paid automatically last time" in notice.body
    assert "on January 31, 2027" in notice.body
    assert len(core.run_autopay(JAN_31).charged) == 1
    _january, february = payments_of(core, member_id)
    assert february.amount_cents == 45050 and notice.created_at < february.created_at


def test_the_same_amount_as_last_month_is_charged_without_a_notice(core):
    core.autopay_notice_days = 10
    member_id = enrolled(core, premiums=[(JAN, 41200, 0), (FEB, 41200, 0)])
    core.run_autopay(DEC_21)
    core.run_autopay(DEC_31)
    assert core.run_autopay(JAN_21).announced == []
    assert len(core.run_autopay(JAN_31).charged) == 1
    assert len(payments_of(core, member_id)) == 2
    assert len(messages(core, "autopay-amount:")) == 1  # January's, the first


def test_an_amount_first_seen_late_is_charged_ten_days_after_its_notice_not_before(core):
    from billing_core.adapters.models import PremiumInvoice

    core.autopay_notice_days = 10
    member_id = enrolled(core, premiums=[])
    with core.unit_of_work() as uow:  # the feed brings the invoice two days before it is due
        uow.session.add(
            PremiumInvoice(
                member_id=member_id, coverage_month=JAN, amount_cents=41200, updated_at=DEC_29
            )
        )
        uow.commit()
    assert core.run_autopay(DEC_29).announced == [member_id]
    [notice] = messages(core, "autopay-amount:")
    assert "on January 8, 2027" in notice.body
    for moment in (DEC_31, JAN_1, JAN_7):
        report = core.run_autopay(moment)
        assert report.held_for_notice == [member_id] and report.charged == []
        assert "held for notice: 1," in report.line()
    assert payments_of(core, member_id) == []
    assert len(core.run_autopay(JAN_8).charged) == 1
    assert len(messages(core, "autopay-amount:")) == 1


def test_a_member_who_cannot_be_told_the_amount_is_not_charged(core):
    core.autopay_notice_days = 10
    member_id = enrolled(core, email=None, phone=None)
    assert messages(core, "autopay-amount:") == []
    core.run_autopay(DEC_21)
    assert core.run_autopay(DEC_31).held_for_notice == [member_id]
    assert payments_of(core, member_id) == []


def test_the_amount_notice_is_in_spanish_for_spanish_speaking_members(core):
    from billing_core.adapters.models import Member

    member_id = member(core, email=None)
    with core.unit_of_work() as uow:
        uow.session.get(Member, member_id).language = "es"
        uow.commit()
    core.enroll_autopay(member_id, save(core, member_id), authorization(core))
    [notice] = messages(core, "autopay-amount:")
    assert notice.kind == "sms"
    assert "se pagará automáticamente con su tarjeta Visa terminada en 4242" in notice.body


# --- a saved method removed while autopay charges it ------------------------------------


def test_removing_the_method_autopay_charges_tells_the_member_once_and_the_run_counts_it(core):
    member_id = member(core)
    other = save(core, member_id, last4="1111")
    method = save(core, member_id)
    core.enroll_autopay(member_id, method, authorization(core))
    assert core.remove_saved_method(member_id, other)
    assert messages(core, "autopay-method-removed:") == []  # autopay does not use that one
    assert core.remove_saved_method(member_id, method)
    assert not core.remove_saved_method(member_id, method)  # already removed
    [notice] = messages(core, "autopay-method-removed:")
    assert notice.subject == "Please choose another way to pay your premium automatically"
    assert "Visa ending in 4242" in notice.body and "choose another card" in notice.body
    report = core.run_autopay(DEC_31)
    assert report.method_removed == [member_id] and report.charged == []
    assert "method removed: 1," in report.line()
    assert payments_of(core, member_id) == []
    assert len(messages(core, "autopay-method-removed:")) == 1
    assert core.saved_methods(member_id) == []


def test_another_member_s_method_is_not_removed(core):
    owner, stranger = enrolled(core), member(core)
    with core.unit_of_work() as uow:
        method_id = uow.session.scalars(select(AutopayEnrollment.saved_method_id)).one()
    assert not core.remove_saved_method(stranger, method_id)
    assert len(core.run_autopay(DEC_31).charged) == 1
    assert messages(core, "autopay-method-removed:") == [] and owner


# --- the run in batches -----------------------------------------------------------------


class CrashesAfterCharging:
    """A gateway that charges, then dies before answering, on the given charges (a worker
    killed mid-charge)."""

    def __init__(self, gateway, crash_on: set[int]) -> None:
        self._gateway, self._crash_on, self.calls = gateway, crash_on, 0

    def __getattr__(self, name):
        return getattr(self._gateway, name)

    def charge(self, **charge):
        self.calls += 1
        result = self._gateway.charge(**charge)
        if self.calls in self._crash_on:
            raise RuntimeError("worker killed")
        return result


def test_the_batches_of_a_run_cover_each_enrolled_member_once(core):
    core.autopay_batch_size = 3
    members = [enrolled(core) for _ in range(7)]
    cancelled = enrolled(core)
    core.cancel_autopay(cancelled, channel="phone")
    batches = core.autopay_batches()
    assert all(batch.stop - batch.first == 3 for batch in batches)
    covered = [m for batch in batches for m in members if batch.first <= m < batch.stop]
    assert sorted(covered) == members
    reports = [core.run_autopay(DEC_31, batch) for batch in batches]
    assert sum(len(report.charged) for report in reports) == len(members)
    assert [core.run_autopay(DEC_31, batch).charged for batch in batches] == [[]] * len(batches)
    assert count(core, SandboxCharge) == len(members)


def test_a_batch_killed_after_a_charge_and_run_again_charges_no_one_twice(core):
    from billing_core.domain.autopay import MemberRange
    from billing_core.services.tasks import core_as_of

    members = [enrolled(core) for _ in range(5)]
    batch = MemberRange(0, max(members) + 1)
    gateway = core.gateway
    core.gateway = CrashesAfterCharging(gateway, crash_on={3})
    with pytest.raises(RuntimeError):
        core.run_autopay(DEC_31, batch)
    assert count(core, SandboxCharge) == 3  # the third was charged, its answer lost
    core.gateway = gateway
    again = core.run_autopay(DEC_31, batch)
    assert len(again.charged) == 2 and again.pending == [members[2]]
    # Reconcile reads the lost answer from the gateway: paid, and not charged again.
    later = datetime(2026, 12, 31, 13, tzinfo=UTC)
    core_as_of(core, later).reconcile()
    assert core.run_autopay(later, batch).charged == []
    assert count(core, SandboxCharge) == len(members)
    assert count(core, Payment, Payment.status == PaymentStatus.SUCCEEDED) == len(members)
    assert core.run_autopay(JAN_1, batch).charged == []


def test_concurrent_batch_runs_charge_each_member_month_once(core):
    if core.engine.dialect.name != "postgresql":
        pytest.skip("concurrent batches are a PostgreSQL test (SQLite serializes writers)")
    core.autopay_batch_size = 4
    members = [enrolled(core) for _ in range(24)]
    batches = core.autopay_batches()
    errors = []

    def run(order):
        try:
            for batch in order:
                core.run_autopay(DEC_31, batch)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    # Two workers going through the same batches, from either end.
    threads = [threading.Thread(target=run, args=(o,)) for o in (batches, batches[::-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert count(core, SandboxCharge) == len(members)
    assert count(core, AutopayAttempt, AutopayAttempt.outcome == "succeeded") == len(members)


def test_a_bank_account_is_debited_under_the_recurring_authorization_the_member_accepted(core):
    member_id = member(core)
    account = core.save_method(
        member_id,
        kind="bank",
        token=fixed_token("success", "6789", bank=True),
        brand=None,
        last4="6789",
        exp=None,
        account_type="consumer-checking",
    ).id
    accepted = AutopayAuthorization(
        accepted_at=core.clock.now(),
        method_kind="bank",
        method_brand="consumer-checking",
        method_last4="6789",
        channel="phone",
        call_sid="CA-bank",
        wording_version="autopay-v1",
        text="I authorize the plan to debit my checking account ending in 6789 each month.",
    )
    core.enroll_autopay(member_id, account, accepted)
    report = core.run_autopay(DEC_31)
    assert report.errors == [] and len(report.pending) + len(report.charged) == 1
    [payment] = payments_of(core, member_id)
    assert (payment.method_kind, payment.method_last4, payment.amount_cents) == (
        "bank",
        "6789",
        41200,
    )
    [record] = rows(core, select(AchAuthorizationRecord))
    assert (record.payment_id, record.text, record.call_sid) == (
        payment.id,
        accepted.text,
        "CA-bank",
    )
    assert (record.account_last4, record.amount_cents) == ("6789", 41200)
    assert core.run_autopay(DEC_31).charged == [] and len(payments_of(core, member_id)) == 1


def test_a_month_due_before_enrolling_is_not_announced_as_an_automatic_payment(core):
    core.autopay_notice_days = 10
    nov, dec = date(2026, 11, 1), date(2026, 12, 1)
    member_id = member(core, premiums=[(nov, 41200, 0), (dec, 41200, 0)])  # November: past due
    core.enroll_autopay(member_id, save(core, member_id), authorization(core))  # November 27
    [notice] = messages(core, "autopay-amount:")
    assert "December 2026 premium of $412.00" in notice.body
    assert "on December 7, 2026" in notice.body  # ten days after the notice, due November 30
    status = core.autopay_status(member_id)
    assert (status.next_coverage_month, status.next_charge_on) == (dec, date(2026, 12, 7))
    report = core.run_autopay(datetime(2026, 12, 7, 12, tzinfo=UTC))
    [payment] = payments_of(core, member_id)
    assert len(report.charged) == 1 and payment.amount_cents == 41200


def test_retries_of_a_charge_held_for_its_notice_count_from_the_day_it_was_first_tried(core):
    from billing_core.adapters.models import PremiumInvoice

    core.autopay_notice_days = 10
    member_id = enrolled(core, outcome="insufficient-funds", last4="9995", premiums=[])
    with core.unit_of_work() as uow:  # posted two days before it is due: charged on January 8
        uow.session.add(
            PremiumInvoice(
                member_id=member_id, coverage_month=JAN, amount_cents=41200, updated_at=DEC_29
            )
        )
        uow.commit()
    core.run_autopay(DEC_29)
    assert core.run_autopay(JAN_8).retrying == [member_id]
    [attempt] = rows(core, select(AutopayAttempt))
    assert attempt.next_retry_on == date(2027, 1, 9)  # not January 1, before the first try
    assert core.run_autopay(datetime(2027, 1, 9, 12, tzinfo=UTC)).retrying == [member_id]
    assert len(payments_of(core, member_id)) == 2
