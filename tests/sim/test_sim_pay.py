"""The virtual Twilio runs <Pay> as Twilio does: field by field, checked, then tokenized."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Pay, Prompt, VoiceResponse

from billing_core.domain.clock import ManualClock
from ivr_sim import Call, CallEnded, PayField, SimError, TwimlError, VirtualTwilio, parse_twiml
from ivr_sim.pay import Pay as PayVerb

PUBLIC = "https://ivr.example.test"
TOKEN = "sim-pay-test-auth-token"
TO = "+18773659900"
FROM = "+14155550123"
# Mid-March 2026 on the call's clock: a card expiring 0326 is still good, 0226 is not.
TODAY = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)

VISA = "4242424242424242"
AMEX = "378282246310005"
JCB = "3566002020360505"
ROUTING = "110000000"
ACCOUNT = "000123456789"

CARD = "payment-card-number"
EXPIRY = "expiration-date"
CVC = "security-code"
ZIP = "postal-code"
BANK_ROUTING = "bank-routing-number"
BANK_ACCOUNT = "bank-account-number"
PROCESSING = "payment-processing"

# for, errorType, cardType, attempt, words. Twilio's <Prompt errorType> has no value for a
# bad postal code, routing or account number: those retries are worded by attempt.
PromptRow = tuple[str, str | None, str | None, str | None, str]

CARD_PROMPTS: list[PromptRow] = [
    (CARD, None, None, None, "Please enter your card number, then press pound."),
    (CARD, "timeout", None, None, "We did not hear a card number. Please enter it now."),
    (CARD, "invalid-card-number", None, None, "That card number is not valid. Please try again."),
    (CARD, "invalid-card-type", None, None, "We take Visa, Mastercard, Amex and Discover."),
    (EXPIRY, None, None, None, "Enter the expiration date, two digits each for month and year."),
    (EXPIRY, "timeout", None, None, "We did not hear an expiration date. Please enter it now."),
    (EXPIRY, "invalid-date", None, None, "That date is not valid or has passed. Try again."),
    (CVC, None, "visa mastercard discover", None, "Enter the three digit code on the back."),
    (CVC, None, "amex", None, "Enter the four digit code on the front of your card."),
    (CVC, "timeout", None, None, "We did not hear a security code. Please enter it now."),
    (CVC, "invalid-security-code", None, None, "That security code is not valid. Try again."),
    (ZIP, None, None, None, "Enter your five digit billing zip code."),
    (ZIP, "timeout", None, None, "We did not hear a zip code. Please enter it now."),
    (ZIP, None, None, "2 3", "That zip code is not valid. Please try again."),
    (PROCESSING, None, None, None, "Thank you. One moment while we check your card."),
]
BANK_PROMPTS: list[PromptRow] = [
    (BANK_ROUTING, None, None, None, "Enter the nine digit routing number, then press pound."),
    (BANK_ROUTING, "timeout", None, None, "We did not hear a routing number. Enter it now."),
    (BANK_ROUTING, None, None, "2 3", "That routing number is not valid."),
    (BANK_ACCOUNT, None, None, None, "Enter your account number, then press pound."),
    (BANK_ACCOUNT, "timeout", None, None, "We did not hear an account number. Enter it now."),
    (BANK_ACCOUNT, None, None, "2 3", "That account number is not valid."),
    (PROCESSING, None, None, None, "Thank you. One moment while we check your account."),
]
# The errors Twilio re-asks for without an errorType of their own.
WORDED_BY_ATTEMPT = {
    "invalid-postal-code",
    "invalid-bank-routing-number",
    "invalid-bank-account-number",
}


def words(rows: Sequence[PromptRow], step: str, error: str | None = None) -> str:
    """The words the caller hears for `step` after `error` (None: the first time)."""
    if error in WORDED_BY_ATTEMPT:
        return next(text for for_, err, _, tries, text in rows if for_ == step and tries)
    return next(
        text for for_, err, _, tries, text in rows if for_ == step and err == error and not tries
    )


# -- the voice app under test -------------------------------------------------------------


class PayApp:
    """A small voice app: answers <Pay>, checks Twilio's signature, records every request."""

    def __init__(self, pay: Callable[[], VoiceResponse]) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.app = Flask(__name__)
        self.app.config.update(IVR_PUBLIC_BASE_URL=PUBLIC, IVR_TWILIO_AUTH_TOKEN=TOKEN)
        validator = RequestValidator(TOKEN)

        @self.app.before_request
        def check_signature() -> tuple[str, int] | None:
            query = request.query_string.decode()
            url = PUBLIC + request.path + (f"?{query}" if query else "")
            signature = request.headers.get("X-Twilio-Signature", "")
            if not validator.validate(url, request.form, signature):
                return "bad signature", 403
            self.requests.append((request.path, request.values.to_dict()))
            return None

        @self.app.post("/voice")
        def voice() -> Response:
            return Response(str(pay()), mimetype="text/xml")

        @self.app.post("/voice/pay/captured")
        def captured() -> Response:
            response = VoiceResponse()
            response.say(f"Payment result: {request.form['Result']}.")
            response.hangup()
            return Response(str(response), mimetype="text/xml")

        @self.app.route("/voice/pay/progress", methods=["GET", "POST"])
        def progress() -> tuple[str, int]:
            return "", 204

        @self.app.post("/voice/status")
        def status() -> tuple[str, int]:
            return "", 204

    def posted(self, path: str) -> list[dict[str, str]]:
        """The parameters of every request the app received at `path`."""
        return [params for seen, params in self.requests if seen == path]

    @property
    def captured(self) -> dict[str, str]:
        """What the <Pay> posted to its action URL, which it does exactly once."""
        (params,) = self.posted("/voice/pay/captured")
        return params


