"""Capture a new card or bank account with Twilio <Pay>: the digits never reach this app.

<Pay> tokenizes (chargeAmount 0, a reusable token) and posts back the token with
the masked number; the charge itself is made later by the billing core, once.
Every field and error has the app's own prompt, so the caller hears the line's
voice and language throughout (Twilio's built-in bank prompts are English only).

More than one flow captures methods (a payment, automatic payments): each has its own
entry steps here, keeps what is captured in its own draft, and binds its own exits.
The draft whose `capturing` is set is the flow a capture returns to.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from flask import Blueprint
from twilio.twiml.voice_response import Parameter, Pay, Say, VoiceResponse
from twilio.twiml.voice_response import Prompt as PayPrompt

from billing_core.domain.payments import looks_like_card_number
from ivr.call_state import CallState, Method
from ivr.kernel import (
    Exit,
    Step,
    Turn,
    answered,
    ask,
    bind_prompt,
    done,
    global_key,
    go,
    no_answer,
    retry,
    step,
)
from ivr.prompts import Prompt

bp = Blueprint("capture", __name__, url_prefix="/voice/pay/capture")
log = logging.getLogger(__name__)


class Capturing(Protocol):
    """The part of a flow's draft a capture fills: what is being captured, and the method."""

    capturing: str | None
    account_type: str | None
    method: Method | None


@dataclass(frozen=True)
class Returns:
    """A flow that captures methods: its draft, whether it still wants one, and its exits.

    captured: the method is in the draft. choose_method: <Pay> ended without one (the
    reason is said first). start_over: the flow's draft no longer wants a method.
    """

    name: str
    draft: Callable[[CallState], Capturing]
    ready: Callable[[CallState], bool]
    captured: Exit
    choose_method: Exit
    start_over: Exit


PAYMENT = Returns(
    "payment",
    draft=lambda call: call.pay,
    ready=lambda call: call.pay.amount is not None,
    captured=Exit("payment read-back"),
    choose_method=Exit("payment method"),
    start_over=Exit("what to pay"),
)
AUTOPAY = Returns(
    "automatic payments",
    draft=lambda call: call.autopay,
    ready=lambda call: call.autopay.method_ids is not None,
    captured=Exit("automatic payment terms"),
    choose_method=Exit("automatic payment method"),
    start_over=Exit("automatic payments"),
)
PLAN = Returns(
    "payment plan",
    draft=lambda call: call.plan,
    ready=lambda call: call.plan.method_ids is not None,
    captured=Exit("payment plan terms"),
    choose_method=Exit("payment plan method"),
    start_over=Exit("payment plans"),
)
# The payment's first: a call begun by a release before autopay kept its capture there.
FLOWS = (PAYMENT, AUTOPAY, PLAN)
EXITS = tuple(e for f in FLOWS for e in (f.captured, f.choose_method, f.start_over))
# The payment flow binds these, by the names it had when it was the only one.
CAPTURED, CHOOSE_METHOD, START_OVER = PAYMENT.captured, PAYMENT.choose_method, PAYMENT.start_over

VALID_CARD_TYPES = "visa mastercard amex discover"
ACCOUNT_TYPES = {"1": "consumer-checking", "2": "consumer-savings"}

# Attempts after the first, for <Prompt attempt>: <Pay> allows max_attempts tries a field.
MAX_ATTEMPTS = 3
RETRY_ATTEMPTS = " ".join(str(n) for n in range(2, MAX_ATTEMPTS + 1))


@dataclass(frozen=True)
class Field:
    """What the caller hears for one field <Pay> asks for.

    errors: a prompt per errorType Twilio reports for the field (only Twilio's own
    types: timeout, invalid-card-number, ...). retry: for a field whose mistakes have no
    errorType of their own (a ZIP code, a routing or account number), said at the
    later attempts instead. again: with matching inputs, asking for the number a second time.
    """

    ask: Prompt
    errors: dict[str, Prompt] = field(default_factory=dict)
    retry: Prompt | None = None
    again: Prompt | None = None


