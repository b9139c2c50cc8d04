"""Payment plans for medical bills: the options, the set-up, the plan, paying ahead or off.

The billing core decides who may have a plan and charges it (the first installment at
set-up, the rest on schedule); this flow reads the options and the terms, records the
caller's acceptance in the words they heard, and fixes each request's key before the
caller presses 1, so a repeated answer sets up or pays once.
"""

from __future__ import annotations

import logging
import uuid

from flask import Blueprint
from twilio.twiml.voice_response import Say, VoiceResponse

from billing_core.domain.autopay import AutopayAuthorization
from billing_core.domain.payments import AchAuthorization, PaymentError, PaymentStatus
from billing_core.domain.plans import BillExclusion, PlanNotAllowed, PlanOption, installment_days
from billing_core.services.autopay import NewMethod
from billing_core.services.plan_servicing import PlanStatus
from billing_core.services.plans import PlanOffer, PlanSetUp
from ivr.call_state import Draft, Method, Outcome, PlanDraft
from ivr.flows import capture, methods, pay
from ivr.kernel import (
    MAIN_MENU,
    Turn,
    agreed,
    answered,
    ask,
    done,
    global_key,
    go,
    no_answer,
    retry,
    step,
)
from ivr.prompts import Prompt
from ivr.sentences import method_phrase
from ivr.speech import Day, Money

bp = Blueprint("plans", __name__, url_prefix="/voice/plans")
log = logging.getLogger(__name__)

# The version of the words read as the plan's recurring authorization; recorded with them.
WORDING_VERSION = "plan-phone-202612"
ACTIVE = "active"
# What the caller hears about a bill a plan cannot take.
EXCLUSIONS = {
    BillExclusion.DISPUTED: Prompt.PLAN_BILL_DISPUTED,
    BillExclusion.TOO_OLD: Prompt.PLAN_BILL_TOO_OLD,
}
# Refusals of a set-up that mean the options changed since they were read.
OPTIONS_CHANGED = (
    PlanNotAllowed.TERM_NOT_OFFERED,
    PlanNotAllowed.NOTHING_ELIGIBLE,
    PlanNotAllowed.BELOW_MINIMUM,
)


def plan_sentence(turn: Turn, status: PlanStatus | None = None) -> Say | None:
    """Where the member's plan stands, in one sentence; None without a plan."""
    status = status or turn.billing.plan_status(turn.call.member_id)
    if status is None:
        return None
    if status.status != ACTIVE:
        return turn.say(
            Prompt.PLAN_LAPSED,
            date=Day(status.lapsed_on or turn.region.local_time(turn.billing.clock.now()).date()),
            amount=Money(status.remaining_cents),
        )
    if status.next_due_on is None:
        return turn.say(Prompt.PLAN_STATUS_PAYING)
    values = {"amount": Money(status.next_amount_cents), "date": Day(status.next_due_on)}
    if status.payments_left == 1:
        return turn.say(Prompt.PLAN_STATUS_LAST, **values)
    return turn.say(Prompt.PLAN_STATUS, count=status.payments_left, **values)


@capture.PLAN.start_over.bind
@step(bp, "", member=True)
def overview(turn: Turn) -> VoiceResponse:
    """With a plan, what it stands at; without one, the plans the member may have, or why none."""
    call = turn.call
    status = turn.billing.plan_status(call.member_id)
    if status is not None and status.status == ACTIVE:
        return go(turn, plan_menu)
    lead = [plan_sentence(turn, status)] if status is not None else []
    offer = turn.billing.plan_offer(call.member_id)
    lead += exclusion_sentences(turn, offer)
    if offer.refusal is not None or not offer.options:
        return go(turn, MAIN_MENU, *lead, refusal_sentence(turn, offer))
    call.plan = PlanDraft(terms=[option.months for option in offer.options])
    lead.append(turn.say(Prompt.PLAN_OFFER, amount=Money(offer.eligible_cents)))
    options = [
        option_sentence(turn, option, key) for key, option in enumerate(offer.options, start=1)
    ]
    options.append(turn.say(Prompt.MENU_BACK))
    return ask(turn, options, option_answer, num_digits=1, lead=lead)


