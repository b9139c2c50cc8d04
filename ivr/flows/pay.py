"""Pay: what to pay, how much, with what; read back, confirm, charge once, confirmation number.

Card and bank digits are captured by Twilio <Pay> (see ivr/flows/capture.py), which
hands back only a token; the billing core charges the token exactly once under an
idempotency key that this flow fixes before the caller confirms.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from typing import Any

from flask import Blueprint, request
from twilio.twiml.voice_response import Say

from billing_core.domain.payments import (
    AchAuthorization,
    AmountNotAllowed,
    PaymentError,
    PaymentStatus,
    PaymentTarget,
    TargetKind,
)
from billing_core.services.accounts import AccountSummary
from billing_core.services.payments import PaymentRequest
from ivr.calls import billing, call, region, voice
from ivr.flows.identified import member_required
from ivr.flows.steps import (
    answered,
    ask,
    done,
    global_key,
    go,
    no_answer,
    retry,
)
from ivr.prompts import Prompt
from ivr.speech import Day, Digits, Fragment, Money, PhoneNumber

bp = Blueprint("pay", __name__, url_prefix="/voice/pay")
log = logging.getLogger(__name__)

MAX_AMOUNT_DIGITS = 7  # dollars: no member owes ten million
DECLINE_PROMPTS = {
    "insufficient_funds": Prompt.DECLINED_FUNDS,
    "expired_card": Prompt.DECLINED_EXPIRED,
    "incorrect_cvc": Prompt.DECLINED_CVC,
    "account_closed": Prompt.DECLINED_ACCOUNT,
    "no_account": Prompt.DECLINED_ACCOUNT,
    "processing_error": Prompt.DECLINED_PROCESSING,
}


def payment() -> dict[str, Any]:
    """The payment being put together in this call (plain values only: no card data)."""
    return call().setdefault("pay", {})


def target_of(state: dict[str, Any]) -> PaymentTarget:
    chosen = state["target"]
    return PaymentTarget(TargetKind(chosen["kind"]), chosen.get("bill_number"))


def payable_targets(summary: AccountSummary) -> list[dict[str, Any]]:
    """Return what the member can pay now, in the order the options are offered."""
    targets: list[dict[str, Any]] = []
    # Keys 7, 8 and 9 keep their meaning (relay, Spanish, main menu): at most 4 bills one by one.
    for bill in summary.bills[:4]:
        targets.append(
            {
                "kind": "bill",
                "bill_number": bill.bill_number,
                "date_of_service": bill.date_of_service.isoformat(),
                "facility": bill.facility,
                "balance": bill.balance_cents,
            }
        )
    if len(summary.bills) > 1:
        targets.append({"kind": "all_bills", "balance": summary.medical_balance_cents})
    if summary.pays_premium_here and summary.premium_balance_cents > 0:
        targets.append({"kind": "premium", "balance": summary.premium_balance_cents})
    return targets


def target_phrase(chosen: dict[str, Any]) -> Fragment:
    if chosen["kind"] == "bill":
        return Fragment(
            Prompt.PAYING_BILL,
            {
                "date_of_service": Day(date.fromisoformat(chosen["date_of_service"])),
                "facility": chosen["facility"],
            },
        )
    if chosen["kind"] == "all_bills":
        return Fragment(Prompt.PAYING_ALL_BILLS)
    return Fragment(Prompt.PAYING_PREMIUM)


@bp.post("")
@member_required
def choose_target():
    """Offer each bill, all bills and the premium; with one choice, go straight on."""
    summary = billing().account_summary(call().member_id, channel="phone", call_sid=call().call_sid)
    targets = payable_targets(summary)
    if not targets:
        return go("menu.main", voice().say(Prompt.NOTHING_TO_PAY))
    call()["pay"] = {"targets": targets}
    if len(targets) == 1:
        payment()["target"] = targets[0]
        return go("pay.choose_amount")
    return ask(target_options(targets), "pay.target_answer", num_digits=1)


def target_options(targets: list[dict[str, Any]]) -> list[Say]:
    say = voice().say
    options = []
    for key, chosen in enumerate(targets, start=1):
        balance = Money(chosen["balance"])
        if chosen["kind"] == "bill":
            options.append(
                say(
                    Prompt.PAY_WHICH_BILL,
                    date_of_service=Day(date.fromisoformat(chosen["date_of_service"])),
                    facility=chosen["facility"],
                    balance=balance,
                    key=str(key),
                )
            )
        elif chosen["kind"] == "all_bills":
            options.append(say(Prompt.PAY_ALL_BILLS, total=balance, key=str(key)))
        else:
            options.append(say(Prompt.PAY_PREMIUM, balance=balance, key=str(key)))
    return options


@bp.post("/target")
@member_required
def target_answer():
    """Take the choice of what to pay."""
    targets = payment().get("targets")
    if not targets:
        return go("pay.choose_target")
    digits = answered()
    if not digits:
        return no_answer("pay_target", "pay.choose_target")
    if digits.isdigit() and 1 <= int(digits) <= len(targets):
        done("pay_target")
        payment()["target"] = targets[int(digits) - 1]
        return go("pay.choose_amount")
    return global_key(digits, "pay.choose_target") or retry(
        "pay_target", "pay.choose_target", Prompt.NOT_A_CHOICE
    )


def payable_now() -> tuple[int, int]:
    """Return what can be paid on the chosen target now, and what other payments hold."""
    quote = billing().quote(call().member_id, target_of(payment()))
    return quote.payable_cents, quote.held_cents


@bp.post("/amount")
@member_required
def choose_amount():
    """Offer the full balance or another amount."""
    if "target" not in payment():
        return go("pay.choose_target")
    payable, held = payable_now()
    if payable <= 0:
        return go("menu.main", voice().say(Prompt.NOTHING_TO_PAY))
    say = voice().say
    lead = []
    if held:
        # Only when another payment holds part of it does the caller need the whole story.
        lead = [
            say(Prompt.AMOUNT_DUE, amount=Money(payable + held)),
            say(Prompt.AMOUNT_HELD, amount=Money(held)),
        ]
    options = [say(Prompt.PAY_FULL, amount=Money(payable)), say(Prompt.PAY_OTHER)]
    return ask(options, "pay.amount_answer", num_digits=1, lead=lead)


@bp.post("/amount/answer")
@member_required
def amount_answer():
    """Take the full balance, or go on to key in another amount."""
    digits = answered()
    if not digits:
        return no_answer("pay_amount", "pay.choose_amount")
    if digits == "1":
        done("pay_amount")
        payable, _held = payable_now()
        payment()["amount"] = payable
        return go("pay.choose_method")
    if digits == "2":
        done("pay_amount")
        return go("pay.ask_other_amount")
    return global_key(digits, "pay.choose_amount") or retry(
        "pay_amount", "pay.choose_amount", Prompt.NOT_A_CHOICE
    )


@bp.post("/amount/other")
@member_required
def ask_other_amount():
    """Ask for an amount as dollars, star, cents."""
    prompts = [
        voice().say(Prompt.ASK_AMOUNT),
        voice().say(Prompt.AMOUNT_EXAMPLE, example=Money(2550), keys=Digits("25*50#")),
    ]
    return ask(prompts, "pay.other_amount_answer")


@bp.post("/amount/other/answer")
@member_required
def other_amount_answer():
    """Check the amount keyed in: each kind of mistake gets its reason and a new try."""
    keys = answered()
    if not keys:
        return no_answer("pay_other_amount", "pay.ask_other_amount")
    amount, problem = parse_amount(keys)
    if problem is not None:
        return retry("pay_other_amount", "pay.ask_other_amount", problem)
    payable, _held = payable_now()
    if amount > payable:
        log.info("call %s: amount over the payable balance", call().call_sid)
        return retry(
            "pay_other_amount",
            "pay.ask_other_amount",
            voice().say(Prompt.AMOUNT_OVER_BALANCE, amount=Money(payable)),
        )
    done("pay_other_amount")
    payment()["amount"] = amount
    return go("pay.choose_method")


def parse_amount(keys: str) -> tuple[int, Prompt | None]:
    """Return the cents keyed as dollars[*cents], or the reason they are not an amount."""
    keys = keys.rstrip("#")
    dollars, star, cents = keys.partition("*")
    if not dollars and not cents:
        return 0, Prompt.AMOUNT_NOT_UNDERSTOOD
    if not dollars.isdigit() and dollars != "":
        return 0, Prompt.AMOUNT_NOT_UNDERSTOOD
    if star and not (cents.isdigit() and len(cents) == 2):
        return 0, Prompt.AMOUNT_CENTS if cents.isdigit() or cents == "" else (
            Prompt.AMOUNT_NOT_UNDERSTOOD
        )
    if len(dollars.lstrip("0")) > MAX_AMOUNT_DIGITS:
        return 0, Prompt.AMOUNT_TOO_LARGE
    amount = int(dollars or "0") * 100 + int(cents or "0")
    if amount == 0:
        return 0, Prompt.AMOUNT_ZERO
    return amount, None


@bp.post("/method")
@member_required
def choose_method():
    """Offer saved methods, a new card, or a bank account."""
    state = payment()
    if "amount" not in state:
        return go("pay.choose_amount")
    say = voice().say
    options: list[Say] = []
    choices: list[dict[str, Any]] = []
    for saved in billing().saved_methods(call().member_id):
        key = str(len(choices) + 1)
        method = {
            "kind": saved.kind,
            "brand": saved.brand,
            "last4": saved.last4,
            "account_type": saved.account_type,
        }
        options.append(say(Prompt.ASK_METHOD_SAVED, method=method_phrase(method), key=key))
        choices.append({"saved_id": saved.id})
    options.append(say(Prompt.ASK_METHOD_CARD, key=str(len(choices) + 1)))
    choices.append({"new": "card"})
    options.append(say(Prompt.ASK_METHOD_BANK, key=str(len(choices) + 1)))
    choices.append({"new": "bank"})
    state["method_choices"] = choices
    return ask(options, "pay.method_answer", num_digits=1)


@bp.post("/method/answer")
@member_required
def method_answer():
    """Use a saved method, or capture a new card or bank account."""
    choices = payment().get("method_choices")
    if not choices:
        return go("pay.choose_method")
    digits = answered()
    if not digits:
        return no_answer("pay_method", "pay.choose_method")
    if not (digits.isdigit() and 1 <= int(digits) <= len(choices)):
        return global_key(digits, "pay.choose_method") or retry(
            "pay_method", "pay.choose_method", Prompt.NOT_A_CHOICE
        )
    done("pay_method")
    chosen = choices[int(digits) - 1]
    if "saved_id" in chosen:
        saved = billing().saved_method(call().member_id, chosen["saved_id"])
        if saved is None:
            return go("pay.choose_method")
        payment()["method"] = {
            "kind": saved.kind,
            "token": saved.token,
            "brand": saved.brand,
            "last4": saved.last4,
            "account_type": saved.account_type,
            "saved": True,
        }
        return go("pay.confirm")
    if chosen["new"] == "card":
        return go("capture.card")
    return go("capture.ask_account_type")


def method_phrase(method: dict[str, Any]) -> Fragment:
    if method["kind"] == "card" and brand_name(method.get("brand")) is None:
        return Fragment(Prompt.METHOD_CARD_UNBRANDED, {"last4": Digits(method["last4"])})
    if method["kind"] == "card":
        return Fragment(
            Prompt.METHOD_CARD,
            {"brand": brand_name(method.get("brand")), "last4": Digits(method["last4"])},
        )
    return Fragment(
        Prompt.METHOD_BANK,
        {"account_type": account_type_name(method), "last4": Digits(method["last4"])},
    )


def account_type_name(method: dict[str, Any]) -> Fragment:
    savings = "savings" in (method.get("account_type") or "")
    return Fragment(Prompt.SAVINGS if savings else Prompt.CHECKING)


def brand_name(brand: str | None) -> str | None:
    """Return the card brand as it is said, or None when Twilio did not name it."""
    names = {
        "visa": "Visa",
        "mastercard": "Mastercard",
        "amex": "American Express",
        "american-express": "American Express",
        "discover": "Discover",
        "diners-club": "Diners Club",
        "jcb": "JCB",
    }
    return names.get((brand or "").lower())


@bp.post("/confirm")
@member_required
def confirm():
    """Read back amount, target and method; bank payments read the ACH authorization."""
    state = payment()
    if "method" not in state or "amount" not in state or "target" not in state:
        return go("pay.choose_target")
    # The key is fixed before the caller says yes, so a repeated "yes" (a retried webhook,
    # a double press) is the same payment, charged once.
    state.setdefault("idempotency_key", f"{call().call_sid}:{uuid.uuid4().hex}")
    say = voice().say
    method = state["method"]
    amount = Money(state["amount"])
    readback = [
        say(
            Prompt.CONFIRM_PAYMENT,
            amount=amount,
            target=target_phrase(state["target"]),
            method=method_phrase(method),
        )
    ]
    if method["kind"] == "bank":
        readback.append(
            say(Prompt.ACH_AUTHORIZATION, **ach_authorization(state, billing().clock.now()))
        )
        options = [say(Prompt.ACH_OPTIONS)]
    else:
        options = [say(Prompt.CONFIRM_OPTIONS)]
    return ask(options, "pay.confirm_answer", num_digits=1, lead=readback)


@bp.post("/confirm/answer")
@member_required
def confirm_answer():
    """Charge on 1; change the amount or method, or cancel."""
    state = payment()
    if "idempotency_key" not in state:
        if "outcome" in state:
            return go("pay.finished")
        return go("pay.choose_target")
    digits = answered()
    if not digits:
        return no_answer("pay_confirm", "pay.confirm")
    if digits == "1":
        done("pay_confirm")
        return charge()
    if digits == "2":
        state.pop("idempotency_key", None)
        return go("pay.choose_amount")
    if digits == "3":
        state.pop("idempotency_key", None)
        state.pop("method", None)
        return go("pay.choose_method")
    if digits == "4":
        call().pop("pay", None)
        return go("menu.main", voice().say(Prompt.PAYMENT_CANCELED))
    return global_key(digits, "pay.confirm") or retry(
        "pay_confirm", "pay.confirm", Prompt.NOT_A_CHOICE
    )


def ach_authorization(state: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Return what the single-entry bank debit authorization names: who, what, when, whom."""
    line = region()
    method = state["method"]
    return {
        "payee": billing().regions.plan_name,
        "name": call().get("member_name", ""),
        "amount": Money(state["amount"]),
        "account_type": account_type_name(method),
        "last4": Digits(method["last4"]),
        "date": Day(line.local_time(now).date()),
        "phone": PhoneNumber(line.billing.number),
    }