def pay_with(
    rows: Sequence[PromptRow], *more: Callable[[], Prompt], **attributes: object
) -> Callable[[], VoiceResponse]:
    """An answer with one <Pay> as the app writes it: prompts from `rows`, then `more`."""
    settings: dict[str, object] = {
        "payment_connector": "sandbox",
        "charge_amount": "0",
        "token_type": "reusable",
        "payment_method": "credit-card",
        "bank_account_type": "consumer-checking",
        "action": "/voice/pay/captured",
        "timeout": 10,
        "max_attempts": 3,
        "postal_code": True,
        "security_code": True,
        "valid_card_types": "visa mastercard amex discover",
        "language": "en-US",
    }
    settings.update(attributes)

    def answer() -> VoiceResponse:
        response = VoiceResponse()
        pay = Pay(**settings)
        for step, error_type, card_type, attempt, text in rows:
            prompt = Prompt(for_=step, error_type=error_type, card_type=card_type, attempt=attempt)
            prompt.say(text)
            pay.append(prompt)
        for make in more:
            pay.append(make())
        response.append(pay)
        return response

    return answer


def card_pay(**attributes: object) -> Callable[[], VoiceResponse]:
    """The app's card <Pay>, with every prompt it needs."""
    return pay_with(CARD_PROMPTS, **attributes)


def bank_pay(**attributes: object) -> Callable[[], VoiceResponse]:
    """The app's bank (ACH) <Pay>, with every prompt it needs."""
    return pay_with(BANK_PROMPTS, payment_method="ach-debit", **attributes)


def dial(pay: Callable[[], VoiceResponse], when: datetime = TODAY) -> tuple[Call, PayApp]:
    """Call a PayApp answering with `pay`, on a clock set to `when`."""
    app = PayApp(pay)
    twilio = VirtualTwilio.for_app(app.app, clock=ManualClock(when))
    return twilio.call(to=TO, from_=FROM), app


def field_of(call: Call) -> PayField:
    """The <Pay> field now waiting for the caller."""
    target = call.waiting
    assert isinstance(target, PayField), f"no <Pay> field is waiting: {target!r}"
    return target


def enter(call: Call, *entries: str) -> None:
    """Type each entry into the field then waiting, each followed by #."""
    for entry in entries:
        call.press(entry + "#")