def option_sentence(turn: Turn, option: PlanOption, key: int) -> Say:
    """One term as the caller hears it: "6 payments of $208.50 a month, the first today"."""
    if option.first_cents == option.monthly_cents:
        return turn.say(
            Prompt.PLAN_OPTION,
            count=option.months,
            amount=Money(option.monthly_cents),
            key=str(key),
        )
    return turn.say(
        Prompt.PLAN_OPTION_UNEVEN,
        count=option.months,
        first=Money(option.first_cents),
        amount=Money(option.monthly_cents),
        key=str(key),
    )


def exclusion_sentences(turn: Turn, offer: PlanOffer) -> list[Say]:
    """Why each bill left out of a plan is left out, by its visit."""
    if not offer.excluded:
        return []
    summary = turn.billing.account_summary(turn.call.member_id, channel="phone")
    visits = {bill.bill_number: bill for bill in summary.bills}
    said = []
    for number, reason in offer.excluded.items():
        bill = visits.get(number)
        if bill is not None and reason in EXCLUSIONS:
            said.append(
                turn.say(
                    EXCLUSIONS[reason],
                    date_of_service=Day(bill.date_of_service),
                    facility=bill.facility,
                )
            )
    return said


def refusal_sentence(turn: Turn, offer: PlanOffer) -> Say:
    """Why no plan can be offered."""
    if offer.refusal == PlanNotAllowed.BELOW_MINIMUM:
        return turn.say(Prompt.PLAN_BELOW_MINIMUM, minimum=Money(offer.minimum_cents))
    if not offer.excluded:
        return turn.say(Prompt.NO_MEDICAL_BILLS)
    return turn.say(Prompt.PLAN_NOTHING_ELIGIBLE)


@step(bp, "/option", member=True, answer=True)
def option_answer(turn: Turn) -> VoiceResponse:
    """Take the term chosen, then the method."""
    draft = turn.call.plan
    terms = draft.terms
    if not terms:
        return go(turn, overview)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "plan_option", overview)
    if digits.isdigit() and 1 <= int(digits) <= len(terms):
        done(turn, "plan_option")
        draft.months = terms[int(digits) - 1]
        return go(turn, choose_method)
    return global_key(turn, digits, overview) or retry(
        turn, "plan_option", overview, Prompt.NOT_A_CHOICE
    )


@capture.PLAN.choose_method.bind
@step(bp, "/method", member=True)
def choose_method(turn: Turn) -> VoiceResponse:
    """Offer each saved method, then a new card and a new bank account."""
    draft = turn.call.plan
    if draft.months is None and not draft.changing:
        return go(turn, overview)
    return ask(turn, methods.options(turn, draft), method_answer, num_digits=1)


@step(bp, "/method/answer", member=True, answer=True)
def method_answer(turn: Turn) -> VoiceResponse:
    """Take the saved method and read the terms, or capture a new one."""
    draft = turn.call.plan
    if draft.method_ids is None:
        return go(turn, choose_method)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "plan_method", choose_method)
    picked = methods.choice(draft, digits)
    if picked is None:
        return global_key(turn, digits, choose_method) or retry(
            turn, "plan_method", choose_method, Prompt.NOT_A_CHOICE
        )
    done(turn, "plan_method")
    if picked == methods.NEW_CARD:
        return go(turn, capture.plan_card)
    if picked == methods.NEW_BANK:
        return go(turn, capture.plan_account_type)
    return go(turn, terms)


def terms_values(turn: Turn, method: Method) -> dict[str, object] | None:
    """What the authorization names: the member, the plan, the method, every amount and day.

    For a new plan, the option chosen (None when the options changed since); for a
    method change, the installments the plan has left.
    """
    call, draft = turn.call, turn.call.plan
    values: dict[str, object] = {
        "name": call.member_name,
        "payee": turn.billing.regions.plan_name,
        "method": method_phrase(method),
        "missed": turn.billing.plan_rules.for_region(call.region or "").missed_to_lapse,
    }
    if draft.changing:
        status = turn.billing.plan_status(call.member_id)
        if status is None or status.status != ACTIVE or status.next_due_on is None:
            return None
        return values | {
            "amount": Money(status.monthly_cents),
            "next": Day(status.next_due_on),
            "last": Day(status.last_due_on or status.next_due_on),
            "total": Money(status.scheduled_cents),
        }
    offer = turn.billing.plan_offer(call.member_id)
    option = next((o for o in offer.options if o.months == draft.months), None)
    if option is None:
        return None
    days = installment_days(turn.region.local_time(turn.billing.clock.now()).date(), option.months)
    return values | {
        "first": Money(option.first_cents),
        "monthly": Money(option.monthly_cents),
        "second": Day(days[1]),
        "last": Day(days[-1]),
        "total": Money(option.total_cents),
    }


