"""Metrics after real calls: each payment, decline, identification and call end counted once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ivr_sim.signing import SIGNATURE_HEADER, sign
from tests.calls.phrases import PAID
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.integration.test_metrics import sample, scrape
from tests.members import add_member

NCAL = "+18773659900"
CALLER = "+14155550123"
MRN = "60000006"
BIRTH_KEYS = "02141985"


@pytest.fixture
def member(core) -> int:
    return add_member(
        core,
        mrn=MRN,
        birth_date=date(1985, 2, 14),
        first_name="Maya",
        bills=[
            ("B-100", date(2026, 9, 14), "Oakland Medical Center", 25000, 5000, date(2026, 12, 15)),
        ],
        premiums=[(date(2027, 1, 1), 41200, 0)],
    )


def identified(twilio):
    call = twilio.call(to=NCAL, from_=CALLER)
    call.press(MRN + "#")
    call.press(BIRTH_KEYS)
    assert call.heard_since_input[0] == "Thank you, Maya."
    return call


def pay_bill_by_card(call, number: str) -> None:
    call.press("1")  # the bill offered right after identification, in full, by card
    call.pay_card(number)
    call.press("1")


def test_a_paid_call_counts_one_card_payment_and_ends_as_paid(app, twilio, member):
    call = identified(twilio)
    pay_bill_by_card(call, "4242424242424242")
    assert call.heard_since_input[0].startswith(PAID)
    call.press("9")  # back to the main menu: the call is still paid
    call.hang_up()
    counted = scrape(app)
    payments = {
        labels: value for (name, labels), value in counted.items() if name == "ivr_payments_total"
    }
    assert payments == {(("channel", "phone"), ("method", "card"), ("status", "succeeded")): 1}
    assert sample(app, "ivr_calls_total", region="ncal", outcome="paid") == 1
    assert sample(app, "ivr_identifications_total", result="matched", channel="phone") == 1
    assert not [key for key in counted if key[0] == "ivr_payment_declines_total"]


def test_a_declined_card_counts_its_decline_code_and_no_success(app, twilio, member):
    call = identified(twilio)
    pay_bill_by_card(call, "4000000000009995")
    assert call.heard_since_input[0] == "The payment was declined for insufficient funds."
    call.hang_up()
    assert sample(app, "ivr_payment_declines_total", code="insufficient_funds", method="card") == 1
    assert sample(app, "ivr_payments_total", status="failed", method="card", channel="phone") == 1
    assert (
        sample(app, "ivr_payments_total", status="succeeded", method="card", channel="phone") == 0
    )
    assert sample(app, "ivr_calls_total", region="ncal", outcome="identified") == 1


def test_a_caller_who_never_matches_counts_failures_and_ends_not_identified(
    app, twilio, member, clock
):
    clock.set(datetime(2026, 11, 29, 18, 0, tzinfo=UTC))  # Sunday: no specialist to dial
    call = twilio.call(to=NCAL, from_=CALLER)
    for _ in range(3):
        call.press(MRN + "#")
        call.press("01011990")
    assert call.ended
    assert sample(app, "ivr_identifications_total", result="not_matched", channel="phone") == 3
    assert sample(app, "ivr_calls_total", region="ncal", outcome="not_identified") == 1
    # The next call from that phone is locked out, even with the right birth date.
    again = twilio.call(to=NCAL, from_=CALLER)
    again.press(MRN + "#")
    again.press(BIRTH_KEYS)
    assert sample(app, "ivr_identifications_total", result="locked_out", channel="phone") == 1


def test_a_call_handed_to_a_specialist_ends_as_transferred(app, twilio, member):
    call = identified(twilio)
    call.press("0")
    assert call.dialed == ["+18002181059"]
    assert call.ended
    assert sample(app, "ivr_calls_total", region="ncal", outcome="transferred") == 1


def test_a_specialist_who_does_not_answer_leaves_the_call_not_transferred(app, twilio, member):
    twilio.dial_outcome = "no-answer"
    call = identified(twilio)
    call.press("0")
    call.hang_up()
    assert sample(app, "ivr_calls_total", region="ncal", outcome="identified") == 1
    assert sample(app, "ivr_calls_total", region="ncal", outcome="transferred") == 0


def test_a_caller_who_hangs_up_at_the_greeting_is_counted_once(app, twilio, member):
    call = twilio.call(to=NCAL, from_=CALLER)
    call.hang_up()
    assert sample(app, "ivr_calls_total", region="ncal", outcome="hung_up") == 1
    assert sum(v for (name, _), v in scrape(app).items() if name == "ivr_calls_total") == 1


def test_webhook_times_are_labelled_by_step_and_never_by_url_or_caller_input(app, twilio, member):
    call = identified(twilio)
    pay_bill_by_card(call, "4242424242424242")
    call.hang_up()
    counted = scrape(app)
    steps = {
        dict(labels)["endpoint"]
        for (name, labels), _ in counted.items()
        if name == "ivr_webhook_duration_seconds_count"
    }
    assert "status.call_status" in steps
    assert steps <= set(app.view_functions)
    page = "\n".join(f"{name} {labels}" for name, labels in counted)
    for caller_input in (MRN, "0006", BIRTH_KEYS, "1985", CALLER, "4155550123", "4242", "Maya"):
        assert caller_input not in page


def test_a_status_callback_sent_again_counts_the_call_once(app, twilio, member):
    call = identified(twilio)
    call.hang_up()
    params = {"CallSid": call.call_sid, "CallStatus": "completed", "To": NCAL, "From": CALLER}
    signature = sign(AUTH_TOKEN, PUBLIC_BASE_URL + "/voice/status", params)
    response = app.test_client().post(
        "/voice/status", data=params, headers={SIGNATURE_HEADER: signature}
    )
    assert response.status_code == 200
    assert sample(app, "ivr_calls_total", region="ncal", outcome="identified") == 1
    assert sum(v for (name, _), v in scrape(app).items() if name == "ivr_calls_total") == 1


def test_a_forged_webhook_is_counted_as_refused(app):
    response = app.test_client().post("/voice", data={"CallSid": "CA1", "To": NCAL})
    assert response.status_code == 403
    assert sample(app, "ivr_webhooks_refused_total") == 1


def test_a_step_that_fails_is_counted_by_its_step(app, twilio, member, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("database down")

    monkeypatch.setattr(app.extensions["billing"], "identify", down)
    call = twilio.call(to=NCAL, from_=CALLER)
    call.press(MRN + "#")
    call.press(BIRTH_KEYS)
    failures = {
        dict(labels)["endpoint"]: value
        for (name, labels), value in scrape(app).items()
        if name == "ivr_webhook_failures_total"
    }
    assert list(failures.values()) == [1]
    assert set(failures) <= set(app.view_functions)
