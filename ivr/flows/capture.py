"""Capture a new card or bank account with Twilio <Pay>: the digits never reach this app.

<Pay> tokenizes (chargeAmount 0, a reusable token) and posts back the token with
the masked number; the charge itself is made later by the billing core, once.
Every field and error has the app's own prompt, so the caller hears the line's
voice and language throughout (Twilio's built-in bank prompts are English only).
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, current_app, request, url_for
from twilio.twiml.voice_response import Pay, VoiceResponse
from twilio.twiml.voice_response import Prompt as PayPrompt

from ivr.calls import call, voice
from ivr.flows.identified import member_required
from ivr.flows.pay import payment
from ivr.flows.steps import answered, ask, done, global_key, go, no_answer, retry
from ivr.prompts import Prompt
from ivr.twiml import twiml

bp = Blueprint("capture", __name__, url_prefix="/voice/pay/capture")
log = logging.getLogger(__name__)

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


def pay_language(method: str) -> str:
    """Return the <Pay> language: bank capture is English-only at Twilio."""
    if method == "ach-debit":
        return "en-US"
    return PAY_LANGUAGES.get(voice().language.twilio_language, "en-US")


def pay_verb(method: str, **options) -> Pay:
    """Build the <Pay> that tokenizes a card or bank account with our prompts."""
    config = current_app.config
    pay = Pay(
        payment_connector=config["IVR_PAY_CONNECTOR"],
        payment_method=method,
        charge_amount="0",
        token_type="reusable",
        action=url_for("capture.captured"),
        # A relay operator reads each prompt and types the answer: give them the longest wait.
        timeout=config["IVR_PAY_RELAY_TIMEOUT"]
        if call().get("relay")
        else config["IVR_PAY_TIMEOUT"],
        max_attempts=3,
        language=pay_language(method),
        **options,
    )
    fields = CARD_FIELDS if method == "credit-card" else BANK_FIELDS
    for field, (ask_prompt, errors) in fields.items():
        prompt = PayPrompt(for_=field)
        prompt.append(voice().say(ask_prompt))
        pay.append(prompt)
        if field == "security-code":
            amex = PayPrompt(for_=field, card_type="amex")
            amex.append(voice().say(Prompt.CARD_SECURITY_CODE_AMEX))
            pay.append(amex)
        for error_type, error_prompt in {"timeout": Prompt.PAY_TIMEOUT, **errors}.items():
            prompt = PayPrompt(for_=field, error_type=error_type)
            prompt.append(voice().say(error_prompt))
            prompt.append(voice().say(ask_prompt))
            pay.append(prompt)
    processing = PayPrompt(for_="payment-processing")
    processing.append(voice().say(Prompt.PAY_PROCESSING))
    pay.append(processing)
    return pay


@bp.post("/card")
@member_required
def card():
    """Let Twilio take the card number, expiry, security code and ZIP."""
    if "amount" not in payment():
        return go("pay.choose_target")
    payment()["capturing"] = "card"
    response = VoiceResponse()
    response.append(
        pay_verb(
            "credit-card", valid_card_types=VALID_CARD_TYPES, security_code=True, postal_code=True
        )
    )
    return twiml(response)


@bp.post("/account-type")
@member_required
def ask_account_type():
    """Ask whether the bank account is checking or savings."""
    return ask([voice().say(Prompt.ASK_ACCOUNT_TYPE)], "capture.account_type_answer", num_digits=1)


@bp.post("/account-type/answer")
@member_required
def account_type_answer():
    """Capture the bank account of the type chosen."""
    digits = answered()
    if not digits:
        return no_answer("account_type", "capture.ask_account_type")
    if digits not in ACCOUNT_TYPES:
        return global_key(digits, "capture.ask_account_type") or retry(
            "account_type", "capture.ask_account_type", Prompt.NOT_A_CHOICE
        )
    done("account_type")
    if "amount" not in payment():
        return go("pay.choose_target")
    payment()["capturing"] = "bank"
    payment()["account_type"] = ACCOUNT_TYPES[digits]
    response = VoiceResponse()
    response.append(pay_verb("ach-debit", bank_account_type=ACCOUNT_TYPES[digits]))
    return twiml(response)


@bp.post("/captured")
@member_required
def captured():
    """Keep the token and the last 4 digits; anything else gets its next step."""
    result = request.form.get("Result", "")
    state = payment()
    kind = state.pop("capturing", None)
    if result == "caller-hung-up":
        call().ended = True
        return twiml(VoiceResponse())
    token = request.form.get("PaymentToken", "")
    profile = request.form.get("ProfileId", "")
    if token and profile:
        # Connectors that keep a customer (Stripe's) need it to charge the token later.
        token = f"{profile}/{token}"
    if result != "success" or not token or kind is None:
        log.info("call %s: <Pay> ended with %s", call().call_sid, result or "no result")
        reason = RESULT_PROMPTS.get(result, Prompt.PAY_CONNECTOR_DOWN)
        if "amount" not in state:
            return go("pay.choose_target", voice().say(reason))
        return go("pay.choose_method", voice().say(reason))
    if kind == "card":
        masked = request.form.get("PaymentCardNumber", "")
        state["method"] = {
            "kind": "card",
            "token": token,
            "last4": last_four(masked),
            "brand": request.form.get("PaymentCardType", "") or None,
            "exp": request.form.get("ExpirationDate", "")[:4] or None,
        }
    else:
        masked = request.form.get("BankAccountNumber", "")
        state["method"] = {
            "kind": "bank",
            "token": token,
            "last4": last_four(masked),
            "account_type": state.pop("account_type", "consumer-checking"),
        }
    return go("pay.confirm")


def last_four(masked: str) -> str:
    """Return the last 4 digits of a masked number such as xxxxxxxxxxxx4242."""
    digits = re.sub(r"\D", "", masked)
    return digits[-4:]