def charge():
    state = payment()
    method = state["method"]
    now = billing().clock.now()
    authorization = None
    if method["kind"] == "bank":
        # The words recorded are the words the caller heard and accepted.
        authorization = AchAuthorization(
            accepted_at=now,
            amount_cents=state["amount"],
            account_last4=method["last4"],
            call_sid=call().call_sid,
            text=voice().text(Prompt.ACH_AUTHORIZATION, **ach_authorization(state, now)),
        )
    payment_request = PaymentRequest(
        member_id=call().member_id,
        target=target_of(state),
        amount_cents=state["amount"],
        token=method["token"],
        method_kind=method["kind"],
        # For a bank account the "brand" recorded is its type, so history can say which.
        method_brand=method.get("brand") or method.get("account_type"),
        method_last4=method["last4"],
        idempotency_key=state["idempotency_key"],
        channel="phone",
        call_sid=call().call_sid,
        ach_authorization=authorization,
    )
    try:
        outcome = billing().pay(payment_request)
    except AmountNotAllowed as refused:
        state.pop("idempotency_key", None)
        return go(
            "pay.choose_amount",
            voice().say(Prompt.AMOUNT_OVER_BALANCE, amount=Money(max(refused.payable_cents, 0))),
        )
    except PaymentError as refused:
        log.warning(
            "call %s: payment refused by the billing core: %s %s",
            call().call_sid,
            type(refused).__name__,
            getattr(refused, "reason", ""),
        )
        state.pop("idempotency_key", None)
        return go("pay.choose_method", voice().say(Prompt.DECLINED_PROCESSING))
    log.info("call %s: payment %s", call().call_sid, outcome.status.value)
    if outcome.status is PaymentStatus.FAILED:
        state.pop("idempotency_key", None)
        state.pop("method", None)
        reason = DECLINE_PROMPTS.get(outcome.decline_code or "", Prompt.DECLINED)
        state["declined"] = reason.name
        return go("pay.declined")
    call()["pay"] = {
        "outcome": {
            "status": outcome.status.value,
            "confirmation": outcome.confirmation_number,
            "amount": outcome.amount_cents,
        }
    }
    if outcome.status is PaymentStatus.SUCCEEDED and not method.get("saved"):
        # Offered after the confirmation number, so saving costs no one time before paying.
        payment()["unsaved_method"] = method
    return go("pay.finished")


