"""Automatic payments by phone: the words heard are recorded; asking records nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from billing_core.adapters.models import (
    AuditEvent,
    AutopayEnrollment,
    OutboxMessage,
    Payment,
    SavedPaymentMethod,
)
from billing_core.domain.autopay import AutopayAuthorization
from billing_core.domain.members import CoverageType
from billing_core.services.autopay import NewMethod
from ivr.flows.autopay import WORDING_VERSION
from ivr_sim.signing import SIGNATURE_HEADER, sign
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
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
    assert call.heard_since_input == [
        "To use your Visa ending in 4242, press 1.",
        "To use a new card, press 2.",
        "To use a new bank account, press 3.",
    ]
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
    # Not enrolled yet: the premium is offered with the saved card first.
    assert call.heard_since_input[1].startswith("To pay $412.00 for your premium with")
    call.press("9")
    assert call.heard_since_input[0] == "Main menu."
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


# --- a new card or bank account, a new authorization, a maximum ---------------------------


def saved_rows(core) -> list[SavedPaymentMethod]:
    with core.unit_of_work() as uow:
        rows = list(uow.session.scalars(select(SavedPaymentMethod).order_by(SavedPaymentMethod.id)))
        uow.session.expunge_all()
        return rows


def copies(core) -> list[OutboxMessage]:
    with core.unit_of_work() as uow:
        query = select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("autopay-copy:"))
        rows = list(uow.session.scalars(query.order_by(OutboxMessage.id)))
        uow.session.expunge_all()
        return rows


def count(core, model) -> int:
    with core.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def answer_again(app, call, path: str, digits: str) -> str:
    """Send an answer's webhook again, as Twilio would on a retry; return the TwiML."""
    params = {
        "CallSid": call.call_sid,
        "AccountSid": "AC" + "0" * 32,
        "From": CALLER,
        "To": NCAL,
        "CallStatus": "in-progress",
        "Digits": digits,
    }
    signature = sign(AUTH_TOKEN, PUBLIC_BASE_URL + path, params)
    answer = app.test_client().post(path, data=params, headers={SIGNATURE_HEADER: signature})
    assert answer.status_code == 200
    return answer.data.decode()


def at_new_card_terms(twilio):
    """Identify Maya (nothing saved), choose a new card, enter it: the terms are read."""
    call = identified(twilio)
    open_autopay(call)
    assert call.heard_since_input == [
        "To use a new card, press 1.",
        "To use a new bank account, press 2.",
    ]
    call.press("1")
    call.pay_card("4242424242424242")
    return call


def test_a_new_card_is_saved_with_the_enrollment_naming_it_in_the_words_heard(twilio, core):
    member(core)
    call = at_new_card_terms(twilio)
    heard = call.heard_since_input[-2]
    assert heard.startswith("By pressing 1, you, Maya Tester, authorize Kaiser Permanente")
    assert "your Visa ending in 4242 automatically" in heard
    assert saved_rows(core) == [] and enrollments(core) == []  # nothing kept before accepting
    call.press("1")
    assert call.heard_since_input[:2] == [
        "Automatic payments are set up. We will send you a written copy.",
        "Your Visa ending in 4242 is saved for next time.",
    ]
    [method] = saved_rows(core)
    [row] = enrollments(core)
    assert (method.kind, method.brand, method.last4) == ("card", "visa", "4242")
    assert (method.exp_month, method.exp_year) == (12, 2030)
    assert row.saved_method_id == method.id and row.authorization_text == heard
    assert (row.method_kind, row.method_brand, row.method_last4) == ("card", "visa", "4242")
    [copy] = copies(core)
    assert copy.dedupe_key.startswith(f"autopay-copy:{row.id}:")  # by text: Maya has no email


def test_a_replayed_accept_keeps_one_saved_method_and_one_enrollment(app, twilio, core):
    member(core)
    call = at_new_card_terms(twilio)
    accept_path = call.waiting.action.replace(PUBLIC_BASE_URL, "")
    call.press("1")
    assert "could not take that answer" in answer_again(app, call, accept_path, "1")
    assert len(saved_rows(core)) == 1 and len(enrollments(core)) == 1 and len(copies(core)) == 1


def test_the_same_authorization_accepted_twice_is_recorded_once(twilio, core):
    member_id = member(core)
    call = at_new_card_terms(twilio)
    call.press("1")
    [row] = enrollments(core)
    [method] = saved_rows(core)
    # As a lost answer's retry would send it again: same call, same method, same words.
    again = AutopayAuthorization(
        accepted_at=core.clock.now(),
        method_kind="card",
        method_brand="visa",
        method_last4="4242",
        channel="phone",
        wording_version=WORDING_VERSION,
        text=row.authorization_text,
        call_sid=call.call_sid,
    )
    new = NewMethod(kind="card", token=method.token, last4="4242", brand="visa", exp="1230")
    assert core.enroll_autopay(member_id, None, again, new_method=new) == row.id
    assert len(saved_rows(core)) == 1 and len(enrollments(core)) == 1 and len(copies(core)) == 1


