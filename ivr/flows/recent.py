"""Recent payments: the last 13 months, newest first."""

from __future__ import annotations

from flask import Blueprint

from billing_core.domain.payments import PaymentStatus, TargetKind
from billing_core.services.payments import PaymentLine
from ivr.calls import billing, call, region, voice
from ivr.flows.identified import member_required
from ivr.flows.info import after_page, page
from ivr.flows.pay import method_phrase
from ivr.prompts import Prompt
from ivr.speech import Day, Digits, Fragment, Money

bp = Blueprint("recent", __name__, url_prefix="/voice/recent-payments")

MOST_READ = 5  # a phone list longer than this is not listened to; the rest are online


@bp.post("")
@member_required
def read():
    """Read the latest payments: date, amount, what it paid, method ending, confirmation."""
    lines = billing().recent_payments(call().member_id, channel="phone", call_sid=call().call_sid)
    if not lines:
        sentences = [voice().say(Prompt.NO_RECENT_PAYMENTS)]
    else:
        sentences = [payment_sentence(line) for line in lines[:MOST_READ]]
    return page(sentences, Prompt.RECENT_AGAIN, "recent.after")


@bp.post("/after")
@member_required
def after():
    """Repeat the payments or go back to the main menu."""
    return after_page("recent.read")


def payment_sentence(line: PaymentLine):
    targets = {
        TargetKind.BILL: Fragment(Prompt.PAYING_A_BILL, {"bill_number": line.bill_number or ""}),
        TargetKind.ALL_BILLS: Fragment(Prompt.PAYING_ALL_BILLS),
        TargetKind.PREMIUM: Fragment(Prompt.PAYING_PREMIUM),
    }
    method = method_phrase(
        {
            "kind": line.method_kind,
            "brand": line.method_brand,
            "account_type": line.method_brand,
            "last4": line.method_last4 or "",
        }
    )
    prompt = (
        Prompt.RECENT_PAYMENT
        if line.status is PaymentStatus.SUCCEEDED
        else Prompt.RECENT_PAYMENT_PENDING
    )
    return voice().say(
        prompt,
        date=Day(region().local_time(line.made_at).date()),
        amount=Money(line.amount_cents),
        target=targets[line.target_kind],
        method=method,
        number=Digits(line.confirmation_number),
    )