@bp.post("/declined")
@member_required
def declined():
    """Say why the payment was declined and offer another method."""
    reason = Prompt[payment().get("declined", "DECLINED")]
    return ask(
        [voice().say(Prompt.AFTER_DECLINE)],
        "pay.declined_answer",
        num_digits=1,
        lead=[voice().say(reason)],
    )


@bp.post("/declined/answer")
@member_required
def declined_answer():
    """Try another method, or leave."""
    digits = answered()
    if digits == "1":
        return go("pay.choose_method")
    if not digits:
        return go("menu.main")
    return global_key(digits, "pay.declined") or go("menu.main")


@bp.post("/finished")
@member_required
def finished():
    """Speak the confirmation number digit by digit, and offer a text receipt."""
    outcome = payment().get("outcome")
    if outcome is None:
        return go("menu.main")
    say = voice().say
    amount = Money(outcome["amount"])
    if outcome["status"] == PaymentStatus.SUCCEEDED.value:
        lead = [say(Prompt.PAYMENT_SUCCEEDED, amount=amount)]
    else:
        lead = [say(Prompt.PAYMENT_CONFIRMING, amount=amount)]
    lead.append(say(Prompt.CONFIRMATION_NUMBER, number=Digits(outcome["confirmation"])))
    options = [say(Prompt.CONFIRMATION_AGAIN)]
    if outcome["status"] == PaymentStatus.SUCCEEDED.value:
        options.append(say(Prompt.OFFER_TEXT_RECEIPT))
    if payment().get("unsaved_method"):
        options.append(
            say(Prompt.OFFER_SAVE_METHOD, method=method_phrase(payment()["unsaved_method"]))
        )
    options.append(say(Prompt.MENU_BACK))
    return ask(options, "pay.finished_answer", num_digits=1, lead=lead)


@bp.post("/finished/answer")
@member_required
def finished_answer():
    """Repeat the confirmation number, text a receipt, or go back to the menu."""
    outcome = payment().get("outcome")
    digits = answered()
    if outcome is None or not digits:
        return go("menu.main")
    if digits == "*":
        return go("pay.finished")
    if digits == "2" and payment().get("unsaved_method"):
        method = payment().pop("unsaved_method")
        billing().save_method(
            call().member_id,
            kind=method["kind"],
            token=method["token"],
            brand=method.get("brand"),
            last4=method["last4"],
            exp=method.get("exp"),
            account_type=method.get("account_type"),
        )
        return go("pay.finished", voice().say(Prompt.METHOD_SAVED, method=method_phrase(method)))
    if digits == "1" and outcome["status"] == PaymentStatus.SUCCEEDED.value:
        caller = request.form.get("From", "")
        if billing().text_receipt(call().member_id, outcome["confirmation"], caller):
            return go("pay.finished", voice().say(Prompt.RECEIPT_SENT))
        return go("pay.finished", voice().say(Prompt.NO_RECEIPT_NUMBER))
    return global_key(digits, "pay.finished") or go("menu.main")
