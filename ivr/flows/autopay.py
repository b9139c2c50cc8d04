"""Automatic payments: hear the enrollment, enroll with a saved method, change it, cancel.

The billing core charges the premium on each due date; this flow records the caller's
standing authorization in the words they heard, and nothing here charges anything.
"""

from __future__ import annotations

import logging

from flask import Blueprint
from twilio.twiml.voice_response import Say, VoiceResponse

from billing_core.domain.autopay import AutopayAuthorization, AutopayNotAllowed
from billing_core.services.autopay import AutopayStatus
from billing_core.services.wallet import SavedMethod
from ivr.call_state import AutopayDraft, Method
from ivr.kernel import (
    MAIN_MENU,
    Turn,
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
    return ask(
        turn,
        [turn.say(Prompt.AUTOPAY_OPTIONS)],
        overview_answer,
        num_digits=1,
        lead=[enrolled_sentence(turn, status)],
    )


def next_payment(turn: Turn) -> Say | None:
    """The member's next automatic payment, said right after identification; None if none."""
    status = turn.billing.autopay_status(turn.call.member_id)
    return enrolled_sentence(turn, status) if status.enrolled else None


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
        return turn.say(
            Prompt.AUTOPAY_ENROLLED,
            amount=Money(status.next_amount_cents),
            date=Day(status.next_due_date),
            method=method,
        )
    return turn.say(Prompt.AUTOPAY_ENROLLED_NOTHING_DUE, method=method)


@step(bp, "/answer", member=True, answer=True)
def overview_answer(turn: Turn) -> VoiceResponse:
    """Change the method, cancel, or go back to the main menu."""
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
    return global_key(turn, digits, overview) or retry(
        turn, "autopay", overview, Prompt.NOT_A_CHOICE
    )


@step(bp, "/method", member=True)
def choose_method(turn: Turn) -> VoiceResponse:
    """Offer each saved method; with none, say how to save one."""
    draft = turn.call.autopay
    saved = turn.billing.saved_methods(turn.call.member_id)
    if not saved:
        turn.call.autopay = AutopayDraft()
        return go(turn, MAIN_MENU, turn.say(Prompt.AUTOPAY_NEEDS_SAVED_METHOD))
    options = [
        turn.say(
            Prompt.AUTOPAY_ASK_METHOD, method=method_phrase(Method.of_saved(method)), key=str(key)
        )
        for key, method in enumerate(saved, start=1)
    ]
    draft.method_ids = [method.id for method in saved]
    draft.method_id = None
    return ask(turn, options, method_answer, num_digits=1)


@step(bp, "/method/answer", member=True, answer=True)
def method_answer(turn: Turn) -> VoiceResponse:
    """Take the saved method to pay with, then read the terms."""
    draft = turn.call.autopay
    choices = draft.method_ids
    if not choices:
        return go(turn, choose_method)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "autopay_method", choose_method)
    if digits.isdigit() and 1 <= int(digits) <= len(choices):
        done(turn, "autopay_method")
        draft.method_id = choices[int(digits) - 1]
        return go(turn, terms)
    return global_key(turn, digits, choose_method) or retry(
        turn, "autopay_method", choose_method, Prompt.NOT_A_CHOICE
    )


def authorization_values(turn: Turn, saved: SavedMethod) -> dict[str, object]:
    """What the standing authorization names: who, whom, and the method charged."""
    return {
        "name": turn.call.member_name,
        "payee": turn.billing.regions.plan_name,
        "method": method_phrase(Method.of_saved(saved)),
    }


def chosen_method(turn: Turn) -> SavedMethod | None:
    method_id = turn.call.autopay.method_id
    if method_id is None:
        return None
    return turn.billing.saved_method(turn.call.member_id, method_id)


@step(bp, "/terms", member=True)
def terms(turn: Turn) -> VoiceResponse:
    """Read the recurring authorization inside the prompt: the caller may press before its end."""
    saved = chosen_method(turn)
    if saved is None:
        return go(turn, choose_method)
    prompts: list[Say] = [
        turn.say(Prompt.AUTOPAY_AUTHORIZATION, **authorization_values(turn, saved)),
        turn.say(Prompt.AUTOPAY_ACCEPT),
    ]
    return ask(turn, prompts, terms_answer, num_digits=1)


@step(bp, "/terms/answer", member=True, answer=True)
def terms_answer(turn: Turn) -> VoiceResponse:
    """On 1, record the authorization (or the new method); on 2, choose again."""
    saved = chosen_method(turn)
    if saved is None:
        return go(turn, choose_method)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "autopay_terms", terms)
    if digits == "2":
        done(turn, "autopay_terms")
        return go(turn, choose_method)
    if digits != "1":
        return global_key(turn, digits, terms) or retry(
            turn, "autopay_terms", terms, Prompt.NOT_A_CHOICE
        )
    done(turn, "autopay_terms")
    call = turn.call
    changing = call.autopay.changing
    call.autopay = AutopayDraft()
    try:
        if changing:
            turn.billing.change_autopay_method(
                call.member_id, saved.id, channel="phone", call_sid=call.call_sid
            )
        else:
            enroll(turn, saved)
    except AutopayNotAllowed as refused:
        log.info("call %s: autopay refused: %s", call.call_sid, refused.reason)
        if refused.reason in REFUSALS:
            return go(turn, MAIN_MENU, turn.say(REFUSALS[refused.reason]))
        # The method was removed, or the enrollment canceled, meanwhile: start over.
        return go(turn, overview)
    if changing:
        said = turn.say(Prompt.AUTOPAY_METHOD_CHANGED, method=method_phrase(Method.of_saved(saved)))
    else:
        said = turn.say(Prompt.AUTOPAY_SET_UP)
    return go(turn, MAIN_MENU, said)


def enroll(turn: Turn, saved: SavedMethod) -> int:
    """Record the standing authorization in the exact words the caller heard and accepted."""
    call = turn.call
    authorization = AutopayAuthorization(
        accepted_at=turn.billing.clock.now(),
        method_kind=saved.kind,
        # For a bank account the "brand" recorded is its type, as payments record it.
        method_brand=saved.brand or saved.account_type,
        method_last4=saved.last4,
        channel="phone",
        wording_version=WORDING_VERSION,
        text=turn.voice.text(Prompt.AUTOPAY_AUTHORIZATION, **authorization_values(turn, saved)),
        call_sid=call.call_sid,
    )
    enrollment = turn.billing.enroll_autopay(call.member_id, saved.id, authorization)
    log.info("call %s: autopay enrollment %s", call.call_sid, enrollment)
    return enrollment


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
