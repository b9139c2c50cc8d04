"""Pay: what to pay, how much, with what; read back, confirm, charge once, confirmation number.

Or, at the read-back, set it for a later date: the billing core charges it on that day.

Card and bank digits are captured by Twilio <Pay> (see ivr/flows/capture.py), which
hands back only a token; the billing core charges the token exactly once under an
idempotency key that this flow fixes before the caller confirms.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from typing import Any

from flask import Blueprint
from twilio.twiml.voice_response import Say, VoiceResponse

from billing_core.domain import money
from billing_core.domain.exceptions import (
    AmountBadCents,
    AmountNotUnderstood,
    AmountTooLarge,
    AmountZero,
    KeyedAmountInvalid,
)
from billing_core.domain.payments import (
    AchAuthorization,
    AmountNotAllowed,
    PaymentError,
    PaymentStatus,
    PaymentTarget,
    TargetKind,
)
from billing_core.domain.scheduled import PayDateNotAllowed, check_pay_date, next_occurrence
from billing_core.services.accounts import AccountSummary
from billing_core.services.payments import PaymentOutcome, PaymentRequest
from billing_core.services.plan_servicing import PlanStatus
from billing_core.services.scheduled import ScheduleRequest
from ivr.call_state import (
    Draft,
    Method,
    MethodChoice,
    Outcome,
    PayTarget,
    PlanDraft,
    ScheduledOutcome,
)
from ivr.flows import capture
from ivr.kernel import (
    MAIN_MENU,
    Exit,
    Turn,
    answered,
    ask,
    done,
    global_key,
    go,
    no_answer,
    retry,
    step,
    words_said,
)
from ivr.prompts import Prompt
from ivr.sentences import account_type_name, method_phrase, target_phrase
from ivr.speech import Day, Digits, Money, PhoneNumber
from ivr.spoken_amounts import spoken_cents
from ivr.spoken_dates import spoken_month_day

bp = Blueprint("pay", __name__, url_prefix="/voice/pay")
log = logging.getLogger(__name__)

# What the caller hears for each way keys can fail to be an amount.
AMOUNT_PROBLEMS = {
    AmountNotUnderstood: Prompt.AMOUNT_NOT_UNDERSTOOD,
    AmountBadCents: Prompt.AMOUNT_CENTS,
    AmountTooLarge: Prompt.AMOUNT_TOO_LARGE,
    AmountZero: Prompt.AMOUNT_ZERO,
}
DECLINE_PROMPTS = {
    "insufficient_funds": Prompt.DECLINED_FUNDS,
    "expired_card": Prompt.DECLINED_EXPIRED,
    "incorrect_cvc": Prompt.DECLINED_CVC,
    "account_closed": Prompt.DECLINED_ACCOUNT,
    "no_account": Prompt.DECLINED_ACCOUNT,
    "processing_error": Prompt.DECLINED_PROCESSING,
}
# What the caller hears for each reason a date keyed cannot be the day to pay.
DATE_PROBLEMS = {
    PayDateNotAllowed.NOT_A_DATE: Prompt.PAY_DATE_NOT_A_DATE,
    PayDateNotAllowed.NOT_AFTER_TODAY: Prompt.PAY_DATE_NOT_AFTER_TODAY,
    PayDateNotAllowed.TOO_FAR_AHEAD: Prompt.PAY_DATE_TOO_LATE,
    PayDateNotAllowed.AFTER_DUE_DATE: Prompt.PAY_DATE_TOO_LATE,
}


# A payment plan's next installment is paid through the plans flow, which binds this.
PLAN_PAYMENT = Exit("a payment plan's next payment")
EXITS = (PLAN_PAYMENT,)


def target_of(chosen: PayTarget) -> PaymentTarget:
    return PaymentTarget(TargetKind(chosen.kind), chosen.bill_number)


def payable_targets(summary: AccountSummary, plan: PlanStatus | None = None) -> list[PayTarget]:
    """Return what the member can pay now, in the order the options are offered.

    With a payment plan, its next installment comes first, and the bills in it are paid
    through it, not one by one.
    """
    targets: list[PayTarget] = []
    in_plan: frozenset[str] = frozenset()
    if plan is not None and plan.status == "active":
        in_plan = plan.bill_numbers
        if plan.next_due_on is not None and not plan.paying:
            targets.append(PayTarget(kind="plan", balance=plan.next_amount_cents))
    bills = [bill for bill in summary.bills if bill.bill_number not in in_plan]
    # Keys 7, 8 and 9 keep their meaning (relay, Spanish, main menu): at most 6 options.
    for bill in bills[: 4 - len(targets)]:
        targets.append(
            PayTarget(
                kind="bill",
                bill_number=bill.bill_number,
                date_of_service=bill.date_of_service,
                facility=bill.facility,
                balance=bill.balance_cents,
            )
        )
    if len(bills) > 1:
        targets.append(PayTarget(kind="all_bills", balance=sum(b.balance_cents for b in bills)))
    if summary.pays_premium_here and summary.premium_balance_cents > 0:
        targets.append(PayTarget(kind="premium", balance=summary.premium_balance_cents))
    return targets


def targets_now(turn: Turn) -> list[PayTarget]:
    """Return what the caller can pay now, in the order the options are offered."""
    call = turn.call
    summary = turn.billing.account_summary(call.member_id, channel="phone", call_sid=call.call_sid)
    return payable_targets(summary, turn.billing.plan_status(call.member_id))


@capture.START_OVER.bind
@step(bp, "", member=True)
def choose_target(turn: Turn) -> VoiceResponse:
    """Offer each bill, all bills and the premium; with one choice, go straight on."""
    call = turn.call
    targets = targets_now(turn)
    if not targets:
        return go(turn, MAIN_MENU, turn.say(Prompt.NOTHING_TO_PAY))
    call.pay = Draft(targets=targets)
    if len(targets) == 1:
        return chosen_target(turn, targets[0])
    return ask(turn, target_options(turn, targets), target_answer, num_digits=1)


@step(bp, "/premium", member=True)
def premium(turn: Turn) -> VoiceResponse:
    """Pay the premium, asked for by name: the other choices of what to pay are skipped."""
    chosen = next((target for target in targets_now(turn) if target.kind == "premium"), None)
    if chosen is None:
        return go(turn, choose_target, turn.say(Prompt.PREMIUM_PAID_UP))
    turn.call.pay = Draft(targets=[chosen])
    return chosen_target(turn, chosen)


def target_options(turn: Turn, targets: list[PayTarget]) -> list[Say]:
    options = []
    for key, chosen in enumerate(targets, start=1):
        balance = Money(chosen.balance)
        if chosen.kind == "bill" and chosen.date_of_service is not None:
            options.append(
                turn.say(
                    Prompt.PAY_WHICH_BILL,
                    date_of_service=Day(chosen.date_of_service),
                    facility=chosen.facility or "",
                    balance=balance,
                    key=str(key),
                )
            )
        elif chosen.kind == "all_bills":
            options.append(turn.say(Prompt.PAY_ALL_BILLS, total=balance, key=str(key)))
        elif chosen.kind == "plan":
            options.append(turn.say(Prompt.PAY_PLAN_NEXT, amount=balance, key=str(key)))
        else:
            options.append(turn.say(Prompt.PAY_PREMIUM, balance=balance, key=str(key)))
    return options


@step(bp, "/target", member=True, answer=True)
def target_answer(turn: Turn) -> VoiceResponse:
    """Take the choice of what to pay."""
    targets = turn.call.pay.targets
    if not targets:
        return go(turn, choose_target)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "pay_target", choose_target)
    if digits.isdigit() and 1 <= int(digits) <= len(targets):
        done(turn, "pay_target")
        return chosen_target(turn, targets[int(digits) - 1])
    return global_key(turn, digits, choose_target) or retry(
        turn, "pay_target", choose_target, Prompt.NOT_A_CHOICE
    )


def chosen_target(turn: Turn, target: PayTarget) -> VoiceResponse:
    """Go on to pay it in full, or for a plan's next payment to the plan's own read-back.

    Another amount is asked for only when the caller wants one (at the read-back): most pay
    in full, and the step would cost every one of them time.
    """
    if target.kind == "plan":
        turn.call.plan = PlanDraft(ahead="next")
        return go(turn, PLAN_PAYMENT)
    draft = turn.call.pay
    draft.target = target
    payable, held = payable_now(turn, target)
    if payable <= 0:
        return go(turn, MAIN_MENU, turn.say(Prompt.NOTHING_TO_PAY))
    draft.amount = payable
    asked, turn.call.spoken_amount = turn.call.spoken_amount, None
    if asked is not None:
        if asked > payable:
            return go(
                turn, ask_other_amount, turn.say(Prompt.AMOUNT_OVER_BALANCE, amount=Money(payable))
            )
        # The amount the caller named with the request: read back before it is paid.
        draft.amount = asked
    said = []
    if held:
        # Only when another payment holds part of it does the caller need the whole story.
        said = [
            turn.say(Prompt.AMOUNT_DUE, amount=Money(payable + held)),
            turn.say(Prompt.AMOUNT_HELD, amount=Money(held)),
        ]
    elif len(draft.targets) <= 1:
        # Chosen without a menu naming its amount: say what is being paid.
        said = [turn.say(Prompt.AMOUNT_DUE, amount=Money(payable))]
    return go(turn, choose_method, *said)


def payable_now(turn: Turn, target: PayTarget) -> tuple[int, int]:
    """Return what can be paid on the chosen target now, and what other payments hold."""
    quote = turn.billing.quote(turn.call.member_id, target_of(target))
    return quote.payable_cents, quote.held_cents


@step(bp, "/amount/other", member=True)
def ask_other_amount(turn: Turn) -> VoiceResponse:
    """Ask for an amount as dollars, star, cents."""
    if turn.call.pay.target is None:
        return go(turn, choose_target)
    prompts = [
        turn.say(Prompt.ASK_AMOUNT),
        turn.say(Prompt.AMOUNT_EXAMPLE, example=Money(2550), keys=Digits("25*50#")),
    ]
    return ask(turn, prompts, other_amount_answer)


@step(bp, "/amount/other/answer", member=True, answer=True)
def other_amount_answer(turn: Turn) -> VoiceResponse:
    """Check the amount keyed in: each kind of mistake gets its reason and a new try."""
    keys = answered(turn, relay_key=False)
    if not keys:
        return no_answer(turn, "pay_other_amount", ask_other_amount)
    target = turn.call.pay.target
    if target is None:
        return go(turn, choose_target)
    amount, problem = parse_amount(keys)
    said = spoken_amount(turn)
    if said is not None:
        amount, problem = said, (Prompt.AMOUNT_ZERO if said == 0 else None)
    if problem is not None:
        return retry(turn, "pay_other_amount", ask_other_amount, problem)
    payable, _held = payable_now(turn, target)
    if amount > payable:
        log.info("call %s: amount over the payable balance", turn.call.call_sid)
        return retry(
            turn,
            "pay_other_amount",
            ask_other_amount,
            turn.say(Prompt.AMOUNT_OVER_BALANCE, amount=Money(payable)),
        )
    done(turn, "pay_other_amount")
    turn.call.pay.amount = amount
    if turn.call.pay.method is not None:
        return go(turn, confirm)
    return go(turn, choose_method)


def spoken_amount(turn: Turn) -> int | None:
    """Return the cents of an amount said in words ("twenty five fifty"), else None."""
    speech = words_said(turn)
    return spoken_cents(speech, turn.call.language) if speech else None


def parse_amount(keys: str) -> tuple[int, Prompt | None]:
    """Return the cents keyed as dollars[*cents], or the reason they are not an amount."""
    try:
        return money.parse_keyed_amount(keys), None
    except KeyedAmountInvalid as problem:
        return 0, AMOUNT_PROBLEMS[type(problem)]


@capture.CHOOSE_METHOD.bind
@step(bp, "/method", member=True)
def choose_method(turn: Turn) -> VoiceResponse:
    """Offer saved methods, a new card, or a bank account."""
    draft = turn.call.pay
    if draft.amount is None:
        return go(turn, choose_target)
    options: list[Say] = []
    choices: list[MethodChoice] = []
    for saved in turn.billing.saved_methods(turn.call.member_id):
        key = str(len(choices) + 1)
        method = method_phrase(Method.of_saved(saved))
        options.append(turn.say(Prompt.ASK_METHOD_SAVED, method=method, key=key))
        choices.append(MethodChoice(saved_id=saved.id))
    options.append(turn.say(Prompt.ASK_METHOD_CARD, key=str(len(choices) + 1)))
    choices.append(MethodChoice(new="card"))
    options.append(turn.say(Prompt.ASK_METHOD_BANK, key=str(len(choices) + 1)))
    choices.append(MethodChoice(new="bank"))
    draft.method_choices = choices
    return ask(turn, options, method_answer, num_digits=1)


@step(bp, "/method/answer", member=True, answer=True)
def method_answer(turn: Turn) -> VoiceResponse:
    """Use a saved method, or capture a new card or bank account."""
    choices = turn.call.pay.method_choices
    if not choices:
        return go(turn, choose_method)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "pay_method", choose_method)
    if not (digits.isdigit() and 1 <= int(digits) <= len(choices)):
        return global_key(turn, digits, choose_method) or retry(
            turn, "pay_method", choose_method, Prompt.NOT_A_CHOICE
        )
    done(turn, "pay_method")
    chosen = choices[int(digits) - 1]
    turn.call.pay.saved_method_id = chosen.saved_id
    if chosen.saved_id is not None:
        saved = turn.billing.saved_method(turn.call.member_id, chosen.saved_id)
        if saved is None:
            return go(turn, choose_method)
        turn.call.pay.method = Method.of_saved(saved, with_token=True)
        return go(turn, confirm)
    if chosen.new == "card":
        return go(turn, capture.card)
    return go(turn, capture.ask_account_type)


@capture.CAPTURED.bind
@step(bp, "/confirm", member=True)
def confirm(turn: Turn) -> VoiceResponse:
    """Read back amount, target and method; bank payments read the ACH authorization."""
    draft = turn.call.pay
    if draft.method is None or draft.amount is None or draft.target is None:
        return go(turn, choose_target)
    # The key is fixed before the caller says yes, so a repeated "yes" (a retried webhook,
    # a double press) is the same payment, charged once.
    if draft.idempotency_key is None:
        draft.idempotency_key = f"{turn.call.call_sid}:{uuid.uuid4().hex}"
    elif (made := turn.billing.payment_made_under(draft.idempotency_key)) is not None:
        # Paid already (the state saved after it was lost): never read it back as unpaid.
        return after_payment(turn, made, draft.method)
    method = draft.method
    readback = [
        turn.say(
            Prompt.CONFIRM_PAYMENT,
            amount=Money(draft.amount),
            target=target_phrase(draft.target, turn.today),
            method=method_phrase(method),
        )
    ]
    if method.kind == "bank":
        terms = ach_authorization(turn, draft.amount, method, turn.billing.clock.now())
        readback.append(turn.say(Prompt.ACH_AUTHORIZATION, **terms))
        options = [turn.say(Prompt.ACH_OPTIONS)]
    else:
        options = [turn.say(Prompt.CONFIRM_OPTIONS)]
    # Last, so a caller paying now has heard all they need before it; offered only when a
    # later day is allowed (key 5 still says why not, for a caller who knows it).
    if turn.billing.pay_date_window(turn.call.member_id, target_of(draft.target)).latest:
        options.append(turn.say(Prompt.PAY_LATER_OPTION))
    return ask(turn, options, confirm_answer, num_digits=1, lead=readback)


@step(bp, "/confirm/answer", member=True, answer=True)
def confirm_answer(turn: Turn) -> VoiceResponse:
    """Charge on 1; change the amount or method, or cancel."""
    draft = turn.call.pay
    if draft.idempotency_key is None:
        if draft.outcome is not None:
            return go(turn, finished)
        return go(turn, choose_target)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "pay_confirm", confirm)
    if digits == "1":
        done(turn, "pay_confirm")
        return charge(turn)
    if digits == "2":
        draft.idempotency_key = None
        return go(turn, ask_other_amount)
    if digits == "3":
        draft.idempotency_key = None
        draft.method = None
        return go(turn, choose_method)
    if digits == "4":
        turn.call.pay = Draft()
        return go(turn, MAIN_MENU, turn.say(Prompt.PAYMENT_CANCELED))
    if digits == "5":
        done(turn, "pay_confirm")
        draft.idempotency_key = None
        return go(turn, ask_date)
    return global_key(turn, digits, confirm) or retry(
        turn, "pay_confirm", confirm, Prompt.NOT_A_CHOICE
    )


def ach_authorization(
    turn: Turn, amount: int, method: Method, now: datetime, *, on: date | None = None
) -> dict[str, Any]:
    """Return what the single-entry bank debit authorization names: who, what, when, whom."""
    line = turn.region
    return {
        "payee": turn.billing.regions.plan_name,
        "name": turn.call.member_name,
        "amount": Money(amount),
        "account_type": account_type_name(method.account_type),
        "last4": Digits(method.last4),
        "date": Day(on or line.local_time(now).date()),
        "phone": PhoneNumber(line.billing.number),
    }


def charge(turn: Turn) -> VoiceResponse:
    draft = turn.call.pay
    method, amount, target, key = draft.method, draft.amount, draft.target, draft.idempotency_key
    if method is None or amount is None or target is None or key is None:
        return go(turn, choose_target)
    now = turn.billing.clock.now()
    authorization = None
    if method.kind == "bank":
        # The words recorded are the words the caller heard and accepted.
        authorization = AchAuthorization(
            accepted_at=now,
            amount_cents=amount,
            account_last4=method.last4,
            call_sid=turn.call.call_sid,
            text=turn.voice.text(
                Prompt.ACH_AUTHORIZATION, **ach_authorization(turn, amount, method, now)
            ),
        )
    payment_request = PaymentRequest(
        member_id=turn.call.member_id,
        target=target_of(target),
        amount_cents=amount,
        token=method.token,
        method_kind=method.kind,
        # For a bank account the "brand" recorded is its type, so history can say which.
        method_brand=method.brand or method.account_type,
        method_last4=method.last4,
        idempotency_key=key,
        channel="phone",
        call_sid=turn.call.call_sid,
        ach_authorization=authorization,
    )
    try:
        outcome = turn.billing.pay(payment_request)
    except AmountNotAllowed as refused:
        draft.idempotency_key = None
        payable = Money(max(refused.payable_cents, 0))
        return go(turn, ask_other_amount, turn.say(Prompt.AMOUNT_OVER_BALANCE, amount=payable))
    except PaymentError as refused:
        log.warning(
            "call %s: payment refused by the billing core: %s %s",
            turn.call.call_sid,
            type(refused).__name__,
            getattr(refused, "reason", ""),
        )
        draft.idempotency_key = None
        return go(turn, choose_method, turn.say(Prompt.DECLINED_PROCESSING))
    log.info("call %s: payment %s", turn.call.call_sid, outcome.status.value)
    return after_payment(turn, outcome, method)


def after_payment(turn: Turn, outcome: PaymentOutcome, method: Method | None) -> VoiceResponse:
    """Say what became of the payment: declined, or its confirmation number."""
    draft = turn.call.pay
    if outcome.status is PaymentStatus.FAILED:
        draft.idempotency_key = None
        draft.method = None
        reason = DECLINE_PROMPTS.get(outcome.decline_code or "", Prompt.DECLINED)
        draft.declined = reason.name
        return go(turn, declined)
    turn.call.pay = Draft(
        outcome=Outcome(
            status=outcome.status.value,
            confirmation=outcome.confirmation_number,
            amount=outcome.amount_cents,
        )
    )
    if outcome.status.went_through and method is not None and not method.saved:
        # Offered after the confirmation number, so saving costs no one time before paying.
        turn.call.pay.unsaved_method = method
    return go(turn, finished)


@step(bp, "/declined", member=True)
def declined(turn: Turn) -> VoiceResponse:
    """Say why the payment was declined and offer another method."""
    reason = Prompt[turn.call.pay.declined or "DECLINED"]
    return ask(
        turn,
        [turn.say(Prompt.AFTER_DECLINE)],
        declined_answer,
        num_digits=1,
        lead=[turn.say(reason)],
    )


@step(bp, "/declined/answer", member=True, answer=True)
def declined_answer(turn: Turn) -> VoiceResponse:
    """Try another method, or leave."""
    digits = answered(turn)
    if digits == "1":
        return go(turn, choose_method)
    if not digits:
        return go(turn, MAIN_MENU)
    return global_key(turn, digits, declined) or go(turn, MAIN_MENU)


@step(bp, "/finished", member=True)
def finished(turn: Turn) -> VoiceResponse:
    """Speak the confirmation number digit by digit, and offer a text receipt."""
    draft = turn.call.pay
    outcome = draft.outcome
    if outcome is None:
        return go(turn, MAIN_MENU)
    number = Digits(outcome.confirmation)
    status = PaymentStatus(outcome.status)
    succeeded = status.went_through
    if status is PaymentStatus.SUBMITTED:
        lead = [turn.say(Prompt.PAYMENT_SUBMITTED, number=number)]
    elif succeeded:
        lead = [turn.say(Prompt.PAYMENT_SUCCEEDED, number=number)]
    else:
        lead = [
            turn.say(Prompt.PAYMENT_CONFIRMING, amount=Money(outcome.amount)),
            turn.say(Prompt.CONFIRMATION_NUMBER, number=number),
        ]
    options = [turn.say(Prompt.CONFIRMATION_AGAIN)]
    if succeeded:
        options.append(turn.say(Prompt.OFFER_TEXT_RECEIPT))
    if draft.unsaved_method is not None:
        method = method_phrase(draft.unsaved_method)
        options.append(turn.say(Prompt.OFFER_SAVE_METHOD, method=method))
    options.append(turn.say(Prompt.MENU_BACK))
    return ask(turn, options, finished_answer, num_digits=1, lead=lead)


@step(bp, "/finished/answer", member=True, answer=True)
def finished_answer(turn: Turn) -> VoiceResponse:
    """Repeat the confirmation number, text a receipt, or go back to the menu."""
    draft = turn.call.pay
    outcome = draft.outcome
    digits = answered(turn)
    if outcome is None or not digits:
        return go(turn, MAIN_MENU)
    if digits == "*":
        return go(turn, finished)
    if digits == "2" and draft.unsaved_method is not None:
        method, draft.unsaved_method = draft.unsaved_method, None
        turn.billing.save_method(
            turn.call.member_id,
            kind=method.kind,
            token=method.token,
            brand=method.brand,
            last4=method.last4,
            exp=method.exp,
            account_type=method.account_type,
        )
        return go(turn, finished, turn.say(Prompt.METHOD_SAVED, method=method_phrase(method)))
    if digits == "1" and PaymentStatus(outcome.status).went_through:
        caller = turn.form.get("From", "")
        if turn.billing.text_receipt(turn.call.member_id, outcome.confirmation, caller):
            return go(turn, finished, turn.say(Prompt.RECEIPT_SENT))
        return go(turn, finished, turn.say(Prompt.NO_RECEIPT_NUMBER))
    return global_key(turn, digits, finished) or go(turn, MAIN_MENU)


# --- paying on a later date -------------------------------------------------------------


@step(bp, "/later", member=True)
def ask_date(turn: Turn) -> VoiceResponse:
    """Ask for the day to pay as MMDD, with an example and the last day allowed."""
    draft = turn.call.pay
    if draft.method is None or draft.amount is None or draft.target is None:
        return go(turn, choose_target)
    window = turn.billing.pay_date_window(turn.call.member_id, target_of(draft.target))
    if window.latest is None:
        if window.due is None:
            return go(turn, choose_target)
        return go(turn, confirm, turn.say(Prompt.PAY_LATER_NOT_POSSIBLE, due=Day(window.due)))
    example = window.latest
    prompts = [turn.say(Prompt.ASK_PAY_DATE)]
    # Relay operators get the short form, as at the birth date.
    if not turn.relay:
        prompts.append(
            turn.say(
                Prompt.BIRTH_DATE_EXAMPLE,
                example_date=Day(example),
                example_digits=Digits(example.strftime("%m%d")),
            )
        )
    prompts.append(turn.say(Prompt.PAY_DATE_RANGE, latest=Day(window.latest)))
    return ask(turn, prompts, date_answer, num_digits=4)


@step(bp, "/later/answer", member=True, answer=True)
def date_answer(turn: Turn) -> VoiceResponse:
    """Take the day keyed or said (the next time that month and day comes), or say why it
    cannot be."""
    draft = turn.call.pay
    if draft.method is None or draft.amount is None or draft.target is None:
        return go(turn, choose_target)
    keys = answered(turn, relay_key=False)
    if not keys:
        return no_answer(turn, "pay_date", ask_date)
    window = turn.billing.pay_date_window(turn.call.member_id, target_of(draft.target))
    if keys == "?":
        # Said, not keyed: "December fifteenth", "mañana".
        keys = spoken_month_day(words_said(turn), turn.call.language, window.today) or keys
    if len(keys) < 4 and (handled := global_key(turn, keys, ask_date)) is not None:
        return handled
    day = next_occurrence(keys, today=window.today)
    try:
        check_pay_date(day, today=window.today, due=window.due)
    except PayDateNotAllowed as refused:
        if refused.reason not in DATE_PROBLEMS:
            return go(turn, ask_date)
        log.info("call %s: date to pay refused: %s", turn.call.call_sid, refused.reason)
        draft.date_refused = refused.reason
        return go(turn, date_refused)
    done(turn, "pay_date")
    draft.pay_on, draft.date_refused, draft.schedule_key = day, None, None
    return go(turn, confirm_later)


@step(bp, "/later/refused", member=True)
def date_refused(turn: Turn) -> VoiceResponse:
    """Say why the date cannot be used and the last day that can; try again or pay now."""
    draft = turn.call.pay
    if draft.target is None or draft.date_refused not in DATE_PROBLEMS:
        return go(turn, ask_date)
    window = turn.billing.pay_date_window(turn.call.member_id, target_of(draft.target))
    if window.latest is None:
        return go(turn, ask_date)
    lead = [
        turn.say(DATE_PROBLEMS[draft.date_refused]),
        turn.say(Prompt.PAY_DATE_LATEST, latest=Day(window.latest)),
    ]
    options = [turn.say(Prompt.PAY_DATE_REFUSED_OPTIONS)]
    return ask(turn, options, date_refused_answer, num_digits=1, lead=lead)


@step(bp, "/later/refused/answer", member=True, answer=True)
def date_refused_answer(turn: Turn) -> VoiceResponse:
    """Enter another date, or go back to paying now."""
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "pay_date_refused", date_refused)
    if digits == "1":
        done(turn, "pay_date_refused")
        return go(turn, ask_date)
    if digits == "2":
        done(turn, "pay_date_refused")
        turn.call.pay.date_refused = None
        return go(turn, confirm)
    return global_key(turn, digits, date_refused) or retry(
        turn, "pay_date_refused", date_refused, Prompt.NOT_A_CHOICE
    )


@step(bp, "/later/confirm", member=True)
def confirm_later(turn: Turn) -> VoiceResponse:
    """Read back amount, target, method and day; bank payments read the authorization for it."""
    draft = turn.call.pay
    method, amount, target, day = draft.method, draft.amount, draft.target, draft.pay_on
    if method is None or amount is None or target is None or day is None:
        return go(turn, choose_target)
    # Fixed before the caller says yes: a repeated "yes" schedules it once.
    if draft.schedule_key is None:
        draft.schedule_key = f"{turn.call.call_sid}:{uuid.uuid4().hex}"
    readback = [
        turn.say(
            Prompt.CONFIRM_SCHEDULED,
            amount=Money(amount),
            target=target_phrase(target, turn.today),
            method=method_phrase(method),
            date=Day(day),
        )
    ]
    if method.kind == "bank":
        terms = ach_authorization(turn, amount, method, turn.billing.clock.now(), on=day)
        readback.append(turn.say(Prompt.SCHEDULED_ACH_AUTHORIZATION, **terms))
        options = [turn.say(Prompt.SCHEDULED_ACH_OPTIONS)]
    else:
        readback.append(turn.say(Prompt.SCHEDULED_WHEN_OWED))
        options = [turn.say(Prompt.CONFIRM_SCHEDULED_OPTIONS)]
    return ask(turn, options, confirm_later_answer, num_digits=1, lead=readback)


@step(bp, "/later/confirm/answer", member=True, answer=True)
def confirm_later_answer(turn: Turn) -> VoiceResponse:
    """Schedule on 1; change the date, pay now instead, or cancel."""
    draft = turn.call.pay
    if draft.schedule_key is None or draft.pay_on is None:
        if draft.scheduled is not None:
            return go(turn, scheduled_finished)
        return go(turn, choose_target)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "pay_confirm_later", confirm_later)
    if digits == "1":
        done(turn, "pay_confirm_later")
        return schedule(turn)
    if digits == "2":
        draft.schedule_key = None
        return go(turn, ask_date)
    if digits == "3":
        draft.schedule_key = draft.pay_on = None
        return go(turn, confirm)
    if digits == "4":
        turn.call.pay = Draft()
        return go(turn, MAIN_MENU, turn.say(Prompt.PAYMENT_CANCELED))
    return global_key(turn, digits, confirm_later) or retry(
        turn, "pay_confirm_later", confirm_later, Prompt.NOT_A_CHOICE
    )


def schedule(turn: Turn) -> VoiceResponse:
    """Set the payment for its day; a bank debit records the authorization naming that day."""
    draft = turn.call.pay
    method, amount, target, day = draft.method, draft.amount, draft.target, draft.pay_on
    key = draft.schedule_key
    if method is None or amount is None or target is None or day is None or key is None:
        return go(turn, choose_target)
    now = turn.billing.clock.now()
    authorization = None
    if method.kind == "bank":
        # The words recorded are the words the caller heard and accepted, naming the day.
        authorization = AchAuthorization(
            accepted_at=now,
            amount_cents=amount,
            account_last4=method.last4,
            call_sid=turn.call.call_sid,
            text=turn.voice.text(
                Prompt.SCHEDULED_ACH_AUTHORIZATION,
                **ach_authorization(turn, amount, method, now, on=day),
            ),
        )
    request = ScheduleRequest(
        member_id=turn.call.member_id,
        target=target_of(target),
        amount_cents=amount,
        pay_on=day,
        token=method.token,
        method_kind=method.kind,
        # For a bank account the "brand" recorded is its type, as payments record it.
        method_brand=method.brand or method.account_type,
        method_last4=method.last4,
        request_key=key,
        channel="phone",
        call_sid=turn.call.call_sid,
        saved_method_id=draft.saved_method_id if method.saved else None,
        method_exp=method.exp,
        account_type=method.account_type,
        ach_authorization=authorization,
    )
    try:
        made = turn.billing.schedule_payment(request)
    except PayDateNotAllowed as refused:
        draft.schedule_key = None
        if refused.reason in DATE_PROBLEMS:
            draft.date_refused = refused.reason
            return go(turn, date_refused)
        return go(turn, confirm, turn.say(Prompt.PAY_DATE_TOO_LATE))
    except AmountNotAllowed as refused:
        draft.schedule_key = None
        payable = Money(max(refused.payable_cents, 0))
        return go(turn, ask_other_amount, turn.say(Prompt.AMOUNT_OVER_BALANCE, amount=payable))
    except PaymentError as refused:
        log.warning(
            "call %s: scheduling refused by the billing core: %s %s",
            turn.call.call_sid,
            type(refused).__name__,
            getattr(refused, "reason", ""),
        )
        draft.schedule_key = None
        return go(turn, choose_method, turn.say(Prompt.DECLINED_PROCESSING))
    log.info("call %s: payment scheduled", turn.call.call_sid)
    turn.call.pay = Draft(
        scheduled=ScheduledOutcome(
            confirmation=made.confirmation_number, amount=made.amount_cents, pay_on=made.pay_on
        )
    )
    return go(turn, scheduled_finished)


@step(bp, "/later/finished", member=True)
def scheduled_finished(turn: Turn) -> VoiceResponse:
    """Say the day and amount set, and the confirmation number digit by digit."""
    made = turn.call.pay.scheduled
    if made is None:
        return go(turn, MAIN_MENU)
    lead = [
        turn.say(Prompt.PAYMENT_SCHEDULED, amount=Money(made.amount), date=Day(made.pay_on)),
        turn.say(Prompt.CONFIRMATION_NUMBER, number=Digits(made.confirmation)),
    ]
    options = [turn.say(Prompt.CONFIRMATION_AGAIN), turn.say(Prompt.MENU_BACK)]
    return ask(turn, options, scheduled_finished_answer, num_digits=1, lead=lead)


@step(bp, "/later/finished/answer", member=True, answer=True)
def scheduled_finished_answer(turn: Turn) -> VoiceResponse:
    """Repeat the confirmation number, or go back to the menu."""
    digits = answered(turn)
    if turn.call.pay.scheduled is None or not digits:
        return go(turn, MAIN_MENU)
    if digits == "*":
        return go(turn, scheduled_finished)
    return global_key(turn, digits, scheduled_finished) or go(turn, MAIN_MENU)
