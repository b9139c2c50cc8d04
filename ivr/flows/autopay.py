"""Automatic payments: hear the enrollment, enroll, change the method, set a maximum, cancel.

The billing core charges the premium on each due date; this flow records the caller's
standing authorization in the words they heard, and nothing here charges anything. A
new card or bank account is captured with <Pay> (ivr/flows/capture.py) and saved only
with the authorization that names it.
"""

from __future__ import annotations

import logging

from flask import Blueprint
from twilio.twiml.voice_response import Say, VoiceResponse

from billing_core.domain.autopay import AutopayAuthorization, AutopayNotAllowed
from billing_core.services.autopay import AutopayStatus, NewMethod
from ivr.call_state import AutopayDraft, Method
from ivr.flows import capture, methods
from ivr.flows.pay import parse_amount
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
from ivr.speech import Day, Digits, Money

bp = Blueprint("autopay", __name__, url_prefix="/voice/autopay")
log = logging.getLogger(__name__)

# The version of the words read as the standing authorization; recorded with them.
WORDING_VERSION = "autopay-phone-202612"

# What the caller hears when the member's coverage rules automatic payments out.
REFUSALS = {
    AutopayNotAllowed.EMPLOYER_GROUP: Prompt.AUTOPAY_EMPLOYER,
    AutopayNotAllowed.EXCHANGE_BINDER_UNPAID: Prompt.AUTOPAY_EXCHANGE_BINDER,
}


def refusal(turn: Turn) -> str | None:
    """Why the member may not pay automatically (before any method counts), or None."""
    reason = turn.billing.autopay_refusal(turn.call.member_id)
    return reason if reason in REFUSALS else None


@capture.AUTOPAY.start_over.bind
@step(bp, "", member=True)
def overview(turn: Turn) -> VoiceResponse:
    """Say how the premium is paid automatically, or offer to set it up."""
    call = turn.call
    status = turn.billing.autopay_status(call.member_id)
    if not status.enrolled:
        reason = refusal(turn)
        if reason is not None:
            return go(turn, MAIN_MENU, turn.say(REFUSALS[reason]))
        call.autopay = AutopayDraft()
        return go(turn, choose_method)
    lead = [enrolled_sentence(turn, status)]
    maximum = Prompt.AUTOPAY_OFFER_MAXIMUM
    if status.max_amount_cents is not None:
        maximum = Prompt.AUTOPAY_OFFER_CHANGE_MAXIMUM
        if not above_maximum(status):  # that sentence names the maximum already
            lead.append(turn.say(Prompt.AUTOPAY_MAXIMUM_IS, amount=Money(status.max_amount_cents)))
    options = [turn.say(Prompt.AUTOPAY_OPTIONS), turn.say(maximum), turn.say(Prompt.MENU_BACK)]
    return ask(turn, options, overview_answer, num_digits=1, lead=lead)


def next_payment(turn: Turn) -> Say | None:
    """The member's next automatic payment, said right after identification; None if none."""
    status = status_once(turn)
    return enrolled_sentence(turn, status) if status.enrolled else None


def status_once(turn: Turn) -> AutopayStatus:
    """The member's enrollment, read once for the greeting and the payment offered first."""
    return turn.once("autopay_status", lambda: turn.billing.autopay_status(turn.call.member_id))


def enrolled_sentence(turn: Turn, status: AutopayStatus) -> Say:
    """What the enrollment will pay next, when, and from which method."""
    saved = None
    if status.method_id is not None:
        saved = turn.billing.saved_method(turn.call.member_id, status.method_id)
    if saved is not None:
        method = method_phrase(Method.of_saved(saved))
    else:
        # The method was removed since: name it as the enrollment recorded it.
        method = method_phrase(
            Method.as_recorded(status.method_kind, status.method_brand, status.method_last4)
        )
    if status.next_amount_cents and status.next_due_date is not None:
        if above_maximum(status):
            return turn.say(
                Prompt.AUTOPAY_ABOVE_MAXIMUM,
                amount=Money(status.next_amount_cents),
                date=Day(status.next_due_date),
                maximum=Money(status.max_amount_cents or 0),
            )
        return turn.say(
            Prompt.AUTOPAY_ENROLLED,
            amount=Money(status.next_amount_cents),
            # The day it is charged: later than due when its notice came late.
            date=Day(status.next_charge_on or status.next_due_date),
            method=method,
        )
    return turn.say(Prompt.AUTOPAY_ENROLLED_NOTHING_DUE, method=method)