def prompt_saying(text: str, **attributes: object) -> Callable[[], Prompt]:
    """A <Prompt> with these attributes that says `text`."""

    def make() -> Prompt:
        prompt = Prompt(**attributes)
        prompt.say(text)
        return prompt

    return make


def assert_never_posted(call: Call, number: str, security_code: str | None = None) -> None:
    """No request of the call carries the full number, nor the security code as a value."""
    for turn in call.transcript:
        for name, value in turn.params.items():
            # A short code could turn up inside a random CallSid, so only whole values count.
            leaked = number in value or value == security_code
            assert not leaked, f"{turn.path} posted {name}={value}"


# -- a card ---------------------------------------------------------------------------------


def test_a_card_is_asked_field_by_field_with_the_apps_own_prompts() -> None:
    call, _ = dial(card_pay())

    asked = []
    for entry in (VISA, "1230", "737", "94612"):
        asked.append(field_of(call).field)
        enter(call, entry)

    assert asked == [CARD, EXPIRY, CVC, ZIP]
    assert call.heard == [
        words(CARD_PROMPTS, CARD),
        words(CARD_PROMPTS, EXPIRY),
        "Enter the three digit code on the back.",
        words(CARD_PROMPTS, ZIP),
        words(CARD_PROMPTS, PROCESSING),
        "Payment result: success.",
    ]
    assert [p.built_in for p in call.pay_prompts] == [False] * 5


def test_a_valid_card_posts_a_token_and_only_the_masked_card_to_the_action() -> None:
    call, app = dial(card_pay())

    call.pay_card(VISA, expiry="0429", cvc="737", postal="94612")

    captured = app.captured
    assert captured["Result"] == "success"
    assert re.fullmatch(r"tok_sandbox_success_4242_[0-9a-f]+", captured["PaymentToken"])
    assert captured["PaymentMethod"] == "credit-card"
    assert captured["PaymentCardNumber"] == "xxxxxxxxxxxx4242"
    assert captured["PaymentCardType"] == "visa"
    assert captured["ExpirationDate"] == "0429"
    assert captured["SecurityCode"] == "***"
    assert captured["PaymentCardPostalCode"] == "94612"
    assert captured["PaymentConfirmationCode"] == ""
    assert "PaymentError" not in captured and "ProfileId" not in captured
    assert captured["CallSid"] == call.call_sid
    assert captured["CallStatus"] == "in-progress"
    assert_never_posted(call, VISA, "737")
    assert call.end_reason == "hangup"


def test_an_american_express_card_is_asked_for_its_four_digit_code() -> None:
    call, app = dial(card_pay())

    call.pay_card(AMEX, cvc="1234")

    assert "Enter the four digit code on the front of your card." in call.heard
    assert app.captured["Result"] == "success"
    assert app.captured["PaymentCardType"] == "amex"
    assert app.captured["PaymentCardNumber"] == "xxxxxxxxxxx0005"
    assert app.captured["SecurityCode"] == "****"
    assert_never_posted(call, AMEX, "1234")


def test_a_three_digit_code_on_an_american_express_card_is_asked_for_again() -> None:
    call, app = dial(card_pay())
    enter(call, AMEX, "1230", "123")

    retry = field_of(call)
    assert (retry.field, retry.attempt, retry.error_type) == (CVC, 2, "invalid-security-code")
    assert call.heard_since_input == [words(CARD_PROMPTS, CVC, "invalid-security-code")]

    enter(call, "1234", "94612")
    assert app.captured["Result"] == "success"


