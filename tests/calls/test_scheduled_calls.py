"""Scheduled payments by phone: set by a call, charged by the run on the day, once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.models import (
    AchAuthorizationRecord,
    Payment,
    SandboxCharge,
    ScheduledPayment,
)
from tests.calls.test_replays import replay
from tests.conftest import PUBLIC_BASE_URL
from tests.members import add_member

NCAL = "+18773659900"
CALLER = "+14155550123"
DEC_10_NOON = datetime(2026, 12, 10, 12, tzinfo=UTC)


def member(core, outcome="success") -> int:
    member_id = add_member(
        core,
        mrn="80000008",
        birth_date=date(1979, 6, 1),
        first_name="Lena",
        phone=CALLER,
        bills=[("B-9", date(2026, 9, 14), "Oakland Medical Center", 20000, 0, date(2026, 12, 15))],
        monthly_premium_cents=None,
    )
    core.save_method(
        member_id,
        kind="card",
        token=fixed_token(outcome, "4242"),
        brand="visa",
        last4="4242",
        exp="1230",
        account_type=None,
    )
    return member_id


def identified(twilio):
    call = twilio.call(to=NCAL, from_=CALLER)
    call.press("80000008#")
    call.press("06011979")
    assert call.heard_since_input[0] == "Thank you, Lena."
    call.press("9")  # past the offer to pay now with the saved card, to the main menu
    return call


def schedule_bill(call, day: str = "1210") -> None:
    for keys in ["1", "1"]:  # pay (the only bill, in full), the saved Visa
        call.press(keys)
    assert call.heard_since_input[-1] == "To pay on a later date instead, press 5."
    call.press("5")
    call.press(day)
    assert call.heard_since_input[0].endswith("on 12/10/2026.")


def count(core, model) -> int:
    with core.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_a_payment_scheduled_by_phone_is_charged_on_its_day_and_heard_among_recent_payments(
    twilio, core
):
    member(core)
    call = identified(twilio)
    schedule_bill(call)
    call.press("1")
    said = call.heard_since_input
    assert said[0] == "Your payment of $200.00 is scheduled for 12/10/2026."
    confirmation = said[1].removeprefix("Your confirmation number is ").rstrip(".")
    assert len(confirmation) == 10 and confirmation.isdigit()
    call.hang_up()
    assert count(core, Payment) == 0  # nothing taken, nothing held
    assert core.run_scheduled(datetime(2026, 12, 9, 12, tzinfo=UTC)).charged == []
    assert len(core.run_scheduled(DEC_10_NOON).charged) == 1
    assert core.run_scheduled(DEC_10_NOON).charged == []
    assert count(core, SandboxCharge) == 1
    later = identified(twilio)
    later.press("4")  # recent payments
    assert later.heard_since_input[0].startswith(
        "On 12/10/2026, $200.00 toward medical bill B-9, with Visa ending in 4242."
    )
    later.press("9")
    later.press("3")
    later.press("2")
    assert "You have no scheduled payments." in later.heard_since_input


def test_the_scheduled_bank_authorization_recorded_is_the_one_heard_naming_the_date(twilio, core):
    member(core)
    call = identified(twilio)
    for keys in ["1", "3", "1"]:  # pay (the only bill, in full), a bank account, checking
        call.press(keys)
    call.pay_bank("110000000", "000123456789")
    call.press("5")
    call.press("1212")
    heard = call.heard_since_input[1]
    assert heard.startswith("By pressing 1, you, Lena Tester, authorize Kaiser Permanente")
    assert "on 12/12/2026." in heard
    call.press("1")
    assert call.heard_since_input[0] == "Your payment of $200.00 is scheduled for 12/12/2026."
    with core.unit_of_work() as uow:
        row = uow.session.scalars(select(ScheduledPayment)).one()
        assert (row.ach_text, row.call_sid, row.method_kind) == (heard, call.call_sid, "bank")
        assert row.saved_method_id is None and row.method_last4 == "89"
    core.run_scheduled(datetime(2026, 12, 12, 12, tzinfo=UTC))
    with core.unit_of_work() as uow:
        record = uow.session.scalars(select(AchAuthorizationRecord)).one()
        assert record.text == heard and record.amount_cents == 20000


def test_a_replayed_yes_at_the_scheduled_read_back_schedules_once(twilio, app, core):
    member(core)
    call = identified(twilio)
    schedule_bill(call)
    path = call.waiting.action.replace(PUBLIC_BASE_URL, "")
    params = {"CallSid": call.call_sid, "Digits": "1", "From": CALLER, "To": NCAL}
    first, second = replay(app, path, params), replay(app, path, params)
    assert "is scheduled for" in first
    assert "could not take that answer" in second
    assert count(core, ScheduledPayment) == 1


def test_a_payment_whose_charge_began_meanwhile_cannot_be_canceled(twilio, core):
    member_id = member(core, outcome="timeout")  # the charge's answer never comes back
    call = identified(twilio)
    schedule_bill(call)
    call.press("1")
    call.press("9")
    call.press("3")
    call.press("2")
    assert call.heard_since_input[1] == "To cancel the payment on 12/10/2026, press 1."
    call.press("1")
    core.run_scheduled(DEC_10_NOON)  # the run begins the charge while the caller listens
    call.press("1")
    said = call.heard_since_input
    assert said[0] == "That payment has already started, so it can no longer be canceled."
    assert said[1] == "On 12/10/2026, $200.00 for medical bill B-9, with your Visa ending in 4242."
    assert "To cancel the payment on 12/10/2026, press 1." not in said
    assert [p.cancellable for p in core.scheduled_payments(member_id)] == [False]
    assert count(core, SandboxCharge) == 1


def test_a_replayed_cancel_is_not_taken_again(twilio, app, core):
    member_id = member(core)
    call = identified(twilio)
    schedule_bill(call)
    call.press("1")
    call.press("9")
    call.press("3")
    call.press("2")
    call.press("1")  # the payment on December 10
    path = call.waiting.action.replace(PUBLIC_BASE_URL, "")
    params = {"CallSid": call.call_sid, "Digits": "1", "From": CALLER, "To": NCAL}
    first, second = replay(app, path, params), replay(app, path, params)
    assert "is canceled" in first
    assert "could not take that answer" in second and "already started" not in second
    assert core.scheduled_payments(member_id) == []