def above_maximum(status: AutopayStatus) -> bool:
    """Whether the next premium is more than the member's maximum (the run will not charge it)."""
    maximum, amount = status.max_amount_cents, status.next_amount_cents
    return maximum is not None and amount is not None and amount > maximum


@step(bp, "/answer", member=True, answer=True)
def overview_answer(turn: Turn) -> VoiceResponse:
    """Change the method, cancel, set the maximum, or go back to the main menu."""
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "autopay", overview)
    if digits == "1":
        done(turn, "autopay")
        turn.call.autopay = AutopayDraft(changing=True)
        return go(turn, choose_method)
    if digits == "2":
        done(turn, "autopay")
        return go(turn, cancel_offer)
    if digits == "3":
        done(turn, "autopay")
        return go(turn, maximum_offer)
    return global_key(turn, digits, overview) or retry(
        turn, "autopay", overview, Prompt.NOT_A_CHOICE
    )


@capture.AUTOPAY.choose_method.bind
@step(bp, "/method", member=True)
def choose_method(turn: Turn) -> VoiceResponse:
    """Offer each saved method, then a new card and a new bank account."""
    return ask(turn, methods.options(turn, turn.call.autopay), method_answer, num_digits=1)


@step(bp, "/method/answer", member=True, answer=True)
def method_answer(turn: Turn) -> VoiceResponse:
    """Take the saved method to pay with and read the terms, or capture a new one."""
    draft = turn.call.autopay
    if draft.method_ids is None:
        return go(turn, choose_method)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "autopay_method", choose_method)
    picked = methods.choice(draft, digits)
    if picked is None:
        return global_key(turn, digits, choose_method) or retry(
            turn, "autopay_method", choose_method, Prompt.NOT_A_CHOICE
        )
    done(turn, "autopay_method")
    if picked == methods.NEW_CARD:
        return go(turn, capture.autopay_card)
    if picked == methods.NEW_BANK:
        return go(turn, capture.autopay_account_type)
    return go(turn, terms)


def authorization_values(turn: Turn, method: Method) -> dict[str, object]:
    """What the standing authorization names: who, whom, and the method charged."""
    return {
        "name": turn.call.member_name,
        "payee": turn.billing.regions.plan_name,
        "method": method_phrase(method),
    }


@capture.AUTOPAY.captured.bind
@step(bp, "/terms", member=True)
def terms(turn: Turn) -> VoiceResponse:
    """Read the recurring authorization inside the prompt: the caller may press before its end."""
    method = methods.chosen(turn, turn.call.autopay)
    if method is None:
        return go(turn, choose_method)
    prompts: list[Say] = [
        turn.say(Prompt.AUTOPAY_AUTHORIZATION, **authorization_values(turn, method)),
        turn.say(Prompt.AUTOPAY_ACCEPT),
    ]
    return ask(turn, prompts, terms_answer, num_digits=1)