def test_a_card_expiring_this_month_is_taken_and_one_from_last_month_is_not() -> None:
    this_month, _ = dial(card_pay(), when=TODAY)
    enter(this_month, VISA, "0326")
    last_month, _ = dial(card_pay(), when=datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    enter(last_month, VISA, "0326")

    assert field_of(this_month).field == CVC
    assert field_of(last_month).error_type == "invalid-date"


INVALID_ENTRIES = [
    pytest.param(card_pay(), [], "4242424242424241", "invalid-card-number", id="luhn"),
    pytest.param(card_pay(), [], "4242424242", "invalid-card-number", id="short-number"),
    pytest.param(card_pay(), [], JCB, "invalid-card-type", id="card-type-not-taken"),
    pytest.param(
        card_pay(valid_card_types="visa mastercard"),
        [],
        AMEX,
        "invalid-card-type",
        id="amex-not-in-valid-card-types",
    ),
    pytest.param(card_pay(), [VISA], "1330", "invalid-date", id="month-13"),
    pytest.param(card_pay(), [VISA], "126", "invalid-date", id="three-digit-date"),
    pytest.param(card_pay(), [VISA], "0226", "invalid-date", id="expired"),
    pytest.param(card_pay(), [VISA, "1230"], "12", "invalid-security-code", id="short-cvc"),
    pytest.param(card_pay(), [AMEX, "1230"], "123", "invalid-security-code", id="amex-cvc"),
    pytest.param(card_pay(), [VISA, "1230", "737"], "9461", "invalid-postal-code", id="zip"),
    pytest.param(bank_pay(), [], "110000001", "invalid-bank-routing-number", id="aba-checksum"),
    pytest.param(bank_pay(), [], "11000000", "invalid-bank-routing-number", id="routing-short"),
    pytest.param(bank_pay(), [ROUTING], "123", "invalid-bank-account-number", id="account"),
]


@pytest.mark.parametrize(("pay", "before", "bad", "error_type"), INVALID_ENTRIES)
def test_an_invalid_field_is_asked_again_with_the_apps_error_prompt_then_given_up(
    pay: Callable[[], VoiceResponse], before: list[str], bad: str, error_type: str
) -> None:
    call, app = dial(pay)
    enter(call, *before)
    step = field_of(call).field
    rows = BANK_PROMPTS if step.startswith("bank") else CARD_PROMPTS

    for attempt in (1, 2, 3):
        assert (field_of(call).field, field_of(call).attempt) == (step, attempt)
        enter(call, bad)
        if attempt < 3:
            assert call.heard_since_input == [words(rows, step, error_type)]

    asked = [(p.attempt, p.error_type, p.built_in) for p in call.pay_prompts if p.step == step]
    assert asked == [(1, None, False), (2, error_type, False), (3, error_type, False)]
    assert app.captured["Result"] == "too-many-failed-attempts"
    assert app.captured["PaymentError"] == error_type
    assert "PaymentToken" not in app.captured
    assert call.heard[-1] == "Payment result: too-many-failed-attempts."


# -- a bank account ---------------------------------------------------------------------------


def test_a_bank_account_is_tokenized_and_posted_with_only_its_last_two_digits() -> None:
    call, app = dial(bank_pay(bank_account_type="consumer-savings"))

    call.pay_bank(ROUTING, ACCOUNT)

    captured = app.captured
    assert captured["Result"] == "success"
    assert re.fullmatch(r"btok_sandbox_success_6789_[0-9a-f]+", captured["PaymentToken"])
    assert captured["PaymentMethod"] == "ach-debit"
    assert captured["BankAccountNumber"] == "**********89"
    assert captured["BankRoutingNumber"] == ROUTING
    assert captured["BankAccountType"] == "consumer-savings"
    assert "PaymentCardNumber" not in captured
    assert call.heard[:3] == [
        words(BANK_PROMPTS, BANK_ROUTING),
        words(BANK_PROMPTS, BANK_ACCOUNT),
        words(BANK_PROMPTS, PROCESSING),
    ]
    assert_never_posted(call, ACCOUNT)


def test_a_bank_account_asked_twice_must_match_or_is_asked_again() -> None:
    pay = pay_with(
        BANK_PROMPTS,
        prompt_saying(
            "Please enter the account number once more.",
            for_=BANK_ACCOUNT,
            require_matching_inputs=True,
        ),
        prompt_saying(
            "Those did not match. Enter it again.",
            for_=BANK_ACCOUNT,
            error_type="input-matching-failed",
        ),
        payment_method="ach-debit",
    )

    call, app = dial(pay)
    enter(call, ROUTING, ACCOUNT)
    assert field_of(call).confirming
    assert call.heard_since_input == ["Please enter the account number once more."]

    enter(call, "000123456788")
    assert (field_of(call).attempt, field_of(call).error_type) == (2, "input-matching-failed")
    assert call.heard_since_input == ["Those did not match. Enter it again."]

    call.pay_bank(ROUTING, ACCOUNT)
    assert app.captured["Result"] == "success"


# -- the caller stops or goes quiet -----------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "keys"),
    [
        ([], "*"),
        ([], "4242*"),
        ([VISA], "*"),
        ([VISA, "1230"], "*"),
        ([VISA, "1230", "737"], "9*"),
    ],
)
def test_star_cancels_the_payment_from_any_field(before: list[str], keys: str) -> None:
    call, app = dial(card_pay())
    enter(call, *before)

    call.press(keys)

    assert app.captured["Result"] == "caller-interrupted-with-star"
    assert "PaymentToken" not in app.captured
    assert call.heard[-1] == "Payment result: caller-interrupted-with-star."


