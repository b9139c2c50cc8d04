"""Capture a new card or bank account with Twilio <Pay>: the digits never reach this app.

<Pay> tokenizes (chargeAmount 0, a reusable token) and posts back the token with
the masked number; the charge itself is made later by the billing core, once.
Every field and error has the app's own prompt, so the caller hears the line's
voice and language throughout (Twilio's built-in bank prompts are English only).
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, url_for
from twilio.twiml.voice_response import Pay, VoiceResponse
from twilio.twiml.voice_response import Prompt as PayPrompt

from ivr.call_state import Method
from ivr.kernel import (
    Exit,
    Turn,
    answered,
    ask,
    done,
    endpoint_of,
    global_key,
    go,
    no_answer,
    retry,
    step,
)
from ivr.prompts import Prompt

bp = Blueprint("capture", __name__, url_prefix="/voice/pay/capture")
log = logging.getLogger(__name__)

# Where a capture returns to in the payment flow, which binds them.
CAPTURED = Exit("payment read-back")
CHOOSE_METHOD = Exit("payment method")
START_OVER = Exit("what to pay")

VALID_CARD_TYPES = "visa mastercard amex discover"
ACCOUNT_TYPES = {"1": "consumer-checking", "2": "consumer-savings"}

# For each field <Pay> asks: the prompt, and the prompt for each error Twilio reports.
CARD_FIELDS = {
    "payment-card-number": (
        Prompt.CARD_NUMBER,
        {
            "invalid-card-number": Prompt.PAY_BAD_CARD_NUMBER,
            "invalid-card-type": Prompt.PAY_BAD_CARD_TYPE,
        },
    ),
    "expiration-date": (Prompt.CARD_EXPIRY, {"invalid-date": Prompt.PAY_BAD_DATE}),
    "security-code": (
        Prompt.CARD_SECURITY_CODE,
        {
            "invalid-security-code": Prompt.PAY_BAD_SECURITY_CODE,
        },
    ),
    "postal-code": (Prompt.CARD_POSTAL_CODE, {"invalid-postal-code": Prompt.PAY_BAD_POSTAL_CODE}),
}
BANK_FIELDS = {
    "bank-routing-number": (
        Prompt.BANK_ROUTING,
        {
            "invalid-bank-routing-number": Prompt.PAY_BAD_ROUTING,
        },
    ),
    "bank-account-number": (
        Prompt.BANK_ACCOUNT,
        {
            "invalid-bank-account-number": Prompt.PAY_BAD_ACCOUNT,
        },
    ),
}
RESULT_PROMPTS = {
    "caller-interrupted-with-star": Prompt.PAY_CANCELED,
    "too-many-failed-attempts": Prompt.PAY_TOO_MANY_TRIES,
    "payment-connector-error": Prompt.PAY_CONNECTOR_DOWN,
    "validation-error": Prompt.PAY_TOO_MANY_TRIES,
    "internal-error": Prompt.PAY_CONNECTOR_DOWN,
}


# Languages Twilio's own <Pay> speech supports; every prompt here is the app's own <Say>,
# so this only decides the language of anything Twilio says by itself.
PAY_LANGUAGES = {"en-US": "en-US", "es-US": "es-MX"}


def pay_language(turn: Turn, method: str) -> str:
    """Return the <Pay> language: bank capture is English-only at Twilio."""
    if method == "ach-debit":
        return "en-US"
    return PAY_LANGUAGES.get(turn.voice.language.twilio_language, "en-US")


def pay_verb(turn: Turn, method: str, **options) -> Pay:
    """Build the <Pay> that tokenizes a card or bank account with our prompts."""
    settings = turn.settings
    say = turn.say
    pay = Pay(
        payment_connector=settings["IVR_PAY_CONNECTOR"],
        payment_method=method,
        charge_amount="0",
        token_type="reusable",
        action=url_for(endpoint_of(captured)),
        # A relay operator reads each prompt and types the answer: give them the longest wait.
        timeout=settings["IVR_PAY_RELAY_TIMEOUT"] if turn.relay else settings["IVR_PAY_TIMEOUT"],
        max_attempts=3,
        language=pay_language(turn, method),
        **options,
    )
    fields = CARD_FIELDS if method == "credit-card" else BANK_FIELDS
    for field, (ask_prompt, errors) in fields.items():
        prompt = PayPrompt(for_=field)
        prompt.append(say(ask_prompt))
        pay.append(prompt)
        if field == "security-code":
            amex = PayPrompt(for_=field, card_type="amex")
            amex.append(say(Prompt.CARD_SECURITY_CODE_AMEX))
            pay.append(amex)
        for error_type, error_prompt in {"timeout": Prompt.PAY_TIMEOUT, **errors}.items():
            prompt = PayPrompt(for_=field, error_type=error_type)
            prompt.append(say(error_prompt))
            prompt.append(say(ask_prompt))
            pay.append(prompt)
    processing = PayPrompt(for_="payment-processing")
    processing.append(say(Prompt.PAY_PROCESSING))
    pay.append(processing)
    return pay


@step(bp, "/card", member=True)
def card(turn: Turn) -> VoiceResponse:
    """Let Twilio take the card number, expiry, security code and ZIP."""
    draft = turn.call.pay
    if draft.amount is None:
        return go(turn, START_OVER)
    draft.capturing = "card"
    response = VoiceResponse()
    response.append(
        pay_verb(
            turn,
            "credit-card",
            valid_card_types=VALID_CARD_TYPES,
            security_code=True,
            postal_code=True,
        )
    )
    return response


@step(bp, "/account-type", member=True)
def ask_account_type(turn: Turn) -> VoiceResponse:
    """Ask whether the bank account is checking or savings."""
    return ask(turn, [turn.say(Prompt.ASK_ACCOUNT_TYPE)], account_type_answer, num_digits=1)


@step(bp, "/account-type/answer", member=True)
def account_type_answer(turn: Turn) -> VoiceResponse:
    """Capture the bank account of the type chosen."""
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "account_type", ask_account_type)
    if digits not in ACCOUNT_TYPES:
        return global_key(turn, digits, ask_account_type) or retry(
            turn, "account_type", ask_account_type, Prompt.NOT_A_CHOICE
        )
    done(turn, "account_type")
    draft = turn.call.pay
    if draft.amount is None:
        return go(turn, START_OVER)
    draft.capturing = "bank"
    draft.account_type = ACCOUNT_TYPES[digits]
    response = VoiceResponse()
    response.append(pay_verb(turn, "ach-debit", bank_account_type=ACCOUNT_TYPES[digits]))
    return response


@step(bp, "/captured", member=True)
def captured(turn: Turn) -> VoiceResponse:
    """Keep the token and the last 4 digits; anything else gets its next step."""
    form = turn.form
    result = form.get("Result", "")
    draft = turn.call.pay
    kind, draft.capturing = draft.capturing, None
    if result == "caller-hung-up":
        turn.call.ended = True
        return VoiceResponse()
    token = form.get("PaymentToken", "")
    profile = form.get("ProfileId", "")
    if token and profile:
        # Connectors that keep a customer (Stripe's) need it to charge the token later.
        token = f"{profile}/{token}"
    if result != "success" or not token or kind is None:
        log.info("call %s: <Pay> ended with %s", turn.call.call_sid, result or "no result")
        reason = turn.say(RESULT_PROMPTS.get(result, Prompt.PAY_CONNECTOR_DOWN))
        if draft.amount is None:
            return go(turn, START_OVER, reason)
        return go(turn, CHOOSE_METHOD, reason)
    if kind == "card":
        draft.method = Method(
            kind="card",
            token=token,
            last4=last_four(form.get("PaymentCardNumber", "")),
            brand=form.get("PaymentCardType", "") or None,
            exp=form.get("ExpirationDate", "")[:4] or None,
        )
    else:
        account_type, draft.account_type = draft.account_type, None
        draft.method = Method(
            kind="bank",
            token=token,
            last4=last_four(form.get("BankAccountNumber", "")),
            account_type=account_type or "consumer-checking",
        )
    return go(turn, CAPTURED)


def last_four(masked: str) -> str:
    """Return the last 4 digits of a masked number such as xxxxxxxxxxxx4242."""
    digits = re.sub(r"\D", "", masked)
    return digits[-4:]
