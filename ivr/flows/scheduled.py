"""Scheduled payments: hear each one still ahead, and cancel one before its charge begins.

Payments are set for a later date in the pay flow; the billing core charges them on
their day. Nothing here charges anything.
"""

from __future__ import annotations

import logging

from flask import Blueprint
from twilio.twiml.voice_response import Say, VoiceResponse

from billing_core.domain.payments import TargetKind
from billing_core.services.scheduled import UpcomingPayment
from ivr.call_state import Method, ScheduledDraft
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
from ivr.speech import Day, Fragment, Money

bp = Blueprint("scheduled", __name__, url_prefix="/voice/scheduled")
log = logging.getLogger(__name__)

# Keys 7, 8 and 9 keep their meaning (relay, Spanish, main menu): at most 6 to cancel.
MOST_READ = 6


@step(bp, "", member=True)
def overview(turn: Turn) -> VoiceResponse:
    """Read each scheduled payment still ahead, with a key to cancel it; or say there are none."""
    call = turn.call
    upcoming = turn.billing.scheduled_payments(call.member_id)[:MOST_READ]
    if not upcoming:
        call.scheduled = ScheduledDraft()
        return go(turn, MAIN_MENU, turn.say(Prompt.NO_SCHEDULED_PAYMENTS))
    lead = [payment_sentence(turn, payment) for payment in upcoming]
    cancellable = [payment for payment in upcoming if payment.cancellable]
    options = [
        turn.say(Prompt.SCHEDULED_CANCEL_KEY, date=Day(payment.pay_on), key=str(key))
        for key, payment in enumerate(cancellable, start=1)
    ]
    options += [turn.say(Prompt.SCHEDULED_AGAIN), turn.say(Prompt.MENU_BACK)]
    call.scheduled = ScheduledDraft(ids=[payment.scheduled_id for payment in cancellable])
    return ask(turn, options, overview_answer, num_digits=1, lead=lead)


def payment_sentence(turn: Turn, payment: UpcomingPayment) -> Say:
    """When, how much, what it pays and with what."""
    targets = {
        TargetKind.BILL: Fragment(Prompt.PAYING_A_BILL, {"bill_number": payment.bill_number or ""}),
        TargetKind.ALL_BILLS: Fragment(Prompt.PAYING_ALL_BILLS),
        TargetKind.PREMIUM: Fragment(Prompt.PAYING_PREMIUM),
    }
    method = Method.as_recorded(payment.method_kind, payment.method_brand, payment.method_last4)
    return turn.say(
        Prompt.SCHEDULED_PAYMENT,
        date=Day(payment.pay_on),
        amount=Money(payment.amount_cents),
        target=targets[payment.target_kind],
        method=method_phrase(method),
    )


@step(bp, "/answer", member=True, answer=True)
def overview_answer(turn: Turn) -> VoiceResponse:
    """Take the payment to cancel, or go back."""
    ids = turn.call.scheduled.ids
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "scheduled", overview)
    if ids and digits.isdigit() and 1 <= int(digits) <= len(ids):
        done(turn, "scheduled")
        turn.call.scheduled.chosen = ids[int(digits) - 1]
        return go(turn, cancel_offer)
    return global_key(turn, digits, overview) or retry(
        turn, "scheduled", overview, Prompt.NOT_A_CHOICE
    )


def chosen(turn: Turn) -> UpcomingPayment | None:
    wanted = turn.call.scheduled.chosen
    for payment in turn.billing.scheduled_payments(turn.call.member_id):
        if payment.scheduled_id == wanted:
            return payment
    return None


@step(bp, "/cancel", member=True)
def cancel_offer(turn: Turn) -> VoiceResponse:
    """Ask the caller to confirm that this payment is called off."""
    payment = chosen(turn)
    if payment is None:
        return go(turn, overview)
    prompt = turn.say(
        Prompt.SCHEDULED_CANCEL_CONFIRM,
        amount=Money(payment.amount_cents),
        date=Day(payment.pay_on),
    )
    return ask(turn, [prompt], cancel_answer, num_digits=1)


@step(bp, "/cancel/answer", member=True, answer=True)
def cancel_answer(turn: Turn) -> VoiceResponse:
    """Cancel on 1; keep it on 2."""
    payment = chosen(turn)
    if payment is None:
        return go(turn, overview)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "scheduled_cancel", cancel_offer)
    if digits == "2":
        done(turn, "scheduled_cancel")
        turn.call.scheduled.chosen = None
        return go(turn, overview)
    if digits != "1":
        return global_key(turn, digits, cancel_offer) or retry(
            turn, "scheduled_cancel", cancel_offer, Prompt.NOT_A_CHOICE
        )
    done(turn, "scheduled_cancel")
    call = turn.call
    call.scheduled.chosen = None
    cancelled = turn.billing.cancel_scheduled_payment(
        call.member_id, payment.scheduled_id, channel="phone", call_sid=call.call_sid
    )
    log.info("call %s: scheduled payment cancelled: %s", call.call_sid, cancelled)
    if not cancelled:
        return go(turn, overview, turn.say(Prompt.SCHEDULED_ALREADY_STARTED))
    return go(turn, overview, turn.say(Prompt.SCHEDULED_CANCELED, date=Day(payment.pay_on)))