@pytest.mark.parametrize(
    ("pay", "before"),
    [
        (card_pay(), []),
        (card_pay(), [VISA]),
        (card_pay(), [VISA, "1230"]),
        (card_pay(), [VISA, "1230", "737"]),
        (bank_pay(), []),
        (bank_pay(), [ROUTING]),
    ],
)
def test_a_field_left_silent_times_out_is_asked_again_and_then_given_up(
    pay: Callable[[], VoiceResponse], before: list[str]
) -> None:
    call, app = dial(pay)
    enter(call, *before)
    first = field_of(call)
    rows = BANK_PROMPTS if first.field.startswith("bank") else CARD_PROMPTS

    call.silence()

    second = field_of(call)
    assert (second.field, second.attempt, second.error_type) == (first.field, 2, "timeout")
    assert second.prompt_started == pytest.approx(first.prompt_ended + 10)
    assert call.heard_since_input == [words(rows, first.field, "timeout")]

    call.silence()
    call.silence()
    assert app.captured["Result"] == "too-many-failed-attempts"
    assert app.captured["PaymentError"] == "input-timeout"


def test_keys_that_come_after_the_timeout_land_on_the_next_attempt() -> None:
    call, _ = dial(card_pay())

    call.press(VISA + "#", delay=12)

    asked = [(p.step, p.attempt, p.error_type) for p in call.pay_prompts]
    assert asked == [(CARD, 1, None), (CARD, 2, "timeout"), (EXPIRY, 1, None)]
    assert field_of(call).field == EXPIRY


def test_digits_without_a_pound_are_checked_once_the_timeout_passes() -> None:
    call, _ = dial(card_pay())
    card = field_of(call)

    call.press(VISA, delay=1.0)

    expiry = field_of(call)
    assert expiry.field == EXPIRY
    assert expiry.prompt_started == pytest.approx(card.prompt_ended + 1.0 + 16 * 0.3 + 10)


def test_keys_typed_past_a_pound_go_into_the_next_field() -> None:
    call, _ = dial(card_pay())

    call.press(f"{VISA}#1230#")

    assert field_of(call).field == CVC


def test_prompts_take_speaking_time_and_each_key_a_third_of_a_second() -> None:
    call, _ = dial(card_pay())
    card = field_of(call)
    # "Please enter your card number, then press pound." is 8 words at 150 a minute.
    assert (card.prompt_started, card.prompt_ended) == (0.0, pytest.approx(3.2))

    call.press(VISA + "#", delay=1.0)

    assert field_of(call).prompt_started == pytest.approx(3.2 + 1.0 + 17 * 0.3)


def test_hanging_up_mid_pay_reports_caller_hung_up_then_the_status_callback() -> None:
    call, app = dial(card_pay())
    enter(call, VISA)

    call.hang_up()

    assert [turn.path for turn in call.transcript][-2:] == ["/voice/pay/captured", "/voice/status"]
    assert app.captured["Result"] == "caller-hung-up"
    assert app.captured["CallStatus"] == "completed"
    assert app.captured["PaymentCardNumber"] == "xxxxxxxxxxxx4242"
    assert "PaymentToken" not in app.captured
    # The call is over: the action's answer is not played.
    assert "Payment result: caller-hung-up." not in call.heard
    assert call.end_reason == "caller-hung-up"
    assert_never_posted(call, VISA)