CARD_FIELDS = {
    "payment-card-number": Field(
        Prompt.CARD_NUMBER,
        {
            "invalid-card-number": Prompt.PAY_BAD_CARD_NUMBER,
            "invalid-card-type": Prompt.PAY_BAD_CARD_TYPE,
        },
    ),
    "expiration-date": Field(Prompt.CARD_EXPIRY, {"invalid-date": Prompt.PAY_BAD_DATE}),
    "security-code": Field(
        Prompt.CARD_SECURITY_CODE, {"invalid-security-code": Prompt.PAY_BAD_SECURITY_CODE}
    ),
    "postal-code": Field(Prompt.CARD_POSTAL_CODE, retry=Prompt.PAY_BAD_POSTAL_CODE),
}
BANK_FIELDS = {
    "bank-routing-number": Field(
        Prompt.BANK_ROUTING, retry=Prompt.PAY_BAD_ROUTING, again=Prompt.BANK_ROUTING_AGAIN
    ),
    "bank-account-number": Field(
        Prompt.BANK_ACCOUNT, retry=Prompt.PAY_BAD_ACCOUNT, again=Prompt.BANK_ACCOUNT_AGAIN
    ),
}
RESULT_PROMPTS = {
    "caller-interrupted-with-star": Prompt.PAY_CANCELED,
    "too-many-failed-attempts": Prompt.PAY_TOO_MANY_TRIES,
    "payment-connector-error": Prompt.PAY_CONNECTOR_DOWN,
    "validation-error": Prompt.PAY_TOO_MANY_TRIES,
    "internal-error": Prompt.PAY_CONNECTOR_DOWN,
}


# <Pay>'s language for each of the line's, from Twilio's PayLanguage list; every prompt
# here is the app's own <Say>, so this only decides anything Twilio says by itself.
PAY_LANGUAGES = {"en-US": "en-US", "es-US": "es-US"}


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
        action=bind_prompt(turn, captured),
        # A relay operator reads each prompt and types the answer: give them the longest wait.
        timeout=settings["IVR_PAY_RELAY_TIMEOUT"] if turn.relay else settings["IVR_PAY_TIMEOUT"],
        max_attempts=MAX_ATTEMPTS,
        language=pay_language(turn, method),
        **options,
    )
    matching = method == "ach-debit" and settings["IVR_PAY_MATCHING_INPUTS"]
    fields = CARD_FIELDS if method == "credit-card" else BANK_FIELDS
    if options.get("postal_code") is False:
        fields = {name: asked for name, asked in fields.items() if name != "postal-code"}
    for name, asked in fields.items():
        pay.append(_prompt(name, say(asked.ask)))
        if name == "security-code":
            pay.append(_prompt(name, say(Prompt.CARD_SECURITY_CODE_AMEX), card_type="amex"))
        if matching and asked.again is not None:
            # Twilio asks a second time with this prompt and compares the two entries.
            pay.append(_prompt(name, say(asked.again), require_matching_inputs="true"))
            mismatch = [say(Prompt.PAY_NUMBERS_DIFFER), say(asked.ask)]
            pay.append(_prompt(name, *mismatch, error_type="input-matching-failed"))
        errors = {"timeout": Prompt.PAY_TIMEOUT, **asked.errors}
        for error_type, error_prompt in errors.items():
            pay.append(_prompt(name, say(error_prompt), say(asked.ask), error_type=error_type))
        if asked.retry is not None:
            pay.append(_prompt(name, say(asked.retry), say(asked.ask), attempt=RETRY_ATTEMPTS))
    processing = PayPrompt(for_="payment-processing")
    processing.append(say(Prompt.PAY_PROCESSING))
    pay.append(processing)
    return pay


def mark(turn: Turn, returns: Returns, kind: str) -> Capturing:
    """Record that a capture for this flow is under way; any other flow's is abandoned."""
    for flow in FLOWS:
        flow.draft(turn.call).capturing = kind if flow is returns else None
    return returns.draft(turn.call)


def capturing_flow(call: CallState) -> Returns | None:
    """The flow whose capture is under way, or None."""
    return next((flow for flow in FLOWS if flow.draft(call).capturing is not None), None)


def take_card(turn: Turn, returns: Returns) -> VoiceResponse:
    """Let Twilio take the card number, expiry, security code and ZIP."""
    if not returns.ready(turn.call):
        return go(turn, returns.start_over)
    mark(turn, returns, "card")
    response = VoiceResponse()
    response.append(
        pay_verb(
            turn,
            "credit-card",
            valid_card_types=VALID_CARD_TYPES,
            security_code=True,
            # Only where the gateway checks it (address verification): each field costs
            # the caller seconds.
            postal_code=turn.settings["IVR_PAY_POSTAL_CODE"],
        )
    )
    return response


@step(bp, "/card", member=True)
def card(turn: Turn) -> VoiceResponse:
    """Capture a new card for the payment."""
    return take_card(turn, PAYMENT)


@step(bp, "/autopay/card", member=True)
def autopay_card(turn: Turn) -> VoiceResponse:
    """Capture a new card for automatic payments."""
    return take_card(turn, AUTOPAY)