def authorization_prompt(draft: PlanDraft) -> Prompt:
    return Prompt.PLAN_CHANGE_AUTHORIZATION if draft.changing else Prompt.PLAN_AUTHORIZATION


@capture.PLAN.captured.bind
@step(bp, "/terms", member=True)
def terms(turn: Turn) -> VoiceResponse:
    """Read the plan's recurring authorization inside the prompt: the caller may press early."""
    draft = turn.call.plan
    method = methods.chosen(turn, draft)
    if method is None:
        return go(turn, choose_method)
    values = terms_values(turn, method)
    if values is None:
        turn.call.plan = PlanDraft()
        return go(turn, overview, turn.say(Prompt.PLAN_OPTIONS_CHANGED))
    draft.request_key = draft.request_key or f"{turn.call.call_sid}:{uuid.uuid4().hex[:12]}"
    # What was read, to be sure the words recorded at "1" are the ones the caller heard.
    draft.terms_read = turn.voice.text(authorization_prompt(draft), **values)
    prompts = [turn.say(authorization_prompt(draft), **values), turn.say(Prompt.AUTOPAY_ACCEPT)]
    return ask(turn, prompts, terms_answer, num_digits=1)


@step(bp, "/terms/answer", member=True, answer=True)
def terms_answer(turn: Turn) -> VoiceResponse:
    """On 1, set the plan up (or move it to the method); on 2, choose the method again."""
    draft = turn.call.plan
    method = methods.chosen(turn, draft)
    if method is None or draft.request_key is None:
        return go(turn, choose_method)
    answer = agreed(turn, "plan_terms", terms, declined=choose_method)
    if answer is not None:
        return answer
    values = terms_values(turn, method)
    if values is None:
        turn.call.plan = PlanDraft()
        return go(turn, overview, turn.say(Prompt.PLAN_OPTIONS_CHANGED))
    text = turn.voice.text(authorization_prompt(draft), **values)
    if text != draft.terms_read:
        return go(turn, terms)  # the terms changed since they were read (a new day): read them
    authorization = AutopayAuthorization(
        accepted_at=turn.billing.clock.now(),
        method_kind=method.kind,
        method_brand=method.brand or method.account_type,
        method_last4=method.last4,
        channel="phone",
        wording_version=WORDING_VERSION,
        text=text,
        call_sid=turn.call.call_sid,
    )
    if draft.changing:
        return change_method(turn, draft, method, authorization)
    return set_up(turn, draft, method, authorization)


def new_method(draft: PlanDraft, method: Method) -> NewMethod | None:
    """The card or account captured in this call, saved with the plan; None for a saved one."""
    if draft.method is None:
        return None
    return NewMethod(
        kind=method.kind,
        token=method.token,
        last4=method.last4,
        brand=method.brand,
        exp=method.exp,
        account_type=method.account_type,
    )


def set_up(
    turn: Turn, draft: PlanDraft, method: Method, authorization: AutopayAuthorization
) -> VoiceResponse:
    """Set the plan up, its first installment charged once; say what became of it."""
    call = turn.call
    new = new_method(draft, method)
    try:
        made = turn.billing.set_up_plan(
            call.member_id,
            draft.months or 0,
            None if new is not None else draft.method_id,
            authorization,
            request_key=draft.request_key or "",
            new_method=new,
        )
    except PlanNotAllowed as refused:
        log.info("call %s: plan refused: %s", call.call_sid, refused.reason)
        call.plan = PlanDraft()
        if refused.reason == PlanNotAllowed.ALREADY_IN_PLAN:
            return go(turn, overview)  # set up meanwhile (another call): the plan is read
        if refused.reason in OPTIONS_CHANGED:
            return go(turn, overview, turn.say(Prompt.PLAN_OPTIONS_CHANGED))
        return go(turn, choose_method)  # the saved method was removed meanwhile
    log.info("call %s: plan %s %s", call.call_sid, made.plan_id, made.status)
    if made.status != ACTIVE or made.first is None:
        return not_set_up(turn, made)
    said = [turn.say(Prompt.PLAN_SET_UP)]
    if new is not None:
        said.append(turn.say(Prompt.METHOD_SAVED, method=method_phrase(method)))
    call.plan = PlanDraft()
    return confirmation(turn, made.first, said)


