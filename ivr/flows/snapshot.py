"""Right after identification: what is owed, and one key to pay it the most likely way.

A member with a balance hears one sentence naming the amount, what it pays and how. With
a saved card or account, pressing 1 is the authorization and the payment goes through
under an idempotency key fixed when the sentence was spoken (a bank account still hears
the debit authorization read). Without one, 1 takes a card straight away, for the amount
and bill named, and the card is read back before it is charged. Every key of the main
menu works here too; silence, or 9, is the main menu. A member with nothing to pay hears
so; a member on a payment plan, or whose premium autopay takes, has heard where it stands
and goes on to the main menu.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from billing_core.services.plan_servicing import PlanStatus
from ivr.call_state import Draft, Method, PayTarget
from ivr.flows import autopay, capture, menu, pay
from ivr.kernel import MAIN_MENU, Turn, answered, ask, done, global_key, go, retry, step
from ivr.prompts import Prompt
from ivr.sentences import method_phrase, target_phrase
from ivr.speech import Money

bp = Blueprint("snapshot", __name__, url_prefix="/voice/snapshot")

# What a snapshot offers to pay, the most likely first: every bill, the one bill, the premium.
LIKELY = ("all_bills", "bill", "premium")


@dataclass(frozen=True)
class Likely:
    """The payment a snapshot offers: what, how much, and the saved method if there is one."""

    target: PayTarget
    amount: int
    method: Method | None


@dataclass(frozen=True)
class Snapshot:
    """Where the member stands: nothing owed, or the payment to offer (None: the menu)."""

    owes_nothing: bool
    likely: Likely | None = None


def plan_status(turn: Turn) -> PlanStatus | None:
    """The member's plan, read once for the greeting and the payment offered first."""
    return turn.once("plan_status", lambda: turn.billing.plan_status(turn.call.member_id))


def snapshot(turn: Turn) -> Snapshot:
    """Return whether the member owes anything, and what they most likely want to pay."""
    call, billing = turn.call, turn.billing
    plan = plan_status(turn)
    summary = billing.account_summary(call.member_id, channel="phone", call_sid=call.call_sid)
    targets = pay.payable_targets(summary, plan)
    if plan is not None and plan.status == "active":
        return Snapshot(owes_nothing=False)  # the member heard where the plan stands
    if not targets:
        return Snapshot(owes_nothing=True)
    likely = next((t for kind in LIKELY for t in targets if t.kind == kind), None)
    if likely is None:
        return Snapshot(owes_nothing=False)
    if likely.kind == "premium" and autopay.status_once(turn).enrolled:
        return Snapshot(owes_nothing=False)  # autopay takes it: the member heard when
    payable, _held = pay.payable_now(turn, likely)
    if payable <= 0:
        return Snapshot(owes_nothing=False)  # a payment under way holds it
    saved = billing.saved_methods(call.member_id)
    method = Method.of_saved(saved[0], with_token=True) if saved else None
    return Snapshot(owes_nothing=False, likely=Likely(likely, payable, method))


@step(bp, "", member=True)
def offer(turn: Turn) -> VoiceResponse:
    """Offer to pay what is owed now, the most likely way; else the main menu."""
    found = snapshot(turn)
    if found.likely is None:
        said = [turn.say(Prompt.NOTHING_TO_PAY)] if found.owes_nothing else []
        return go(turn, MAIN_MENU, *said)
    likely = found.likely
    target, amount, method = likely.target, likely.amount, likely.method
    call = turn.call
    values = {"amount": Money(amount), "target": target_phrase(target, turn.today)}
    if method is None:
        call.pay = Draft(target=target, amount=amount)
        sentence = turn.say(Prompt.SNAPSHOT_PAY_CARD, **values)
    else:
        # Fixed as the offer is spoken: the key that accepts it is one payment, however
        # often it is pressed or its webhook replayed.
        call.pay = Draft(
            target=target,
            amount=amount,
            method=method,
            idempotency_key=f"{call.call_sid}:{uuid.uuid4().hex}",
        )
        sentence = turn.say(Prompt.SNAPSHOT_PAY, method=method_phrase(method), **values)
    return ask(turn, [sentence, turn.say(Prompt.SNAPSHOT_MENU)], offer_answer, num_digits=1)


@step(bp, "/answer", member=True, answer=True)
def offer_answer(turn: Turn) -> VoiceResponse:
    """Pay on 1 (a card is taken, a bank account hears its authorization); menu keys go on."""
    digits = answered(turn)
    draft = turn.call.pay
    if not digits:
        return go(turn, MAIN_MENU)
    if digits == "1" and draft.target is not None and draft.amount is not None:
        done(turn, "snapshot")
        if draft.method is None:
            return go(turn, capture.card)
        if draft.method.kind == "bank" or draft.idempotency_key is None:
            return go(turn, pay.confirm)
        return pay.charge(turn)
    if digits in menu.CHOICES:
        done(turn, "snapshot")
        turn.call.pay = Draft()
        return go(turn, menu.CHOICES[digits])
    return global_key(turn, digits, offer) or retry(turn, "snapshot", offer, Prompt.NOT_A_CHOICE)
