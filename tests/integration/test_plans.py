"""Payment plans in the billing core: the offer, and a set-up charging its first payment once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from billing_core.adapters.models import (
    AchAuthorizationRecord,
    MedicalBill,
    OutboxMessage,
    PaymentPlan,
    PlanInstallment,
    SandboxCharge,
)
from billing_core.domain.payments import PaymentStatus
from billing_core.domain.plans import BillExclusion, PlanNotAllowed
from tests.members import agree_to_texts
from tests.plan_helpers import (
    DEC_27_NOON,
    DEC_28_NOON,
    DUE,
    JAN_27_NOON,
    TODAY,
    WORDS,
    accepted,
    bank,
    card,
    change_token,
    count,
    installment,
    member,
    messages,
    payments_of,
    plan_row,
    rows,
    set_up,
)

# --- the offer --------------------------------------------------------------------------


def test_a_large_balance_is_offered_each_configured_term(core):
    offer = core.plan_offer(member(core))
    assert offer.refusal is None and offer.eligible_cents == 125_100
    assert [(o.months, o.first_cents, o.monthly_cents) for o in offer.options] == [
        (3, 41_700, 41_700),
        (6, 20_850, 20_850),
        (12, 10_425, 10_425),
    ]


def test_an_old_bill_is_left_out_and_the_caller_is_told_why(core):
    member_id = member(
        core,
        bills=[
            ("B-OLD", date(2025, 6, 1), "Oakland", 90_000, 0, DUE),
            ("B-NEW", date(2026, 11, 2), "Oakland", 60_000, 0, DUE),
        ],
    )
    offer = core.plan_offer(member_id)
    assert offer.excluded == {"B-OLD": BillExclusion.TOO_OLD}
    assert offer.eligible_cents == 60_000


def test_a_small_balance_is_offered_no_plan_below_the_minimum(core):
    member_id = member(core, bills=[("B-1", date(2026, 11, 2), "Oakland", 30_000, 0, DUE)])
    offer = core.plan_offer(member_id)
    assert (offer.options, offer.refusal) == ((), PlanNotAllowed.BELOW_MINIMUM)


def test_bills_in_an_active_plan_are_not_offered_again(core):
    member_id = member(core)
    set_up(core, member_id)
    offer = core.plan_offer(member_id)
    assert offer.refusal == PlanNotAllowed.NOTHING_ELIGIBLE
    assert offer.excluded == {"B-1": BillExclusion.IN_PLAN, "B-2": BillExclusion.IN_PLAN}


# --- the set-up -------------------------------------------------------------------------


def test_a_set_up_charges_the_first_installment_and_schedules_the_rest_monthly(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    assert plan.status == "active"
    assert plan.first.status is PaymentStatus.SUCCEEDED and plan.first.amount_cents == 20_850
    assert [day for day, _amount in plan.installments] == [
        TODAY,
        date(2026, 12, 27),
        date(2027, 1, 27),
        date(2027, 2, 27),
        date(2027, 3, 27),
        date(2027, 4, 27),
    ]
    assert sum(amount for _day, amount in plan.installments) == 125_100
    [payment] = payments_of(core, member_id)
    assert payment.idempotency_key == f"plan:{plan.plan_id}:1:1"
    [first] = rows(
        core,
        select(PlanInstallment).where(
            PlanInstallment.plan_id == plan.plan_id, PlanInstallment.number == 1
        ),
    )
    assert (first.status, first.payment_id) == ("paid", payment.id)


def test_a_replayed_acceptance_returns_the_same_plan_and_charges_once(core):
    member_id = member(core)
    first = set_up(core, member_id, key="CA-plan:replayed")
    again = set_up(core, member_id, key="CA-plan:replayed")
    assert again.plan_id == first.plan_id
    assert again.first.confirmation_number == first.first.confirmation_number
    assert count(core, PaymentPlan) == 1
    assert count(core, SandboxCharge) == 1


def test_the_written_copy_of_the_terms_is_queued_with_the_plan(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    [copy] = rows(
        core,
        select(OutboxMessage).where(
            OutboxMessage.dedupe_key.startswith(f"plan-copy:{plan.plan_id}")
        ),
    )
    assert copy.recipient == "ana@example.org"
    assert WORDS in copy.body and "$208.50" in copy.body and "$1,251.00" in copy.body


def test_a_second_plan_for_the_same_member_is_refused(core):
    member_id = member(core)
    set_up(core, member_id)
    with pytest.raises(PlanNotAllowed) as refused:
        set_up(core, member_id)
    assert refused.value.reason == PlanNotAllowed.ALREADY_IN_PLAN
    assert count(core, PaymentPlan) == 1 and count(core, SandboxCharge) == 1


def test_a_term_that_is_not_offered_sets_up_nothing(core):
    member_id = member(core)
    with pytest.raises(PlanNotAllowed) as refused:
        set_up(core, member_id, months=5)
    assert refused.value.reason == PlanNotAllowed.TERM_NOT_OFFERED
    assert count(core, PaymentPlan) == 0


def test_a_declined_first_installment_cancels_the_plan(core):
    member_id = member(core)
    plan = set_up(core, member_id, method=card("insufficient-funds", "9995"))
    assert plan.status == "cancelled"
    assert plan.first.status is PaymentStatus.FAILED
    assert core.plan_offer(member_id).refusal is None  # the bills may go into a new plan
    assert set_up(core, member_id).status == "active"


def test_a_bank_plan_debits_under_the_recorded_recurring_authorization(core):
    member_id = member(core)
    plan = set_up(
        core, member_id, method=bank(), authorization=accepted(core, kind="bank", last4="6789")
    )
    assert plan.first.status is PaymentStatus.SUBMITTED
    [payment] = payments_of(core, member_id)
    [record] = rows(
        core, select(AchAuthorizationRecord).where(AchAuthorizationRecord.payment_id == payment.id)
    )
    assert (record.text, record.call_sid, record.amount_cents) == (WORDS, "CA-plan", 20_850)


def test_two_set_ups_at_once_for_one_member_create_one_plan(core):
    if core.engine.dialect.name != "postgresql":
        pytest.skip("concurrent set-ups are a PostgreSQL test (SQLite serializes writers)")
    member_ids = [member(core) for _ in range(5)]
    results, errors = [], []

    def call(member_id, n):
        try:
            results.append(set_up(core, member_id, key=f"CA-{member_id}-{n}"))
        except PlanNotAllowed as refused:
            errors.append(refused.reason)

    threads = [
        threading.Thread(target=call, args=(member_id, n))
        for member_id in member_ids
        for n in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == len(member_ids)
    assert errors == [PlanNotAllowed.ALREADY_IN_PLAN] * (2 * len(member_ids))
    assert count(core, PaymentPlan, PaymentPlan.status == "active") == len(member_ids)
    assert count(core, SandboxCharge) == len(member_ids)


# --- the run ----------------------------------------------------------------------------


def test_the_second_installment_is_charged_on_its_day_and_not_before_nor_twice(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    assert core.run_plans(datetime(2026, 12, 26, 12, tzinfo=UTC)).charged == []
    assert len(core.run_plans(DEC_27_NOON).charged) == 1
    assert core.run_plans(DEC_27_NOON).charged == []
    assert core.run_plans(DEC_28_NOON).charged == []
    second = installment(core, plan.plan_id, 2)
    assert second.status == "paid"
    keys = [p.idempotency_key for p in payments_of(core, member_id)]
    assert keys == [f"plan:{plan.plan_id}:1:1", f"plan:{plan.plan_id}:2:1"]
    assert count(core, SandboxCharge) == 2


def test_an_installment_is_never_more_than_what_is_still_owed_on_the_plan_s_bills(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    with core.unit_of_work() as uow:  # most of it paid some other way since
        for bill in uow.session.scalars(
            select(MedicalBill).where(MedicalBill.member_id == member_id)
        ):
            bill.paid_cents = bill.amount_cents
        uow.session.scalars(
            select(MedicalBill).where(
                MedicalBill.bill_number == "B-2", MedicalBill.member_id == member_id
            )
        ).one().paid_cents = 25_100 - 5_000
        uow.commit()
    core.run_plans(DEC_27_NOON)
    assert [p.amount_cents for p in payments_of(core, member_id)] == [20_850, 5_000]
    assert installment(core, plan.plan_id, 2).status == "paid"


def test_a_soft_declined_installment_is_retried_and_then_paid(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    change_token(core, plan.plan_id, "insufficient-funds")
    assert len(core.run_plans(DEC_27_NOON).retrying) == 1
    assert installment(core, plan.plan_id, 2).next_try_on == date(2026, 12, 28)
    change_token(core, plan.plan_id, "success")
    assert len(core.run_plans(DEC_28_NOON).charged) == 1
    keys = [p.idempotency_key for p in payments_of(core, member_id)]
    assert keys[1:] == [f"plan:{plan.plan_id}:2:1", f"plan:{plan.plan_id}:2:2"]
    assert installment(core, plan.plan_id, 2).status == "paid"


def test_two_missed_installments_lapse_the_plan_and_the_member_is_told(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    change_token(core, plan.plan_id, "declined")
    assert len(core.run_plans(DEC_27_NOON).missed) == 1
    assert plan_row(core, plan.plan_id).status == "active"
    assert len(messages(core, "plan-missed:")) == 1
    report = core.run_plans(JAN_27_NOON)
    assert report.lapsed == [plan.plan_id]
    assert plan_row(core, plan.plan_id).status == "lapsed"
    [lapsed] = messages(core, "plan-lapsed:")
    assert "$1,042.50" in lapsed.body  # the remaining balance is due again
    assert core.run_plans(datetime(2027, 2, 27, 12, tzinfo=UTC)).charged == []
    assert core.plan_offer(member_id).refusal is None  # the bills are free of the plan


def test_a_bank_installment_debits_under_the_recorded_recurring_authorization(core):
    member_id = member(core)
    authorization = accepted(core, kind="bank", last4="6789")
    plan = set_up(core, member_id, method=bank(), authorization=authorization)
    core.run_plans(DEC_27_NOON)
    second = installment(core, plan.plan_id, 2)
    [record] = rows(
        core,
        select(AchAuthorizationRecord).where(
            AchAuthorizationRecord.payment_id == second.payment_id
        ),
    )
    assert (record.text, record.amount_cents) == (WORDS, 20_850)


def test_two_runs_at_once_charge_each_installment_once(core):
    if core.engine.dialect.name != "postgresql":
        pytest.skip("concurrent runs are a PostgreSQL test (SQLite serializes writers)")
    plan_ids = [set_up(core, member(core)).plan_id for _ in range(10)]
    errors = []

    def run():
        try:
            core.run_plans(DEC_27_NOON)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert count(core, SandboxCharge) == 2 * len(plan_ids)
    assert count(core, PlanInstallment, PlanInstallment.status == "paid") == 2 * len(plan_ids)
    assert core.run_plans(DEC_27_NOON).charged == []


def test_spanish_speaking_members_get_the_copy_and_a_missed_payment_in_spanish_by_text(core):
    from billing_core.adapters.models import Member

    member_id = member(core, email=None, phone="+15105550123")
    with core.unit_of_work() as uow:
        uow.session.get(Member, member_id).language = "es"
        uow.commit()
    agree_to_texts(core, member_id)  # the notices of a problem go by text, as agreed
    plan = set_up(core, member_id)
    [copy] = messages(core, f"plan-copy:{plan.plan_id}:")
    assert copy.kind == "sms" and "plan de pagos" in copy.body and WORDS in copy.body
    change_token(core, plan.plan_id, "declined")
    core.run_plans(DEC_27_NOON)
    [missed] = messages(core, "plan-missed:")
    assert "no se hizo ningún cargo" in missed.body and "27 de diciembre de 2026" in missed.body
