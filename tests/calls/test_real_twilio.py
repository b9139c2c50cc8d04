"""What the app sends is what real Twilio takes: Pay languages, prompts, speech, dial outcomes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest

from ivr_sim.signing import SIGNATURE_HEADER, sign
from tests.conftest import AUTH_TOKEN, IDENTITY_KEY, PUBLIC_BASE_URL
from tests.members import add_member

GEORGIA = "+18776997407"
CALLER = "+14045550111"
# Twilio's <Prompt errorType> values (twilio-node 6.0.2, PromptErrorType).
TWILIO_ERROR_TYPES = {
    "timeout",
    "invalid-card-number",
    "invalid-card-type",
    "invalid-date",
    "invalid-security-code",
    "internal-error",
    "input-matching-failed",
}


@pytest.fixture
def member(core) -> int:
    return add_member(
        core,
        mrn="30000003",
        birth_date=date(1990, 1, 31),
        first_name="Lena",
        region="ga",
        state="GA",
        bills=[("B-1", date(2026, 9, 14), "Atlanta Medical Center", 12000, 0, date(2026, 12, 15))],
        monthly_premium_cents=None,
    )


def identified(twilio, *, spanish: bool = False):
    call = twilio.call(to=GEORGIA, from_=CALLER)
    if spanish:
        call.press("8")
    call.press("30000003#")
    call.press("01311990")
    return call


def post(app, path: str, params: dict[str, str]):
    signature = sign(AUTH_TOKEN, PUBLIC_BASE_URL + path, params)
    response = app.test_client().post(path, data=params, headers={SIGNATURE_HEADER: signature})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return ET.fromstring(response.data)


def pay_verb(call, app, method: str, **settings) -> ET.Element:
    """The <Pay> the app answers with after choosing a new card (1) or bank account (2, 1)."""
    app.config.update(settings)
    call.press("9")  # the main menu, past the offer to pay by card
    call.press("1")  # pay the one bill, in full
    if method == "bank":
        call.press("2")  # a bank account; the account type's answer is posted below
    # The answer goes where the waiting <Gather> sends it, bound to that prompt.
    action = call.waiting.action.replace(PUBLIC_BASE_URL, "")
    document = post(
        app, action, {"CallSid": call.call_sid, "Digits": "1", "From": CALLER, "To": GEORGIA}
    )
    return document.find("Pay")


def test_a_spanish_card_payment_asks_twilio_for_es_us_with_spanish_prompts(twilio, app, member):
    call = identified(twilio, spanish=True)
    pay = pay_verb(call, app, "card")
    assert pay.get("language") == "es-US"
    first = pay.find("Prompt[@for='payment-card-number']/Say")
    assert first.get("language") == "es-US"
    assert first.text == "Ingrese el número de su tarjeta y oprima numeral."


def test_every_pay_prompt_uses_only_twilios_error_types(twilio, app, member):
    call = identified(twilio)
    card = pay_verb(call, app, "card")
    used = {
        kind for prompt in card.iter("Prompt") for kind in (prompt.get("errorType") or "").split()
    }
    assert used <= TWILIO_ERROR_TYPES and "timeout" in used


def test_a_bad_zip_code_is_explained_on_the_later_attempts(twilio, app, member):
    call = identified(twilio)
    card = pay_verb(call, app, "card", IVR_PAY_POSTAL_CODE=True)  # a gateway that verifies it
    retries = card.findall("Prompt[@for='postal-code'][@attempt='2 3']/Say")
    assert [say.text for say in retries] == [
        "That ZIP code is not valid.",
        "Enter the billing ZIP code.",
    ]


def test_bank_numbers_are_entered_twice_and_a_mismatch_is_explained(twilio, app, member):
    call = identified(twilio)
    bank = pay_verb(call, app, "bank")
    for field in ("bank-routing-number", "bank-account-number"):
        again = bank.find(f"Prompt[@for='{field}'][@requireMatchingInputs='true']/Say")
        assert again is not None and again.text.startswith("To be sure, enter the ")
        mismatch = bank.find(f"Prompt[@for='{field}'][@errorType='input-matching-failed']/Say")
        assert mismatch.text == "The two numbers you entered do not match."
        retry = bank.find(f"Prompt[@for='{field}'][@attempt='2 3']/Say")
        assert retry.text.endswith("is not valid.")
    assert bank.get("language") == "en-US"


def test_matching_inputs_can_be_turned_off(twilio, app, member):
    call = identified(twilio)
    bank = pay_verb(call, app, "bank", IVR_PAY_MATCHING_INPUTS=False)
    assert bank.find("Prompt[@requireMatchingInputs]") is None
    assert bank.find("Prompt[@errorType='input-matching-failed']") is None


def test_a_connectors_ach_parameters_go_in_pay_parameter_children(twilio, app, member):
    call = identified(twilio)
    parameters = '{"sec_code": "TEL", "company_entry_description": "PREMIUM"}'
    bank = pay_verb(call, app, "bank", IVR_PAY_ACH_PARAMETERS=parameters)
    assert [(p.get("name"), p.get("value")) for p in bank.findall("Parameter")] == [
        ("sec_code", "TEL"),
        ("company_entry_description", "PREMIUM"),
    ]


def test_malformed_ach_parameters_stop_the_start_up(core, clock):
    from ivr import create_app

    with pytest.raises(RuntimeError, match="IVR_PAY_ACH_PARAMETERS must be a JSON object"):
        create_app(
            {
                "TESTING": True,
                "ENGINE": core.engine,
                "CLOCK": clock,
                "IVR_IDENTITY_KEY": IDENTITY_KEY,
                "IVR_PAY_ACH_PARAMETERS": "sec_code=TEL",
            }
        )


def test_every_gather_names_its_speech_model(app):
    document = post(app, "/voice", {"CallSid": "CA" + "7" * 32, "From": CALLER, "To": GEORGIA})
    gather = document.find("Gather")
    assert gather.get("speechModel") == "numbers_and_commands"
    assert "$OOV_CLASS_DIGIT_SEQUENCE" in gather.get("hints")


def test_the_fallback_url_apologises_in_spanish_on_a_spanish_call(twilio, app, clock, member):
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))  # Friday 10:00 in Georgia: open
    call = identified(twilio, spanish=True)
    document = post(
        app,
        "/voice/fallback",
        {"CallSid": call.call_sid, "ErrorCode": "11200", "From": CALLER, "To": GEORGIA},
    )
    says = document.findall("Say")
    assert says[0].get("language") == "es-US"
    assert says[0].text.startswith("Lo sentimos")
    assert document.find("Dial").text == "+18002181059"
    assert document[-1].tag == "Hangup"


def test_the_fallback_url_answers_a_call_it_knows_nothing_of(app, clock):
    clock.set(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))  # Friday 21:00 in Georgia: closed
    document = post(app, "/voice/fallback", {"CallSid": "CA" + "8" * 32, "To": GEORGIA})
    texts = [say.text for say in document.findall("Say")]
    assert texts[0] == "We are sorry. We are having trouble on our end right now."
    assert "".join(document.find("Say[2]").itertext()).startswith("Billing specialists are")
    assert document.find("Dial") is None and document[-1].tag == "Hangup"


@pytest.mark.parametrize(
    ("status", "heard"),
    [
        ("busy", "Sorry, no billing specialist could take your call."),
        ("no-answer", "Sorry, no billing specialist could take your call."),
        ("failed", "Sorry, we could not connect you to a billing specialist."),
        ("canceled", "Sorry, we could not connect you to a billing specialist."),
    ],
)
def test_a_specialist_call_that_did_not_connect_says_why_and_goes_on(
    twilio, clock, member, status, heard
):
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    twilio.dial_outcome = status
    call = identified(twilio)
    call.press("0")
    assert call.heard_since_input[1] == heard
    assert call.heard_since_input[-1] == "To repeat, press star."  # back at the main menu
    assert not call.ended


@pytest.mark.parametrize("status", ["completed", "answered"])
def test_a_specialist_call_that_connected_ends_the_call(twilio, clock, member, status):
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    twilio.dial_outcome = status
    call = identified(twilio)
    call.press("0")
    assert call.ended and call.heard[-1] == "Thank you for calling. Goodbye."
