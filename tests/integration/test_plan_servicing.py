"""A member servicing their plan: where it stands, paying ahead or off, another method."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from billing_core.adapters.models import (
    MedicalBill,
    Payment,
    PaymentPlan,
    PlanInstallment,
    SandboxCharge,
)
from billing_core.domain.payments import PaymentStatus, TargetKind
from billing_core.domain.plans import PlanNotAllowed
from tests.plan_helpers import (
    DEC_27_NOON,
    DEC_28_NOON,
    JAN_27_NOON,
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


def pay_ahead(core, member_id, plan_id, *, payoff=False, key="CA-ahead:1"):
    return core.pay_plan_ahead(
        member_id, plan_id, payoff=payoff, request_key=key, channel="phone", call_sid="CA-ahead"
    )


def test_the_status_names_the_next_installment_and_how_many_are_left(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    status = core.plan_status(member_id)
    assert (status.next_number, status.next_due_on, status.next_amount_cents) == (
        2,
        date(2026, 12, 27),
        20_850,
    )
    assert (status.payments_left, status.remaining_cents) == (5, 104_250)
    assert (status.method_kind, status.method_last4, status.status) == ("card", "4242", "active")
    assert status.plan_id == plan.plan_id and status.bill_numbers == {"B-1", "B-2"}


def test_a_member_without_a_plan_has_no_status(core):
    assert core.plan_status(member(core)) is None


def test_paying_ahead_pays_the_next_installment_once_and_the_run_skips_it(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    paid = pay_ahead(core, member_id, plan.plan_id)
    again = pay_ahead(core, member_id, plan.plan_id)  # the same request, replayed
    assert paid.status is PaymentStatus.SUCCEEDED and paid.amount_cents == 20_850
    assert again.confirmation_number == paid.confirmation_number
    second = installment(core, plan.plan_id, 2)
    assert second.status == "paid"
    assert core.run_plans(DEC_27_NOON).charged == []
    assert count(core, SandboxCharge) == 2
    ahead = payments_of(core, member_id)[-1]
    assert (ahead.target_kind, ahead.plan_id, ahead.plan_installment) == (
        TargetKind.PLAN.value,
        plan.plan_id,
        2,
    )
    assert ahead.channel == "phone" and ahead.call_sid == "CA-ahead"
    status = core.plan_status(member_id)
    assert (status.next_number, status.payments_left) == (3, 4)


def test_a_declined_payment_ahead_leaves_the_installment_due_on_its_day(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    change_token(core, plan.plan_id, "insufficient-funds")
    declined = pay_ahead(core, member_id, plan.plan_id)
    assert declined.status is PaymentStatus.FAILED
    second = installment(core, plan.plan_id, 2)
    assert (second.status, second.attempt, second.ahead_key) == ("due", 0, None)
    change_token(core, plan.plan_id, "success")
    report = core.run_plans(DEC_27_NOON)
    assert len(report.charged) == 1
    keys = [p.idempotency_key for p in payments_of(core, member_id)]
    assert keys[-1] == f"plan:{plan.plan_id}:2:1"  # the run's own first try, not a retry


def test_paying_off_pays_what_the_plan_owes_and_completes_it(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    paid = pay_ahead(core, member_id, plan.plan_id, payoff=True)
    assert paid.status is PaymentStatus.SUCCEEDED and paid.amount_cents == 104_250
    assert plan_row(core, plan.plan_id).status == "completed"
    assert [installment(core, plan.plan_id, n).status for n in range(2, 7)] == ["paid"] * 5
    assert core.run_plans(JAN_27_NOON).charged == []
    assert core.plan_status(member_id) is None
    [payoff] = rows(core, select(Payment).where(Payment.amount_cents == 104_250))
    assert (payoff.plan_id, payoff.plan_installment) == (plan.plan_id, None)


def test_an_installment_pays_only_the_plan_s_bills_never_a_bill_outside_it(core):
    member_id = member(
        core,
        bills=[("B-1", date(2026, 10, 2), "Oakland Medical Center", 90_000, 0, date(2026, 12, 20))],
    )
    set_up(core, member_id)
    with core.unit_of_work() as uow:  # a new bill, due earlier, comes in the next feed
        uow.session.add(
            MedicalBill(
                member_id=member_id,
                bill_number="B-LATER",
                date_of_service=date(2026, 11, 20),
                facility="Oakland Medical Center",
                provider="Dr. Lee",
                amount_cents=40_000,
                feed_paid_cents=0,
                paid_cents=0,
                due_date=date(2026, 12, 1),
                updated_at=core.clock.now(),
            )
        )
        uow.commit()
    core.run_plans(DEC_27_NOON)
    [later] = rows(core, select(MedicalBill).where(MedicalBill.bill_number == "B-LATER"))
    assert later.paid_cents == 0
    assert core.plan_status(member_id).remaining_cents == 90_000 - 2 * 15_000


def test_a_payment_ahead_while_the_run_charges_the_installment_is_refused(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    with core.unit_of_work() as uow:  # the run has claimed try 1 and not yet answered
        row = uow.session.get(PlanInstallment, installment(core, plan.plan_id, 2).id)
        row.attempt = 1
        uow.commit()
    with pytest.raises(PlanNotAllowed) as refused:
        pay_ahead(core, member_id, plan.plan_id)
    assert refused.value.reason == PlanNotAllowed.PAYMENT_IN_PROGRESS
    assert count(core, SandboxCharge) == 1


def test_two_calls_paying_ahead_at_once_charge_the_installment_once(core):
    if core.engine.dialect.name != "postgresql":
        pytest.skip("concurrent calls are a PostgreSQL test (SQLite serializes writers)")
    member_id = member(core)
    plan = set_up(core, member_id)
    results, refusals = [], []

    def call(n):
        try:
            results.append(pay_ahead(core, member_id, plan.plan_id, key=f"CA-{n}"))
        except PlanNotAllowed as refused:
            refusals.append(refused.reason)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    succeeded = [r for r in results if r.status is PaymentStatus.SUCCEEDED]
    assert len(succeeded) == 1
    assert set(refusals) <= {PlanNotAllowed.PAYMENT_IN_PROGRESS}
    assert count(core, SandboxCharge) == 2  # the first installment and this one


def test_a_new_method_takes_the_next_installments_with_its_written_copy(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    new = bank()
    core.change_plan_method(
        member_id,
        plan.plan_id,
        None,
        accepted(core, kind="bank", last4=new.last4, call_sid="CA-change"),
        new_method=new,
    )
    changed = plan_row(core, plan.plan_id)
    assert (changed.method_kind, changed.method_last4, changed.call_sid) == (
        "bank",
        "6789",
        "CA-change",
    )
    assert len(messages(core, f"plan-method:{plan.plan_id}:")) == 1
    core.run_plans(DEC_27_NOON)
    assert payments_of(core, member_id)[-1].method_kind == "bank"


def test_a_first_installment_answered_late_is_recorded_by_the_run(core):
    member_id = member(core)
    plan = set_up(core, member_id, method=card("timeout", "0119"))
    assert plan.status == "active" and plan.first.status is PaymentStatus.UNKNOWN
    core.reconcile()  # the gateway's record: the charge went through
    core.run_plans(DEC_27_NOON)
    assert installment(core, plan.plan_id, 1).status == "paid"
    assert plan_row(core, plan.plan_id).status == "active"


def test_a_first_installment_declined_late_cancels_the_plan(core):
    member_id = member(core)
    plan = set_up(core, member_id, method=card("timeout", "0119"))
    with core.unit_of_work() as uow:  # reconcile learned it was declined
        first = uow.session.scalars(select(Payment).where(Payment.member_id == member_id)).one()
        first.status = PaymentStatus.FAILED
        uow.commit()
    report = core.run_plans(DEC_27_NOON)
    assert plan_row(core, plan.plan_id).status == "cancelled"
    assert report.charged == [] and count(core, SandboxCharge) == 1
    assert messages(core, "plan-missed:") == []


def test_a_declined_first_installment_is_missed_and_never_tried_again(core):
    member_id = member(core)
    plan = set_up(core, member_id, method=card("insufficient-funds", "9995"))
    assert installment(core, plan.plan_id, 1).status == "missed"
    assert core.run_plans(DEC_27_NOON).charged == []
    assert count(core, SandboxCharge) == 1


def test_a_removed_method_is_not_charged_and_the_installment_is_missed_with_a_notice(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    assert core.remove_saved_method(member_id, plan_row(core, plan.plan_id).saved_method_id)
    report = core.run_plans(DEC_27_NOON)
    assert report.charged == [] and len(report.missed) == 1
    assert count(core, SandboxCharge) == 1
    assert len(messages(core, "plan-missed:")) == 1


def test_a_try_found_charged_after_it_was_recorded_declined_pays_the_installment(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    change_token(core, plan.plan_id, "insufficient-funds")
    core.run_plans(DEC_27_NOON)  # declined: a retry is due on 12/28
    with core.unit_of_work() as uow:  # reconcile learned the gateway charged it after all
        late = uow.session.scalars(
            select(Payment).where(Payment.member_id == member_id).order_by(Payment.id.desc())
        ).first()
        late.status = PaymentStatus.SUCCEEDED
        uow.commit()
    change_token(core, plan.plan_id, "success")
    core.run_plans(DEC_28_NOON)
    assert installment(core, plan.plan_id, 2).status == "paid"
    assert count(core, SandboxCharge) == 2  # the first installment and the late one, no more


def test_a_savings_account_is_recorded_and_named_as_savings(core):
    member_id = member(core)
    savings = bank()
    savings = savings.__class__(**{**savings.__dict__, "account_type": "consumer-savings"})
    set_up(core, member_id, method=savings, authorization=accepted(core, kind="bank", last4="6789"))
    status = core.plan_status(member_id)
    assert (status.method_kind, status.method_brand) == ("bank", "consumer-savings")


def test_a_payment_ahead_still_in_flight_when_the_plan_lapses_is_recorded_later(core):
    member_id = member(core)
    plan = set_up(core, member_id)
    with core.unit_of_work() as uow:  # installment 3 is being paid ahead; its answer is unknown
        row = uow.session.get(PlanInstallment, installment(core, plan.plan_id, 3).id)
        row.status, row.ahead_key = "paying", "plan:ahead:test"
        uow.session.get(PaymentPlan, plan.plan_id).status = "lapsed"
        uow.commit()
    core.run_plans(DEC_27_NOON + timedelta(minutes=30))
    third = installment(core, plan.plan_id, 3)
    assert (third.status, third.ahead_key) == ("due", None)  # nothing was begun: due again