def not_set_up(turn: Turn, made: PlanSetUp) -> VoiceResponse:
    """The first installment did not go through, so there is no plan: say why, choose again."""
    draft = turn.call.plan
    # A new try is a new request: the cancelled plan keeps the key it was asked under.
    draft.request_key = None
    draft.method = None
    if made.first is None:
        turn.call.plan = PlanDraft()
        return go(turn, overview, turn.say(Prompt.PLAN_OPTIONS_CHANGED))
    reason = pay.DECLINE_PROMPTS.get(made.first.decline_code or "", Prompt.DECLINED)
    return go(turn, choose_method, turn.say(reason), turn.say(Prompt.PLAN_NOT_SET_UP))


def change_method(
    turn: Turn, draft: PlanDraft, method: Method, authorization: AutopayAuthorization
) -> VoiceResponse:
    """Move the plan's next installments to the method, under the authorization accepted."""
    call = turn.call
    new = new_method(draft, method)
    try:
        turn.billing.change_plan_method(
            call.member_id,
            draft.plan_id or 0,
            None if new is not None else draft.method_id,
            authorization,
            new_method=new,
        )
    except PlanNotAllowed:
        call.plan = PlanDraft()
        return go(turn, overview)  # the plan ended, or the method was removed, meanwhile
    call.plan = PlanDraft()
    said = [turn.say(Prompt.PLAN_METHOD_CHANGED, method=method_phrase(method))]
    if new is not None:
        said.append(turn.say(Prompt.METHOD_SAVED, method=method_phrase(method)))
    return go(turn, MAIN_MENU, *said)


def confirmation(turn: Turn, outcome, said: list[Say]) -> VoiceResponse:
    """Hand the payment's result to the payment flow's confirmation: number, receipt, menu."""
    turn.call.pay = Draft(
        outcome=Outcome(
            status=outcome.status.value,
            confirmation=outcome.confirmation_number,
            amount=outcome.amount_cents,
        )
    )
    return go(turn, pay.finished, *said)


# --- a plan in place --------------------------------------------------------------------


def plan_method(status: PlanStatus) -> Method:
    return Method.as_recorded(status.method_kind, status.method_brand, status.method_last4)


@step(bp, "/plan", member=True)
def plan_menu(turn: Turn) -> VoiceResponse:
    """Say where the plan stands; offer to pay the next payment or the rest, or a new method."""
    call = turn.call
    status = turn.billing.plan_status(call.member_id)
    if status is None or status.status != ACTIVE:
        return go(turn, overview)
    call.plan = PlanDraft(plan_id=status.plan_id)
    lead = [plan_sentence(turn, status)]
    if status.paying and status.next_due_on is not None:
        lead.append(turn.say(Prompt.PLAN_STATUS_PAYING))
    lead.append(turn.say(Prompt.PLAN_METHOD, method=method_phrase(plan_method(status))))
    options = []
    if not status.paying and status.next_due_on is not None:
        if status.payments_left > 1:
            options.append(turn.say(Prompt.PLAN_PAY_NEXT, amount=Money(status.next_amount_cents)))
        options.append(turn.say(Prompt.PLAN_PAY_OFF, amount=Money(status.remaining_cents)))
    options += [turn.say(Prompt.PLAN_CHANGE_METHOD), turn.say(Prompt.MENU_BACK)]
    return ask(turn, options, plan_menu_answer, num_digits=1, lead=[s for s in lead if s])


@step(bp, "/plan/answer", member=True, answer=True)
def plan_menu_answer(turn: Turn) -> VoiceResponse:
    """Pay the next payment on 1, the rest on 2; another method on 3."""
    draft = turn.call.plan
    if draft.plan_id is None:
        return go(turn, plan_menu)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "plan_menu", plan_menu)
    if digits in ("1", "2"):
        done(turn, "plan_menu")
        draft.ahead = "next" if digits == "1" else "payoff"
        return go(turn, confirm_ahead)
    if digits == "3":
        done(turn, "plan_menu")
        draft.changing = True
        return go(turn, choose_method)
    return global_key(turn, digits, plan_menu) or retry(
        turn, "plan_menu", plan_menu, Prompt.NOT_A_CHOICE
    )