# -- the connector ------------------------------------------------------------------------------


def test_a_connector_that_is_down_gives_payment_connector_error() -> None:
    call, app = dial(card_pay())
    call.pay_connector_down = True

    call.pay_card(VISA)

    assert app.captured["Result"] == "payment-connector-error"
    assert app.captured["ConnectorError"]
    assert "PaymentToken" not in app.captured
    assert words(CARD_PROMPTS, PROCESSING) in call.heard


def test_a_card_the_sandbox_will_not_tokenize_gives_payment_connector_error() -> None:
    # Twilio takes a JCB card the app lists as valid; the sandbox only knows four brands.
    call, app = dial(card_pay(valid_card_types="visa jcb"))

    call.pay_card(JCB)

    assert app.captured["Result"] == "payment-connector-error"
    assert app.captured["ConnectorError"] == "invalid-card-type"
    assert app.captured["PayErrorCode"] == "64010"
    assert app.captured["PaymentCardType"] == "jcb"


def test_a_charge_amount_is_refused_by_the_tokenize_only_sandbox() -> None:
    call, app = dial(card_pay(charge_amount="20.45"))

    call.pay_card(VISA)

    assert app.captured["Result"] == "payment-connector-error"
    assert app.captured["PayErrorCode"] == "64007"


# -- the TwiML ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pay", "complaint"),
    [
        (card_pay(max_attempts=5), "maxAttempts='5'"),
        (card_pay(charge_amount="-0.5"), "chargeAmount='-0.5'"),
        (card_pay(min_postal_code_length=0), "minPostalCodeLength='0'"),
        (bank_pay(language="es-US"), "language='es-US'"),
    ],
)
def test_an_invalid_pay_attribute_posts_validation_error_without_asking_anything(
    pay: Callable[[], VoiceResponse], complaint: str
) -> None:
    call, app = dial(pay)

    assert app.captured["Result"] == "validation-error"
    assert complaint in app.captured["PaymentError"]
    assert call.pay_prompts == []


def test_without_prompts_from_the_app_twilios_built_in_ones_play_and_are_marked() -> None:
    call, app = dial(pay_with([(CARD, None, None, None, "Your card number, please.")]))

    enter(call, VISA, "1330")

    built_in = [(p.step, p.error_type) for p in call.pay_prompts if p.built_in]
    assert built_in == [(EXPIRY, None), (EXPIRY, "invalid-date")]
    assert call.heard[0] == "Your card number, please."
    assert "expiration date" in call.heard[1]
    assert call.pay_prompts[-1].text == call.heard[-1]


def test_a_prompt_written_for_later_attempts_plays_on_a_retry() -> None:
    pay = pay_with(
        [(CARD, None, None, None, "Card number, please.")],
        prompt_saying("Expiry, please.", for_=EXPIRY, attempt="1"),
        prompt_saying("Expiry again: 0 7 2 9 for July.", for_=EXPIRY, attempt="2 3"),
    )

    call, _ = dial(pay)
    enter(call, VISA, "1330")

    assert call.heard[1:] == ["Expiry, please.", "Expiry again: 0 7 2 9 for July."]
    assert not call.pay_prompts[2].built_in


def test_the_status_callback_follows_each_step_without_the_digits() -> None:
    call, app = dial(card_pay(status_callback="/voice/pay/progress"))

    enter(call, "4242424242424241")
    call.pay_card(VISA)

    progress = app.posted("/voice/pay/progress")
    steps = [(p.get("For"), p.get("Attempt"), p.get("ErrorType")) for p in progress[:-1]]
    assert steps == [
        (CARD, "1", None),
        (CARD, "2", "invalid-card-number"),
        (EXPIRY, "1", None),
        (CVC, "1", None),
        (ZIP, "1", None),
        (PROCESSING, None, None),
    ]
    assert progress[-1]["Result"] == "success"
    assert progress[2]["PaymentCardNumber"] == "xxxxxxxxxxxx4242"
    assert all(p["CallSid"] == call.call_sid for p in progress)
    assert_never_posted(call, VISA, "123")


