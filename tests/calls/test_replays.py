"""A replayed, stale or doubled webhook is never taken as the caller's choice: no money moves."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from billing_core.adapters.gateways.sandbox import tokenize_card
from billing_core.adapters.models import CallSession, Payment, SandboxCharge
from ivr_sim import parse_twiml
from ivr_sim.signing import SIGNATURE_HEADER, sign
from tests.calls.phrases import PAID
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.members import add_member

NCAL = "+18773659900"
CALLER = "+14155550123"


@pytest.fixture
def member(core) -> int:
    member_id = add_member(
        core,
        mrn="70000007",
        birth_date=date(1982, 3, 9),
        first_name="Rosa",
        bills=[
            ("B-1", date(2026, 9, 14), "Oakland Medical Center", 20000, 0, date(2026, 12, 15)),
            ("B-2", date(2026, 10, 2), "Richmond Medical Center", 8000, 0, date(2027, 1, 5)),
        ],
        monthly_premium_cents=None,
    )
    core.save_method(
        member_id,
        kind="card",
        token=tokenize_card(
            "4242424242424242", 12, 2030, "123", "94612", today=date(2026, 11, 27)
        ).token,
        brand="visa",
        last4="4242",
        exp="1230",
        account_type=None,
    )
    return member_id


def replay(app, path: str, params: dict[str, str]):
    """Send a captured webhook again, signed as Twilio signed it (the signature is replayed)."""
    signature = sign(AUTH_TOKEN, PUBLIC_BASE_URL + path, params)
    response = app.test_client().post(path, data=params, headers={SIGNATURE_HEADER: signature})
    assert response.status_code == 200
    return response.data.decode()


def payments(core) -> tuple[int, int]:
    with core.unit_of_work() as uow:
        return (
            uow.session.scalar(select(func.count()).select_from(Payment)),
            uow.session.scalar(select(func.count()).select_from(SandboxCharge)),
        )


def pay_first_bill_with_saved_card(twilio):
    call = twilio.call(to=NCAL, from_=CALLER)
    for keys in ["70000007#", "03091982", "9", "1", "1", "1"]:
        call.press(keys)  # the main menu, pay, the first bill in full, the saved Visa
    assert call.heard_since_input[-2].startswith("To pay now, press 1.")
    call.press("1")
    assert call.heard_since_input[0].startswith(PAID)
    call.hang_up()
    return call


def test_a_finished_calls_webhooks_replayed_after_its_state_expired_pay_nothing(
    twilio, app, core, clock, member
):
    call = pay_first_bill_with_saved_card(twilio)
    captured = [(turn.path, turn.params) for turn in call.transcript]
    assert payments(core) == (1, 1)

    # Hours later: the call's state has expired, its end is remembered.
    clock.advance(timedelta(hours=3).total_seconds())
    for path, params in captured:
        replay(app, path, params)
    assert payments(core) == (1, 1)

    # Past the end-of-call marker too (30 days) and purged: a replay starts afresh, and its
    # answers are bound to prompts this new start never asked.
    clock.advance(timedelta(days=31).total_seconds())
    app.extensions["call_store"].purge_expired(clock.now())
    for path, params in captured:
        replay(app, path, params)
    assert payments(core) == (1, 1)
    assert core.account_summary(member, channel="test").medical_balance_cents == 8000


def test_a_replayed_call_start_for_a_call_that_ended_is_refused(twilio, app, core, member):
    call = twilio.call(to=NCAL, from_=CALLER)
    call.hang_up()
    start_path, start_params = call.transcript[0].path, call.transcript[0].params
    verbs = parse_twiml(replay(app, start_path, start_params))
    assert [type(verb).__name__ for verb in verbs] == ["Hangup"]
    with core.unit_of_work() as uow:
        ended = uow.session.get(CallSession, call.call_sid)
        assert ended.ended_at is not None and ended.data == {}


def test_an_old_press_1_replayed_at_a_newer_read_back_charges_nothing(twilio, app, core, member):
    call = twilio.call(to=NCAL, from_=CALLER)
    for keys in ["70000007#", "03091982", "9", "1", "1", "1"]:
        call.press(keys)
    # At the read-back of $200.00 the caller changes the amount instead of paying.
    old_confirm = call.waiting.action.replace(PUBLIC_BASE_URL, "")
    call.press("2")
    call.press("50#")
    assert "$50.00" in call.heard_since_input[-3]
    pressed_one = {"CallSid": call.call_sid, "Digits": "1", "From": CALLER, "To": NCAL}
    heard = replay(app, old_confirm, pressed_one)
    assert "could not take that answer" in heard
    assert payments(core) == (0, 0)
    # The caller's own answer to the prompt they hear is still taken, once.
    call.press("1")
    assert call.heard_since_input[0].startswith(PAID)
    assert payments(core) == (1, 1)
    with core.unit_of_work() as uow:
        assert uow.session.scalar(select(Payment.amount_cents)) == 5000


def test_an_answer_sent_twice_is_taken_once(twilio, app, core, member):
    call = twilio.call(to=NCAL, from_=CALLER)
    call.press("70000007#")
    path = call.waiting.action.replace(PUBLIC_BASE_URL, "")
    params = {"CallSid": call.call_sid, "Digits": "03091982", "From": CALLER, "To": NCAL}
    first, second = replay(app, path, params), replay(app, path, params)
    assert "Thank you, Rosa." in first
    assert "could not take that answer" in second and "Thank you, Rosa." not in second


def test_an_answer_takes_one_connection_for_its_call_state_and_one_for_all_its_reads(
    twilio, member, checkouts
):
    call = twilio.call(to=NCAL, from_=CALLER)
    checkouts.clear()
    call.press("70000007#")  # read, taken and saved: the billing core is not asked
    assert len(checkouts) == 1
    checkouts.clear()
    # The call state's; identification's transaction; the account summary's (it is
    # audited); and one for the greeting's reads, the quote and the saved methods.
    call.press("03091982")
    assert call.heard_since_input[0].startswith("Thank you, Rosa.")
    assert len(checkouts) == 4


def test_a_prompts_token_sent_to_another_answer_leaves_the_prompt_answerable(twilio, app, member):
    call = twilio.call(to=NCAL, from_=CALLER)
    call.press("70000007#")
    action = call.waiting.action.replace(PUBLIC_BASE_URL, "")
    assert action.startswith("/voice/identify/birth-date/answer?")
    elsewhere = action.replace("/voice/identify/birth-date/answer", "/voice/identify/mrn/answer")
    params = {"CallSid": call.call_sid, "Digits": "70000007#", "From": CALLER, "To": NCAL}
    assert "could not take that answer" in replay(app, elsewhere, params)
    call.press("03091982")  # the prompt the caller hears still takes their answer
    assert call.heard_since_input[0].startswith("Thank you, Rosa.")


@pytest.mark.parametrize(
    "digits",
    ["１２３４５６７８#", "١٢٣٤", "12\u00a034", "7" * 5000, "1\n2", "𝟗"],
    ids=["fullwidth", "arabic-indic", "no-break-space", "5000-digits", "newline", "math-nine"],
)
def test_keys_no_phone_sends_get_the_normal_not_valid_answer(twilio, app, member, digits):
    call = twilio.call(to=NCAL, from_=CALLER)
    path = call.waiting.action.replace(PUBLIC_BASE_URL, "")
    heard = replay(app, path, {"CallSid": call.call_sid, "Digits": digits, "To": NCAL})
    assert "That is not a complete medical record number." in heard


def test_speech_of_thousands_of_digits_is_a_wrong_answer_not_an_error(twilio, app, member, caplog):
    call = twilio.call(to=NCAL, from_=CALLER)
    for keys in ["70000007#", "03091982"]:
        call.press(keys)
    path = call.waiting.action.replace(PUBLIC_BASE_URL, "")
    spoken = " ".join(["nine"] * 5000)
    with caplog.at_level(logging.INFO):
        heard = replay(app, path, {"CallSid": call.call_sid, "SpeechResult": spoken, "To": NCAL})
    assert "Sorry, that is not one of the choices." in heard
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "9999" not in caplog.text.replace(call.call_sid, "CA…")


def test_a_call_sid_with_control_characters_is_not_filed_and_is_logged_escaped(app, core, caplog):
    forged = "CA1\r\nINFO forged line\x1b[31m"
    with caplog.at_level(logging.INFO):
        replay(app, "/voice", {"CallSid": forged, "To": NCAL})
    assert "\r" not in caplog.text and "\x1b" not in caplog.text
    with core.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CallSession)) == 0


def test_a_payment_token_shaped_like_a_card_number_is_refused_and_never_stored(
    twilio, app, core, member
):
    call = twilio.call(to=NCAL, from_=CALLER)
    for keys in ["70000007#", "03091982", "9", "1", "1", "2"]:
        call.press(keys)  # the main menu, pay, the first bill in full, a new card
    pay_action = next(
        v.action for v in parse_twiml(call.transcript[-1].twiml) if type(v).__name__ == "Pay"
    )
    params = {
        "CallSid": call.call_sid,
        "Result": "success",
        "PaymentToken": "4242 4242 4242 4242",
        "PaymentCardNumber": "xxxxxxxxxxxx4242",
        "PaymentCardType": "visa",
        "To": NCAL,
    }
    heard = replay(app, pay_action.replace(PUBLIC_BASE_URL, ""), params)
    # Taken as the connector failing: nothing kept, and the caller chooses again.
    assert "We cannot reach" in heard and "For a credit or debit card, press" in heard
    with core.unit_of_work() as uow:
        state = uow.session.get(CallSession, call.call_sid)
        assert "4242 4242" not in str(state.data)


def test_a_payment_whose_state_was_not_saved_is_never_read_back_as_unpaid(
    twilio, app, core, member
):
    from sqlalchemy import event

    call = twilio.call(to=NCAL, from_=CALLER)
    for keys in ["70000007#", "03091982", "9", "1", "1", "1", "2", "50#"]:
        call.press(keys)  # pay, the first bill, the saved Visa, $50 of it at the read-back
    assert "$50.00" in call.heard_since_input[-3]

    def lose_state_writes(_conn, _cursor, statement, *_args, **_kwargs):
        if " ".join(statement.split()).startswith("UPDATE call_sessions SET data="):
            raise ConnectionError("the call state could not be saved")

    event.listen(core.engine, "before_cursor_execute", lose_state_writes)
    try:
        call.press("1")
    finally:
        event.remove(core.engine, "before_cursor_execute", lose_state_writes)
    assert call.heard_since_input[0].startswith(PAID)
    number = call.heard_since_input[0]
    # The saved state still says "read-back": the next answer is refused, and the caller
    # hears the payment they made, not an unpaid read-back to pay again.
    call.press("9")
    assert call.heard_since_input[0].startswith("Sorry, we could not take that answer.")
    assert any(line.startswith(PAID) for line in call.heard_since_input)
    assert number in call.heard_since_input
    assert payments(core) == (1, 1)


def test_a_replayed_call_start_mid_call_leaves_the_callers_prompt_answerable(
    twilio, app, core, member
):
    call = twilio.call(to=NCAL, from_=CALLER)
    for keys in ["70000007#", "03091982", "9", "1", "1", "1"]:
        call.press(keys)
    start_path, start_params = call.transcript[0].path, call.transcript[0].params
    replay(app, start_path, start_params)
    call.press("1")
    assert call.heard_since_input[0].startswith(PAID)
    assert payments(core) == (1, 1)


def test_a_card_entry_begun_before_the_deploy_is_taken_once_without_a_token(app, core, member):
    from ivr.call_state import CallState

    call_sid = "CA" + "5" * 32
    # What the previous release stored while its <Pay> took a new card: no prompt token.
    stored = {
        "region": "ncal",
        "member_id": member,
        "asking": "pay.method_answer",
        "pay": {
            "target": {
                "kind": "bill",
                "bill_number": "B-1",
                "balance": 20000,
                "date_of_service": "2026-09-14",
                "facility": "Oakland Medical Center",
            },
            "amount": 20000,
            "capturing": "card",
        },
    }
    store = app.extensions["call_store"]
    store.save(CallState.restore(call_sid, stored, is_new=True), core.clock.now())
    params = {
        "CallSid": call_sid,
        "Result": "success",
        "PaymentToken": tokenize_card(
            "4242424242424242", 12, 2030, "123", "94612", today=date(2026, 11, 27)
        ).token,
        "PaymentCardNumber": "xxxxxxxxxxxx4242",
        "PaymentCardType": "visa",
        "To": NCAL,
    }
    first = replay(app, "/voice/pay/capture/captured", params)
    assert "You are paying $200.00" in first
    second = replay(app, "/voice/pay/capture/captured", params)
    assert "could not take that answer" in second


def test_the_one_key_payment_after_identification_is_charged_once_however_often_pressed(
    twilio, app, core, member
):
    call = twilio.call(to=NCAL, from_=CALLER)
    for keys in ["70000007#", "03091982"]:
        call.press(keys)
    assert call.heard_since_input[1].startswith("To pay $280.00 for all your medical bills with")
    offer = call.waiting.action.replace(PUBLIC_BASE_URL, "")
    call.press("1")
    assert call.heard_since_input[0].startswith(PAID)
    pressed_again = {"CallSid": call.call_sid, "Digits": "1", "From": CALLER, "To": NCAL}
    assert "could not take that answer" in replay(app, offer, pressed_again)
    assert payments(core) == (1, 1)