def test_going_back_from_the_terms_after_a_new_card_keeps_nothing(twilio, core):
    member(core)
    call = at_new_card_terms(twilio)
    call.press("2")
    assert call.heard_since_input == [
        "To use a new card, press 1.",
        "To use a new bank account, press 2.",
    ]
    assert saved_rows(core) == [] and enrollments(core) == [] and copies(core) == []


def change_to_new_method(call, new_key: str) -> str:
    """From the enrolled overview, choose a new card or account; return the terms heard."""
    open_autopay(call)
    call.press("1")  # change the payment method
    assert call.heard_since_input[-1] == "To use a new bank account, press 3."
    call.press(new_key)
    return call.heard_since_input


def test_changing_to_a_new_account_records_its_authorization_and_queues_its_copy(twilio, core):
    member_id = member(core)
    call = at_new_card_terms(twilio)
    call.press("1")
    core.set_autopay_maximum(member_id, 50000, channel="phone")
    change_to_new_method(call, "3")
    call.press("1")  # checking
    call.pay_bank("110000000", "000987654321")
    heard = call.heard_since_input[-2]
    assert "your checking account ending in 21 automatically" in heard
    call.press("1")
    assert call.heard_since_input[0] == (
        "Automatic payments will now use your checking account ending in 21. "
        "We will send you a written copy."
    )
    old, new = enrollments(core)
    assert old.cancelled_at is not None and new.cancelled_at is None
    # <Pay> shows only the last 2 digits of an account number.
    assert (new.method_kind, new.method_brand, new.method_last4) == (
        "bank",
        "consumer-checking",
        "21",
    )
    assert (new.authorization_text, new.call_sid) == (heard, call.call_sid)
    assert new.max_amount_cents == 50000  # the member's maximum is kept
    assert [c.dedupe_key.split(":")[1] for c in copies(core)] == [str(old.id), str(new.id)]
    assert len(saved_rows(core)) == 2 and count(core, Payment) == 0


def test_after_a_change_the_next_premium_is_charged_to_the_new_card_after_its_copy(twilio, core):
    member(core)
    call = at_new_card_terms(twilio)
    call.press("1")
    change_to_new_method(call, "2")
    call.pay_card("5555555555554444")
    assert "your Mastercard ending in 4444 automatically" in call.heard_since_input[-2]
    call.press("1")
    # Ten days ahead the first amount is announced (Regulation E); then it is charged.
    core.run_autopay(datetime(2026, 12, 21, 20, tzinfo=UTC))
    report = core.run_autopay(datetime(2026, 12, 31, 20, tzinfo=UTC))
    assert len(report.charged) == 1
    with core.unit_of_work() as uow:
        [payment] = uow.session.scalars(select(Payment)).all()
        charged = (payment.method_brand, payment.method_last4, payment.created_at)
    assert charged[:2] == ("mastercard", "4444")
    assert copies(core)[-1].created_at <= charged[2]


def test_a_maximum_set_by_phone_is_stored_and_audited_and_removed_again(twilio, core):
    member(core)
    call = at_new_card_terms(twilio)
    call.press("1")
    open_autopay(call)
    call.press("3")
    call.press("300*00#")
    assert call.heard_since_input == [
        "Your maximum amount will be $300.00. To confirm, press 1. To enter it again, press 2."
    ]
    call.press("1")
    [row] = enrollments(core)
    assert row.max_amount_cents == 30000
    open_autopay(call)
    assert call.heard_since_input[0] == (
        "Your premium of $412.00 due on 12/31/2026 is more than your maximum amount of "
        "$300.00, so it will not be paid automatically."
    )
    call.press("3")
    call.press("2")  # remove it
    [row] = enrollments(core)
    assert row.max_amount_cents is None
    with core.unit_of_work() as uow:
        actions = uow.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.startswith("autopay_maximum"))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["autopay_maximum_set", "autopay_maximum_removed"]


def test_a_card_entered_after_leaving_another_flow_s_entry_returns_to_the_flow_it_was_for(
    twilio, core
):
    member(core)
    call = identified(twilio)
    open_autopay(call)
    call.press("2")  # a new bank account for automatic payments
    assert call.heard_since_input == [
        "For a checking account, press 1. For a savings account, press 2."
    ]
    call.press("9")  # left for the main menu, then paying now
    call.press("1")
    call.press("1")  # the full premium
    call.press("1")  # a card
    call.pay_card("4242424242424242")
    assert (
        "You are paying $412.00 for your premium with your Visa ending in 4242."
    ) in call.heard_since_input
    call.press("4")  # cancel the payment; now automatic payments, with a new card
    open_autopay(call)
    call.press("1")
    call.pay_card("5555555555554444")
    assert call.heard_since_input[-2].startswith("By pressing 1, you, Maya Tester, authorize")
    assert count(core, Payment) == 0 and enrollments(core) == []
