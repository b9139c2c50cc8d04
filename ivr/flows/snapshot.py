"""Right after identification: pay what is most likely owed with the saved method, one key.

A member with a saved card or account and a balance hears one sentence naming the amount,
what it pays and the method: pressing 1 is the authorization and the payment goes through
under an idempotency key fixed when the sentence was spoken (a bank account still hears
the debit authorization read). Every key of the main menu works here too; silence, or 9,
is the main menu. Members with nothing to pay, no saved method, or whose premium autopay
takes, go straight to the main menu.
"""

from __future__ import annotations

import uuid

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from ivr.call_state import Draft, Method, PayTarget
from ivr.flows import menu, pay
from ivr.kernel import MAIN_MENU, Turn, answered, ask, done, global_key, go, retry, step
from ivr.prompts import Prompt
from ivr.sentences import method_phrase, target_phrase
from ivr.speech import Money

bp = Blueprint("snapshot", __name__, url_prefix="/voice/snapshot")

# What a snapshot offers to pay, the most likely first: every bill, the one bill, the premium.
LIKELY = ("all_bills", "bill", "premium")


def likely_payment(turn: Turn) -> tuple[PayTarget, int, Method] | None:
    """What the member most likely wants to pay now, its amount and their saved method."""
    call, billing = turn.call, turn.billing
    saved = billing.saved_methods(call.member_id)
    if not saved:
        return None
    plan = billing.plan_status(call.member_id)
    if plan is not None and plan.status == "active":
        return None  # the member heard where the plan stands; its menu pays it
    summary = billing.account_summary(call.member_id, channel="phone", call_sid=call.call_sid)
    targets = pay.payable_targets(summary, plan)
    likely = next((t for kind in LIKELY for t in targets if t.kind == kind), None)
    if likely is None:
        return None
    if likely.kind == "premium" and billing.autopay_status(call.member_id).enrolled:
        return None  # autopay takes it: the member heard when
    payable, _held = pay.payable_now(turn, likely)
    if payable <= 0:
        return None
    return likely, payable, Method.of_saved(saved[0], with_token=True)


@step(bp, "", member=True)
def offer(turn: Turn) -> VoiceResponse:
    """Offer to pay what is owed now with the saved method; else the main menu."""
    found = likely_payment(turn)
    if found is None:
        return go(turn, MAIN_MENU)
    target, amount, method = found
    call = turn.call
    # Fixed as the offer is spoken: the key that accepts it is one payment, however often
    # it is pressed or its webhook replayed.
    call.pay = Draft(
        target=target,
        amount=amount,
        method=method,
        idempotency_key=f"{call.call_sid}:{uuid.uuid4().hex}",
    )
    sentences = [
        turn.say(
            Prompt.SNAPSHOT_PAY,
            amount=Money(amount),
            target=target_phrase(target),
            method=method_phrase(method),
        ),
        turn.say(Prompt.SNAPSHOT_MENU),
    ]
    return ask(turn, sentences, offer_answer, num_digits=1)


@step(bp, "/answer", member=True, answer=True)
def offer_answer(turn: Turn) -> VoiceResponse:
    """Pay on 1 (a bank account hears its authorization first); any menu key goes on."""
    digits = answered(turn)
    draft = turn.call.pay
    if not digits:
        return go(turn, MAIN_MENU)
    if digits == "1" and draft.method is not None and draft.idempotency_key is not None:
        done(turn, "snapshot")
        if draft.method.kind == "bank":
            return go(turn, pay.confirm)
        return pay.charge(turn)
    if digits in menu.CHOICES:
        done(turn, "snapshot")
        turn.call.pay = Draft()
        return go(turn, menu.CHOICES[digits])
    return global_key(turn, digits, offer) or retry(turn, "snapshot", offer, Prompt.NOT_A_CHOICE)