def ahead_amount(status: PlanStatus, ahead: str | None) -> int:
    if ahead == "payoff" or status.payments_left == 1:
        return status.remaining_cents
    return status.next_amount_cents


@pay.PLAN_PAYMENT.bind
@step(bp, "/ahead", member=True)
def confirm_ahead(turn: Turn) -> VoiceResponse:
    """Read back the payment ahead, from the plan's method; a bank debit's authorization too."""
    call = turn.call
    status = turn.billing.plan_status(call.member_id)
    if status is None or status.status != ACTIVE:
        return go(turn, overview)
    if status.paying or status.next_due_on is None:
        return go(turn, MAIN_MENU, turn.say(Prompt.PLAN_STATUS_PAYING))
    draft = call.plan
    draft.plan_id = status.plan_id
    draft.ahead = draft.ahead or "next"
    amount = draft.ahead_cents = ahead_amount(status, draft.ahead)
    draft.request_key = draft.request_key or f"{call.call_sid}:{uuid.uuid4().hex[:12]}"
    method = plan_method(status)
    if method.kind == "bank":
        values = pay.ach_authorization(turn, amount, method, turn.billing.clock.now())
        prompts = [turn.say(Prompt.ACH_AUTHORIZATION, **values), turn.say(Prompt.PLAN_ACH_OPTIONS)]
    else:
        prompts = [
            turn.say(Prompt.PLAN_CONFIRM_AHEAD, amount=Money(amount), method=method_phrase(method))
        ]
    return ask(turn, prompts, confirm_ahead_answer, num_digits=1)


@step(bp, "/ahead/answer", member=True, answer=True)
def confirm_ahead_answer(turn: Turn) -> VoiceResponse:
    """On 1, pay it (once); on 2, back to the plan."""
    call, draft = turn.call, turn.call.plan
    if draft.plan_id is None or draft.request_key is None or draft.ahead_cents is None:
        return go(turn, plan_menu)
    answer = agreed(turn, "plan_ahead", confirm_ahead, declined=plan_menu)
    if answer is not None:
        return answer
    status = turn.billing.plan_status(call.member_id)
    if status is None or status.status != ACTIVE:
        return go(turn, overview)
    payoff = draft.ahead == "payoff" or status.payments_left == 1
    if ahead_amount(status, draft.ahead) != draft.ahead_cents:
        return go(turn, confirm_ahead)  # the amount read back changed: read it again
    try:
        outcome = turn.billing.pay_plan_ahead(
            call.member_id,
            status.plan_id,
            payoff=payoff,
            request_key=draft.request_key,
            channel="phone",
            call_sid=call.call_sid,
            ach_authorization=ach_accepted(turn, status, draft.ahead_cents),
        )
    except PlanNotAllowed as refused:
        log.info("call %s: payment ahead refused: %s", call.call_sid, refused.reason)
        call.plan = PlanDraft()
        if refused.reason == PlanNotAllowed.PAYMENT_IN_PROGRESS:
            return go(turn, MAIN_MENU, turn.say(Prompt.PLAN_STATUS_PAYING))
        return go(turn, overview)
    except PaymentError as refused:
        log.warning("call %s: payment ahead refused: %r", call.call_sid, refused)
        call.plan = PlanDraft()
        return go(turn, MAIN_MENU, turn.say(Prompt.DECLINED_PROCESSING))
    if outcome.status is PaymentStatus.FAILED:
        draft.request_key = None
        reason = pay.DECLINE_PROMPTS.get(outcome.decline_code or "", Prompt.DECLINED)
        return go(turn, plan_menu, turn.say(reason))
    said = []
    if payoff and outcome.status.went_through:
        said.append(turn.say(Prompt.PLAN_PAID_OFF))
    call.plan = PlanDraft()
    return confirmation(turn, outcome, said)


def ach_accepted(turn: Turn, status: PlanStatus, amount: int) -> AchAuthorization | None:
    """The single-entry authorization a bank payment ahead was read, as accepted; else None."""
    method = plan_method(status)
    if method.kind != "bank":
        return None
    now = turn.billing.clock.now()
    return AchAuthorization(
        accepted_at=now,
        amount_cents=amount,
        account_last4=method.last4,
        call_sid=turn.call.call_sid,
        text=turn.voice.text(
            Prompt.ACH_AUTHORIZATION, **pay.ach_authorization(turn, amount, method, now)
        ),
    )