@step(bp, "/terms/answer", member=True, answer=True)
def terms_answer(turn: Turn) -> VoiceResponse:
    """On 1, record the authorization (with a new method, saved then); on 2, choose again."""
    method = methods.chosen(turn, turn.call.autopay)
    if method is None:
        return go(turn, choose_method)
    # Declined (2): a new card or account captured for these terms is not kept.
    answer = agreed(turn, "autopay_terms", terms, declined=choose_method)
    if answer is not None:
        return answer
    call = turn.call
    draft, call.autopay = call.autopay, AutopayDraft()
    try:
        authorize(turn, draft, method)
    except AutopayNotAllowed as refused:
        log.info("call %s: autopay refused: %s", call.call_sid, refused.reason)
        if refused.reason in REFUSALS:
            return go(turn, MAIN_MENU, turn.say(REFUSALS[refused.reason]))
        # The method was removed, or the enrollment canceled, meanwhile: start over.
        return go(turn, overview)
    if draft.changing:
        said = [turn.say(Prompt.AUTOPAY_METHOD_CHANGED, method=method_phrase(method))]
    else:
        said = [turn.say(Prompt.AUTOPAY_SET_UP)]
    if draft.method is not None:
        said.append(turn.say(Prompt.METHOD_SAVED, method=method_phrase(method)))
    return go(turn, MAIN_MENU, *said)


def authorize(turn: Turn, draft: AutopayDraft, method: Method) -> int:
    """Record the standing authorization in the exact words the caller heard and accepted.

    A new method is saved by the billing core with the enrollment, in one transaction.
    """
    call = turn.call
    authorization = AutopayAuthorization(
        accepted_at=turn.billing.clock.now(),
        method_kind=method.kind,
        # For a bank account the "brand" recorded is its type, as payments record it.
        method_brand=method.brand or method.account_type,
        method_last4=method.last4,
        channel="phone",
        wording_version=WORDING_VERSION,
        text=turn.voice.text(Prompt.AUTOPAY_AUTHORIZATION, **authorization_values(turn, method)),
        call_sid=call.call_sid,
    )
    new = None
    if draft.method is not None:
        new = NewMethod(
            kind=method.kind,
            token=method.token,
            last4=method.last4,
            brand=method.brand,
            exp=method.exp,
            account_type=method.account_type,
        )
    saved_id = None if new is not None else draft.method_id
    if draft.changing:
        enrollment = turn.billing.change_autopay_method(
            call.member_id, saved_id, authorization, new_method=new
        )
    else:
        enrollment = turn.billing.enroll_autopay(
            call.member_id, saved_id, authorization, new_method=new
        )
    log.info("call %s: autopay enrollment %s", call.call_sid, enrollment)
    return enrollment


@step(bp, "/maximum", member=True)
def maximum_offer(turn: Turn) -> VoiceResponse:
    """With a maximum set, offer to change or remove it; without one, ask for it."""
    status = turn.billing.autopay_status(turn.call.member_id)
    if not status.enrolled:
        return go(turn, overview)
    if status.max_amount_cents is None:
        return go(turn, ask_maximum)
    options = [turn.say(Prompt.AUTOPAY_MAXIMUM_OPTIONS)]
    return ask(turn, options, maximum_offer_answer, num_digits=1)


@step(bp, "/maximum/answer", member=True, answer=True)
def maximum_offer_answer(turn: Turn) -> VoiceResponse:
    """Enter a new maximum on 1; remove it on 2."""
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "autopay_maximum_offer", maximum_offer)
    if digits == "1":
        done(turn, "autopay_maximum_offer")
        return go(turn, ask_maximum)
    if digits == "2":
        done(turn, "autopay_maximum_offer")
        return keep_maximum(turn, None)
    return global_key(turn, digits, maximum_offer) or retry(
        turn, "autopay_maximum_offer", maximum_offer, Prompt.NOT_A_CHOICE
    )


@step(bp, "/maximum/amount", member=True)
def ask_maximum(turn: Turn) -> VoiceResponse:
    """Ask for the maximum as dollars, star, cents, pound."""
    prompts = [
        turn.say(Prompt.AUTOPAY_ASK_MAXIMUM),
        turn.say(Prompt.AMOUNT_EXAMPLE, example=Money(50000), keys=Digits("500#")),
    ]
    return ask(turn, prompts, maximum_answer)


