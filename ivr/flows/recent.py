"""Recent payments: the last 13 months from every channel, newest first."""

from __future__ import annotations

from flask import Blueprint
from twilio.twiml.voice_response import Say, VoiceResponse

from billing_core.domain.payments import GIVEN_BACK, TargetKind
from billing_core.services.history import HistoryLine
from ivr.call_state import Method
from ivr.flows.info import after_page, page
from ivr.kernel import Turn, step
from ivr.prompts import Prompt
from ivr.sentences import method_phrase
from ivr.speech import Day, Digits, Fragment, Money

bp = Blueprint("recent", __name__, url_prefix="/voice/recent-payments")

MOST_READ = 5  # a phone list longer than this is not listened to; the rest are online

# How a payment made elsewhere is said, by the channel the billing feed names.
CHANNELS = {
    "web": Prompt.PAID_ONLINE,
    "mail": Prompt.PAID_BY_MAIL,
    "agent": Prompt.PAID_WITH_SPECIALIST,
    "in_person": Prompt.PAID_IN_PERSON,
}


@step(bp, "", member=True)
def read(turn: Turn) -> VoiceResponse:
    """Read the latest payments: date, amount, what it paid, and how or where it was made."""
    call = turn.call
    lines = turn.billing.payment_history(call.member_id, channel="phone", call_sid=call.call_sid)
    if not lines:
        sentences = [turn.say(Prompt.NO_RECENT_PAYMENTS)]
    else:
        sentences = [payment_sentence(turn, line) for line in lines[:MOST_READ]]
    return page(turn, sentences, Prompt.RECENT_AGAIN, after)


@step(bp, "/after", member=True, answer=True)
def after(turn: Turn) -> VoiceResponse:
    """Repeat the payments or go back to the main menu."""
    return after_page(turn, read)


def payment_sentence(turn: Turn, line: HistoryLine) -> Say:
    targets = {
        TargetKind.BILL: Fragment(Prompt.PAYING_A_BILL, {"bill_number": line.bill_number or ""}),
        TargetKind.ALL_BILLS: Fragment(Prompt.PAYING_ALL_BILLS),
        TargetKind.PREMIUM: Fragment(Prompt.PAYING_PREMIUM),
        TargetKind.PLAN: Fragment(Prompt.PAYING_PLAN),
    }
    when, amount = Day(line.paid_on), Money(line.amount_cents)
    if line.channel is not None:
        return turn.say(
            Prompt.RECENT_PAYMENT_ELSEWHERE,
            date=when,
            amount=amount,
            target=targets[line.target_kind],
            channel=Fragment(CHANNELS[line.channel]),
        )
    method = Method.as_recorded(line.method_kind, line.method_brand, line.method_last4)
    if line.status.went_through:
        prompt = Prompt.RECENT_PAYMENT
    elif line.status in GIVEN_BACK:
        prompt = Prompt.RECENT_PAYMENT_GIVEN_BACK
    else:
        prompt = Prompt.RECENT_PAYMENT_PENDING
    return turn.say(
        prompt,
        date=when,
        amount=amount,
        target=targets[line.target_kind],
        method=method_phrase(method),
        number=Digits(line.reference),
    )