def test_pay_twiml_is_read_with_twilios_defaults() -> None:
    (pay,) = parse_twiml('<Response><Pay paymentConnector="sandbox"/></Response>')

    assert pay == PayVerb(payment_connector="sandbox")
    assert isinstance(pay, PayVerb)
    assert (pay.payment_method, pay.timeout, pay.max_attempts) == ("credit-card", 5, 2)
    assert (pay.security_code, pay.postal_code, pay.token_type) == (True, True, "reusable")
    assert pay.valid_card_types == ("visa", "mastercard", "amex")
    assert (pay.language, pay.currency, pay.input) == ("en-US", "usd", "dtmf")
    assert pay.bank_account_type == "consumer-checking"
    assert pay.action is None and pay.problems == ()


def test_pay_twiml_reads_prompt_lists_and_a_postal_code_given_as_a_value() -> None:
    (pay,) = parse_twiml(
        '<Response><Pay paymentConnector="sandbox" postalCode="94612">'
        '<Prompt for="security-code" errorType="timeout invalid-security-code" attempt="2 3"'
        ' cardType="visa amex"><Say>Again.</Say><Pause length="1"/></Prompt>'
        '<Parameter name="region" value="ncal"/></Pay></Response>'
    )

    assert isinstance(pay, PayVerb)
    assert pay.postal_code == "94612"
    (prompt,) = pay.prompts
    assert prompt.error_types == ("timeout", "invalid-security-code")
    assert prompt.attempts == (2, 3)
    assert prompt.card_types == ("visa", "amex")
    assert len(prompt.children) == 2
    assert pay.parameters == (("region", "ncal"),)


def test_a_postal_code_given_in_the_twiml_is_posted_without_asking() -> None:
    call, app = dial(card_pay(postal_code="94612"))

    call.pay_card(VISA, postal="00000")

    assert ZIP not in [p.step for p in call.pay_prompts]
    assert app.captured["PaymentCardPostalCode"] == "94612"


@pytest.mark.parametrize(
    ("pay", "complaint"),
    [
        ("<Pay/>", "<Pay> has none, so 'Default'"),
        ('<Pay paymentConnector="Stripe_1"/>', "'Stripe_1'"),
        ('<Pay paymentConnector="sandbox"><Say>Hi</Say></Pay>', "not <Say>"),
        ('<Pay paymentConnector="sandbox"><Prompt for="card"/></Pay>', "<Prompt for='card'>"),
        (
            '<Pay paymentConnector="sandbox"><Prompt for="postal-code" errorType="input-timeout"/>'
            "</Pay>",
            'errorType="timeout"',
        ),
        (
            '<Pay paymentConnector="sandbox"><Prompt for="postal-code" attempt="0"/></Pay>',
            "attempt='0'",
        ),
        (
            '<Pay paymentConnector="sandbox"><Prompt for="security-code" cardType="visa-x"/></Pay>',
            "cardType",
        ),
        (
            '<Pay paymentConnector="sandbox"><Prompt for="postal-code"><Gather/></Prompt></Pay>',
            "not <Gather>",
        ),
    ],
)
def test_pay_twiml_twilio_would_refuse_raises_a_clear_error(pay: str, complaint: str) -> None:
    with pytest.raises(TwimlError, match=re.escape(complaint)):
        parse_twiml(f"<Response>{pay}</Response>")


def test_pay_card_needs_a_pay_waiting_on_a_live_call() -> None:
    def gather() -> VoiceResponse:
        response = VoiceResponse()
        response.gather(action="/voice/pay/captured").say("Press 1 to pay.")
        return response

    menu, _ = dial(gather)
    with pytest.raises(SimError, match="pay_card needs a <Pay> waiting"):
        menu.pay_card(VISA)

    paid, _ = dial(card_pay())
    paid.pay_card(VISA)
    with pytest.raises(CallEnded):
        paid.pay_bank(ROUTING, ACCOUNT)
