"""Scheduled one-time payments in the billing core: the days allowed, and the run, once."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.models import (
    AchAuthorizationRecord,
    OutboxMessage,
    Payment,
    SandboxCharge,
    ScheduledPayment,
)
from billing_core.domain.payments import AchAuthorization, PaymentStatus, PaymentTarget
from billing_core.domain.scheduled import PayDateNotAllowed, charge_key
from billing_core.services.scheduled import ScheduleRequest
from tests.integration.test_jobs import jobs_app, sender  # noqa: F401 - fixtures
from tests.members import add_member, agree_to_texts

DUE = date(2026, 12, 20)
DEC_10 = date(2026, 12, 10)
# Noon UTC: the same calendar day in every US region.
DEC_9_NOON = datetime(2026, 12, 9, 12, tzinfo=UTC)
DEC_10_NOON = datetime(2026, 12, 10, 12, tzinfo=UTC)
DEC_11_NOON = datetime(2026, 12, 11, 12, tzinfo=UTC)
DEC_13_NOON = datetime(2026, 12, 13, 12, tzinfo=UTC)
BILL = "B-100"

_mrns = iter(range(40000000, 49999999))
_keys = iter(range(1, 10**6))


def member(core, *, balance=12000, paid=0, **options) -> int:
    options.setdefault("email", "ana@example.org")
    options.setdefault(
        "bills", [(BILL, date(2026, 11, 2), "Oakland Medical Center", balance, paid, DUE)]
    )
    return add_member(core, mrn=str(next(_mrns)), birth_date=date(1980, 1, 2), **options)


def request(
    member_id, *, amount=12000, on=DEC_10, outcome="success", last4="4242", target=None, key=None
) -> ScheduleRequest:
    return ScheduleRequest(
        member_id=member_id,
        target=target or PaymentTarget.bill(BILL),
        amount_cents=amount,
        pay_on=on,
        token=fixed_token(outcome, last4),
        method_kind="card",
        method_brand="visa",
        method_last4=last4,
        method_exp="1230",
        request_key=key or f"CA-test:{next(_keys)}",
        channel="phone",
        call_sid="CA-test",
    )


def scheduled(core, **options) -> tuple[int, int]:
    member_id = member(core, **{k: options.pop(k) for k in ("balance", "paid") if k in options})
    return member_id, core.schedule_payment(request(member_id, **options)).scheduled_id


def count(core, model, *where) -> int:
    with core.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def rows(core, query) -> list:
    with core.unit_of_work() as uow:
        found = list(uow.session.scalars(query))
        uow.session.expunge_all()
        return found


def payments_of(core, member_id) -> list[Payment]:
    return rows(core, select(Payment).where(Payment.member_id == member_id).order_by(Payment.id))


def row(core, scheduled_id) -> ScheduledPayment:
    [found] = rows(core, select(ScheduledPayment).where(ScheduledPayment.id == scheduled_id))
    return found


def messages(core, prefix) -> list[OutboxMessage]:
    return rows(core, select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith(prefix)))


# --- the days allowed -------------------------------------------------------------------


def test_the_window_runs_from_tomorrow_to_the_due_date_in_the_member_s_region(core):
    member_id = member(core)
    window = core.pay_date_window(member_id, PaymentTarget.bill(BILL))
    assert (window.today, window.due, window.latest) == (date(2026, 11, 27), DUE, DUE)


def test_all_bills_are_due_on_the_earliest_due_date_and_the_premium_by_the_region_s_rule(core):
    member_id = member(
        core,
        bills=[
            ("B-1", date(2026, 10, 1), "Oakland", 5000, 0, date(2026, 12, 28)),
            ("B-2", date(2026, 10, 9), "Oakland", 5000, 0, date(2026, 12, 14)),
            ("B-3", date(2026, 10, 9), "Oakland", 5000, 5000, date(2026, 12, 1)),  # paid
        ],
        premiums=[(date(2027, 1, 1), 41200, 0)],
    )
    bills = core.pay_date_window(member_id, PaymentTarget.all_bills())
    premium = core.pay_date_window(member_id, PaymentTarget.premium())
    assert bills.latest == date(2026, 12, 14)
    assert premium.latest == date(2026, 12, 31)


def test_a_day_today_past_too_far_or_after_the_due_date_is_refused_with_the_latest_day(core):
    member_id = member(core)
    for day, reason in [
        (date(2026, 11, 27), "not_after_today"),
        (date(2026, 11, 1), "not_after_today"),
        (date(2026, 12, 21), "after_due_date"),
    ]:
        with pytest.raises(PayDateNotAllowed) as refused:
            core.schedule_payment(request(member_id, on=day))
        assert (refused.value.reason, refused.value.latest) == (reason, DUE)
    far = member(core, bills=[(BILL, date(2026, 11, 2), "Oakland", 100, 0, date(2027, 3, 1))])
    with pytest.raises(PayDateNotAllowed) as refused:
        core.schedule_payment(request(far, amount=100, on=date(2027, 1, 27)))
    assert (refused.value.reason, refused.value.latest) == ("too_far_ahead", date(2027, 1, 26))
    assert count(core, ScheduledPayment) == 0


def test_a_bill_due_today_cannot_be_scheduled_for_later(core):
    member_id = member(
        core, bills=[(BILL, date(2026, 11, 2), "Oakland", 100, 0, date(2026, 11, 27))]
    )
    assert core.pay_date_window(member_id, PaymentTarget.bill(BILL)).latest is None
    with pytest.raises(PayDateNotAllowed) as refused:
        core.schedule_payment(request(member_id, amount=100, on=date(2026, 11, 28)))
    assert refused.value.reason == "no_later_date"


def test_the_replayed_schedule_request_does_not_create_two(core):
    member_id = member(core)
    first = core.schedule_payment(request(member_id, key="CA-1:fixed"))
    again = core.schedule_payment(request(member_id, key="CA-1:fixed"))
    assert first == again
    assert len(first.confirmation_number) == 10
    assert count(core, ScheduledPayment) == 1


def test_scheduling_moves_no_money_and_holds_none(core):
    member_id, _ = scheduled(core)
    assert count(core, Payment) == 0
    assert core.quote(member_id, PaymentTarget.bill(BILL)).payable_cents == 12000


# --- listing and cancelling -------------------------------------------------------------


def test_upcoming_payments_are_listed_soonest_first_and_cancelled_ones_are_not(core):
    member_id = member(core)
    later = core.schedule_payment(request(member_id, amount=2000, on=date(2026, 12, 15)))
    sooner = core.schedule_payment(request(member_id, amount=1000, on=date(2026, 12, 1)))
    listed = core.scheduled_payments(member_id)
    assert [p.scheduled_id for p in listed] == [sooner.scheduled_id, later.scheduled_id]
    assert listed[0].amount_cents == 1000 and listed[0].method_last4 == "4242"
    assert core.cancel_scheduled_payment(member_id, sooner.scheduled_id, channel="phone")
    assert not core.cancel_scheduled_payment(member_id, sooner.scheduled_id, channel="phone")
    assert [p.scheduled_id for p in core.scheduled_payments(member_id)] == [later.scheduled_id]


def test_another_member_s_scheduled_payment_cannot_be_cancelled(core):
    _, scheduled_id = scheduled(core)
    other = member(core)
    assert not core.cancel_scheduled_payment(other, scheduled_id, channel="phone")
    assert row(core, scheduled_id).status == "scheduled"


def test_cancelling_between_runs_stops_the_charge(core):
    member_id, scheduled_id = scheduled(core)
    core.run_scheduled(DEC_9_NOON)
    assert core.cancel_scheduled_payment(member_id, scheduled_id, channel="phone")
    report = core.run_scheduled(DEC_10_NOON)
    assert report.charged == [] and payments_of(core, member_id) == []


# --- the run ----------------------------------------------------------------------------


def test_the_run_charges_on_the_day_once_and_a_rerun_charges_nothing(core):
    member_id, scheduled_id = scheduled(core)
    assert core.run_scheduled(DEC_9_NOON).charged == []
    report = core.run_scheduled(DEC_10_NOON)
    [payment] = payments_of(core, member_id)
    assert report.charged == [payment.id]
    assert payment.status is PaymentStatus.SUCCEEDED and payment.channel == "scheduled"
    assert payment.idempotency_key == charge_key(scheduled_id, 1)
    assert payment.amount_cents == 12000 and payment.target_reference == BILL
    assert messages(core, f"receipt:{payment.id}:")  # the payment service's receipt
    assert core.run_scheduled(DEC_10_NOON).charged == []
    assert core.run_scheduled(DEC_13_NOON).charged == []
    assert count(core, SandboxCharge) == 1
    assert row(core, scheduled_id).status == "paid"
    assert core.scheduled_payments(member_id) == []


def test_not_charged_before_its_day_in_the_region_s_zone(core):
    member_id = member(core, region="hi", state="HI")
    core.schedule_payment(request(member_id))
    # 08:00 UTC on December 10 is still December 9 in Honolulu.
    core.run_scheduled(datetime(2026, 12, 10, 8, tzinfo=UTC))
    assert payments_of(core, member_id) == []
    core.run_scheduled(datetime(2026, 12, 10, 11, tzinfo=UTC))
    assert len(payments_of(core, member_id)) == 1


def test_at_charge_time_the_amount_is_capped_at_what_is_still_owed(core):
    member_id, _ = scheduled(core)
    _pay_elsewhere(core, member_id, 9000)  # the billing feed: paid at the counter
    core.run_scheduled(DEC_10_NOON)
    [payment] = payments_of(core, member_id)
    assert payment.amount_cents == 3000 and payment.status is PaymentStatus.SUCCEEDED


def test_nothing_owed_on_the_day_is_skipped_and_the_member_told_once(core):
    member_id, scheduled_id = scheduled(core)
    _pay_elsewhere(core, member_id, 12000)
    report = core.run_scheduled(DEC_10_NOON)
    assert report.nothing_owed == [scheduled_id] and payments_of(core, member_id) == []
    core.run_scheduled(DEC_11_NOON)
    [notice] = messages(core, "scheduled-nothing-owed:")
    assert "nothing was charged" in notice.body and "December 10, 2026" in notice.body
    assert row(core, scheduled_id).status == "skipped"


def test_a_soft_decline_is_retried_on_its_day_and_then_succeeds(core):
    member_id, scheduled_id = scheduled(core, outcome="insufficient-funds", last4="9995")
    report = core.run_scheduled(DEC_10_NOON)
    assert report.retrying == [scheduled_id]
    assert row(core, scheduled_id).next_try_on == date(2026, 12, 11)
    assert core.run_scheduled(DEC_10_NOON).retrying == []  # not again the same day
    with core.unit_of_work() as uow:  # the bank account has the money now
        uow.session.get(ScheduledPayment, scheduled_id).token = fixed_token("success", "9995")
        uow.commit()
    report = core.run_scheduled(DEC_11_NOON)
    declined, paid = payments_of(core, member_id)
    assert report.charged == [paid.id]
    assert declined.status is PaymentStatus.FAILED and paid.status is PaymentStatus.SUCCEEDED
    assert paid.idempotency_key == charge_key(scheduled_id, 2)
    assert messages(core, "scheduled-failed:") == []


def test_a_final_decline_is_notified_once(core):
    member_id, scheduled_id = scheduled(core, outcome="declined", last4="0002")
    report = core.run_scheduled(DEC_10_NOON)
    assert report.failed == [scheduled_id]
    core.run_scheduled(DEC_13_NOON)
    [notice] = messages(core, "scheduled-failed:")
    assert "did not go through" in notice.body
    assert len(payments_of(core, member_id)) == 1


def test_a_crash_after_the_charge_is_recorded_once_on_the_next_run(core):
    member_id, scheduled_id = scheduled(core)
    core.run_scheduled(DEC_10_NOON)
    with core.unit_of_work() as uow:  # as if the run died before recording the answer
        found = uow.session.get(ScheduledPayment, scheduled_id)
        found.status, found.payment_id = "charging", None
        uow.commit()
    core.run_scheduled(DEC_11_NOON)
    assert row(core, scheduled_id).status == "paid"
    assert count(core, SandboxCharge) == 1 and len(payments_of(core, member_id)) == 1


def test_a_crash_before_the_payment_was_begun_is_taken_up_later_under_the_same_key(core):
    member_id, scheduled_id = scheduled(core)
    with core.unit_of_work() as uow:  # claimed, then the run died
        found = uow.session.get(ScheduledPayment, scheduled_id)
        found.status, found.attempt, found.charging_cents = "charging", 1, 12000
        found.updated_at = DEC_10_NOON
        uow.commit()
    core.run_scheduled(DEC_10_NOON)  # too soon: perhaps another run is charging it
    assert payments_of(core, member_id) == []
    core.run_scheduled(DEC_11_NOON)
    [payment] = payments_of(core, member_id)
    assert payment.idempotency_key == charge_key(scheduled_id, 1)
    assert row(core, scheduled_id).status == "paid"


def test_two_runs_at_once_charge_each_scheduled_payment_once(core):
    if core.engine.dialect.name != "postgresql":
        pytest.skip("concurrent runs are a PostgreSQL test (SQLite serializes writers)")
    ids = [scheduled(core)[1] for _ in range(20)]
    errors = []

    def run():
        try:
            core.run_scheduled(DEC_10_NOON)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert count(core, SandboxCharge) == len(ids)
    assert count(core, Payment, Payment.status == PaymentStatus.SUCCEEDED) == len(ids)
    assert count(core, ScheduledPayment, ScheduledPayment.status == "paid") == len(ids)
    assert core.run_scheduled(DEC_10_NOON).charged == []


def test_a_bank_payment_keeps_the_authorization_accepted_for_its_day(core):
    member_id = member(core)
    words = "By pressing 1, you authorize a debit of $120.00 on 12/10/2026."
    accepted = AchAuthorization(
        accepted_at=core.clock.now(),
        amount_cents=12000,
        account_last4="6789",
        call_sid="CA-bank",
        text=words,
    )
    bank = ScheduleRequest(
        member_id=member_id,
        target=PaymentTarget.bill(BILL),
        amount_cents=12000,
        pay_on=DEC_10,
        token=fixed_token("success", "6789", bank=True),
        method_kind="bank",
        method_brand="consumer-checking",
        method_last4="6789",
        account_type="consumer-checking",
        request_key="CA-bank:1",
        channel="phone",
        call_sid="CA-bank",
        ach_authorization=accepted,
    )
    scheduled_id = core.schedule_payment(bank).scheduled_id
    assert row(core, scheduled_id).ach_text == words
    core.run_scheduled(DEC_10_NOON)
    [payment] = payments_of(core, member_id)
    [record] = rows(
        core, select(AchAuthorizationRecord).where(AchAuthorizationRecord.payment_id == payment.id)
    )
    assert (record.text, record.call_sid, record.amount_cents) == (words, "CA-bank", 12000)


def test_spanish_speaking_members_are_told_in_spanish_and_by_text_without_an_email(core):
    from billing_core.adapters.models import Member

    member_id = member(core, email=None, phone="+15105550123")
    with core.unit_of_work() as uow:
        uow.session.get(Member, member_id).language = "es"
        uow.commit()
    agree_to_texts(core, member_id)  # the notices of a problem go by text, as agreed
    scheduled_id = core.schedule_payment(request(member_id)).scheduled_id
    _pay_elsewhere(core, member_id, 12000)
    core.run_scheduled(DEC_10_NOON)
    [notice] = messages(core, f"scheduled-nothing-owed:{scheduled_id}:")
    assert notice.kind == "sms" and notice.recipient == "+15105550123"
    assert "no se hizo ningún cargo" in notice.body and "10 de diciembre de 2026" in notice.body


def test_ivr_jobs_run_scheduled_charges_what_is_due_as_of_the_given_day(jobs_app, core):  # noqa: F811
    scheduled(core)
    runner = jobs_app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run", "scheduled", "--as-of", "2026-12-09T12:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "scheduled: charged: 0," in result.output
    result = runner.invoke(args=["jobs", "run", "scheduled", "--as-of", "2026-12-10T12:00:00Z"])
    assert "scheduled: charged: 1," in result.output
    result = runner.invoke(args=["jobs", "run", "scheduled", "--as-of", "2026-12-10T12:00:00Z"])
    assert "scheduled: charged: 0," in result.output
    assert count(core, SandboxCharge) == 1


def test_the_scheduled_job_splits_into_batches_that_charge_each_payment_once(
    jobs_app,  # noqa: F811
    core,
    clock,
):
    from tests.integration.test_jobs import run_as_jobs

    jobs_app.extensions["billing"].autopay_batch_size = 2
    members = [scheduled(core)[0] for _ in range(5)]
    clock.set(DEC_10_NOON)
    engine = jobs_app.extensions["jobs"].app
    [split] = run_as_jobs(jobs_app, "scheduled")
    batches = {member_id // 2 for member_id in members}
    assert split["status"] == "succeeded"
    done = [job for job in engine.connector.jobs.values() if job["task_name"] == "scheduled-batch"]
    assert len(done) == len(batches) and {job["status"] for job in done} == {"succeeded"}
    assert count(core, SandboxCharge) == len(members)
    run_as_jobs(jobs_app, "scheduled")  # made again the same day: nothing more is charged
    assert count(core, SandboxCharge) == len(members)
    assert all(len(payments_of(core, member_id)) == 1 for member_id in members)


def _pay_elsewhere(core, member_id: int, cents: int) -> None:
    """A payment made at the counter, as the billing feed reports it."""
    from billing_core.adapters.models import MedicalBill

    with core.unit_of_work() as uow:
        bill = uow.session.scalars(
            select(MedicalBill).where(MedicalBill.member_id == member_id)
        ).one()
        bill.paid_cents += cents
        bill.feed_paid_cents += cents
        uow.commit()


def test_a_declined_bank_debit_is_not_tried_on_a_day_it_was_not_authorized_for(core):
    member_id = member(core)
    words = "I authorize a one-time electronic debit of $120.00 on 12/10/2026."
    accepted = AchAuthorization(
        accepted_at=core.clock.now(),
        amount_cents=12000,
        account_last4="9995",
        call_sid="CA-bank",
        text=words,
    )
    scheduled_id = core.schedule_payment(
        ScheduleRequest(
            member_id=member_id,
            target=PaymentTarget.bill(BILL),
            amount_cents=12000,
            pay_on=DEC_10,
            token=fixed_token("insufficient-funds", "9995", bank=True),
            method_kind="bank",
            method_brand="consumer-checking",
            method_last4="9995",
            account_type="consumer-checking",
            request_key="CA-bank:1",
            channel="phone",
            call_sid="CA-bank",
            ach_authorization=accepted,
        )
    ).scheduled_id
    assert core.run_scheduled(DEC_10_NOON).failed == [scheduled_id]
    assert row(core, scheduled_id).status == "failed"
    for moment in (DEC_11_NOON, DEC_13_NOON):
        core.run_scheduled(moment)
    assert len(payments_of(core, member_id)) == 1
    assert len(messages(core, f"scheduled-failed:{scheduled_id}")) == 1


def test_a_saved_card_removed_before_its_day_is_not_charged_and_the_member_is_told(core):
    member_id = member(core)
    saved = core.save_method(
        member_id,
        kind="card",
        token=fixed_token("success", "4242"),
        brand="visa",
        last4="4242",
        exp="1230",
        account_type=None,
    )
    scheduled_id = core.schedule_payment(
        dataclasses.replace(request(member_id), saved_method_id=saved.id)
    ).scheduled_id
    assert core.remove_saved_method(member_id, saved.id)
    assert core.run_scheduled(DEC_10_NOON).failed == [scheduled_id]
    assert payments_of(core, member_id) == []
    assert row(core, scheduled_id).decline_code == "method_removed"
    assert len(messages(core, f"scheduled-failed:{scheduled_id}")) == 1
    assert core.run_scheduled(DEC_11_NOON).failed == []