def account_type_question(turn: Turn, returns: Returns) -> VoiceResponse:
    """Ask whether the bank account is checking or savings."""
    if not returns.ready(turn.call):
        return go(turn, returns.start_over)
    mark(turn, returns, "bank").account_type = None
    return ask(turn, [turn.say(Prompt.ASK_ACCOUNT_TYPE)], account_type_answer, num_digits=1)


@step(bp, "/account-type", member=True)
def ask_account_type(turn: Turn) -> VoiceResponse:
    """Ask the type of a new bank account for the payment."""
    return account_type_question(turn, PAYMENT)


@step(bp, "/autopay/account-type", member=True)
def autopay_account_type(turn: Turn) -> VoiceResponse:
    """Ask the type of a new bank account for automatic payments."""
    return account_type_question(turn, AUTOPAY)


@step(bp, "/plan/card", member=True)
def plan_card(turn: Turn) -> VoiceResponse:
    """Capture a new card for a payment plan."""
    return take_card(turn, PLAN)


@step(bp, "/plan/account-type", member=True)
def plan_account_type(turn: Turn) -> VoiceResponse:
    """Ask the type of a new bank account for a payment plan."""
    return account_type_question(turn, PLAN)


def asking_account_type(returns: Returns) -> Step:
    if returns is PLAN:
        return plan_account_type
    return autopay_account_type if returns is AUTOPAY else ask_account_type


@step(bp, "/account-type/answer", member=True, answer=True)
def account_type_answer(turn: Turn) -> VoiceResponse:
    """Capture the bank account of the type chosen."""
    returns = capturing_flow(turn.call) or PAYMENT
    asked = asking_account_type(returns)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "account_type", asked)
    if digits not in ACCOUNT_TYPES:
        return global_key(turn, digits, asked) or retry(
            turn, "account_type", asked, Prompt.NOT_A_CHOICE
        )
    done(turn, "account_type")
    if not returns.ready(turn.call):
        return go(turn, returns.start_over)
    draft = mark(turn, returns, "bank")
    draft.account_type = ACCOUNT_TYPES[digits]
    response = VoiceResponse()
    pay = pay_verb(turn, "ach-debit", bank_account_type=ACCOUNT_TYPES[digits])
    for parameter in ach_parameters(turn.settings):
        pay.append(parameter)
    response.append(pay)
    return response


@step(
    bp,
    "/captured",
    member=True,
    answer=True,
    legacy=lambda state: state.pay.capturing is not None,
)
def captured(turn: Turn) -> VoiceResponse:
    """Keep the token and the last 4 digits; anything else gets its next step."""
    form = turn.form
    result = form.get("Result", "")
    returns = capturing_flow(turn.call) or PAYMENT
    draft = returns.draft(turn.call)
    kind, draft.capturing = draft.capturing, None
    if result == "caller-hung-up":
        turn.call.ended = True
        return VoiceResponse()
    token = form.get("PaymentToken", "")
    profile = form.get("ProfileId", "")
    if looks_like_card_number(token) or looks_like_card_number(profile):
        # A connector set up wrong could hand back the card itself: it is never kept.
        log.warning("call %s: <Pay> gave a token shaped like a card number", turn.call.call_sid)
        token, result = "", "payment-connector-error"
    if token and profile:
        # Connectors that keep a customer (Stripe's) need it to charge the token later.
        token = f"{profile}/{token}"
    if result != "success" or not token or kind is None:
        log.info("call %s: <Pay> ended with %s", turn.call.call_sid, result or "no result")
        reason = turn.say(RESULT_PROMPTS.get(result, Prompt.PAY_CONNECTOR_DOWN))
        if not returns.ready(turn.call):
            return go(turn, returns.start_over, reason)
        return go(turn, returns.choose_method, reason)
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
    return go(turn, returns.captured)


def _prompt(name: str, *says: Say, **attributes: str) -> PayPrompt:
    prompt = PayPrompt(for_=name, **attributes)
    for said in says:
        prompt.append(said)
    return prompt


def ach_parameters(settings) -> list[Parameter]:
    """The <Parameter>s the Pay Connector needs for a bank debit (IVR_PAY_ACH_PARAMETERS)."""
    raw = settings["IVR_PAY_ACH_PARAMETERS"]
    try:
        values = json.loads(raw) if raw else {}
    except ValueError:
        values = None
    if not isinstance(values, dict):
        raise RuntimeError('IVR_PAY_ACH_PARAMETERS must be a JSON object: {"name": "value"}')
    return [Parameter(name=name, value=str(value)) for name, value in values.items()]


def last_four(masked: str) -> str:
    """Return the last 4 digits of a masked number such as xxxxxxxxxxxx4242."""
    digits = re.sub(r"\D", "", masked)
    return digits[-4:]