@step(bp, "/maximum/amount/answer", member=True, answer=True)
def maximum_answer(turn: Turn) -> VoiceResponse:
    """Check the amount keyed in, then read it back."""
    keys = answered(turn, relay_key=False)
    if not keys:
        return no_answer(turn, "autopay_maximum", ask_maximum)
    if keys.rstrip("#") in ("*", "0"):
        # Not amounts: a star alone repeats and a 0 alone asks for a specialist, as elsewhere.
        return global_key(turn, keys.rstrip("#"), ask_maximum) or go(turn, ask_maximum)
    amount, problem = parse_amount(keys)
    if problem is not None:
        return retry(turn, "autopay_maximum", ask_maximum, problem)
    done(turn, "autopay_maximum")
    turn.call.autopay.maximum = amount
    return go(turn, confirm_maximum)


@step(bp, "/maximum/confirm", member=True)
def confirm_maximum(turn: Turn) -> VoiceResponse:
    """Read the maximum back before it is kept."""
    amount = turn.call.autopay.maximum
    if amount is None:
        return go(turn, maximum_offer)
    prompts = [turn.say(Prompt.AUTOPAY_CONFIRM_MAXIMUM, amount=Money(amount))]
    return ask(turn, prompts, confirm_maximum_answer, num_digits=1)


@step(bp, "/maximum/confirm/answer", member=True, answer=True)
def confirm_maximum_answer(turn: Turn) -> VoiceResponse:
    """Keep the maximum on 1; enter it again on 2."""
    amount = turn.call.autopay.maximum
    if amount is None:
        return go(turn, overview)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "autopay_maximum_confirm", confirm_maximum)
    if digits == "1":
        done(turn, "autopay_maximum_confirm")
        turn.call.autopay.maximum = None
        return keep_maximum(turn, amount)
    if digits == "2":
        done(turn, "autopay_maximum_confirm")
        return go(turn, ask_maximum)
    return global_key(turn, digits, confirm_maximum) or retry(
        turn, "autopay_maximum_confirm", confirm_maximum, Prompt.NOT_A_CHOICE
    )


def keep_maximum(turn: Turn, amount: int | None) -> VoiceResponse:
    """Store the maximum (None removes it) and say so; back to the overview if not enrolled."""
    call = turn.call
    try:
        turn.billing.set_autopay_maximum(
            call.member_id, amount, channel="phone", call_sid=call.call_sid
        )
    except AutopayNotAllowed:
        return go(turn, overview)  # canceled meanwhile
    if amount is None:
        return go(turn, MAIN_MENU, turn.say(Prompt.AUTOPAY_MAXIMUM_REMOVED))
    return go(turn, MAIN_MENU, turn.say(Prompt.AUTOPAY_MAXIMUM_SET, amount=Money(amount)))


@step(bp, "/cancel", member=True)
def cancel_offer(turn: Turn) -> VoiceResponse:
    """Ask the caller to confirm that automatic payments stop."""
    return ask(turn, [turn.say(Prompt.AUTOPAY_CANCEL_CONFIRM)], cancel_answer, num_digits=1)


@step(bp, "/cancel/answer", member=True, answer=True)
def cancel_answer(turn: Turn) -> VoiceResponse:
    """Cancel on 1; keep them on 2."""
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "autopay_cancel", cancel_offer)
    if digits == "1":
        done(turn, "autopay_cancel")
        call = turn.call
        turn.billing.cancel_autopay(call.member_id, channel="phone", call_sid=call.call_sid)
        return go(turn, MAIN_MENU, turn.say(Prompt.AUTOPAY_CANCELED))
    if digits == "2":
        done(turn, "autopay_cancel")
        return go(turn, overview)
    return global_key(turn, digits, cancel_offer) or retry(
        turn, "autopay_cancel", cancel_offer, Prompt.NOT_A_CHOICE
    )
