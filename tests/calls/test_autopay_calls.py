"""Automatic payments by phone: the words heard are recorded; asking records nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from billing_core.adapters.models import AutopayEnrollment
from billing_core.domain.members import CoverageType
from ivr.flows.autopay import WORDING_VERSION
from tests.members import add_member

NCAL = "+18773659900"
CALLER = "+14155550123"


def member(core, coverage=CoverageType.INDIVIDUAL) -> int:
    return add_member(
        core,
        mrn="60000006",
        birth_date=date(1985, 2, 14),
        first_name="Maya",
        coverage=coverage,
        phone=CALLER,
        premiums=[(date(2027, 1, 1), 41200, 0)],
    )


def identified(twilio):
    call = twilio.call(to=NCAL, from_=CALLER)
    call.press("60000006#")
    call.press("02141985")
    assert call.heard_since_input[0] == "Thank you, Maya."
    return call


def open_autopay(call) -> None:
    call.press("3")  # automatic and scheduled payments
    call.press("1")  # automatic payments


def enrollments(core) -> list[AutopayEnrollment]:
    with core.unit_of_work() as uow:
        rows = list(uow.session.scalars(select(AutopayEnrollment).order_by(AutopayEnrollment.id)))
        uow.session.expunge_all()
        return rows


def test_the_authorization_recorded_is_the_one_heard_with_its_version_and_call(twilio, core):
    member_id = member(core)
    core.save_method(
        member_id,
        kind="card",
        token="tok_sandbox_visa_4242",
        brand="visa",
        last4="4242",
        exp="1230",
        account_type=None,
    )
    call = identified(twilio)
    open_autopay(call)
    assert call.heard_since_input == ["To use your Visa ending in 4242, press 1."]
    call.press("1")
    heard = call.heard_since_input[0]
    assert heard.startswith("By pressing 1, you, Maya Tester, authorize Kaiser Permanente")
    assert call.heard_since_input[1] == "To accept, press 1. To go back, press 2."
    call.press("1")
    assert call.heard_since_input[0] == (
        "Automatic payments are set up. We will send you a written copy."
    )
    [row] = enrollments(core)
    assert row.authorization_text == heard
    assert (row.wording_version, row.channel, row.call_sid) == (
        WORDING_VERSION,
        "phone",
        call.call_sid,
    )
    assert (row.method_kind, row.method_brand, row.method_last4) == ("card", "visa", "4242")
    assert row.cancelled_at is None
    open_autopay(call)
    assert call.heard_since_input[0] == (
        "Your premium of $412.00 will be paid automatically on 12/31/2026 "
        "from your Visa ending in 4242."
    )
    call.press("2")
    call.press("1")
    assert call.heard_since_input[0] == (
        "Automatic payments are canceled. Payments already started still go through."
    )
    [row] = enrollments(core)
    assert (row.cancel_channel, row.cancel_call_sid) == ("phone", call.call_sid)
    assert row.cancelled_at is not None


def test_asking_whether_a_member_may_pay_automatically_records_nothing(twilio, core):
    member(core, coverage=CoverageType.EMPLOYER_GROUP)
    call = identified(twilio)
    open_autopay(call)
    assert call.heard_since_input[0] == (
        "Your employer pays your premium, so there is nothing to pay automatically."
    )
    with core.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(AutopayEnrollment)) == 0


def test_an_enrolled_member_hears_the_next_automatic_payment_once_identified(twilio, core):
    member_id = member(core)
    core.save_method(
        member_id,
        kind="card",
        token="tok_sandbox_visa_4242",
        brand="visa",
        last4="4242",
        exp="1230",
        account_type=None,
    )
    call = identified(twilio)
    assert call.heard_since_input[1] == "Main menu."
    open_autopay(call)
    call.press("1")
    call.press("1")
    call.hang_up()

    again = identified(twilio)
    assert again.heard_since_input[:3] == [
        "Thank you, Maya.",
        "Your premium of $412.00 will be paid automatically on 12/31/2026 "
        "from your Visa ending in 4242.",
        "Main menu.",
    ]
