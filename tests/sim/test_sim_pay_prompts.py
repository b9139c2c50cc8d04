"""Which <Prompt> Twilio plays: by card type, by attempt, and for matching inputs (ACH)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from twilio.twiml.voice_response import Parameter

from ivr_sim import TwimlError, parse_twiml
from tests.sim.test_sim_pay import (
    AMEX,
    BANK_ACCOUNT,
    BANK_PROMPTS,
    BANK_ROUTING,
    CARD,
    CARD_PROMPTS,
    CVC,
    EXPIRY,
    ROUTING,
    VISA,
    ZIP,
    dial,
    enter,
    field_of,
    pay_with,
    prompt_saying,
    words,
)

DISCOVER = "6011111111111117"
MASTERCARD = "5555555555554444"


# -- cardType -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "heard"),
    [
        (AMEX, "Enter the four digit code on the front of your card."),
        (VISA, "Enter the three digit code on the back."),
        (MASTERCARD, "Enter the three digit code on the back."),
        (DISCOVER, "Enter the three digit code on the back."),
    ],
)
def test_the_security_code_prompt_is_the_one_for_the_type_of_card_entered(
    number: str, heard: str
) -> None:
    call, _ = dial(pay_with(CARD_PROMPTS))

    enter(call, number, "1230")

    assert call.heard_since_input == [heard]
    (asked,) = [p for p in call.pay_prompts if p.step == CVC]
    assert asked.card_type == {"4": "visa", "5": "mastercard", "6": "discover"}.get(
        number[0], "amex"
    )


def test_a_card_type_prompt_beats_the_general_one_and_others_hear_the_general_one() -> None:
    pay = pay_with(
        [(CARD, None, None, None, "Card number.")],
        prompt_saying("Expiry.", for_=EXPIRY),
        prompt_saying("Code, please.", for_=CVC),
        prompt_saying("The four digits on the front.", for_=CVC, card_type="amex"),
        postal_code="94612",
    )

    amex, _ = dial(pay)
    enter(amex, AMEX, "1230")
    visa, _ = dial(pay)
    enter(visa, VISA, "1230")

    assert amex.heard_since_input == ["The four digits on the front."]
    assert visa.heard_since_input == ["Code, please."]


def test_a_retry_prompt_for_one_card_type_plays_only_for_that_card() -> None:
    pay = pay_with(
        CARD_PROMPTS,
        prompt_saying(
            "American Express codes have four digits.",
            for_=CVC,
            error_type="invalid-security-code",
            card_type="amex",
        ),
    )

    amex, _ = dial(pay)
    enter(amex, AMEX, "1230", "123")
    visa, _ = dial(pay)
    enter(visa, VISA, "1230", "12")

    assert amex.heard_since_input == ["American Express codes have four digits."]
    assert visa.heard_since_input == [words(CARD_PROMPTS, CVC, "invalid-security-code")]


# -- attempt ----------------------------------------------------------------------------------


def test_a_bad_zip_is_asked_again_with_the_prompt_for_that_attempt() -> None:
    pay = pay_with(
        [row for row in CARD_PROMPTS if row[0] != ZIP],
        prompt_saying("Enter your billing zip code.", for_=ZIP),
        prompt_saying("We did not hear a zip code.", for_=ZIP, error_type="timeout"),
        prompt_saying("That zip code did not work. Enter it again.", for_=ZIP, attempt="2"),
        prompt_saying("Last try: the five digits of your zip code.", for_=ZIP, attempt="3"),
    )
    call, app = dial(pay)
    enter(call, VISA, "1230", "737")

    enter(call, "9461")
    second = call.heard_since_input
    call.silence()
    third = call.heard_since_input
    enter(call, "94612")

    assert second == ["That zip code did not work. Enter it again."]
    # A timeout on attempt 3 has its own errorType prompt, which beats the attempt's one.
    assert third == ["We did not hear a zip code."]
    asked = [(p.attempt, p.error_type, p.built_in) for p in call.pay_prompts if p.step == ZIP]
    assert asked == [(1, None, False), (2, "invalid-postal-code", False), (3, "timeout", False)]
    assert app.captured["Result"] == "success"


def test_an_attempt_prompt_plays_on_its_attempts_only() -> None:
    pay = pay_with(
        [row for row in CARD_PROMPTS if row[0] != ZIP],
        prompt_saying("Zip code.", for_=ZIP),
        prompt_saying("Third try for the zip code.", for_=ZIP, attempt="3"),
    )
    call, _ = dial(pay)
    enter(call, VISA, "1230", "737", "1")

    # Attempt 2 has no prompt of its own: Twilio's built-in retry plays.
    assert call.pay_prompts[-1].built_in
    assert call.pay_prompts[-1].text.startswith("Sorry, that zip code is not valid.")

    enter(call, "2")
    assert call.heard_since_input == ["Third try for the zip code."]


def test_bank_numbers_that_fail_are_asked_again_with_the_apps_attempt_prompts() -> None:
    call, app = dial(pay_with(BANK_PROMPTS, payment_method="ach-debit"))

    enter(call, "110000001")
    routing_retry = call.heard_since_input
    enter(call, ROUTING, "12")
    account_retry = call.heard_since_input
    enter(call, "000123456789")

    assert routing_retry == [words(BANK_PROMPTS, BANK_ROUTING, "invalid-bank-routing-number")]
    assert account_retry == [words(BANK_PROMPTS, BANK_ACCOUNT, "invalid-bank-account-number")]
    assert not any(p.built_in for p in call.pay_prompts)
    assert app.captured["Result"] == "success"


# -- ACH: <Parameter> and matching inputs -----------------------------------------------------


def test_pay_parameters_reach_the_connector_and_the_test() -> None:
    def parameter(name: str, value: str) -> Callable[[], Parameter]:
        return lambda: Parameter(name=name, value=value)

    pay = pay_with(
        BANK_PROMPTS,
        parameter("achSecCode", "TEL"),
        parameter("companyName", "Kaiser Permanente"),
        payment_method="ach-debit",
    )

    call, app = dial(pay)
    call.pay_bank(ROUTING, "000123456789")

    assert call.pay_parameters == [{"achSecCode": "TEL", "companyName": "Kaiser Permanente"}]
    assert app.captured["Result"] == "success"
    # Parameters go to the connector, not back to the app.
    assert "achSecCode" not in app.captured


def test_a_routing_number_asked_twice_must_match_or_is_asked_again() -> None:
    pay = pay_with(
        BANK_PROMPTS,
        prompt_saying(
            "Enter the routing number once more.", for_=BANK_ROUTING, require_matching_inputs=True
        ),
        prompt_saying(
            "The two routing numbers did not match. Enter it again.",
            for_=BANK_ROUTING,
            error_type="input-matching-failed",
        ),
        payment_method="ach-debit",
        status_callback="/voice/pay/progress",
    )
    call, app = dial(pay)

    enter(call, ROUTING)
    assert field_of(call).confirming and field_of(call).field == BANK_ROUTING
    assert call.heard_since_input == ["Enter the routing number once more."]

    enter(call, "021000021")
    retry = field_of(call)
    assert (retry.field, retry.attempt) == (BANK_ROUTING, 2)
    assert retry.error_type == "input-matching-failed"
    assert not retry.confirming
    assert call.heard_since_input == ["The two routing numbers did not match. Enter it again."]

    enter(call, ROUTING, ROUTING, "000123456789")
    assert app.captured["Result"] == "success"
    assert app.captured["BankRoutingNumber"] == ROUTING
    assert app.captured["BankAccountNumber"] == "**********89"
    errors = [p.get("ErrorType") for p in app.posted("/voice/pay/progress")]
    assert "input-matching-failed" in errors


def test_matching_inputs_that_never_match_give_up_after_max_attempts() -> None:
    pay = pay_with(
        BANK_PROMPTS,
        prompt_saying("Once more.", for_=BANK_ACCOUNT, require_matching_inputs=True),
        payment_method="ach-debit",
        max_attempts=2,
    )
    call, app = dial(pay)
    enter(call, ROUTING)

    enter(call, "000123456789", "000123456788", "000123456789", "000123456780")

    assert app.captured["Result"] == "too-many-failed-attempts"
    assert app.captured["PaymentError"] == "input-matching-failed"
    # No input-matching-failed prompt from the app, so the retry hears the prompt for its
    # attempt: the one the app wrote for a bad account number.
    retry = [p for p in call.pay_prompts if p.error_type == "input-matching-failed"]
    assert [(p.attempt, p.built_in) for p in retry] == [(2, False)]
    assert retry[0].text == words(BANK_PROMPTS, BANK_ACCOUNT, "invalid-bank-account-number")


def test_without_any_prompt_for_the_retry_twilios_own_mismatch_words_play() -> None:
    pay = pay_with(
        [row for row in BANK_PROMPTS if not row[3]],
        prompt_saying("Once more.", for_=BANK_ACCOUNT, require_matching_inputs=True),
        payment_method="ach-debit",
    )
    call, _ = dial(pay)

    enter(call, ROUTING, "000123456789", "000123456788")

    assert call.pay_prompts[-1].built_in
    assert call.pay_prompts[-1].text.startswith("Sorry, the two entries did not match.")


def test_require_matching_inputs_belongs_on_prompt_not_pay() -> None:
    with pytest.raises(TwimlError, match="no attribute 'requireMatchingInputs'"):
        parse_twiml(
            '<Response><Pay paymentConnector="sandbox" paymentMethod="ach-debit"'
            ' requireMatchingInputs="true"/></Response>'
        )
